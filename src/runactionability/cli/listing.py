"""``runactionability list``: runs, newest first, one page at a time."""

from __future__ import annotations

import click

from runactionability.cli._app import CliUsageError, Reading, cli, json_option, session_options
from runactionability.cli._output import emit_json, progress, stdout_console
from runactionability.cli._session import open_session, shown_scopes
from runactionability.cli._shapes import header, runs_table, scopes_json
from runactionability.consumers import AssessedPage, View, VisibleScopes
from runactionability.jsonforms import to_json
from runactionability.messages import msg
from runactionability.service import MAX_LIMIT, RequestSession


@cli.command("list")
@session_options
@click.option(
    "--current-follow-up",
    "follow_up",
    is_flag=True,
    help="Only runs that need attention now (actionable, manual review).",
)
@click.option(
    "--history",
    "history_only",
    is_flag=True,
    help="Only runs that call for nothing now (superseded, resolved, informational). "
    "Contradicts --current-follow-up.",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, MAX_LIMIT),
    help=f"How many runs a page holds (1-{MAX_LIMIT}).",
)
@click.option("--cursor", help="The next_cursor printed by the previous page.")
@json_option
def list_(
    reading: Reading,
    follow_up: bool,
    history_only: bool,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """List runs newest first, their history beside actionability.

    Pages hold --limit runs; pass the printed --cursor to read the next one.
    """
    if follow_up and history_only:
        # Refused rather than letting the last flag win: the two views share no run.
        raise CliUsageError(
            "--current-follow-up and --history are contradictory: give at most one of them"
        )
    chosen = View.CURRENT_FOLLOW_UP if follow_up else View.HISTORY if history_only else View.ALL
    with (
        open_session(reading) as session,
        progress(not as_json, "Scanning runs") as advance,
    ):
        page = session.page(chosen, limit=limit, cursor=cursor, on_scan=advance)
        # Only the document names the workspaces: the table needs no read of them.
        shown = shown_scopes(session) if as_json else None
    if shown is not None:
        emit_json(_list_json(session, shown, chosen, limit, page))
    else:
        _render_list(session, chosen, page)


def _list_json(
    session: RequestSession, shown: VisibleScopes, chosen: View, limit: int, page: AssessedPage
) -> dict[str, object]:
    return {
        **header("list", session.as_of),
        "scopes": scopes_json(shown),
        "view": str(chosen),
        "limit": limit,
        **to_json(page, renderer=session.renderer),
    }


def _render_list(session: RequestSession, chosen: View, page: AssessedPage) -> None:
    console = stdout_console()
    r = session.renderer
    title = r(
        msg("cli.list_title", "Runs ({view}) as of {as_of}", view=str(chosen), as_of=session.as_of)
    )
    console.print(runs_table(title, page.items, history=True, r=r))
    if page.next_cursor:
        console.print(
            r(msg("cli.next_page", "next page: --cursor {cursor}", cursor=page.next_cursor)),
            soft_wrap=True,
            markup=False,
        )
    else:
        console.print(r(msg("cli.end_of_list", "end of the list")), style="dim")
