"""The change feed of a request session: which runs changed status between two instants.

See ``docs/changes.md``. A page is computed in a fixed number of statements: the candidates
(``SqlChangeCandidates``: the window's runs, one read per state kind, the problem runs the
arrivals reach), then one resolver batch at ``since`` and one at ``until``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import TYPE_CHECKING

import attrs

from runactionability.adapters.sqlalchemy.changes import Reach, SqlChangeCandidates
from runactionability.adapters.sqlalchemy.cursors import invalid_cursor, seal, unseal
from runactionability.changes import (
    Arrival,
    Change,
    ChangeCause,
    ChangePage,
    check_window,
    judge,
    order_key,
)
from runactionability.consumers.assess import evaluate_visible
from runactionability.consumers.shared import id_key, shared_ids, visible_at
from runactionability.errors import UsageError
from runactionability.limits import check_limit
from runactionability.model import (
    OperationRun,
    RunId,
    RunOutcome,
    RunStatus,
    run_as_of,
    usable_id,
)
from runactionability.ports import RunsById
from runactionability.result import ActionabilityResult
from runactionability.service.every import readable_scopes

if TYPE_CHECKING:
    from runactionability.service.request import RequestSession

_TAG = "changes/1"
_ISSUER = "this change feed"


@attrs.frozen
class FeedCursor:
    """Where a reader of the feed is: the window, and the last change delivered (None: none yet,
    or, with ``done``, the whole window).

    ``delivered`` is how many changes at exactly (``changed_at``, ``run_id``) were delivered,
    when more are left: two rows sharing an id may change at one instant. None (the only form
    before) means all of them were.
    """

    since: datetime
    until: datetime
    changed_at: datetime | None = None
    run_id: RunId | None = None
    done: bool = False
    delivered: int | None = None

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
        # Appended only when set, so every cursor issued before it reads as it did.
        payload += [] if self.delivered is None else [self.delivered]
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
        return seal(body, key)

    @classmethod
    def decode(cls, cursor: object, key: bytes | None) -> FeedCursor:
        """The cursor ``encode`` wrote (signed with ``key`` when one is set), else
        ``InvalidCursorError``; nothing is read from a database to decide."""
        body = unseal(cursor, key, _ISSUER)
        invalid = invalid_cursor(cursor, _ISSUER)
        try:
            tag, since, until, position, run_id, done, *delivered = json.loads(
                base64.urlsafe_b64decode(body.encode())
            )
            (count,) = delivered or [None]
            decoded = cls(
                since=datetime.fromisoformat(since),
                until=datetime.fromisoformat(until),
                changed_at=None if position is None else datetime.fromisoformat(position),
                run_id=run_id,
                done=done,
                delivered=count,
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
        if self.delivered is not None and not (
            isinstance(self.delivered, int)
            and not isinstance(self.delivered, bool)
            and self.changed_at is not None
            and self.delivered > 0
        ):
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
    found = _ordered(found)
    after = None
    if position.changed_at is not None:
        after = order_key(position.changed_at, position.run_id)  # type: ignore[arg-type]
        # The changes at the cursor's own (instant, id) that it did not count as delivered.
        left = [change for change in found if change.key == after][position.delivered or 0 :]
        later = [change for change in found if change.key > after]
        found = (left if position.delivered else []) + later
    page, more = found[:limit], len(found) > limit
    next_cursor = None
    if more:
        last = page[-1]
        delivered = None
        if found[limit].key == last.key:
            # The page ends among changes of one (instant, id): say how many of them were read.
            delivered = sum(change.key == last.key for change in page)
            if last.key == after:
                delivered += position.delivered or 0
        next_cursor = FeedCursor(
            since, until, last.changed_at, last.run_id, delivered=delivered
        ).encode(key)
    done = FeedCursor(since, until, done=True).encode(key)
    return ChangePage(
        changes=tuple(page),
        since=since,
        until=until,
        next_cursor=next_cursor,
        poll_cursor=next_cursor or done,
    )


def _ordered(found: list[Change]) -> list[Change]:
    """The changes by ``Change.key``; those of one key (rows sharing an id, changed at one
    instant) in an order every read of the same rows repeats, so a cursor may count them."""
    found = sorted(found, key=lambda change: change.key)
    ordered: list[Change] = []
    for _, group in groupby(found, key=lambda change: change.key):
        ties = list(group)
        ordered += ties if len(ties) == 1 else sorted(ties, key=_tie)
    return ordered


def _tie(change: Change) -> tuple[str, str]:
    return (str(change.since_status), repr(change.run))


def _changes(
    session: RequestSession, since: datetime, until: datetime, start: datetime
) -> list[Change]:
    backend = session.backend
    resolver = session.resolver
    types = Reach(resolver.catalog, resolver.registry.families())
    reader = SqlChangeCandidates(backend.runs, backend.states, types)
    candidates = reader.read(session.scopes, since=since, until=until, start=start)
    sharing = _sharing(session, candidates.runs, until)
    # Every row of an id shared at until is compared: a row that takes an existing id changes
    # the older row's status too, and nothing else in the window reaches that row. So are the
    # runs a success of such an id settled: it is no evidence from then on.
    moved = reader.reached_by(session.scopes, _stopped(sharing, start, until))
    runs = list(candidates.runs)
    runs += [row for row in [*sharing, *moved.runs] if row not in runs]
    reach = {**candidates.reach}
    for run_id, arrivals in moved.reach.items():
        reach[run_id] = reach.get(run_id, ()) + arrivals
    then = [run_as_of(run, since) for run in runs]
    now = [run_as_of(run, until) for run in runs]
    before = _results(session, then, since, sharing)
    results = _results(session, now, until, sharing)
    changes = []
    for run, was, result in zip(runs, before, results, strict=True):
        if result is None or (was is not None and was.status == result.status):
            continue
        reaching = (*reach.get(run.id, ()), *_partners(run, sharing))
        status = None if was is None else was.status
        changes.append(judge(run, status, result, since=since, until=until, arrivals=reaching))
    return changes


def _sharing(
    session: RequestSession, runs: Sequence[OperationRun], until: datetime
) -> list[OperationRun]:
    """The rows of ``runs``' ids visible at ``until`` when one of them is shared there, as
    stored (none when the source proves its ids unique: no statement then)."""
    source, scopes = session._runs(), session.scopes
    if not runs or not isinstance(source, RunsById) or source.unique_ids():
        return []
    rows = [
        row
        for row in source.runs_by_ids(
            list({id_key(r): r.id for r in runs}.values()),
            readable_scopes(scopes, whole_database=session.whole_database),
        )
        if scopes.admits_run(row) and run_as_of(row, until) is not None
    ]
    shared = shared_ids(visible_at(rows, scopes, until))
    return [row for row in rows if id_key(row) in shared]


def _stopped(
    sharing: Sequence[OperationRun], start: datetime, until: datetime
) -> list[tuple[OperationRun, datetime]]:
    """Each success of ``sharing`` with the creation, in [``start``, ``until``], of a row of its
    id: from then on it is no evidence."""
    return [
        (row, created)
        for row in sharing
        if row.status is RunStatus.COMPLETED and row.outcome is RunOutcome.SUCCEEDED
        for other in sharing
        if id_key(other) == id_key(row)
        and (created := _created(other)) is not None
        and start <= created <= until
    ]


def _partners(run: OperationRun, sharing: Sequence[OperationRun]) -> list[Arrival]:
    """The creation of each row with ``run``'s id, as what may have moved it: a row taking its
    id makes it ``duplicate_run_id`` (``judge`` keeps those in the window; the run's own
    creation, when there, is its cause already)."""
    return [
        Arrival(created, ChangeCause.NEW_RUN, workspace, usable_id(row.environment_id))
        for row in sharing
        if id_key(row) == id_key(run)
        and (workspace := usable_id(row.workspace_id)) is not None
        and (created := _created(row)) is not None
    ]


def _created(run: OperationRun) -> datetime | None:
    created = run.created_at
    return created if isinstance(created, datetime) and created.utcoffset() is not None else None


def _results(
    session: RequestSession,
    runs: Sequence[OperationRun | None],
    as_of: datetime,
    sharing: Sequence[OperationRun],
) -> list[ActionabilityResult | None]:
    """Each run's result at ``as_of`` (None for a run that did not exist then), in order."""
    existing = [run for run in runs if run is not None]
    if not existing:
        return [None] * len(runs)
    # An id another visible row shares reads ``duplicate_run_id`` here as on every page.
    scopes = session.scopes
    shared = shared_ids(visible_at(sharing, scopes, as_of))
    found = iter(
        evaluate_visible(
            session.resolver,
            existing,
            scopes=scopes,
            as_of=as_of,
            shared=shared,
            source=session._runs(),
        )
    )
    return [None if run is None else next(found) for run in runs]
