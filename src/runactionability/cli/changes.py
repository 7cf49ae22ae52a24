"""``runactionability changes``: which runs changed actionability in a window, or from now on."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import click
from rich import box
from rich.table import Table

from runactionability.changes import Change, ChangePage
from runactionability.cli._app import (
    CliUsageError,
    Reading,
    chosen_locale,
    cli,
    database_option,
    iso_instant,
    json_option,
    one_line,
    scope_options,
)
from runactionability.cli._output import emit_json, stdout_console, visible
from runactionability.cli._session import open_service, open_session, shown_scopes
from runactionability.cli._shapes import header, scope_label, scopes_json, status_text
from runactionability.errors import NoWorkspacesError, UsageError
from runactionability.i18n import Renderer
from runactionability.jsonforms import to_json
from runactionability.limits import MAX_CHANGE_MARGIN
from runactionability.messages import msg
from runactionability.scopes import VisibleScopes
from runactionability.service import MAX_LIMIT, ActionabilityService, EveryWorkspace, RequestSession
from runactionability.terms import (
    change_cause_name,
    status_before_name,
    status_name,
)

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_instant(option: str, text: str, now: datetime) -> datetime:
    """``text`` as an instant: a duration before ``now`` (``15m``, ``24h``, ``7d``) or ISO 8601
    (naive is UTC)."""
    matched = _DURATION.match(text)
    if matched:
        try:
            return now - timedelta(**{_UNITS[matched[2]]: int(matched[1])})
        except OverflowError:
            raise CliUsageError(f"{option} {text!r} reaches before the year 1") from None
    return iso_instant(
        option, text, refusal="is neither a duration (15m, 24h, 7d) nor an ISO 8601 instant"
    )


@cli.command("changes")
@database_option
@scope_options
@click.option(
    "--since",
    "since_text",
    help="The window's start: a duration before --until (15m, 24h, 7d) or an ISO 8601 instant "
    "(required, except with --cursor, which carries its window; with --follow, default: now).",
)
@click.option(
    "--until",
    "until_text",
    help="The window's end: a duration before now or an ISO 8601 instant (default: the demo's "
    "instant, else now).",
)
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False),
    help="An operation catalog TOML file (default: the registered types).",
)
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, MAX_LIMIT),
    help=f"How many changes a page holds (1-{MAX_LIMIT}).",
)
@click.option("--cursor", help="The next_cursor printed by the previous page.")
@click.option(
    "--follow",
    is_flag=True,
    help="Keep polling for new changes, printing each once, until interrupted (Ctrl-C).",
)
@click.option(
    "--interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.0, 3600.0),
    help="Seconds between two polls of --follow.",
)
@click.option(
    "--margin",
    type=click.FloatRange(0.0, MAX_CHANGE_MARGIN.total_seconds()),
    help="With --follow, each poll reads up to now minus this many seconds, the longest a "
    "writing transaction may stay open (default: the configuration's change_margin_seconds, "
    "else 60).",
)
@click.option(
    "--polls",
    type=click.IntRange(1),
    help="With --follow, stop after this many polls (default: until interrupted).",
)
@json_option
def changes(
    database: str | None,
    config_path: str | None,
    workspaces: tuple[str, ...],
    environments: tuple[str, ...],
    since_text: str | None,
    until_text: str | None,
    catalog_path: str | None,
    limit: int,
    cursor: str | None,
    follow: bool,
    interval: float,
    margin: float | None,
    polls: int | None,
    as_json: bool,
) -> None:
    """List the runs whose actionability changed in a window.

    The window runs from --since to --until, oldest change first. Each change shows the status
    before and after, what caused it and when. With --follow the command keeps polling every
    --interval seconds and prints each new change once.
    """
    if follow and (cursor or until_text):
        raise CliUsageError("--follow reads up to now: it takes neither --until nor --cursor")
    if since_text is None and not (follow or cursor):
        raise CliUsageError("--since is required, unless --cursor or --follow is given")

    if follow:
        opened = open_service(
            database,
            config_path=config_path,
            workspaces=workspaces,
            environments=environments,
            catalog_path=catalog_path,
        )
        _follow(
            opened,
            since_text,
            limit=limit,
            interval=interval,
            margin=margin,
            polls=polls,
            as_json=as_json,
        )
        return
    until = _until_text(until_text)
    reading = Reading(database, config_path, workspaces, environments, until, catalog_path)
    session_opened = open_session(reading)
    _window(session_opened, since_text, limit=limit, cursor=cursor, as_json=as_json)


def _window(
    opened: AbstractContextManager[RequestSession],
    since_text: str | None,
    *,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """One page of the window from --since (or the cursor's) to the session's instant."""
    with opened as session:
        since = None
        if since_text is not None and not cursor:
            since = parse_instant("--since", since_text, session.as_of)
            if since > session.as_of:
                raise CliUsageError("--since is after --until")
        try:
            page = session.changes(since=since, limit=limit, cursor=cursor)
        except UsageError as exc:
            # A cursor whose window ends after --until (the session's instant) is the command
            # line's mistake: exit 2, as for any other option that cannot be used.
            raise CliUsageError(one_line(exc)) from None
        shown = shown_scopes(session) if as_json else session.scopes
    if as_json:
        emit_json(_changes_json(session, shown, page))
    else:
        _render_page(session, page)


def _until_text(until_text: str | None) -> str | None:
    if until_text is None:
        return None
    return parse_instant("--until", until_text, datetime.now(UTC)).isoformat()


def _changes_json(
    session: RequestSession, shown: VisibleScopes, page: ChangePage
) -> dict[str, object]:
    # A cursor's window ends where its first page's did, not at this command's instant.
    return {
        **header("changes", page.until),
        "scopes": scopes_json(shown),
        **to_json(page, renderer=session.renderer),
    }


def _render_page(session: RequestSession, page: ChangePage) -> None:
    console = stdout_console()
    r = session.renderer
    title = r(
        msg(
            "cli.changes_title",
            "Changes from {since} to {until}",
            since=page.since,
            until=page.until,
        )
    )
    if not page.changes:
        console.print(title, markup=False)
        console.print(r(msg("cli.no_changes", "no run changed")), style="dim")
        return
    console.print(changes_table(title, page.changes, r))
    if page.next_cursor:
        console.print(
            r(msg("cli.next_page", "next page: --cursor {cursor}", cursor=page.next_cursor)),
            soft_wrap=True,
            markup=False,
        )
    else:
        console.print(r(msg("cli.end_of_changes", "end of the changes")), style="dim")


def changes_table(title: str, changes: Sequence[Change], r: Renderer) -> Table:
    """One row per change: when, run, type, scope, status before and after, cause."""
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(r(msg("cli.column_changed_at", "changed")))
    table.add_column(r(msg("cli.column_run", "run")), justify="right")
    table.add_column(r(msg("cli.column_type", "type")))
    table.add_column(r(msg("cli.column_scope", "scope")))
    table.add_column(r(msg("cli.column_before", "before")))
    table.add_column(r(msg("cli.column_after", "after")))
    table.add_column(r(msg("cli.column_cause", "cause")))
    for change in changes:
        run = change.run
        table.add_row(
            r.instant(change.changed_at, "short"),
            str(run.id),
            str(run.type),
            scope_label(run.workspace_id, run.environment_id),
            r(status_before_name(change.since_status)),
            status_text(change.status, r),
            r(change_cause_name(change.cause)),
        )
    return table


def _follow(
    opened: AbstractContextManager[tuple[ActionabilityService, VisibleScopes | EveryWorkspace]],
    since_text: str | None,
    *,
    limit: int,
    interval: float,
    margin: float | None,
    polls: int | None,
    as_json: bool,
) -> None:
    """Poll with the feed's poller cursor: each window starts where the previous one ended and
    ends the service's change margin behind the clock, so every change is printed once.

    A database without runs yet is an empty poll, so a follow started before the first run
    waits for it. The observers of the host's plugins are not called: a terminal watching the
    feed must neither page anyone nor hand a change to them a second time."""
    since: datetime | None = None
    if since_text is not None:
        since = parse_instant("--since", since_text, datetime.now(UTC))
    cursor: str | None = None
    done = 0
    with opened as (service, scopes):
        if margin is not None:
            service.change_margin = timedelta(seconds=margin)
        if since is None:
            # Fixed now, not at the first poll that finds runs: a run recorded meanwhile counts.
            since = datetime.now(UTC) - service.change_margin
        renderer = service.renderer(chosen_locale())
        while True:
            page = _poll(service, scopes, cursor=cursor, since=since, limit=limit)
            if page is not None:
                since, cursor = None, page.poll_cursor
                for change in page.changes:
                    _print_change(renderer, change, as_json)
                if page.next_cursor:
                    continue  # the rest of this window, at once
            done += 1
            if polls is not None and done >= polls:
                return
            time.sleep(interval)


def _poll(
    service: ActionabilityService,
    scopes: VisibleScopes | EveryWorkspace,
    *,
    cursor: str | None,
    since: datetime | None,
    limit: int,
) -> ChangePage | None:
    """One poll without observers; None while the database holds no run with a workspace."""
    try:
        return service.poll_changes(scopes, cursor=cursor, since=since, limit=limit, notify=False)
    except NoWorkspacesError:
        return None


def _print_change(r: Renderer, change: Change, as_json: bool) -> None:
    if as_json:
        emit_json(to_json(change, renderer=r), compact=True)
        return
    run = change.run
    line = r(
        msg(
            "cli.change_line",
            "{changed_at}  run {run_id} ({type}, {scope}): {before} -> {after} ({cause})",
            changed_at=change.changed_at,
            run_id=str(run.id),
            type=str(run.type),
            scope=scope_label(run.workspace_id, run.environment_id),
            before=status_before_name(change.since_status),
            after=status_name(change.status),
            cause=change_cause_name(change.cause),
        )
    )
    click.echo(visible(line))
