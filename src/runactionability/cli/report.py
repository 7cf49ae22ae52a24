"""``runactionability report``: the dashboard summary of the visible scopes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from runactionability.cli._app import Reading, cli, json_option, session_options
from runactionability.cli._output import emit_json, progress, stdout_console
from runactionability.cli._session import cli_config, database_of, open_session, shown_scopes
from runactionability.cli._shapes import (
    action_label,
    header,
    runs_table,
    scope_label,
    status_text,
)
from runactionability.consumers import DashboardSummary, StatusCounts
from runactionability.i18n import Renderer
from runactionability.jsonforms import to_json
from runactionability.messages import Listing, Message, msg, msgn
from runactionability.result import Actionability
from runactionability.service import RequestSession
from runactionability.terms import family_name

dashboard = RequestSession.dashboard
"""The one read of a report, named here so a test can stand in for it (tests/cli)."""

_SHORT = {
    Actionability.ACTIONABLE: msg("cli.short_actionable", "actionable"),
    Actionability.REQUIRES_MANUAL_REVIEW: msg("cli.short_review", "review"),
    Actionability.SUPERSEDED_BY_LATER_SUCCESS: msg("cli.short_superseded", "superseded"),
    Actionability.RESOLVED_BY_CURRENT_STATE: msg("cli.short_resolved", "resolved"),
    Actionability.INFORMATIONAL_ONLY: msg("cli.short_info", "info"),
    Actionability.NOT_TERMINAL: msg("cli.short_active", "active"),
}


@cli.command()
@session_options
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
    reading: Reading,
    top: int,
    as_json: bool,
) -> None:
    """Print the dashboard summary of the visible workspaces.

    Counts the runs by status, family and environment, lists the runs that need attention now
    with their explanation and primary action, and shows the active work apart from them.
    """
    with (
        open_session(reading) as session,
        progress(not as_json, "Reading runs") as advance,
    ):
        summary = dashboard(session, top=top, on_page=advance)
        summary = attrs.evolve(summary, scopes=shown_scopes(session))
        # Only the whole database may count the runs no workspace holds (one statement).
        unattributed = session.unattributed().count if session.whole_database else None
    r = session.renderer
    if as_json:
        emit_json(_report_json(summary, r, unattributed))
    else:
        where = database_of(cli_config(reading.config_path), reading.database)
        _render_report(stdout_console(), summary, where, r, unattributed=unattributed or 0)


def _report_json(
    summary: DashboardSummary, r: Renderer, unattributed: int | None
) -> dict[str, Any]:
    # A report of named scopes does not count them (null): they are in no scope an actor names.
    return {
        **header("report", summary.as_of),
        **to_json(summary, renderer=r),
        "unattributed": unattributed,
    }


def _counts_table(
    title: Message, rows: Sequence[tuple[str, StatusCounts]], first: Message, r: Renderer
) -> Table:
    table = Table(title=r(title), box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(r(first))
    table.add_column(r(msg("cli.column_runs", "runs")), justify="right")
    table.add_column(r(msg("cli.column_attention", "attention")), justify="right", style="bold")
    for status in Actionability:
        table.add_column(r(_SHORT[status]), justify="right")
    for label, counts in rows:
        table.add_row(
            label,
            str(counts.total),
            str(counts.needs_attention),
            *(str(counts.by_status[status]) for status in Actionability),
        )
    return table


def _where(summary: DashboardSummary) -> Message:
    scopes = summary.scopes
    assert scopes.workspace_ids is not None, "the report names every workspace (shown_scopes)"
    workspaces = Listing(sorted(scopes.workspace_ids), "and")
    if scopes.environment_ids is None:
        return msg("cli.report_scope", "{workspaces}", workspaces=workspaces)
    return msg(
        "cli.report_scope_environments",
        "{workspaces} (environments {environments})",
        workspaces=workspaces,
        environments=Listing(sorted(scopes.environment_ids), "and"),
    )


def _counts_line(summary: DashboardSummary, r: Renderer) -> str:
    counts = summary.counts
    # The noun follows the total and the verb the count: "1 of 5 runs needs attention".
    runs = msgn("cli.report_runs", "{count} run", "{count} runs", count=counts.total)
    attention = msgn(
        "cli.report_attention",
        "{count} of {runs} needs attention",
        "{count} of {runs} need attention",
        count=counts.needs_attention,
        runs=runs,
    )
    return r(
        msg(
            "cli.report_counts",
            "{attention} (actionable {actionable}, manual review {review}); active work kept "
            "apart: {queued} queued, {running} running.",
            attention=attention,
            actionable=counts.by_status[Actionability.ACTIONABLE],
            review=counts.by_status[Actionability.REQUIRES_MANUAL_REVIEW],
            queued=summary.active.queued,
            running=summary.active.running,
        )
    )


def _unattributed_line(count: int, r: Renderer) -> str:
    return r(
        msgn(
            "cli.report_unattributed",
            "{count} run has no usable workspace id and is in none of these counts; "
            "`runactionability doctor` names it.",
            "{count} runs have no usable workspace id and are in none of these counts; "
            "`runactionability doctor` names them.",
            count=count,
        )
    )


def _render_report(
    console: Console, summary: DashboardSummary, database: str, r: Renderer, *, unattributed: int
) -> None:
    title = r(
        msg(
            "cli.report_title",
            "Dashboard for {scope} as of {as_of}",
            scope=_where(summary),
            as_of=summary.as_of,
        )
    )
    console.print(Text.assemble((title, "bold"), "  ", (database, "dim")))
    console.print(_counts_line(summary, r), markup=False)
    if unattributed:
        console.print(_unattributed_line(unattributed, r), markup=False)
    unknown = r(msg("cli.unknown_type", "(unknown type)"))
    console.print(
        _counts_table(
            msg("cli.by_family", "By family"),
            [
                (r(family_name(name)) if name else unknown, c)
                for name, c in summary.by_family.items()
            ],
            msg("cli.column_family", "family"),
            r,
        )
    )
    console.print(
        _counts_table(
            msg("cli.by_environment", "By environment"),
            [(scope_label(ws, env), c) for (ws, env), c in summary.by_environment.items()],
            msg("cli.column_scope", "scope"),
            r,
        )
    )
    _render_top(console, summary, r)
    if summary.active.total:
        console.print(
            runs_table(
                r(msg("cli.active_work", "Active work (not follow-up)")),
                list(summary.active.newest),
                r=r,
            )
        )


def _render_top(console: Console, summary: DashboardSummary, r: Renderer) -> None:
    if not summary.top:
        return
    console.print(Text(r(msg("cli.needs_attention_now", "Needs attention now")), style="bold"))
    for item in summary.top:
        run = item.run
        console.print(
            Text.assemble(
                (f"  {run.id} ", "bold"),
                r(
                    msg(
                        "cli.run_in_scope",
                        "{type} in {scope}: ",
                        type=str(run.type),
                        scope=scope_label(run.workspace_id, run.environment_id),
                    )
                ),
                status_text(item.status, r),
            )
        )
        console.print(f"      {r(item.result.message)}", soft_wrap=True, markup=False)
        console.print(
            f"      -> {action_label(item.primary_action, r)}", soft_wrap=True, markup=False
        )
