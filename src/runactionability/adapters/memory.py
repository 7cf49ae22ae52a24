"""In-memory ports, for tests and for hosts that already hold the rows.

They follow the port contracts in ``runactionability.ports`` exactly; the only difference is that
they read Python objects instead of a database. They also serve as the reference the SQL adapters
are tested against.
"""

from __future__ import annotations

import base64
import binascii
import json
import reprlib
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta

import attrs

from runactionability.adapters.memory_index import (
    Bucket,
    BucketKey,
    IndexKey,
    Order,
    bucket_order,
    maybe_under,
    success_fact,
    success_key,
)
from runactionability.errors import DuplicateRunError, InvalidCursorError
from runactionability.evidence import (
    LaterSuccessRequest,
    RunFact,
    StateFact,
    StateRequest,
    current_state,
)
from runactionability.limits import MAX_CURSOR_LENGTH, check_limit
from runactionability.model import OperationRun, RunId, usable_id
from runactionability.ports import RunPage, RunQuery, run_as_of
from runactionability.scopes import VisibleScopes


def _aware(value: object) -> datetime | None:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return None


class MemoryRunHistory:
    """``RunHistory`` over a list of ``OperationRun`` values (the list is copied).

    The successful runs of one stored type are indexed by scope and subject when a request first
    names that type, so a batch pays one pass over the runs of the types it asks about, and then
    one lookup per request. The first pass files only the successes under the scopes and
    subjects that batch asks for (most of a type's successes answer no request of it); a later
    batch asking for others files every success of the type. The index holds the runs
    themselves; a ``RunFact`` is built only for a run that answers a request.
    """

    def __init__(self, runs: Iterable[OperationRun] = ()) -> None:
        self._by_type: dict[str, list[OperationRun]] = {}
        # Each index with the keys it was built for (None: every key).
        self._indexes: dict[IndexKey, tuple[dict[BucketKey, Bucket], set[BucketKey] | None]]
        self._indexes = {}
        for run in runs:
            self.add(run)

    def add(self, run: OperationRun) -> None:
        """Record one more run."""
        if isinstance(run.type, str):
            self._by_type.setdefault(run.type, []).append(run)
            # Only the indexes of the run's own type can change.
            for index_key in [key for key in self._indexes if key[0] == run.type]:
                del self._indexes[index_key]

    def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Mapping[LaterSuccessRequest, RunFact]:
        asked: dict[IndexKey, set[BucketKey]] = {}
        for request in requests:
            subject_key = request.subject_key if request.subject is not None else None
            bucket_key = (request.workspace_id, request.environment_id, request.subject)
            for stored_type in request.operation_types:
                wide = request.environment_id is None
                asked.setdefault((stored_type, subject_key, wide), set()).add(bucket_key)
        indexes = {index_key: self._index(index_key, keys) for index_key, keys in asked.items()}
        answers: dict[LaterSuccessRequest, RunFact] = {}
        for request in requests:
            subject_key = request.subject_key if request.subject is not None else None
            bucket_key = (request.workspace_id, request.environment_id, request.subject)
            # A workspace-owned request (no environment) is answered by a run in any environment.
            wide = request.environment_id is None
            restricted = request.visible_environment_ids
            best: OperationRun | None = None
            best_order: Order | None = None
            for stored_type in request.operation_types:
                bucket = indexes[(stored_type, subject_key, wide)].get(bucket_key)
                if bucket is None:
                    continue
                runs: list[OperationRun] | tuple[OperationRun] = (
                    bucket if isinstance(bucket, list) else (bucket,)
                )
                for run in runs:
                    # Buckets are sorted latest first, so the first run visible at as_of (and to
                    # the actor the request is confined to) wins.
                    if run.completed_at <= as_of and (
                        restricted is None
                        or request.admits_environment(usable_id(run.environment_id))
                    ):
                        place = bucket_order(run)
                        if best_order is None or place > best_order:
                            best, best_order = run, place
                        break
            if best is not None:
                fact = success_fact(best, subject_key)
                assert fact is not None  # only clean successes are indexed
                answers[request] = fact
        return answers

    def _index(self, index_key: IndexKey, keys: set[BucketKey]) -> dict[BucketKey, Bucket]:
        """The successes of a stored type by scope and subject, ``keys`` among them.

        ``index_key`` is (stored type, subject key, wide); a wide index files by workspace only.
        Each is built apart, when a request first needs it, and then only for the ``keys`` asked:
        a bucket per success that no request reads would be built, and kept for the collector
        to walk, for nothing. A bucket of one run is the run itself, not a list (most hold one).
        """
        built = self._indexes.get(index_key)
        if built is not None and (built[1] is None or keys <= built[1]):
            return built[0]
        # A later batch asking for keys the first did not: file every success from now on.
        only = set(keys) if built is None else None
        stored_type, subject_key, wide = index_key
        index: dict[BucketKey, Bucket] = {}
        runs = self._by_type.get(stored_type, ())
        for run in runs if only is None else maybe_under(runs, only, subject_key, wide):
            key = success_key(run, subject_key)
            if key is None:
                continue
            if wide:
                key = (key[0], None, key[2])
            if only is not None and key not in only:
                continue
            bucket = index.get(key)
            if bucket is None:
                index[key] = run
            elif bucket.__class__ is list:
                bucket.append(run)
            else:
                index[key] = [bucket, run]  # type: ignore[list-item]
        for bucket in index.values():
            if bucket.__class__ is list:
                bucket.sort(key=bucket_order, reverse=True)
        self._indexes[index_key] = (index, only)
        return index


