"""Issue 14, items 2 and 3: polling the change feed with its cursor, and the observers it calls.

A poller that follows ``poll_cursor`` is handed every change once, even when writers commit out
of order, as long as no writing transaction stays open longer than the margin: shown with two
connections step by step, and with threads writing while a poller polls (PostgreSQL).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import CATALOG, async_engine_of, at, scoped_run

from runactionability import (
    Actionability,
    ActionabilityService,
    AsyncActionabilityService,
    Change,
    ChangePage,
    InvalidCursorError,
    ObserverFailedWarning,
    OperationRun,
    Registry,
    UsageError,
    hookimpl,
)
from runactionability.adapters.sqlalchemy import create_schema, insert_runs, metadata
from runactionability.consumers import VisibleScopes, read_runs

ACME = VisibleScopes({"acme"})
SYNC = "inventory.sync"
MARGIN = timedelta(seconds=10)


class Observer:
    def __init__(self) -> None:
        self.seen: list[Change] = []

    @hookimpl
    def runactionability_actionability_changed(self, change: Change) -> None:
        self.seen.append(change)


class Failing:
    @hookimpl
    def runactionability_actionability_changed(self, change: Change) -> None:
        raise RuntimeError("the pager is down")


def _service(engine: sa.Engine, *plugins: object, margin: timedelta = MARGIN) -> Any:
    registry = Registry.default(entry_points=False)
    for plugin in plugins:
        registry.register(plugin)
    return ActionabilityService(engine, registry=registry, catalog=CATALOG, change_margin=margin)


def _run(run_id: int, created: datetime, **fields: Any) -> OperationRun:
    values: dict[str, Any] = {
        "id": run_id,
        "type": SYNC,
        "workspace_id": "acme",
        "environment_id": "prod",
        "status": "completed",
        "outcome": "failed",
        "created_at": created,
        "started_at": None,
        "completed_at": created + timedelta(seconds=1),
        "context": {},
    }
    values.update(fields)
    return OperationRun(**values)


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


def test_polls_hand_each_change_to_the_observers_once(engine: sa.Engine) -> None:
    observer = Observer()
    service = _service(engine, observer)
    first = service.poll_changes(ACME, now=at(0))
    assert first.changes == ()
    assert first.since == first.until == at(0) - MARGIN
    insert_runs(engine, [scoped_run(1, SYNC, at=timedelta(minutes=1))], catalog=CATALOG)
    cursor = first.poll_cursor
    for minute in (2, 4, 8, 30):
        page = service.poll_changes(ACME, cursor=cursor, now=at(minute))
        cursor = page.poll_cursor
    insert_runs(
        engine,
        [scoped_run(2, SYNC, outcome="succeeded", at=timedelta(minutes=40))],
        catalog=CATALOG,
    )
    page = service.poll_changes(ACME, cursor=cursor, now=at(60))
    assert page.since == at(30) - MARGIN
    assert page.until == at(60) - MARGIN
    delivered = [(c.run_id, c.since_status, c.status) for c in observer.seen]
    assert delivered == [
        (1, None, Actionability.NOT_TERMINAL),
        (1, Actionability.NOT_TERMINAL, Actionability.ACTIONABLE),
        (1, Actionability.ACTIONABLE, Actionability.SUPERSEDED_BY_LATER_SUCCESS),
        (2, None, Actionability.INFORMATIONAL_ONLY),
    ]


def test_a_poll_continues_a_window_page_by_page(engine: sa.Engine) -> None:
    insert_runs(engine, [scoped_run(n, SYNC, at=timedelta(minutes=n)) for n in range(5)])
    observer = Observer()
    service = _service(engine, observer)
    page = service.poll_changes(ACME, since=at(-1), now=at(60), limit=2)
    pages = [page]
    while page.next_cursor is not None:
        page = service.poll_changes(ACME, cursor=page.poll_cursor, now=at(61), limit=2)
        pages.append(page)
    # The rest of a window is read as it was asked, whatever the clock says meanwhile.
    assert {p.until for p in pages} == {at(60) - MARGIN}
    assert [c.run_id for c in observer.seen] == [0, 1, 2, 3, 4]


def test_a_failing_observer_is_reported_and_changes_nothing(engine: sa.Engine) -> None:
    insert_runs(engine, [scoped_run(1, SYNC)], catalog=CATALOG)
    observer = Observer()
    service = _service(engine, Failing(), observer)
    with pytest.warns(ObserverFailedWarning, match="the pager is down"):
        page = service.poll_changes(ACME, since=at(-1), now=at(60))
    assert [c.run_id for c in page.changes] == [1]
    assert observer.seen == list(page.changes)


def test_observers_are_called_outside_the_snapshot(engine: sa.Engine) -> None:
    insert_runs(engine, [scoped_run(1, SYNC)], catalog=CATALOG)
    writes: list[int] = []

    class Writer:
        @hookimpl
        def runactionability_actionability_changed(self, change: Change) -> None:
            # An observer may record what it was told: no snapshot of the poll holds a lock.
            with engine.begin() as connection:
                table = metadata.tables["operation_runs"]
                connection.execute(sa.update(table).where(table.c.id == -1).values(type=SYNC))
            writes.append(1)

    service = _service(engine, Writer())
    service.poll_changes(ACME, since=at(-1), now=at(60))
    assert writes == [1]


def test_poll_arguments_are_checked_before_any_statement(engine: sa.Engine) -> None:
    service = _service(engine)
    with pytest.raises(InvalidCursorError):
        service.poll_changes(ACME, cursor="bm90IG91cnM=")
    done = service.poll_changes(ACME, now=at(0)).poll_cursor
    with pytest.raises(UsageError):
        service.poll_changes(ACME, cursor=done, since=at(0))
    with pytest.raises(UsageError):
        service.poll_changes(ACME, limit=0)
    with pytest.raises(UsageError):
        _service(engine, margin=timedelta(seconds=-1))


def test_a_margin_past_a_day_is_refused_when_built_or_set(engine: sa.Engine) -> None:
    # An absurd margin used to pass, then overflow the datetime of every poll taken from it.
    with pytest.raises(UsageError, match="change_margin must be a timedelta from 0 to"):
        _service(engine, margin=timedelta(days=1, seconds=1))
    with pytest.raises(UsageError, match="change_margin must be a timedelta from 0 to"):
        _service(engine, margin=timedelta(days=10**8))
    service = _service(engine, margin=timedelta(days=1))
    with pytest.raises(UsageError, match="change_margin must be a timedelta from 0 to"):
        service.change_margin = timedelta(days=30)
    assert service.change_margin == timedelta(days=1)
    assert service.poll_changes(ACME, now=at(0)).poll_cursor


def _begin_insert(engine: sa.Engine, run: OperationRun) -> sa.Connection:
    connection = engine.connect()
    connection.begin()
    insert_runs(connection, [run], catalog=CATALOG)
    return connection


@pytest.mark.parametrize("margin", [MARGIN, timedelta(0)])
def test_a_run_committed_out_of_order_is_delivered_within_the_margin(
    postgres_engine: sa.Engine, margin: timedelta
) -> None:
    create_schema(postgres_engine)
    try:
        observer = Observer()
        service = _service(postgres_engine, observer, margin=margin)
        start = datetime(2026, 12, 1, 12, tzinfo=UTC)
        cursor = service.poll_changes(ACME, now=start).poll_cursor
        # A writer records a run at start + 5 s and commits 8 s later (less than the margin),
        # after a poll at start + 9 s has read past the run's instant without the margin.
        writer = _begin_insert(postgres_engine, _run(1, start + timedelta(seconds=5)))
        cursor = service.poll_changes(ACME, cursor=cursor, now=start + timedelta(seconds=9))
        cursor = cursor.poll_cursor
        writer.commit()
        writer.close()
        service.poll_changes(ACME, cursor=cursor, now=start + timedelta(seconds=60))
        delivered = [c.run_id for c in observer.seen]
        # With the margin the run is delivered once; without it, it is lost: the proof that
        # the test sees what the margin is for.
        assert delivered == ([1] if margin else [])
    finally:
        with postgres_engine.begin() as connection:
            metadata.drop_all(connection)


def test_concurrent_writers_lose_and_repeat_nothing(postgres_engine: sa.Engine) -> None:
    create_schema(postgres_engine)
    try:
        _concurrent_writers(postgres_engine)
    finally:
        with postgres_engine.begin() as connection:
            metadata.drop_all(connection)


HOLD = 0.15
"""The longest a writer keeps a transaction open, in seconds (well under the margin)."""


def _concurrent_writers(engine: sa.Engine, margin: timedelta = timedelta(seconds=4 * HOLD)) -> None:
    observer = Observer()
    service = _service(engine, observer, margin=margin)
    start = service.poll_changes(ACME).poll_cursor
    table = metadata.tables["operation_runs"]
    stop = threading.Event()
    ids = iter(range(1, 10_000))
    lock = threading.Lock()

    def write(seed: int) -> None:
        chance = random.Random(seed)
        while not stop.is_set():
            with lock:
                run_id = next(ids)
            with engine.connect() as connection:
                with connection.begin():
                    now = datetime.now(UTC)
                    run = _run(run_id, now, status="running", outcome=None, completed_at=None)
                    insert_runs(connection, [run], catalog=CATALOG)
                    time.sleep(chance.uniform(0, HOLD))
                with connection.begin():
                    outcome = chance.choice(["failed", "succeeded"])
                    connection.execute(
                        sa.update(table)
                        .where(table.c.id == run_id)
                        .values(status="completed", outcome=outcome, completed_at=datetime.now(UTC))
                    )
                    time.sleep(chance.uniform(0, HOLD))

    writers = [threading.Thread(target=write, args=(seed,)) for seed in range(3)]
    for thread in writers:
        thread.start()
    cursor = start
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        cursor = service.poll_changes(ACME, cursor=cursor, limit=7).poll_cursor
        time.sleep(0.05)
    stop.set()
    for thread in writers:
        thread.join()
    settled = datetime.now(UTC)
    time.sleep(margin.total_seconds() + 0.1)
    while True:
        page = service.poll_changes(ACME, cursor=cursor, limit=50)
        cursor = page.poll_cursor
        if page.next_cursor is None and page.until >= settled:
            break
    assert observer.seen, "the writers must have written something"
    _assert_chains(service, observer.seen, page.until)


def _assert_chains(service: ActionabilityService, seen: list[Change], until: datetime) -> None:
    """Each run's delivered changes chain (each starts where the previous ended) and end at
    the status the run has at the last window's end: nothing lost, nothing repeated."""
    chains: dict[Any, list[Change]] = {}
    for change in seen:
        chains.setdefault(change.run_id, []).append(change)
    with service.session(scopes=ACME, as_of=until) as session:
        runs = read_runs(session.backend.runs, ACME.query(as_of=until))
        results = session.resolver.evaluate_many(runs, as_of=until, scopes=ACME)
    final = {run.id: result.status for run, result in zip(runs, results, strict=True)}
    assert set(chains) == set(final)
    for run_id, chain in chains.items():
        assert chain[0].since_status is None
        for before, after in itertools.pairwise(chain):
            assert after.since_status == before.status, (run_id, chain)
            assert after.changed_at >= before.changed_at
        assert chain[-1].status == final[run_id], (run_id, chain)


