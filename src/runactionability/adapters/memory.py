"""In-memory ports, for tests and for hosts that already hold the rows.

They follow the port contracts in ``runactionability.ports`` exactly; the only difference is that
they read Python objects instead of a database. They also serve as the reference the SQL adapters
are tested against.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from runactionability.errors import InvalidCursorError
from runactionability.evidence import (
    LaterSuccessRequest,
    RunFact,
    StateFact,
    StateRequest,
    current_state,
)
from runactionability.model import (
    OperationRun,
    RunId,
    RunOutcome,
    RunStatus,
    sound_run_times,
    usable_id,
)
from runactionability.ports import RunPage, RunQuery, run_as_of


def _aware(value: object) -> datetime | None:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return None


def _id_key(run_id: RunId) -> tuple[bool, RunId]:
    # Ints order numerically and strings lexically, as a database orders one typed id column.
    return (isinstance(run_id, str), run_id)


class MemoryRunHistory:
    """``RunHistory`` over a list of ``OperationRun`` values (the list is copied).

    The successful runs of one stored type are indexed by scope and subject the first time a
    request names that type with a subject key, so a batch pays one pass over the successes of
    the types it asks about, and then one lookup per request. The index holds the runs
    themselves; a ``RunFact`` is built only for a run that answers a request.
    """

    def __init__(self, runs: Iterable[OperationRun] = ()) -> None:
        self._by_type: dict[str, list[OperationRun]] = {}
        self._indexes: dict[tuple[str, str | None, bool], dict[_BucketKey, _Bucket]] = {}
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
        answers: dict[LaterSuccessRequest, RunFact] = {}
        for request in requests:
            subject_key = request.subject_key if request.subject is not None else None
            bucket_key = (request.workspace_id, request.environment_id, request.subject)
            # A workspace-owned request (no environment) is answered by a run in any environment.
            wide = request.environment_id is None
            restricted = request.visible_environment_ids
            best: OperationRun | None = None
            best_order: _Order | None = None
            for stored_type in request.operation_types:
                bucket = self._index(stored_type, subject_key, wide).get(bucket_key)
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
                        order = _order(run)
                        if best_order is None or order > best_order:
                            best, best_order = run, order
                        break
            if best is not None:
                fact = _success_fact(best, subject_key)
                assert fact is not None  # only clean successes are indexed
                answers[request] = fact
        return answers

    def _index(
        self, stored_type: str, subject_key: str | None, wide: bool
    ) -> dict[_BucketKey, _Bucket]:
        """The successes of ``stored_type`` by scope and subject; ``wide``: by workspace only.

        The two are built apart, each when a request first needs it: most requests name an
        environment, and a bucket list per success and workspace that no request reads would
        be built, and kept for the collector to walk, for nothing. A bucket of one run is the
        run itself, not a list (most buckets hold one).
        """
        index = self._indexes.get((stored_type, subject_key, wide))
        if index is None:
            index = {}
            for run in self._by_type.get(stored_type, ()):
                key = _success_key(run, subject_key)
                if key is None:
                    continue
                if wide:
                    key = (key[0], None, key[2])
                bucket = index.get(key)
                if bucket is None:
                    index[key] = run
                elif bucket.__class__ is list:
                    bucket.append(run)
                else:
                    index[key] = [bucket, run]  # type: ignore[list-item]
            for bucket in index.values():
                if bucket.__class__ is list:
                    bucket.sort(key=_order, reverse=True)
            self._indexes[(stored_type, subject_key, wide)] = index
        return index


_BucketKey = tuple[str, str | None, str | None]
# The successes filed under one key, latest first: a list, or the run itself when it is alone.
_Bucket = OperationRun | list[OperationRun]
_Order = tuple[datetime, datetime, tuple[bool, RunId]]
_COMPLETED = RunStatus.COMPLETED
_SUCCEEDED = RunOutcome.SUCCEEDED
_DATETIME = datetime
_MAPPING_PROXY = MappingProxyType


def _order(run: OperationRun) -> _Order:
    """Latest first: by event start (``started_at``, else ``created_at``), completion, then id."""
    started_at = run.started_at
    start = run.created_at if started_at is None else started_at
    return (start, run.completed_at, _id_key(run.id))


def _success_key(run: OperationRun, subject_key: str | None) -> _BucketKey | None:
    """The scope and subject a clean success is found under, or None (see ``_success_fact``)."""
    if run.status is not _COMPLETED or run.outcome is not _SUCCEEDED:
        return None
    created, started, completed = run.created_at, run.started_at, run.completed_at
    if (
        created.__class__ is _DATETIME
        and completed.__class__ is _DATETIME
        and (started is None or started.__class__ is _DATETIME)
    ):
        # sound_run_times for plain datetimes, inline: an index build reads every success.
        if (
            created.utcoffset() is None
            or completed.utcoffset() is None
            or completed < created
            or (started is not None and (started.utcoffset() is None or completed < started))
        ):
            return None
    elif not sound_run_times(created, started, completed):
        return None
    # usable_id, with the plain str and int an index build mostly reads judged inline.
    workspace_id: Any = run.workspace_id
    if workspace_id.__class__ is not str or not workspace_id.strip() or "\x00" in workspace_id:
        workspace_id = usable_id(workspace_id)
        if workspace_id is None:
            return None
    subject: Any = None
    if subject_key is not None:
        context = run.context
        if context.__class__ is not _MAPPING_PROXY and not isinstance(context, Mapping):
            return None
        subject = context.get(subject_key)
        subject = str(subject) if subject.__class__ is int else usable_id(subject)
        if subject is None:
            return None
    environment_id: Any = run.environment_id
    if (
        environment_id.__class__ is not str
        or not environment_id.strip()
        or "\x00" in environment_id
    ):
        environment_id = usable_id(environment_id)
    return (workspace_id, environment_id, subject)


def _success_fact(run: OperationRun, subject_key: str | None) -> RunFact | None:
    """The fact a successful run would be returned as, for requests correlating on ``subject_key``.

    None when the run is not a clean success: not completed and succeeded, timestamps that
    break ``core.sound_run_times`` (the rule a failed run is flagged by), no usable workspace,
    or no usable subject under ``subject_key``.
    """
    key = _success_key(run, subject_key)
    if key is None:
        return None
    started_at = run.started_at
    return RunFact(
        run_id=run.id,
        operation_type=run.type,
        workspace_id=key[0],
        environment_id=key[1],
        subject=key[2],
        started_at=run.created_at if started_at is None else started_at,
        completed_at=run.completed_at,
        created_at=run.created_at,
    )


_ObjectKey = tuple[str, str | None, str | None]


class MemoryStateSource:
    """``StateSource`` for one kind over a list of ``StateFact`` values.

    The current state of an object is its fact with the greatest ``proven_at``. There is no fact
    for an object when any of its facts has a ``proven_at`` that is not a timezone-aware datetime
    (its place in time is unknown), or when the facts sharing the greatest ``proven_at`` disagree
    on the status (see ``current_state``). Equal ``proven_at`` never lets the last one added win.
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
        key = (fact.workspace_id, fact.environment_id, fact.subject)
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

    def __init__(self, runs: Iterable[OperationRun] = ()) -> None:
        self._runs = list(runs)

    def add(self, run: OperationRun) -> None:
        self._runs.append(run)

    def get_run(self, run_id: RunId) -> OperationRun | None:
        for run in self._runs:
            if run.id == run_id:
                return run
        return None

    def list_runs(self, query: RunQuery, *, limit: int = 100, cursor: str | None = None) -> RunPage:
        after = _decode_cursor(cursor) if cursor else None
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


def _decode_cursor(cursor: str) -> SortKey:
    try:
        micros, is_str, run_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise InvalidCursorError(f"not a cursor this run source issued: {cursor!r}") from None
    # Only what _encode_cursor writes: anything else would fail, or mean nothing, when compared.
    if not (
        type(micros) is int
        and type(is_str) is bool
        and (type(run_id) is str if is_str else type(run_id) is int)
    ):
        raise InvalidCursorError(f"not a cursor this run source issued: {cursor!r}")
    return (micros, is_str, run_id)


def _matches(run: OperationRun, query: RunQuery) -> bool:
    workspace_id = usable_id(run.workspace_id)
    if workspace_id not in query.workspace_ids:
        return False
    environment_id = usable_id(run.environment_id)
    if query.environment_ids is not None:
        if environment_id is None:
            if not query.include_workspace_runs:
                return False
        elif environment_id not in query.environment_ids:
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