_ObjectKey = tuple[str, str | None, str | None]


class MemoryStateSource:
    """``StateSource`` for one kind over a list of ``StateFact`` values.

    The current state of an object is its fact with the greatest ``proven_at``. There is no fact
    for an object when any of its facts has a ``proven_at`` that is not a timezone-aware datetime
    (its place in time is unknown), or when the facts sharing the greatest ``proven_at`` disagree
    on the status (see ``current_state``). Equal ``proven_at`` never lets the last one added win.
    Ids are judged as the SQL state source judges stored ones (``usable_id``): an int id is its
    text, so ``subject=7`` is the object ``"7"``; a fact with an id no request can name (no usable
    workspace id, a blank subject) is no evidence.
    """

    def __init__(self, kind: str, facts: Iterable[StateFact] = ()) -> None:
        self.kind = kind
        # The facts of each object proven at its greatest instant; None once a fact of the
        # object has an unreadable proven_at.
        self._newest: dict[_ObjectKey, list[StateFact] | None] = {}
        for fact in facts:
            self.add(fact)

    def add(self, fact: StateFact) -> None:
        """Record a state of the object it names."""
        if fact.kind != self.kind:
            raise ValueError(f"a {fact.kind!r} fact does not belong in the {self.kind!r} source")
        given = (fact.workspace_id, fact.environment_id, fact.subject)
        workspace_id = usable_id(given[0])
        environment_id = None if given[1] is None else usable_id(given[1])
        subject = None if given[2] is None else usable_id(given[2])
        pairs = ((given[1], environment_id), (given[2], subject))
        if workspace_id is None or any(g is not None and k is None for g, k in pairs):
            # An id no request can name (blank, not text): a fact about nothing asked, as a row
            # the SQL source's byte-exact comparison never matches (not the scope-wide object).
            return
        key = (workspace_id, environment_id, subject)
        if key != given:
            fact = attrs.evolve(fact, workspace_id=key[0], environment_id=key[1], subject=key[2])
        if key in self._newest and self._newest[key] is None:
            return
        proven_at = _aware(fact.proven_at)
        if proven_at is None:
            self._newest[key] = None
            return
        newest = self._newest.get(key)
        if newest is None or proven_at > newest[0].proven_at:
            self._newest[key] = [fact]
        elif proven_at == newest[0].proven_at:
            newest.append(fact)

    def current_states(
        self, requests: Collection[StateRequest]
    ) -> Mapping[StateRequest, StateFact]:
        answers: dict[StateRequest, StateFact] = {}
        for request in requests:
            if request.kind != self.kind:
                continue
            newest = self._newest.get(
                (request.workspace_id, request.environment_id, request.subject)
            )
            fact = current_state(newest) if newest else None
            if fact is not None:
                answers[request] = fact
        return answers


