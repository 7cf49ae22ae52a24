"""The dashboard's active work counts every active run but assesses only the newest it shows.

Before, every queued and running run was assessed (its actions planned, an ``Assessment`` built)
just to be counted. Differential: for random histories with malformed active runs (unknown,
non-text and alias types, unplaceable or naive timestamps, work created or started after
``as_of``, runs of hidden scopes, missing subjects, duplicate creation instants), the active
work of the store path and of ``RequestSession.active_work``'s helper equals what assessing
every run and keeping the active ones gives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from runactionability import OperationRun, Resolver
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource, MemoryStateSource
from runactionability.adapters.sqlalchemy import STATE_KINDS
from runactionability.consumers import (
    ActiveRuns,
    ActiveWork,
    StatusCounts,
    VisibleScopes,
    assess,
    dashboard,
)
from runactionability.consumers.active_runs import READ_EVERY_AT_MOST, KeyedActiveRuns
from runactionability.consumers.dashboard import active_work
from runactionability.limits import MAX_LIMIT
from runactionability.model import RunStatus
from runactionability.testing.strategies import BASE, ENVIRONMENTS, WORKSPACES, histories

AS_OF = BASE + timedelta(hours=20)
SCOPES = VisibleScopes(WORKSPACES[:1], environment_ids=ENVIRONMENTS[:1])
LATER = AS_OF + timedelta(minutes=5)

NOT_TEXT: Any = 17  # a stored type that is not text, as a host's column may hold
Mangle = Callable[[OperationRun], OperationRun]
MANGLES: list[Mangle] = [
    lambda run: attrs.evolve(run, type="no.such.type"),
    lambda run: attrs.evolve(run, type=NOT_TEXT),
    lambda run: attrs.evolve(run, type=f"  {run.type.upper()} "),
    lambda run: attrs.evolve(run, created_at=None),
    lambda run: attrs.evolve(run, created_at="yesterday"),
    lambda run: attrs.evolve(run, created_at=run.created_at.replace(tzinfo=None)),
    lambda run: attrs.evolve(run, created_at=LATER),
    lambda run: attrs.evolve(run, created_at=BASE),
    lambda run: attrs.evolve(run, status=RunStatus.RUNNING, started_at=LATER),
    lambda run: attrs.evolve(run, status=RunStatus.QUEUED, outcome="failed"),
    lambda run: attrs.evolve(run, status="paused"),
    lambda run: attrs.evolve(run, workspace_id=" "),
    lambda run: attrs.evolve(run, environment_id=None),
    lambda run: attrs.evolve(run, context="not a mapping"),
    lambda run: attrs.evolve(run, context={}),
    lambda run: attrs.evolve(run, id=str(run.id)),
]


@st.composite
def mangled_histories(draw: st.DrawFn) -> list[OperationRun]:
    runs = draw(histories(max_size=30))
    active = draw(histories(max_size=30, outcomes=[None]))
    seen: set[Any] = {run.id for run in runs}
    for run in active:
        if run.id in seen:
            continue
        seen.add(run.id)
        mangle = draw(st.none() | st.sampled_from(MANGLES))
        changed = run if mangle is None else mangle(run)
        if changed.id in seen and changed.id != run.id:
            continue
        seen.add(changed.id)
        runs.append(changed)
    return runs


@attrs.frozen
class _Page:
    runs: tuple[OperationRun, ...] = ()
    next_cursor: str | None = None
    scanned: int = 0


@attrs.frozen
class _Counts:
    counts: StatusCounts
    by_family: dict[str | None, StatusCounts]
    by_environment: dict[tuple[str, str | None], StatusCounts]


class NothingToFollowUp:
    """A store with nothing to count or show: the dashboard's active work is then its own."""

    def count(self, scopes: VisibleScopes, *, as_of: datetime) -> _Counts:
        return _Counts(counts=StatusCounts.of(()), by_family={}, by_environment={})

    def follow_up_page(
        self, scopes: VisibleScopes, *, as_of: datetime, limit: int = 50, cursor: str | None = None
    ) -> _Page:
        return _Page()


def _instant(value: object) -> datetime:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return datetime.min.replace(tzinfo=UTC)


