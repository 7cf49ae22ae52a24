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
from runactionability.jsonforms import stamp as stamp
from runactionability.jsonforms import to_json
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
# Every object a document holds is the library's own JSON form (runactionability.jsonforms); a
# command only adds its header and its own fields around them.


def run_json(item: Assessment) -> dict[str, Any]:
    """The run object of docs/cli.md: the library's assessment form."""
    form: dict[str, Any] = to_json(item)
    return form


def counts_json(counts: StatusCounts) -> dict[str, Any]:
    form: dict[str, Any] = to_json(counts)
    return form


def scopes_json(scopes: VisibleScopes) -> dict[str, Any]:
    form: dict[str, Any] = to_json(scopes)
    return form


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
