"""Polling the change feed: the window a poll reads, and the observers it notifies.

A poller passes the ``poll_cursor`` it was given and reads what changed since. Each window ends
``change_margin`` before the poll's clock and the next one starts where it ended, so a row whose
instant falls in a window was committed before that window was read, provided no writing
transaction stays open longer than the margin (``docs/changes.md``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from runactionability.changes import ChangePage, check_window
from runactionability.errors import UsageError
from runactionability.limits import MAX_CHANGE_MARGIN, check_limit
from runactionability.registry import Registry
from runactionability.service.changes import FeedCursor, page_from
from runactionability.telemetry import not_counted

if TYPE_CHECKING:
    from runactionability.scopes import VisibleScopes
    from runactionability.service.every import EveryWorkspace
    from runactionability.service.session import ActionabilityService

DEFAULT_CHANGE_MARGIN = timedelta(seconds=60)
"""How far behind the clock a poll's window ends, unless the service is told otherwise."""


def check_margin(margin: object) -> timedelta:
    """``margin`` as the service keeps it, or ``UsageError`` (a timedelta from 0 to
    ``MAX_CHANGE_MARGIN``)."""
    if not isinstance(margin, timedelta) or not timedelta(0) <= margin <= MAX_CHANGE_MARGIN:
        raise UsageError(
            f"change_margin must be a timedelta from 0 to {MAX_CHANGE_MARGIN!r}, not {margin!r}"
        )
    return margin


def next_window(
    cursor: str | None,
    *,
    since: datetime | None,
    now: datetime | None,
    margin: timedelta,
    key: bytes | None,
) -> FeedCursor:
    """Where a poll reads: the rest of the cursor's window while it has pages left; else from
    the end of the cursor's window (or ``since``; with neither, from now) to ``now - margin``.

    The cursor is checked here, before any statement. A window never ends before it starts:
    while ``now - margin`` is still before its start, it is empty and the next poll starts there.
    """
    # Checked before any arithmetic, which would raise TypeError on a naive or foreign value.
    for name, value in (("now", now), ("since", since)):
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            raise UsageError(f"{name} must be a timezone-aware datetime, not {value!r}")
    clock = datetime.now(UTC) if now is None else now
    if cursor is not None:
        if since is not None:
            raise UsageError("pass since or a cursor, not both")
        position = FeedCursor.decode(cursor, key)
        if not position.done:
            return position
        since = position.until
    horizon = clock - margin
    start = horizon if since is None else since
    until = max(start, horizon)
    check_window(start, until)
    return FeedCursor(since=start, until=until)


def poll(
    service: ActionabilityService,
    scopes: VisibleScopes | EveryWorkspace,
    *,
    cursor: str | None,
    since: datetime | None,
    limit: int,
    now: datetime | None,
    notify: bool,
) -> ChangePage:
    """``ActionabilityService.poll_changes`` (see there)."""
    window, key = poll_window(service, cursor=cursor, since=since, limit=limit, now=now)
    with service.session(scopes=scopes, as_of=window.until) as session:
        page = page_from(session, window, limit, key)
    if notify:
        notify_changes(service.registry, page)
    return page


def poll_window(
    service: ActionabilityService,
    *,
    cursor: str | None,
    since: datetime | None,
    limit: int,
    now: datetime | None,
) -> tuple[FeedCursor, bytes | None]:
    """The window a poll of ``service`` reads, and the key its cursors are signed with; every
    argument is checked here, before any statement."""
    check_limit(limit)
    key = service._wiring.backend.runs.cursor_key
    margin = service.change_margin
    return next_window(cursor, since=since, now=now, margin=margin, key=key), key


def notify_changes(registry: Registry, page: ChangePage) -> None:
    """Hand each change of ``page`` to the observers, one by one, in the page's order."""
    # Inside the poll's span, but what the observers send is theirs, not the poll's.
    with not_counted():
        for change in page.changes:
            registry.notify("runactionability_actionability_changed", change=change)
