"""The queued and running runs of an actor's scopes, by the work they do.

A retry is never offered while the same work is queued or running: a screen points at that run
instead. The run it points at must be one run: a queued or running row whose id another visible
row shares reads ``duplicate_run_id`` everywhere, is no active work, and is never named as the
active run. It still holds a retry back: it may be the same work under way, and a retry beside
it is the worse mistake, so the run needing attention is offered a review instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import UTC, datetime

from runactionability.catalog import OperationCatalog
from runactionability.consumers.shared import IdKey, id_key, shared_with
from runactionability.limits import MAX_LIMIT, check_limit
from runactionability.model import OperationRun, RunId, RunStatus, usable_id
from runactionability.ports import RunQuery, RunSource
from runactionability.scopes import VisibleScopes

_ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
_OLDEST = datetime.min.replace(tzinfo=UTC)

WorkKey = tuple[str, str, str | None, str | None]
"""(canonical type, workspace id, environment id or None when workspace-owned, subject)."""


def work_key(run: OperationRun, catalog: OperationCatalog) -> WorkKey | None:
    """What makes two runs "the same work": type, scope and subject, compared as the core does.

    None when the run cannot be placed (unknown type, unusable scope id, missing subject): such a
    run neither blocks nor is blocked.
    """
    op_type = catalog.resolve(run.type)
    if op_type is None:
        return None
    workspace_id = usable_id(run.workspace_id)
    if workspace_id is None:
        return None
    environment_id: str | None = None
    if not op_type.workspace_owned:
        environment_id = usable_id(run.environment_id)
        if environment_id is None:
            return None
    subject: str | None = None
    if op_type.subject_key is not None:
        if not isinstance(run.context, Mapping):
            return None
        subject = usable_id(run.context.get(op_type.subject_key))
        if subject is None:
            return None
    return (op_type.name, workspace_id, environment_id, subject)


def is_active(run: OperationRun) -> bool:
    """Whether the run is queued or running (and records no outcome, as an active run must not)."""
    return run.status in _ACTIVE and run.outcome is None


def _recency(run: OperationRun) -> tuple[datetime, tuple[bool, RunId]]:
    # The dashboard's order: ints order numerically and strings lexically, as a database orders
    # one typed id column.
    return (_newest_key(run)[0], (isinstance(run.id, str), run.id))


def _newest_key(run: OperationRun) -> tuple[datetime, str]:
    created = run.created_at
    if not isinstance(created, datetime) or created.utcoffset() is None:
        created = _OLDEST
    return (created, str(run.id))


class ActiveRuns:
    """The queued and running runs of the visible scopes, by the work they do.

    A retry is never offered while the same work is queued or running; the screen points at that
    run instead. Runs outside ``scopes`` are ignored, so a blocking run is always one the actor
    may see, and so is a run whose id two visible runs hold (it blocks nothing): two of ``runs``
    (active or not), an id in ``shared`` (``shared_with``), or, asked once per id of a run that
    would block, two visible runs at ``as_of`` (default: now) in ``source`` (a ``RunsById`` whose
    ids are not proven unique).
    """

    def __init__(
        self,
        runs: Iterable[OperationRun],
        *,
        catalog: OperationCatalog,
        scopes: VisibleScopes,
        source: RunSource | None = None,
        as_of: datetime | None = None,
        shared: Collection[IdKey] = (),
    ) -> None:
        self._catalog = catalog
        self.scopes = scopes
        self._source, self._as_of = source, as_of
        self._runs: list[OperationRun] = []
        self._by_key: dict[WorkKey, list[OperationRun]] = {}
        # Every run given, active or not: the ids two of them hold are counted only when a run
        # would block (``_is_shared``), since most requests never ask.
        self._given: list[OperationRun] = []
        self._counts: Counter[IdKey] | None = None
        self._shared = set(shared)
        self._asked: set[IdKey] = set()
        self._add(runs)

    def _add(self, runs: Iterable[OperationRun]) -> None:
        scopes, catalog = self.scopes, self._catalog
        given = list(runs)
        self._given += given
        self._counts = None
        for run in given:
            if not is_active(run) or not scopes.admits_run(run):
                continue
            self._runs.append(run)
            key = work_key(run, catalog)
            if key is not None:
                self._by_key.setdefault(key, []).append(run)

    @classmethod
    def from_source(
        cls,
        source: RunSource,
        *,
        catalog: OperationCatalog,
        scopes: VisibleScopes,
        page_size: int = 500,
        as_of: datetime | None = None,
    ) -> ActiveRuns:
        """Every queued or running run of ``scopes``, read page by page from ``source``.

        With ``as_of``, the runs that were queued or running at that instant (``run_as_of``).
        """
        check_limit(page_size, name="page_size")
        query = scopes.query(statuses=_ACTIVE, as_of=as_of)
        runs = _every_run(source, query, page_size)
        return cls(runs, catalog=catalog, scopes=scopes, source=source, as_of=as_of)

    def newest(self, top: int, *, count: int | None = None) -> list[OperationRun]:
        """Active runs among which are the ``top`` newest by (``created_at``, id), newest first;
        a ``created_at`` that cannot be placed sorts as the oldest. ``count``: how many active
        runs there are, when the caller has counted them (a reader may then read them all)."""
        return sorted(self._runs, key=_recency, reverse=True)[: max(top, 0)]

    def prepare(self, runs: Iterable[OperationRun]) -> None:
        """Have ``blocking`` ready for each of ``runs``: whether the ids of the active runs of
        their work name two visible runs is asked of ``source`` in one read (``KeyedActiveRuns``
        first reads those active runs, in one statement)."""
        catalog, by_key = self._catalog, self._by_key
        keys = {key for run in runs if (key := work_key(run, catalog)) is not None}
        self._ask([active for key in keys for active in by_key.get(key, ())])

    def blocking(self, run: OperationRun) -> OperationRun | None:
        """The newest queued or running run doing the same work as ``run`` (never itself) whose
        id names no other visible run."""
        key = work_key(run, self._catalog)
        if key is None:
            return None
        same = self._by_key.get(key, [])
        self._ask(same)
        active = max((a for a in same if not self._is_shared(a)), key=_newest_key, default=None)
        return None if active is None or active.id == run.id else active

    def unnamed(self, run: OperationRun) -> bool:
        """Whether the same work as ``run`` is queued or running only under ids that name two
        visible runs: nothing to point at, yet a retry could duplicate work under way. Ask it
        after ``blocking``, which reads what it needs."""
        key = work_key(run, self._catalog)
        if key is None:
            return False
        return any(a.id != run.id and self._is_shared(a) for a in self._by_key.get(key, ()))

    def _is_shared(self, run: OperationRun) -> bool:
        if self._counts is None:
            admits = self.scopes.admits_run
            self._counts = Counter(id_key(given) for given in self._given if admits(given))
        key = id_key(run)
        return self._counts[key] > 1 or key in self._shared

    def _ask(self, runs: Iterable[OperationRun]) -> None:
        """Ask ``source``, once per id, which of ``runs``' ids name two visible runs."""
        if self._source is None:
            return
        fresh = {
            key: run
            for run in runs
            if (key := id_key(run)) not in self._asked and not self._is_shared(run)
        }
        if fresh:
            self._asked |= fresh.keys()
            as_of = datetime.now(UTC) if self._as_of is None else self._as_of
            self._shared |= shared_with(self._source, fresh.values(), self.scopes, as_of)

    def __iter__(self) -> Iterator[OperationRun]:
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)


