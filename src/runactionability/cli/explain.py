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
from runactionability.cli._session import Session, open_session
from runactionability.cli._shapes import (
    action_label,
    header,
    proof_lines,
    scope_label,
    stamp,
    status_text,
)
from runactionability.consumers import ActiveRuns, Assessment, Explanation, explain, would_change
from runactionability.jsonforms import to_json
from runactionability.model import OperationRun, usable_id


@cli.command("explain")
@click.argument("run_id")
@database_option
@scope_options
@evaluation_options
@json_option
def explain_(
    run_id: str,
    database: str,
    workspaces: tuple[str, ...],
    environments: tuple[str, ...],
    as_of_text: str | None,
    catalog_path: str | None,
    as_json: bool,
) -> None:
    """Why RUN_ID has its status: decision, reason, proof, and what evidence would change it."""
    with open_session(
        database,
        workspaces=workspaces,
        environments=environments,
        as_of_text=as_of_text,
        catalog_path=catalog_path,
    ) as session:
        whole_database = not workspaces and not environments
        told = _explanation(session, run_id, database, whole_database=whole_database)
    if as_json:
        emit_json(_explain_json(told, session.as_of))
    else:
        _render_explanation(told, session.as_of)


def _explanation(
    session: Session, run_id: str, database: str, *, whole_database: bool
) -> Explanation:
    run = session.backend.runs.get_run(run_id)
    if run is not None and whole_database and usable_id(run.workspace_id) is None:
        # The default scope is the whole database, so nothing is hidden from it; a run with
        # no usable workspace id is in no workspace's scope, but asked for by id it is shown,
        # flagged as the invalid record it is.
        return _explain_unscoped(session, run)
    if run is None or not session.scopes.admits_run(run):
        # A run outside the visible scopes is reported exactly like a missing one.
        raise CliError(f"no run {run_id!r} in the visible scopes of {database!r}")
    active = ActiveRuns.from_source(
        session.backend.runs,
        catalog=session.resolver.catalog,
        scopes=session.scopes,
        as_of=session.as_of,
    )
    return explain(
        session.resolver,
        run,
        scopes=session.scopes,
        as_of=session.as_of,
        active=active,
        state_kinds=session.backend.states,
    )


def _explain_unscoped(session: Session, run: OperationRun) -> Explanation:
    result = session.resolver.evaluate(run, as_of=session.as_of)
    # No action: every action targets something in the run's scope, and it has none.
    assessment = Assessment(
        run=run, result=result, primary_action=None, eligible_actions=frozenset()
    )
    registry = session.resolver.registry
    family = registry.families().get(result.family) if result.family else None
    return Explanation(
        assessment=assessment,
        risk=None if family is None else family.risk,
        plugin=None if family is None else registry.plugin_of(family.name),
        would_change=would_change(
            run,
            assessment,
            registry=session.resolver.registry,
            catalog=session.resolver.catalog,
            state_kinds=session.backend.states,
        ),
    )


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
