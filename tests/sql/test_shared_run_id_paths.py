"""A run id two rows share, on the paths the first round left open: ``get_run`` asked directly,
a shared-id success as evidence, active work, and the change feed's older row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, insert_raw, keyless_runs, raw_row

from runactionability import DuplicateRunError, OperationRun
from runactionability.adapters.memory import MemoryRunSource
from runactionability.adapters.sqlalchemy.runs import SqlRunSource


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