def _every_run(source: RunSource, query: RunQuery, page_size: int) -> list[OperationRun]:
    runs: list[OperationRun] = []
    cursor: str | None = None
    while True:
        page = source.list_runs(query, limit=page_size, cursor=cursor)
        runs.extend(page.runs)
        cursor = page.next_cursor
        if cursor is None or not page.runs:
            return runs


READ_EVERY_AT_MOST = 50
"""Active runs a ``KeyedActiveRuns`` reads all at once when it knows there are no more: a
statement costs 0.3-1 ms of CPU, a run read 25-50 µs (docs/performance.md)."""


class KeyedActiveRuns(ActiveRuns):
    """The queued and running runs of ``scopes`` at ``as_of``, read from ``source`` only for the
    work a screen asks about: it answers exactly as ``ActiveRuns.from_source`` would.

    Only an active run of the same type can block a run, so ``prepare`` reads the active runs of
    every (canonical) type of its runs, under each stored name, in one statement, and
    ``blocking`` reads a type nobody prepared on its own. Iterating or counting reads every
    active run once. On a 20,000-run workspace with 637 active runs, a request read them all
    only to answer ``blocking`` for the ten to fifty runs it shows.
    """

    def __init__(
        self,
        source: RunSource,
        *,
        catalog: OperationCatalog,
        scopes: VisibleScopes,
        as_of: datetime | None,
        page_size: int = 500,
    ) -> None:
        super().__init__((), catalog=catalog, scopes=scopes, source=source, as_of=as_of)
        self._reader, self._page_size = source, page_size
        self._read: set[str] = set()
        self._whole = False

    def prepare(self, runs: Iterable[OperationRun]) -> None:
        runs = list(runs)
        self._read_types(runs)
        super().prepare(runs)

    def _read_types(self, runs: Iterable[OperationRun]) -> None:
        if self._whole:
            return
        resolve = self._catalog.resolve
        missing = {op.name for run in runs if (op := resolve(run.type)) is not None}
        missing -= self._read
        if not missing:
            return
        names = [name for each in sorted(missing) for name in self._catalog.stored_names(each)]
        query = self.scopes.query(statuses=_ACTIVE, as_of=self._as_of, operation_types=names)
        # Every active run of these types, under every stored name: so the newest of each work
        # key among them is the newest of all (``blocking``), as if every run had been read.
        self._add(_every_run(self._reader, query, self._page_size))
        self._read |= missing

    def blocking(self, run: OperationRun) -> OperationRun | None:
        self._read_types((run,))
        return super().blocking(run)

    def newest(self, top: int, *, count: int | None = None) -> list[OperationRun]:
        """Read newest first, once ``top`` placeable active runs are read and the last of them is
        strictly older than the ``top``-th newest, no run left unread can be newer (a run whose
        ``created_at`` cannot be placed sorts as the oldest, wherever the source lists it).

        With ``count`` at most ``READ_EVERY_AT_MOST``, every active run is read instead: one
        statement of a few rows then answers every later ``blocking`` too; so too from a source
        that does not say it lists by instant (``orders_by_instant``)."""
        if top <= 0:
            return []  # a dashboard with no top shows no active run: nothing to read for it
        # Stopping early trusts the source to list by instant, which only a source that says so
        # (SqlRunSource.orders_by_instant) is known to do.
        trusted = getattr(self._reader, "orders_by_instant", False) is True
        if not trusted or (count is not None and count <= READ_EVERY_AT_MOST):
            self._read_every_run()
        if self._whole:
            return super().newest(top)
        query = self.scopes.query(statuses=_ACTIVE, as_of=self._as_of)
        found: list[OperationRun] = []
        placed: list[datetime] = []
        cursor: str | None = None
        while True:
            # One past the top tells whether a later run ties; a port reads at most MAX_LIMIT.
            page = self._reader.list_runs(query, limit=min(top + 1, MAX_LIMIT), cursor=cursor)
            for run in page.runs:
                if is_active(run) and self.scopes.admits_run(run):
                    found.append(run)
                    if (created := _newest_key(run)[0]) is not _OLDEST:
                        placed.append(created)
            cursor = page.next_cursor
            done = len(placed) >= top and placed[-1] < sorted(placed, reverse=True)[top - 1]
            if cursor is None or not page.runs or done:
                return sorted(found, key=_recency, reverse=True)[:top]

    def __iter__(self) -> Iterator[OperationRun]:
        self._read_every_run()
        return super().__iter__()

    def __len__(self) -> int:
        self._read_every_run()
        return super().__len__()

    def _read_every_run(self) -> None:
        if self._whole:
            return
        query = self.scopes.query(statuses=_ACTIVE, as_of=self._as_of)
        self._runs, self._by_key, self._given = [], {}, []
        self._add(_every_run(self._reader, query, self._page_size))
        self._whole = True
