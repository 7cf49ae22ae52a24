"""The pieces several commands print: JSON shapes (documented in docs/cli.md) and rich cells."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from runactionability.cli._app import SCHEMA_VERSION
from runactionability.consumers import Assessment, StatusCounts, VisibleScopes
from runactionability.evidence import RunFact, StateFact
from runactionability.result import Actionability, PrimaryAction

_STATUS_STYLE = {
    Actionability.ACTIONABLE: "bold red",
    Actionability.REQUIRES_MANUAL_REVIEW: "bold yellow",
    Actionability.SUPERSEDED_BY_LATER_SUCCESS: "green",
    Actionability.RESOLVED_BY_CURRENT_STATE: "green",
    Actionability.INFORMATIONAL_ONLY: "dim",
    Actionability.NOT_TERMINAL: "cyan",
}


# -- JSON shapes ------------------------------------------------------------------------------


def stamp(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _proof_json(proof: RunFact | StateFact | None) -> dict[str, Any] | None:
    if proof is None:
        return None
    if isinstance(proof, RunFact):
        return {
            "kind": "run",
            "run_id": proof.run_id,
            "operation_type": proof.operation_type,
            "workspace_id": proof.workspace_id,
            "environment_id": proof.environment_id,
            "subject": proof.subject,
            "started_at": stamp(proof.started_at),
            "completed_at": stamp(proof.completed_at),
        }
    return {
        "kind": "state",
        "state_kind": proof.kind,
        "workspace_id": proof.workspace_id,
        "environment_id": proof.environment_id,
        "subject": proof.subject,
        "status": proof.status,
        "proven_at": stamp(proof.proven_at),
    }


def _action_json(action: PrimaryAction | None) -> dict[str, Any] | None:
    if action is None:
        return None
    return {
        "kind": str(action.kind),
        "label": action.label,
        "target_kind": action.target_kind,
        "target_id": action.target_id,
    }


def run_json(item: Assessment) -> dict[str, Any]:
    """The run object of docs/cli.md."""
    run, result = item.run, item.result
    return {
        "run_id": run.id,
        "operation_type": _plain(run.type),
        "canonical_type": result.operation_type,
        "family": result.family,
        "workspace_id": _plain(run.workspace_id),
        "environment_id": _plain(run.environment_id),
        "status": _plain(run.status),
        "outcome": _plain(run.outcome),
        "created_at": stamp(run.created_at),
        "completed_at": stamp(run.completed_at),
        "actionability": str(result.status),
        "needs_attention": result.needs_attention,
        "reason": str(result.reason),
        "explanation": result.explanation,
        "proof": _proof_json(result.proof),
        "primary_action": _action_json(item.primary_action),
        "eligible_actions": sorted(str(kind) for kind in item.eligible_actions),
        "active_run_id": item.active_run_id,
    }


def counts_json(counts: StatusCounts) -> dict[str, Any]:
    return {
        "total": counts.total,
        "needs_attention": counts.needs_attention,
        "by_status": {str(status): counts.by_status[status] for status in Actionability},
    }


def scopes_json(scopes: VisibleScopes) -> dict[str, Any]:
    return {
        "workspace_ids": sorted(scopes.workspace_ids),
        "environment_ids": None
        if scopes.environment_ids is None
        else sorted(scopes.environment_ids),
    }


def header(command: str, as_of: datetime) -> dict[str, Any]:
    """The fields every evaluated document opens with: its schema and its instant."""
    return {"schema": f"runactionability.{command}/{SCHEMA_VERSION}", "as_of": stamp(as_of)}


# -- rich cells -------------------------------------------------------------------------------


def status_text(status: Actionability) -> Text:
    return Text(str(status), style=_STATUS_STYLE[status])


def scope_label(workspace_id: object, environment_id: object) -> str:
    return f"{workspace_id}/{environment_id}" if environment_id is not None else f"{workspace_id}"


def action_label(action: PrimaryAction | None) -> str:
    if action is None:
        return "-"
    target = f" ({action.target_kind} {action.target_id})" if action.target_id else ""
    return f"{action.label}{target}"


def proof_lines(proof: RunFact | StateFact | None) -> str:
    if proof is None:
        return "none"
    if isinstance(proof, RunFact):
        subject = f", subject {proof.subject}" if proof.subject is not None else ""
        return (
            f"run {proof.run_id} ({proof.operation_type}) in "
            f"{scope_label(proof.workspace_id, proof.environment_id)}{subject}: "
            f"succeeded, started {stamp(proof.started_at)}, completed {stamp(proof.completed_at)}"
        )
    return (
        f"{proof.kind} state of {proof.subject} in "
        f"{scope_label(proof.workspace_id, proof.environment_id)}: {proof.status}, "
        f"proven {stamp(proof.proven_at)}"
    )


def _short_time(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%m-%d %H:%M")
    return "-" if value is None else str(value)


def runs_table(title: str, items: Sequence[Assessment], *, history: bool = False) -> Table:
    """One row per run: id, type, scope, (history,) actionability and the action's kind."""
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("run", justify="right")
    table.add_column("type")
    table.add_column("scope")
    if history:
        table.add_column("created (UTC)")
        table.add_column("history")
    table.add_column("actionability")
    table.add_column("action")
    for item in items:
        run = item.run
        cells: list[Any] = [
            str(run.id),
            str(run.type),
            scope_label(run.workspace_id, run.environment_id),
        ]
        if history:
            cells.append(_short_time(run.created_at))
            cells.append(str(run.outcome) if run.outcome is not None else str(run.status))
        cells.append(status_text(item.status))
        action = item.primary_action
        cells.append("-" if action is None else str(action.kind))
        table.add_row(*cells)
    return table