def every_run_assessed(
    resolver: Resolver, runs: list[OperationRun], scopes: VisibleScopes, top: int
) -> ActiveWork:
    """The active work as it was computed before: every run assessed, the active ones kept."""
    items = [item for item in assess(resolver, runs, scopes=scopes, as_of=AS_OF) if item.is_active]
    by_type: dict[str, int] = {}
    for item in items:
        name = item.result.operation_type or str(item.run.type)
        by_type[name] = by_type.get(name, 0) + 1
    newest = sorted(
        items,
        key=lambda i: (_instant(i.run.created_at), (isinstance(i.run.id, str), i.run.id)),
        reverse=True,
    )
    return ActiveWork(
        queued=sum(1 for item in items if item.run.status is RunStatus.QUEUED),
        running=sum(1 for item in items if item.run.status is RunStatus.RUNNING),
        by_type=dict(sorted(by_type.items())),
        newest=tuple(newest[:top]),
    )


def _ports(runs: list[OperationRun]) -> tuple[MemoryRunSource, Resolver]:
    states = {kind: MemoryStateSource(kind) for kind in STATE_KINDS}
    return MemoryRunSource(runs), Resolver(history=MemoryRunHistory(runs), states=states)


@given(runs=mangled_histories(), top=st.integers(0, 6))
def test_active_work_equals_assessing_every_run(runs: list[OperationRun], top: int) -> None:
    source, resolver = _ports(runs)
    active_runs = ActiveRuns.from_source(
        source, catalog=resolver.catalog, scopes=SCOPES, as_of=AS_OF
    )
    expected = every_run_assessed(resolver, list(active_runs), SCOPES, top)
    stored = dashboard(
        source, resolver, scopes=SCOPES, as_of=AS_OF, top=top, store=NothingToFollowUp()
    )
    python = dashboard(source, resolver, scopes=SCOPES, as_of=AS_OF, top=top)
    session = active_work(resolver, active_runs, scopes=SCOPES, as_of=AS_OF, newest=top)
    for work in (stored.active, python.active, session):
        assert (work.queued, work.running) == (expected.queued, expected.running)
        assert dict(work.by_type) == dict(expected.by_type)
        assert work.newest == expected.newest


def test_a_malformed_active_run_is_counted_and_shown_as_before() -> None:
    def running(run_id: int, type_: Any, created: object, **fields: Any) -> OperationRun:
        fields.setdefault("status", RunStatus.RUNNING)
        return OperationRun(
            id=run_id,
            type=type_,
            workspace_id=WORKSPACES[0],
            environment_id=ENVIRONMENTS[0],
            created_at=created,
            **fields,
        )

    runs = [
        running(0, "inventory.sync", BASE + timedelta(minutes=3)),
        running(1, "no.such.type", BASE + timedelta(minutes=2)),
        running(2, "inventory.sync", "not a time"),
        running(3, NOT_TEXT, BASE, status=RunStatus.QUEUED),
        # It started after as_of: at as_of it was queued.
        running(4, "inventory.sync", BASE, started_at=LATER),
    ]
    source, resolver = _ports(runs)
    stored = dashboard(source, resolver, scopes=SCOPES, as_of=AS_OF, store=NothingToFollowUp())
    assert (stored.active.queued, stored.active.running) == (2, 3)
    assert dict(stored.active.by_type) == {"17": 1, "inventory.sync": 3, "no.such.type": 1}
    assert [item.run_id for item in stored.active.newest] == [0, 1, 4, 3, 2]
    assert stored.active == every_run_assessed(resolver, runs, SCOPES, 10)


class _ListingSource:
    """A run source that keeps what each listing returned."""

    def __init__(self, source: MemoryRunSource) -> None:
        self.source = source
        self.orders_by_instant = source.orders_by_instant
        self.read: list[int] = []

    def list_runs(self, query: Any, *, limit: int = 100, cursor: str | None = None) -> Any:
        page = self.source.list_runs(query, limit=limit, cursor=cursor)
        self.read.append(len(page.runs))
        return page

    def get_run(self, run_id: Any) -> OperationRun | None:
        return self.source.get_run(run_id)


