"""A run id two rows share, on the paths the first round left open: ``get_run`` asked directly,
a shared-id success as evidence, active work, and the change feed's older row."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import (
    AS_OF,
    CATALOG,
    REGISTRY,
    AsyncHistory,
    AsyncSource,
    async_engine_of,
    at,
    insert_raw,
    keyless_runs,
    memory_ports,
    raw_row,
)

from runactionability import (
    Actionability,
    ActionabilityService,
    AsyncActionabilityService,
    AsyncRequestSession,
    AsyncResolver,
    DuplicateRunError,
    OperationRun,
    Reason,
    RequestSession,
    VisibleScopes,
    assess,
    assess_async,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource
from runactionability.adapters.sqlalchemy import create_schema
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.testing import count_statements

W1 = VisibleScopes({"w1"})


def _both(
    engine: sa.Engine,
    ask: Callable[[RequestSession], Any],
    ask_async: Callable[[AsyncRequestSession], Awaitable[Any]],
) -> tuple[Any, Any]:
    """What a sync session and an async one answer on the same table, at ``AS_OF``."""
    with ActionabilityService(engine).session(scopes=W1, as_of=AS_OF) as session:
        sync = ask(session)

    async def run() -> Any:
        bind = async_engine_of(engine)
        try:
            service = AsyncActionabilityService(bind)
            async with service.session(scopes=W1, as_of=AS_OF) as twin:
                return await ask_async(twin)
        finally:
            await bind.dispose()

    return sync, asyncio.run(run())


def test_get_run_refuses_an_id_two_rows_hold(sql_engine: sa.Engine) -> None:
    # It returned whichever row the database gave first: an answer for one run of two, silently.
    keyless_runs(sql_engine)
    insert_raw(
        sql_engine,
        [
            raw_row(sql_engine, 2),
            raw_row(sql_engine, 2, workspace_id="w2", outcome="succeeded"),
            raw_row(sql_engine, 3),
        ],
    )
    source = SqlRunSource(sql_engine)
    with pytest.raises(DuplicateRunError, match="in the run table: 2"):
        source.get_run(2)
    only = source.get_run(3)
    assert only is not None
    assert only.id in (3, "3")
    assert source.get_run(4) is None


def test_the_memory_source_tells_and_refuses_an_id_two_runs_hold() -> None:
    run = OperationRun.from_mapping(
        {
            "id": 2,
            "type": "inventory.sync",
            "workspace_id": "w1",
            "status": "queued",
            "created_at": AS_OF,
        }
    )
    source = MemoryRunSource([run])
    assert source.unique_ids()
    assert not source.shares_ids(None)
    assert source.get_run(2) == run
    source.add(run)
    assert source.shares_ids(None)
    assert source.runs_by_ids([2], None) == [run, run]
    with pytest.raises(DuplicateRunError, match="in the run source: 2"):
        source.get_run(2)


def _running(engine: sa.Engine, run_id: int, **fields: Any) -> dict[str, Any]:
    return raw_row(engine, run_id, status="running", outcome=None, completed_at=None, **fields)


def test_active_work_does_not_count_a_run_whose_id_another_row_shares(
    sql_engine: sa.Engine,
) -> None:
    # Two running rows with one id failed active_work (one batch, DuplicateRunError); a running
    # row sharing its id with a failure was counted as work while every page flagged it.
    keyless_runs(sql_engine)
    insert_raw(
        sql_engine,
        [
            _running(sql_engine, 4),
            _running(sql_engine, 4),
            _running(sql_engine, 6),
            raw_row(sql_engine, 6),
            _running(sql_engine, 7),
            # Another workspace's row with id 7 changes nothing for w1.
            _running(sql_engine, 7, workspace_id="w2"),
        ],
    )

    def work(session: RequestSession) -> Any:
        return session.active_work(newest=10)

    async def work_async(session: AsyncRequestSession) -> Any:
        return await session.active_work(newest=10)

    for answer in _both(sql_engine, work, work_async):
        assert (answer.total, [item.run_id for item in answer.newest]) == (1, [7])
    with ActionabilityService(sql_engine).session(scopes=W1, as_of=AS_OF) as session:
        summary = session.dashboard(top=10)
        assert summary.active.total == 1
        flagged = [i for i in session.page().items if i.run_id in (4, 6)]
        assert {(i.status, i.result.reason) for i in flagged} == {
            (Actionability.REQUIRES_MANUAL_REVIEW, Reason.DUPLICATE_RUN_ID)
        }
        assert len(flagged) == 4


def _superseded_by_a_shared_id(engine: sa.Engine, other_workspace: str) -> None:
    """Run 1 failed; run 2 succeeded after it, and another row of ``other_workspace`` has id 2."""
    keyless_runs(engine)
    later = raw_row(engine, 3)
    insert_raw(
        engine,
        [
            raw_row(engine, 1),
            raw_row(engine, 2, outcome="succeeded", created_at=later["created_at"]),
            raw_row(engine, 2, workspace_id=other_workspace),
        ],
    )


def _run_one(session: RequestSession) -> Any:
    """Run 1 as each surface shows it: page, follow-up, history, count, explanation, change."""
    return (
        [(i.status, i.result.proof) for i in session.page().items if i.run_id in (1, "1")],
        [i.run_id for i in session.follow_up_page().items],
        [i.run_id for i in session.history_page().items],
        session.dashboard().counts.by_status[Actionability.SUPERSEDED_BY_LATER_SUCCESS],
        session.explain(1),
        [
            c.status
            for c in session.changes(since=AS_OF - timedelta(days=30)).changes
            if c.run_id in (1, "1")
        ],
    )


async def _awaiting_run_one(session: AsyncRequestSession) -> Any:
    page, follow_up, history = (
        await session.page(),
        await session.follow_up_page(),
        await session.history_page(),
    )
    changes = await session.changes(since=AS_OF - timedelta(days=30))
    return (
        [(i.status, i.result.proof) for i in page.items if i.run_id in (1, "1")],
        [i.run_id for i in follow_up.items],
        [i.run_id for i in history.items],
        (await session.dashboard()).counts.by_status[Actionability.SUPERSEDED_BY_LATER_SUCCESS],
        await session.explain(1),
        [c.status for c in changes.changes if c.run_id in (1, "1")],
    )


def test_a_success_whose_id_another_visible_row_shares_supersedes_nothing(
    sql_engine: sa.Engine,
) -> None:
    # Run 1 read superseded by "run 2", a proof citing an id that names two runs, which explain
    # answers duplicate_run_id for: the failure was settled by a success no one can point at.
    _superseded_by_a_shared_id(sql_engine, "w1")
    sync, aio = _both(sql_engine, _run_one, _awaiting_run_one)
    for page, follow_up, history, superseded, told, changed in (sync, aio):
        assert page == [(Actionability.ACTIONABLE, None)]
        assert sorted(map(str, follow_up)) == ["1", "2", "2"]
        assert history == []
        assert superseded == 0
        assert told.assessment.status is Actionability.ACTIONABLE
        assert told.assessment.result.proof is None
        assert changed == [Actionability.ACTIONABLE]


def test_a_success_sharing_its_id_only_with_a_hidden_row_still_supersedes(
    sql_engine: sa.Engine,
) -> None:
    _superseded_by_a_shared_id(sql_engine, "w2")
    sync, aio = _both(sql_engine, _run_one, _awaiting_run_one)
    for page, _, history, superseded, told, _ in (sync, aio):
        assert [status for status, _ in page] == [Actionability.SUPERSEDED_BY_LATER_SUCCESS]
        assert sorted(map(str, history)) == ["1", "2"]
        assert superseded == 1
        assert told.assessment.result.proof.run_id in (2, "2")


def test_consumers_over_memory_ports_refuse_a_shared_success_as_evidence() -> None:
    def run(run_id: int, outcome: str, minutes: int, workspace: str = "w1") -> OperationRun:
        return OperationRun.from_mapping(
            {
                "id": run_id,
                "type": "inventory.sync",
                "workspace_id": workspace,
                "environment_id": "e1",
                "status": "completed",
                "outcome": outcome,
                "created_at": at(minutes),
                "completed_at": at(minutes + 1),
            }
        )

    runs = [run(1, "failed", 1), run(2, "succeeded", 3), run(2, "failed", 5)]
    ports = memory_ports(runs, [])
    resolver, source = ports.resolver(), ports.runs
    # The page holds run 1 alone: only the source knows that id 2 names two runs.
    (alone,) = assess(resolver, runs[:1], scopes=W1, as_of=AS_OF, source=source)
    assert (alone.status, alone.result.proof) == (Actionability.ACTIONABLE, None)

    async def awaited() -> Any:
        states = {kind: AsyncSource(state) for kind, state in ports.states.items()}
        history = AsyncHistory(MemoryRunHistory(runs))
        async_resolver = AsyncResolver(
            history=history, states=states, registry=REGISTRY, catalog=CATALOG, strict=True
        )
        return await assess_async(async_resolver, runs[:1], scopes=W1, as_of=AS_OF, source=source)

    (twin,) = asyncio.run(awaited())
    assert (twin.status, twin.result.proof) == (Actionability.ACTIONABLE, None)
    # Without the source, the one batch cannot tell, as before.
    (blind,) = assess(resolver, runs[:1], scopes=W1, as_of=AS_OF)
    assert blind.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS


def _feed(session: RequestSession, limit: int) -> list[tuple[Any, Any, Any, Any]]:
    """Every change of the window (at(10), AS_OF], page by page."""
    seen, page = [], session.changes(since=at(10), limit=limit)
    while True:
        seen += [(str(c.run_id), c.since_status, c.status, c.changed_at) for c in page.changes]
        if page.next_cursor is None:
            return seen
        page = session.changes(cursor=page.next_cursor)


async def _feed_async(session: AsyncRequestSession, limit: int) -> list[tuple[Any, Any, Any, Any]]:
    seen, page = [], await session.changes(since=at(10), limit=limit)
    while True:
        seen += [(str(c.run_id), c.since_status, c.status, c.changed_at) for c in page.changes]
        if page.next_cursor is None:
            return seen
        page = await session.changes(cursor=page.next_cursor)


@pytest.mark.parametrize("limit", [1, 2, 100])
def test_the_feed_reports_the_older_row_when_a_new_row_takes_its_id(
    sql_engine: sa.Engine, limit: int
) -> None:
    # The feed keyed its candidates by id: the new row was reported, the older row's move to
    # duplicate_run_id never was, so a poller kept showing it actionable.
    keyless_runs(sql_engine)
    insert_raw(sql_engine, [raw_row(sql_engine, 2), raw_row(sql_engine, 3)])
    # At minute 20, a second row takes id 2, still running, so both changes are at minute 20
    # (and another workspace's row takes id 3, which changes nothing for w1).
    later, hidden = _running(sql_engine, 20), raw_row(sql_engine, 20, workspace_id="w2")
    insert_raw(sql_engine, [{**later, "id": 2}, {**hidden, "id": 3}])
    review, actionable = Actionability.REQUIRES_MANUAL_REVIEW, Actionability.ACTIONABLE
    expected = [("2", None, review, at(20)), ("2", actionable, review, at(20))]
    sync, aio = _both(sql_engine, lambda s: _feed(s, limit), lambda s: _feed_async(s, limit))
    # Both at one (instant, id): in one order on every read, each once across pages.
    assert sync == aio
    assert sorted(sync, key=repr) == sorted(expected, key=repr)


def test_a_table_with_a_unique_id_reads_no_row_by_id_on_any_path(sql_engine: sa.Engine) -> None:
    # The shared-id checks (proofs, active work, the feed's partners) cost nothing on the
    # reference schema: its primary key proves the ids unique, so no row is read by id.
    create_schema(sql_engine)
    later = raw_row(sql_engine, 3)
    insert_raw(
        sql_engine,
        [
            raw_row(sql_engine, 1),
            raw_row(sql_engine, 2, outcome="succeeded", created_at=later["created_at"]),
            _running(sql_engine, 20),
        ],
    )
    service = ActionabilityService(sql_engine)
    with (
        count_statements(sql_engine) as counter,
        service.session(scopes=W1, as_of=AS_OF) as session,
    ):
        page = session.page()
        told = session.explain(1)
        work = session.active_work()
        changed = session.changes(since=at(0)).changes
    assert told is not None
    assert told.assessment.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert [i.status for i in page.items if i.run_id == 1] == [told.assessment.status]
    assert work.total == 1
    assert len(changed) == 3
    by_id = [text for text in counter.statements if "operation_runs.id IN" in text]
    assert by_id == []


@pytest.mark.parametrize("limit", [1, 100])
def test_the_feed_reports_a_run_its_success_stops_settling_when_its_id_is_taken(
    sql_engine: sa.Engine, limit: int
) -> None:
    # Run 1 was superseded by run 2; a row taking id 2 makes that success no evidence, so run 1
    # needs attention again, with nothing of its own (or of run 2's) in the window.
    keyless_runs(sql_engine)
    later = raw_row(sql_engine, 3)
    insert_raw(
        sql_engine,
        [raw_row(sql_engine, 1), raw_row(sql_engine, 2, outcome="succeeded", **_at(later))],
    )
    insert_raw(sql_engine, [{**_running(sql_engine, 20), "id": 2}])
    review = Actionability.REQUIRES_MANUAL_REVIEW
    expected = [
        ("1", Actionability.SUPERSEDED_BY_LATER_SUCCESS, Actionability.ACTIONABLE, at(20)),
        ("2", None, review, at(20)),
        ("2", Actionability.INFORMATIONAL_ONLY, review, at(20)),
    ]
    sync, aio = _both(sql_engine, lambda s: _feed(s, limit), lambda s: _feed_async(s, limit))
    assert sync == aio
    assert sorted(sync, key=repr) == sorted(expected, key=repr)


def _at(row: dict[str, Any]) -> dict[str, Any]:
    return {"created_at": row["created_at"], "completed_at": row["completed_at"]}


def test_a_success_is_read_from_its_own_row_when_a_hidden_row_shares_its_id(
    sql_engine: sa.Engine,
) -> None:
    # SQLite's history joined the best success back by id alone: with a running row of another
    # workspace under the same id, it read that row's NULL completed_at and every path asking
    # for the evidence failed (EvidenceFetchError).
    keyless_runs(sql_engine)
    later = raw_row(sql_engine, 3)
    insert_raw(
        sql_engine,
        [
            raw_row(sql_engine, 1),
            raw_row(sql_engine, 2, outcome="succeeded", **_at(later)),
            {**_running(sql_engine, 5, workspace_id="w2"), "id": 2},
        ],
    )

    def told(session: RequestSession) -> Any:
        return session.explain(1)

    async def told_async(session: AsyncRequestSession) -> Any:
        return await session.explain(1)

    for explained in _both(sql_engine, told, told_async):
        assert explained.assessment.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
        proof = explained.assessment.result.proof
        assert (str(proof.run_id), proof.workspace_id, proof.completed_at) == ("2", "w1", at(4))