def test_the_async_service_polls_and_notifies_alike(engine: sa.Engine) -> None:
    insert_runs(engine, [scoped_run(1, SYNC), scoped_run(2, SYNC, at=timedelta(minutes=3))])
    sync_observer, async_observer = Observer(), Observer()
    expected = _service(engine, sync_observer).poll_changes(ACME, since=at(-1), now=at(60))

    async def work() -> ChangePage:
        registry = Registry.default(entry_points=False)
        registry.register(async_observer)
        twin = AsyncActionabilityService(
            async_engine_of(engine), registry=registry, catalog=CATALOG, change_margin=MARGIN
        )
        try:
            first = await twin.poll_changes(ACME, since=at(-1), now=at(60), limit=1)
            assert first.next_cursor is not None
            await twin.poll_changes(ACME, cursor=first.poll_cursor, now=at(61), limit=1)
            return first
        finally:
            await twin.engine.dispose()

    first = asyncio.run(work())
    assert first.changes == expected.changes[:1]
    assert async_observer.seen == sync_observer.seen == list(expected.changes)


def test_a_poll_without_notify_returns_the_changes_and_calls_no_observer(
    engine: sa.Engine,
) -> None:
    insert_runs(engine, [scoped_run(1, SYNC), scoped_run(2, SYNC, at=timedelta(minutes=3))])
    observer = Observer()
    page = _service(engine, observer).poll_changes(ACME, since=at(-1), now=at(60), notify=False)
    assert [c.run_id for c in page.changes] == [1, 2]
    assert observer.seen == []

    async def work() -> ChangePage:
        registry = Registry.default(entry_points=False)
        registry.register(observer)
        twin = AsyncActionabilityService(
            async_engine_of(engine), registry=registry, catalog=CATALOG, change_margin=MARGIN
        )
        try:
            return await twin.poll_changes(ACME, since=at(-1), now=at(60), notify=False)
        finally:
            await twin.engine.dispose()

    assert asyncio.run(work()).changes == page.changes
    assert observer.seen == []


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"since": datetime(2026, 1, 1)}, "since"),
        ({"now": datetime(2030, 1, 1)}, "now"),
        ({"now": "yesterday"}, "now"),
        ({"since": "yesterday"}, "since"),
        ({"cursor": "done", "now": datetime(2030, 1, 1)}, "now"),
    ],
    ids=["naive since", "naive now", "text now", "text since", "cursor and naive now"],
)
def test_a_poll_with_a_naive_or_foreign_instant_is_a_usage_error(
    engine: sa.Engine, arguments: dict[str, Any], named: str
) -> None:
    service = _service(engine)
    if arguments.get("cursor") == "done":
        arguments = {**arguments, "cursor": service.poll_changes(ACME, now=at(0)).poll_cursor}
    with pytest.raises(UsageError, match=f"^{named} must be a timezone-aware datetime"):
        service.poll_changes(ACME, **arguments)
