"""The pieces several commands print: JSON shapes (documented in docs/cli.md) and rich cells."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from runactionability.cli._app import SCHEMA_VERSION
from runactionability.consumers import Assessment, StatusCounts, VisibleScopes
from runactionability.evidence import RunFact, StateFact
from runactionability.i18n import Renderer, english_renderer
from runactionability.jsonforms import stamp as stamp
from runactionability.jsonforms import to_json
from runactionability.messages import Message, msg
from runactionability.result import Actionability, PrimaryAction
from runactionability.terms import (
    action_kind_name,
    outcome_name,
    run_status_name,
    state_kind_name,
    state_status_name,
    status_name,
    target_kind_name,
    type_name,
)

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


def run_json(item: Assessment, r: Renderer | None = None) -> dict[str, Any]:
    """The run object of docs/cli.md: the library's assessment form, its texts rendered by
    ``r`` (default English)."""
    form: dict[str, Any] = to_json(item, renderer=_r(r))
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
# Every word a person reads is a message rendered by the command's renderer (its --locale); ids,
# stored names and codes a person may type back (run ids, reason codes) are shown as stored.


def status_text(status: Actionability, r: Renderer | None = None) -> Text:
    return Text(_r(r).render(status_name(status)), style=_STATUS_STYLE[status])


def yes_no(value: bool) -> Message:
    """A yes-or-no cell of a table."""
    return msg("cli.yes", "yes") if value else msg("cli.no", "no")


def scope_label(workspace_id: object, environment_id: object) -> str:
    return f"{workspace_id}/{environment_id}" if environment_id is not None else f"{workspace_id}"


def action_label(action: PrimaryAction | None, r: Renderer | None = None) -> str:
    if action is None:
        return "-"
    label = _r(r).render(action.message)
    if not action.target_id:
        return label
    kind = target_kind_name(action.target_kind or "")
    return _r(r).render(
        msg(
            "cli.action_target",
            "{label} ({target_kind} {target_id})",
            label=label,
            target_kind=kind,
            target_id=action.target_id,
        )
    )


def proof_lines(proof: RunFact | StateFact | None, r: Renderer | None = None) -> str:
    renderer = _r(r)
    if proof is None:
        return renderer.render(msg("cli.proof_none", "none"))
    if isinstance(proof, RunFact):
        subject = (
            ""
            if proof.subject is None
            else renderer.render(
                msg("cli.proof_subject", ", subject {subject}", subject=proof.subject)
            )
        )
        return renderer.render(
            msg(
                "cli.proof_run",
                "run {run_id} ({type}) in {scope}{subject}: succeeded, started {started_at}, "
                "completed {completed_at}",
                run_id=str(proof.run_id),
                type=type_name(proof.operation_type),
                scope=scope_label(proof.workspace_id, proof.environment_id),
                subject=subject,
                started_at=proof.started_at,
                completed_at=proof.completed_at,
            )
        )
    return renderer.render(
        msg(
            "cli.proof_state",
            "{state_kind} state of {subject} in {scope}: {state_status}, proven {proven_at}",
            state_kind=state_kind_name(proof.kind),
            subject=str(proof.subject),
            scope=scope_label(proof.workspace_id, proof.environment_id),
            state_status=state_status_name(proof.status),
            proven_at=proof.proven_at,
        )
    )


def _short_time(value: object, r: Renderer) -> str:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return r.instant(value, "short")
    return "-" if value is None else str(value)


def _history(item: Assessment) -> Message:
    run = item.run
    return outcome_name(run.outcome) if run.outcome is not None else run_status_name(run.status)


def runs_table(
    title: str, items: Sequence[Assessment], *, history: bool = False, r: Renderer | None = None
) -> Table:
    """One row per run: id, type, scope, (history,) actionability and the action's kind."""
    renderer = _r(r)
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(renderer.render(msg("cli.column_run", "run")), justify="right")
    table.add_column(renderer.render(msg("cli.column_type", "type")))
    table.add_column(renderer.render(msg("cli.column_scope", "scope")))
    if history:
        table.add_column(renderer.render(msg("cli.column_created", "created")))
        table.add_column(renderer.render(msg("cli.column_history", "history")))
    table.add_column(renderer.render(msg("cli.column_actionability", "actionability")))
    table.add_column(renderer.render(msg("cli.column_action", "action")))
    for item in items:
        run = item.run
        cells: list[Any] = [
            str(run.id),
            str(run.type),
            scope_label(run.workspace_id, run.environment_id),
        ]
        if history:
            cells.append(_short_time(run.created_at, renderer))
            cells.append(renderer.render(_history(item)))
        cells.append(status_text(item.status, renderer))
        action = item.primary_action
        cells.append("-" if action is None else renderer.render(action_kind_name(action.kind)))
        table.add_row(*cells)
    return table


def _r(renderer: Renderer | None) -> Renderer:
    return english_renderer() if renderer is None else renderer
