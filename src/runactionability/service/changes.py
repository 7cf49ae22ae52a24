"""The change feed of a request session: which runs changed status between two instants.

See ``docs/changes.md``. A page is computed in a fixed number of statements: the candidates
(``SqlChangeCandidates``: the window's runs, one read per state kind, the problem runs the
arrivals reach), then one resolver batch at ``since`` and one at ``until``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from runactionability.adapters.sqlalchemy.changes import Reach, SqlChangeCandidates
from runactionability.adapters.sqlalchemy.cursors import invalid_cursor, seal, unseal
from runactionability.changes import Change, ChangePage, check_window, judge, order_key
from runactionability.consumers.assess import evaluate_visible, shared_with
from runactionability.errors import UsageError
from runactionability.limits import check_limit
from runactionability.model import OperationRun, RunId, run_as_of

if TYPE_CHECKING:
    from runactionability.service.request import RequestSession

_TAG = "changes/1"
_ISSUER = "this change feed"


@attrs.frozen
class FeedCursor:
    """Where a reader of the feed is: the window, and the last change delivered (None: none yet,
    or, with ``done``, the whole window)."""

    since: datetime
    until: datetime
    changed_at: datetime | None = None
    run_id: RunId | None = None
    done: bool = False

    def encode(self, key: bytes | None) -> str:
        position = None if self.changed_at is None else self.changed_at.isoformat()
        payload = [
            _TAG,
            self.since.isoformat(),
            self.until.isoformat(),
            position,
            self.run_id,
            self.done,
        ]
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
        return seal(body, key)

    @classmethod
    def decode(cls, cursor: object, key: bytes | None) -> FeedCursor:
        """The cursor ``encode`` wrote (signed with ``key`` when one is set), else
        ``InvalidCursorError``; nothing is read from a database to decide."""
        body = unseal(cursor, key, _ISSUER)
        invalid = invalid_cursor(cursor, _ISSUER)
        try:
            tag, since, until, position, run_id, done = json.loads(
                base64.urlsafe_b64decode(body.encode())
            )
            decoded = cls(
                since=datetime.fromisoformat(since),
                until=datetime.fromisoformat(until),
                changed_at=None if position is None else datetime.fromisoformat(position),
                run_id=run_id,
                done=done,
            )
        except (ValueError, TypeError, RecursionError, binascii.Error):
            raise invalid from None
        if not (tag == _TAG and decoded._valid() and decoded.encode(None) == body):
            raise invalid
        return decoded

    def _valid(self) -> bool:
        instants = [self.since, self.until] + ([] if self.changed_at is None else [self.changed_at])
        if not all(_placed_in_utc(instant) for instant in instants) or self.since > self.until:
            return False
        if not isinstance(self.done, bool):
            return False
        if self.changed_at is None:
            return self.run_id is None
        ids_ok = isinstance(self.run_id, str) or (
            isinstance(self.run_id, int) and not isinstance(self.run_id, bool)
        )
        return ids_ok and not self.done and self.since < self.changed_at <= self.until


def _placed_in_utc(instant: datetime) -> bool:
    # Every store compares instants in UTC: an offset that carries the instant past the years
    # 1 to 9999 there (9999-12-31T23:00-05:00) places it nowhere.
    if instant.utcoffset() is None:
        return False
    try:
        instant.astimezone(UTC)
    except OverflowError:
        return False
    return True


def read_page(
    session: RequestSession,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
    key: bytes | None,
) -> ChangePage:
    """The ``RequestSession.changes`` page (see there)."""
    check_limit(limit)
    if cursor is not None:
        position = FeedCursor.decode(cursor, key)
        for name, given, held in (
            ("since", since, position.since),
            ("until", until, position.until),
        ):
            if given is not None and given != held:
                raise UsageError(f"{name} differs from the cursor's window; pass the cursor alone")
    else:
        if since is None:
            raise UsageError("changes needs since (or a cursor)")
        until = session.as_of if until is None else until
        check_window(since, until)
        position = FeedCursor(since=since, until=until)
    _within_session(position.until, session.as_of, "a cursor's" if cursor else "")
    return page_from(session, position, limit, key)


def _within_session(until: datetime, as_of: datetime, whose: str) -> None:
    """Refuse a window that ends after the session's ``as_of``: a session answers from one
    instant, and runs created after it are runs its other answers say do not exist. Refused
    rather than clamped: a page silently shorter than asked for is a wrong answer."""
    if until > as_of:
        raise UsageError(
            f"{whose or 'the'} window ends at {until.isoformat()}, after this session's as_of "
            f"({as_of.isoformat()}); a session answers from one instant: open one at or after "
            "until"
        )


def page_from(
    session: RequestSession, position: FeedCursor, limit: int, key: bytes | None
) -> ChangePage:
    """The page of the window ``position`` names, after the change it names (if any)."""
    since, until = position.since, position.until
    found: list[Change] = []
    if not position.done and since < until:
        start = since if position.changed_at is None else position.changed_at
        found = _changes(session, since, until, start)
    if position.changed_at is not None:
        after = order_key(position.changed_at, position.run_id)  # type: ignore[arg-type]
        found = [change for change in found if change.key > after]
    found.sort(key=lambda change: change.key)
    page, more = found[:limit], len(found) > limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = FeedCursor(since, until, last.changed_at, last.run_id).encode(key)
    done = FeedCursor(since, until, done=True).encode(key)
    return ChangePage(
        changes=tuple(page),
        since=since,
        until=until,
        next_cursor=next_cursor,
        poll_cursor=next_cursor or done,
    )


def _changes(
    session: RequestSession, since: datetime, until: datetime, start: datetime
) -> list[Change]:
    backend = session.backend
    resolver = session.resolver
    types = Reach(resolver.catalog, resolver.registry.families())
    reader = SqlChangeCandidates(backend.runs, backend.states, types)
    candidates = reader.read(session.scopes, since=since, until=until, start=start)
    then = {run.id: run_as_of(run, since) for run in candidates.runs}
    now = {run.id: run_as_of(run, until) for run in candidates.runs}
    before = _statuses(session, [r for r in then.values() if r is not None], since)
    results = _results(session, [r for r in now.values() if r is not None], until)
    changes = []
    for run in candidates.runs:
        result = results.get(run.id)
        if result is None:
            continue
        was = before.get(run.id)
        if was is not None and was == result.status:
            continue
        reaching = candidates.reach.get(run.id, ())
        changes.append(judge(run, was, result, since=since, until=until, arrivals=reaching))
    return changes


def _statuses(session: RequestSession, runs: list[OperationRun], as_of: datetime) -> dict[Any, Any]:
    return {run_id: result.status for run_id, result in _results(session, runs, as_of).items()}


def _results(session: RequestSession, runs: list[OperationRun], as_of: datetime) -> dict[Any, Any]:
    if not runs:
        return {}
    # An id another visible row shares reads ``duplicate_run_id`` here as on every page.
    scopes = session.scopes
    shared = shared_with(session.backend.runs, runs, scopes, as_of)
    results = evaluate_visible(
        session.resolver,
        runs,
        scopes=scopes,
        as_of=as_of,
        shared=shared,
        source=session.backend.runs,
    )
    return {run.id: result for run, result in zip(runs, results, strict=True)}
