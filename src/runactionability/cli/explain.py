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

from runactionability.cli._app import (
    CliError,
    cli,
    database_option,
    evaluation_options,
    json_option,
    scope_options,
)
from runactionability.cli._output import emit_json, stdout_console
from runactionability.cli._session import cli_config, database_of, open_session
from runactionability.cli._shapes import (
    action_label,
    header,
    proof_lines,
    scope_label,
    stamp,
    status_text,
)
from runactionability.consumers import Explanation
from runactionability.jsonforms import to_json
from runactionability.service import RequestSession


@cli.command("explain")
@click.argument("run_id")
@database_option
@scope_options
@evaluation_options
@json_option
def explain_(
    run_id: str,
    database: str | None,
    config_path: str | None,
    workspaces: tuple[str, ...],
    environments: tuple[str, ...],
    as_of_text: str | None,
    catalog_path: str | None,
    as_json: bool,
) -> None:
    """Show why run RUN_ID needs attention or not, with its proof.

    Prints the decision with its reason, the proof it rests on, the primary action, the family,
    and the evidence that would change it.
    """
    with open_session(
        database,
        config_path=config_path,
        workspaces=workspaces,
        environments=environments,
        as_of_text=as_of_text,
        catalog_path=catalog_path,
    ) as session:
        told = _explanation(session, run_id, database_of(cli_config(config_path), database))
    if as_json:
        emit_json(_explain_json(told, session.as_of))
    else:
        _render_explanation(told, session.as_of)


def _explanation(session: RequestSession, run_id: str, database: str) -> Explanation:
    told = session.explain(run_id)
    if told is None:
        # A run outside the visible scopes is reported exactly like a missing one.
        raise CliError(f"no run {run_id!r} in the visible scopes of {database!r}")
    return told


def _explain_json(told: Explanation, as_of: datetime) -> dict[str, Any]:
    return {
        **header("explain", as_of),
        **to_json(told),
    }


def _render_explanation(told: Explanation, as_of: datetime) -> None:
    item = told.assessment
    result = item.result
    run = item.run
    history = f"{run.status}" + (
        f", {run.outcome} at {stamp(run.completed_at)}" if run.outcome else ""
    )
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        "run", f"{run.id}  {run.type} in {scope_label(run.workspace_id, run.environment_id)}"
    )
    grid.add_row(
        "context",
        json.dumps(dict(run.context)) if isinstance(run.context, Mapping) else str(run.context),
    )
    grid.add_row("history", history)
    grid.add_row(
        "decision", Text.assemble(status_text(result.status), f"  (reason {result.reason})")
    )
    grid.add_row("why", result.explanation)
    grid.add_row("proof", proof_lines(result.proof))
    grid.add_row("action", action_label(item.primary_action))
    family = (
        f"{result.family} (risk {told.risk}, plugin {told.plugin})" if result.family else "none"
    )
    grid.add_row("family", family)
    grid.add_row("as of", stamp(as_of) or "")
    change = Text("\n".join(f"- {line}" for line in told.would_change))
    stdout_console().print(
        Panel(
            Group(grid, Text(""), Text("What would change it", style="bold"), change),
            title=f"run {run.id}",
            title_align="left",
        )
    )
