"""A run id two rows share, on the paths the first round left open: ``get_run`` asked directly,
a shared-id success as evidence, active work, and the change feed's older row."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, async_engine_of, insert_raw, keyless_runs, raw_row

from runactionability import (
    Actionability,
    ActionabilityService,
    AsyncActionabilityService,
    AsyncRequestSession,
    DuplicateRunError,
    OperationRun,
    Reason,
    RequestSession,
    VisibleScopes,
)
from runactionability.adapters.memory import MemoryRunSource
from runactionability.adapters.sqlalchemy.runs import SqlRunSource


W1 = VisibleScopes({"w1"})


def _both(engine: sa.Engine, ask: Callable[[RequestSession], Any]) -> tuple[Any, Any]:
    """What a sync session and an async one answer on the same table, at ``AS_OF``."""
    with ActionabilityService(engine).session(scopes=W1, as_of=AS_OF) as session:
        sync = ask(session)

    async def run() -> Any:
        bind = async_engine_of(engine)
        try:
            service = AsyncActionabilityService(bind)
            async with service.session(scopes=W1, as_of=AS_OF) as twin:
                return await _awaited(ask, twin)
        finally:
            await bind.dispose()

    return sync, asyncio.run(run())


async def _awaited(ask: Callable[[RequestSession], Any], twin: AsyncRequestSession) -> Any:
    answer: Awaitable[Any] = ask(twin)  # type: ignore[arg-type]
    return await answer


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


def test_the_memory_source_refuses_an_id_two_runs_hold() -> None:
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
    assert source.get_run(2) == run
    source.add(run)
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

    for answer in _both(sql_engine, work):
        assert (answer.total, [item.run_id for item in answer.newest]) == (1, [7])
    with ActionabilityService(sql_engine).session(scopes=W1, as_of=AS_OF) as session:
        summary = session.dashboard(top=10)
        assert summary.active.total == 1
        flagged = [i for i in session.page().items if i.run_id in (4, 6)]
        assert {(i.status, i.result.reason) for i in flagged} == {
            (Actionability.REQUIRES_MANUAL_REVIEW, Reason.DUPLICATE_RUN_ID)
        }
        assert len(flagged) == 4