class MemoryRunSource:
    """``RunSource`` over a list of ``OperationRun`` values.

    Runs whose ``created_at`` is not a timezone-aware datetime sort last (oldest), so they are
    still listed rather than dropped. A query's ``as_of`` lists each run as ``run_as_of`` gives it.
    """

    orders_by_instant = True
    """Listed in the order of their instants (``SqlRunSource.orders_by_instant``)."""

    def __init__(self, runs: Iterable[OperationRun] = ()) -> None:
        self._runs = list(runs)

    def add(self, run: OperationRun) -> None:
        self._runs.append(run)

    def get_run(self, run_id: RunId) -> OperationRun | None:
        """See ``RunSource``: ``DuplicateRunError`` when two of the runs have this id."""
        found = [run for run in self._runs if run.id == run_id]
        if len(found) > 1:
            raise DuplicateRunError([run_id], where="in the run source")
        return found[0] if found else None

    def unique_ids(self) -> bool:
        """See ``RunsById``: nothing proves it but the runs themselves."""
        return not self.shares_ids(None)

    def shares_ids(self, scopes: VisibleScopes | None) -> bool:
        """See ``RunsById``: whether two of the runs of ``scopes`` have one id."""
        runs = self._within(scopes)
        return len({(run.id.__class__, run.id) for run in runs}) != len(runs)

    def runs_by_ids(
        self, run_ids: Collection[RunId], scopes: VisibleScopes | None
    ) -> list[OperationRun]:
        """See ``RunsById``: every run of ``scopes`` with one of these ids, as ``get_run``
        compares them."""
        wanted = list(run_ids)
        return [run for run in self._within(scopes) if any(run.id == i for i in wanted)]

    def _within(self, scopes: VisibleScopes | None) -> list[OperationRun]:
        if scopes is None:
            return self._runs
        return [run for run in self._runs if scopes.admits_run(run)]

    def list_runs(self, query: RunQuery, *, limit: int = 100, cursor: str | None = None) -> RunPage:
        check_limit(limit)
        after = _decode_cursor(cursor) if cursor is not None else None
        runs: Iterable[OperationRun | None] = self._runs
        if query.as_of is not None:
            as_of = query.as_of
            runs = (run_as_of(run, as_of) for run in self._runs)
        matching = sorted(
            (run for run in runs if run is not None and _matches(run, query)),
            key=_sort_key,
            reverse=True,
        )
        if after is not None:
            matching = [run for run in matching if _sort_key(run) < after]
        page = matching[:limit]
        more = len(matching) > limit
        return RunPage(runs=page, next_cursor=_encode_cursor(_sort_key(page[-1])) if more else None)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OLDEST = -(2**63)
SortKey = tuple[int, bool, RunId]


def _sort_key(run: OperationRun) -> SortKey:
    created = _aware(run.created_at)
    micros = (created - _EPOCH) // timedelta(microseconds=1) if created else _OLDEST
    return (micros, isinstance(run.id, str), run.id)


def _encode_cursor(key: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: object) -> SortKey:
    # Typed and bounded before it is decoded, as the SQL sources' cursors are: a host passes a
    # request's parameter through, which may be anything, however long or deeply nested.
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid(cursor)
    try:
        micros, is_str, run_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, RecursionError, binascii.Error):
        raise _invalid(cursor) from None
    # Only what _encode_cursor writes: anything else would fail, or mean nothing, when compared.
    if not (
        type(micros) is int
        and type(is_str) is bool
        and (type(run_id) is str if is_str else type(run_id) is int)
    ):
        raise _invalid(cursor)
    return (micros, is_str, run_id)


def _invalid(cursor: object) -> InvalidCursorError:
    # reprlib: a hostile cursor (a megabyte of text) is not copied into the error.
    return InvalidCursorError(f"not a cursor this run source issued: {reprlib.repr(cursor)}")


def _matches(run: OperationRun, query: RunQuery) -> bool:
    workspace_id = usable_id(run.workspace_id)
    if workspace_id is None:
        return False
    if query.workspace_ids is not None and workspace_id not in query.workspace_ids:
        return False
    if query.environment_ids is not None:
        # Only a run with no environment at all is the workspace's own; an unusable one ('')
        # is an environment no scope names, as ``VisibleScopes.admits`` and the SQL read it.
        if run.environment_id is None:
            if not query.include_workspace_runs:
                return False
        elif usable_id(run.environment_id) not in query.environment_ids:
            return False
    if query.operation_types is not None and run.type not in query.operation_types:
        return False
    if query.statuses is not None and run.status not in query.statuses:
        return False
    created = _aware(run.created_at)
    if query.created_from is not None and (created is None or created < query.created_from):
        return False
    return not (
        query.created_before is not None and (created is None or created >= query.created_before)
    )