@given(runs=mangled_histories(), top=st.integers(0, 6), asked=st.integers(0, 8))
def test_active_runs_read_for_the_work_shown_answer_as_every_active_run(
    runs: list[OperationRun], top: int, asked: int
) -> None:
    source, resolver = _ports(runs)
    every = ActiveRuns.from_source(source, catalog=resolver.catalog, scopes=SCOPES, as_of=AS_OF)
    listing = _ListingSource(source)
    keyed = KeyedActiveRuns(listing, catalog=resolver.catalog, scopes=SCOPES, as_of=AS_OF)
    shown = runs[:asked]
    keyed.prepare(shown)
    # Whatever was prepared, blocking answers as if every active run had been read.
    assert [keyed.blocking(run) for run in runs] == [every.blocking(run) for run in runs]
    assert keyed.newest(top) == every.newest(top)
    assert list(keyed) == list(every)


def test_only_the_active_runs_of_the_types_shown_are_read() -> None:
    def active(run_id: int, type_: str, minutes: int) -> OperationRun:
        return OperationRun(
            id=run_id,
            type=type_,
            workspace_id=WORKSPACES[0],
            environment_id=ENVIRONMENTS[0],
            status=RunStatus.RUNNING,
            created_at=BASE + timedelta(minutes=minutes),
        )

    runs = [active(n, "directory.sync" if n % 5 else "inventory_sync", n) for n in range(20)]
    source, resolver = _ports(runs)
    listing = _ListingSource(source)
    keyed = KeyedActiveRuns(listing, catalog=resolver.catalog, scopes=SCOPES, as_of=AS_OF)
    failed = attrs.evolve(runs[0], id=99, status=RunStatus.COMPLETED, outcome="failed")
    # inventory_sync is an alias of inventory.sync: its runs are read under both names.
    keyed.prepare([attrs.evolve(failed, type="inventory.sync")])
    assert listing.read == [4]
    assert keyed.blocking(attrs.evolve(failed, type="inventory.sync")) == runs[15]
    assert listing.read == [4], "a prepared type is not read again"
    assert [run.id for run in keyed.newest(2)] == [19, 18]
    assert listing.read == [4, 3], "the newest two need one short page"
    assert len(keyed) == 20


def _directory_syncs(count: int, status: RunStatus) -> list[OperationRun]:
    """``count`` active directory syncs in the visible scope, run ``n`` created ``n`` minutes in."""
    return [
        OperationRun(
            id=n,
            type="directory.sync",
            workspace_id=WORKSPACES[0],
            environment_id=ENVIRONMENTS[0],
            status=status,
            created_at=BASE + timedelta(minutes=n),
        )
        for n in range(count)
    ]


def test_a_few_active_runs_are_read_at_once() -> None:
    runs = _directory_syncs(READ_EVERY_AT_MOST + 1, RunStatus.QUEUED)
    source, resolver = _ports(runs)
    for count, reads in ((READ_EVERY_AT_MOST, [51]), (READ_EVERY_AT_MOST + 1, [3, 51])):
        listing = _ListingSource(source)
        keyed = KeyedActiveRuns(listing, catalog=resolver.catalog, scopes=SCOPES, as_of=AS_OF)
        assert [run.id for run in keyed.newest(2, count=count)] == [50, 49]
        # A count the caller knows to be small reads every run in one go, so nothing after; a
        # larger one reads a short page, and the type a run asks about on its own.
        keyed.blocking(attrs.evolve(runs[0], id=99))
        assert listing.read == reads


def test_the_most_active_runs_a_dashboard_may_show_are_read_within_a_ports_limit() -> None:
    # top + 1 would ask the port for MAX_LIMIT + 1 runs, which every port refuses.
    source, resolver = _ports(_directory_syncs(3, RunStatus.RUNNING))
    keyed = KeyedActiveRuns(source, catalog=resolver.catalog, scopes=SCOPES, as_of=AS_OF)
    assert [run.id for run in keyed.newest(MAX_LIMIT)] == [2, 1, 0]


def test_a_dashboard_with_no_top_reads_no_active_run() -> None:
    source, resolver = _ports(_directory_syncs(3, RunStatus.QUEUED))
    listing = _ListingSource(source)
    keyed = KeyedActiveRuns(listing, catalog=resolver.catalog, scopes=SCOPES, as_of=AS_OF)
    assert keyed.newest(0, count=3) == []
    assert listing.read == []
