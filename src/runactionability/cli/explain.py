"""``runactionability explain RUN_ID``: decision, reason, proof, and what would change it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import click
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runactionability.adapters.sqlalchemy.backend import redacted_url
from runactionability.cli._app import (
    CliError,
    CliUsageError,
    Reading,
    cli,
    json_option,
    one_line,
    session_options,
)
from runactionability.cli._output import emit_json, stdout_console, visible
from runactionability.cli._session import cli_config, database_of, open_session
from runactionability.cli._shapes import (
    action_label,
    header,
    proof_lines,
    scope_label,
    status_text,
)
from runactionability.consumers import Explanation
from runactionability.errors import UsageError
from runactionability.i18n import Renderer
from runactionability.jsonforms import to_json
from runactionability.messages import msg
from runactionability.service import RequestSession
from runactionability.terms import family_name, outcome_name, risk_name, run_status_name


@cli.command("explain")
@click.argument("run_id")
@session_options
@json_option
def explain_(run_id: str, reading: Reading, as_json: bool) -> None:
    """Show why run RUN_ID needs attention or not, with its proof.

    Prints the decision with its reason, the proof it rests on, the primary action, the family,
    and the evidence that would change it.
    """
    with open_session(reading) as session:
        database = database_of(cli_config(reading.config_path), reading.database)
        told = _explanation(session, run_id, database)
    if as_json:
        emit_json(_explain_json(told, session.as_of, session.renderer))
    else:
        _render_explanation(told, session.as_of, session.renderer)


def _explanation(session: RequestSession, run_id: str, database: str) -> Explanation:
    try:
        told = session.explain(run_id)
    except UsageError as exc:
        # A uuid spelled otherwise than its column stores it: a bad value, with the one to pass.
        raise CliUsageError(one_line(exc)) from None
    if told is None:
        # A run outside the visible scopes is reported exactly like a missing one.
        raise CliError(f"no run {run_id!r} in the visible scopes of {redacted_url(database)}")
    return told


def _explain_json(told: Explanation, as_of: datetime, r: Renderer) -> dict[str, Any]:
    return {
        **header("explain", as_of),
        **to_json(told, renderer=r),
    }


def _history(told: Explanation, r: Renderer) -> str:
    run = told.assessment.run
    if not run.outcome:
        return r(run_status_name(run.status))
    if isinstance(run.completed_at, datetime):
        return r(
            msg(
                "cli.history_completed",
                "{status}, {outcome} at {completed_at}",
                status=run_status_name(run.status),
                outcome=outcome_name(run.outcome),
                completed_at=run.completed_at,
            )
        )
    return r(
        msg(
            "cli.history_outcome",
            "{status}, {outcome}",
            status=run_status_name(run.status),
            outcome=outcome_name(run.outcome),
        )
    )


def _family(told: Explanation, r: Renderer) -> str:
    family = told.assessment.result.family
    if not family:
        return r(msg("cli.family_none", "none"))
    return r(
        msg(
            "cli.family_line",
            "{family} (risk {risk}, plugin {plugin})",
            family=family_name(family),
            risk=risk_name(str(told.risk)),
            plugin=str(told.plugin),
        )
    )


def _render_explanation(told: Explanation, as_of: datetime, r: Renderer) -> None:
    item = told.assessment
    result = item.result
    run = item.run
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        r(msg("cli.explain_run", "run")),
        r(
            msg(
                "cli.run_line",
                "{run_id}  {type} in {scope}",
                run_id=str(run.id),
                type=str(run.type),
                scope=scope_label(run.workspace_id, run.environment_id),
            )
        ),
    )
    grid.add_row(
        r(msg("cli.explain_context", "context")),
        json.dumps(dict(run.context)) if isinstance(run.context, Mapping) else str(run.context),
    )
    grid.add_row(r(msg("cli.explain_history", "history")), _history(told, r))
    reason = r(msg("cli.reason", "  (reason {reason})", reason=str(result.reason)))
    grid.add_row(
        r(msg("cli.explain_decision", "decision")),
        Text.assemble(status_text(result.status, r), reason),
    )
    grid.add_row(r(msg("cli.explain_why", "why")), r(result.message))
    grid.add_row(r(msg("cli.explain_proof", "proof")), proof_lines(result.proof, r))
    grid.add_row(r(msg("cli.explain_action", "action")), action_label(item.primary_action, r))
    grid.add_row(r(msg("cli.explain_family", "family")), _family(told, r))
    grid.add_row(r(msg("cli.explain_as_of", "as of")), r.instant(as_of))
    change = "\n".join(f"- {r(line)}" for line in told.would_change)
    heading = r(msg("cli.what_would_change", "What would change it"))
    stdout_console().print(
        Panel(
            Group(grid, Text(""), Text(heading, style="bold"), change),
            # A str title is always read as markup by rich's Panel; the run id is the host's.
            title=Text(visible(r(msg("cli.explain_title", "run {run_id}", run_id=str(run.id))))),
            title_align="left",
        )
    )
