"""``runactionability report``: the dashboard summary of the visible scopes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from runactionability.cli._app import (
    cli,
    database_option,
    evaluation_options,
    json_option,
    scope_options,
)
from runactionability.cli._output import emit_json, progress, stdout_console
from runactionability.cli._session import cli_config, database_of, open_session
from runactionability.cli._shapes import (
    action_label,
    header,
    runs_table,
    scope_label,
    stamp,
    status_text,
)
from runactionability.consumers import DashboardSummary, StatusCounts
from runactionability.jsonforms import to_json
from runactionability.result import Actionability
from runactionability.service import RequestSession

dashboard = RequestSession.dashboard
"""The one read of a report, named here so a test can stand in for it (tests/cli)."""

_SHORT = {
    Actionability.ACTIONABLE: "actionable",
    Actionability.REQUIRES_MANUAL_REVIEW: "review",
    Actionability.SUPERSEDED_BY_LATER_SUCCESS: "superseded",
    Actionability.RESOLVED_BY_CURRENT_STATE: "resolved",
    Actionability.INFORMATIONAL_ONLY: "info",
    Actionability.NOT_TERMINAL: "active",
}


@cli.command()
@database_option
@scope_options
@evaluation_options
@click.option(
    "--top",
    default=10,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="How many runs needing attention to list (0-1000), and at most as many of the newest "
    "active runs; the counts, including the active ones, are never capped.",
)
@json_option
def report(
    database: str | None,
    config_path: str | None,
    workspaces: tuple[str, ...],
    environments: tuple[str, ...],
    as_of_text: str | None,
    catalog_path: str | None,
    top: int,
    as_json: bool,
) -> None:
    """Print the dashboard summary of the visible workspaces.

    Counts the runs by status, family and environment, lists the runs that need attention now
    with their explanation and primary action, and shows the active work apart from them.
    """
    with (
        open_session(
            database,
            config_path=config_path,
            workspaces=workspaces,
            environments=environments,
            as_of_text=as_of_text,
            catalog_path=catalog_path,
        ) as session,
        progress(not as_json, "Reading runs") as advance,
    ):
        summary = dashboard(session, top=top, on_page=advance)
    if as_json:
        emit_json(_report_json(summary))
    else:
        _render_report(stdout_console(), summary, database_of(cli_config(config_path), database))


def _report_json(summary: DashboardSummary) -> dict[str, Any]:
    return {
        **header("report", summary.as_of),
        **to_json(summary),
    }


def _counts_table(title: str, rows: Sequence[tuple[str, StatusCounts]], first: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(first)
    table.add_column("runs", justify="right")
    table.add_column("attention", justify="right", style="bold")
    for status in Actionability:
        table.add_column(_SHORT[status], justify="right")
    for label, counts in rows:
        table.add_row(
            label,
            str(counts.total),
            str(counts.needs_attention),
            *(str(counts.by_status[status]) for status in Actionability),
        )
    return table


def _render_report(console: Console, summary: DashboardSummary, database: str) -> None:
    scopes = summary.scopes
    where = ", ".join(sorted(scopes.workspace_ids))
    if scopes.environment_ids is not None:
        where += " (environments " + ", ".join(sorted(scopes.environment_ids)) + ")"
    console.print(
        f"[bold]Dashboard[/bold] for {where} as of {stamp(summary.as_of)}  [dim]{database}[/dim]"
    )
    counts = summary.counts
    console.print(
        f"[bold red]{counts.needs_attention}[/bold red] of {counts.total} runs need attention "
        f"(actionable {counts.by_status[Actionability.ACTIONABLE]}, manual review "
        f"{counts.by_status[Actionability.REQUIRES_MANUAL_REVIEW]}); active work kept apart: "
        f"{summary.active.queued} queued, {summary.active.running} running."
    )
    console.print(
        _counts_table(
            "By family",
            [(name or "(unknown type)", c) for name, c in summary.by_family.items()],
            "family",
        )
    )
    console.print(
        _counts_table(
            "By environment",
            [(scope_label(ws, env), c) for (ws, env), c in summary.by_environment.items()],
            "scope",
        )
    )
    _render_top(console, summary)
    if summary.active.total:
        console.print(runs_table("Active work (not follow-up)", list(summary.active.newest)))


def _render_top(console: Console, summary: DashboardSummary) -> None:
    if not summary.top:
        return
    console.print(Text("Needs attention now", style="bold"))
    for item in summary.top:
        run = item.run
        console.print(
            Text.assemble(
                (f"  {run.id} ", "bold"),
                f"{run.type} in {scope_label(run.workspace_id, run.environment_id)}: ",
                status_text(item.status),
            )
        )
        console.print(f"      {item.result.explanation}", soft_wrap=True)
        console.print(f"      -> {action_label(item.primary_action)}", soft_wrap=True)
