"""The pushdown's grouped count counts the dashboard's active work as the Python path does.

Runs replayed at ``as_of`` change status there: a running run that started later was queued, a
run that completed later was running or queued, by its start. Invalid active rows (an outcome
recorded, an unknown status) and runs created later are no active work. Checked on the
reference tables and on every non-native storage of instants, on both engines.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from tests.support import T0, at, stored_copy

from runactionability import OperationRun, Resolver
from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    RunTableMapping,
    SqlRunHistory,
    SqlRunSource,
    SqlStateSource,
    StateTableMapping,
    create_schema,
    insert_runs,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.catalog import OperationCatalog
from runactionability.consumers import ActiveRuns, VisibleScopes
from runactionability.consumers.dashboard import active_work, dashboard

AS_OF = T0 + timedelta(minutes=30)
SCOPES = VisibleScopes({"w1"})
CATALOG = OperationCatalog.reference()


def _run(run_id: int, status: str, **fields: Any) -> OperationRun:
    values: dict[str, Any] = {
        "id": run_id,
        "type": "directory.sync",
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": status,
        "outcome": None,
        "created_at": at(0),
        "started_at": None,
        "completed_at": None,
        "context": {},
    }
    values.update(fields)
    return OperationRun(**values)


HISTORY = [
    _run(1, "queued"),
    _run(2, "running", started_at=at(1)),
    # Started after as_of: it was queued then.
    _run(3, "running", started_at=at(40)),
    # Completed after as_of: running then (started before, or no start recorded), else queued.
    _run(4, "completed", outcome="failed", started_at=at(1), completed_at=at(45)),
    _run(5, "completed", outcome="succeeded", completed_at=at(45)),
    _run(6, "completed", outcome="failed", started_at=at(35), completed_at=at(45)),
    # Created after as_of: it did not exist.
    _run(7, "queued", created_at=at(50)),
    # Invalid: an active run with an outcome, an unknown status.
    _run(8, "running", outcome="failed"),
    _run(9, "paused"),
    # Aliases count under the canonical type, unknown types under their stored name.
    _run(10, "running", type="inventory_sync", environment_id="e2"),
    _run(11, "queued", type="no.such.type"),
    # No placeable creation: judged as stored.
    _run(12, "running", created_at=None, started_at=at(40)),
    # Another workspace's work is no part of it.
    _run(13, "running", workspace_id="w2"),
]


def _assert_counted_as_python(
    engine: sa.Engine,
    mapping: RunTableMapping,
    states: dict[str, StateTableMapping] | None = None,
) -> None:
    states = reference_state_mappings() if states is None else states
    pushdown = SqlPushdown(engine, runs=mapping, states=states, catalog=CATALOG)
    counted = pushdown.count(SCOPES, as_of=AS_OF).active
    source = SqlRunSource(engine, mapping, catalog=CATALOG)
    held = ActiveRuns.from_source(source, catalog=CATALOG, scopes=SCOPES, as_of=AS_OF)
    resolver = Resolver(
        history=SqlRunHistory(engine, mapping),
        states={kind: SqlStateSource(engine, m) for kind, m in states.items()},
        catalog=CATALOG,
    )
    python = active_work(resolver, held, scopes=SCOPES, as_of=AS_OF, newest=0)
    assert (counted.queued, counted.running) == (python.queued, python.running) == (4, 5)
    assert dict(counted.by_type) == dict(python.by_type)
    assert dict(counted.by_type) == {"directory.sync": 7, "inventory.sync": 1, "no.such.type": 1}


def test_active_work_is_counted_in_sql_as_in_python(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    insert_runs(sql_engine, HISTORY, catalog=CATALOG)
    _assert_counted_as_python(sql_engine, REFERENCE_RUNS)


def test_every_storage_of_instants_counts_active_work_alike(
    storage_leg: tuple[sa.Engine, str],
) -> None:
    engine, storage = storage_leg
    create_schema(engine)
    insert_runs(engine, HISTORY, catalog=CATALOG)
    runs, states = stored_copy(engine, storage)
    _assert_counted_as_python(engine, runs, states)


def test_the_newest_active_work_is_newest_by_instant_whatever_the_text_sorts() -> None:
    # ISO text read as instants sorts apart when rows use both separators ('T' after ' '): the
    # dashboard's newest active work must not trust that order to stop reading early.
    engine = sa.create_engine("sqlite://")
    create_schema(engine)
    queued = [_run(n, "queued", created_at=at(n / 10)) for n in range(1, 61)]
    insert_runs(engine, queued, catalog=CATALOG)
    runs, states = stored_copy(engine, "iso_text")
    with engine.begin() as connection:
        # Every run written with a 'T', as datetime.isoformat() writes, but the newest.
        connection.execute(
            sa.text(f"UPDATE {runs.table} SET created_at = replace(created_at, ' ', 'T')"),
        )
        connection.execute(
            sa.text(
                f"UPDATE {runs.table} SET created_at = replace(created_at, 'T', ' ') WHERE id = 60"
            )
        )
    source = SqlRunSource(engine, runs, catalog=CATALOG)
    assert not source.orders_by_instant
    resolver = Resolver(
        history=SqlRunHistory(engine, runs),
        states={kind: SqlStateSource(engine, m) for kind, m in states.items()},
        catalog=CATALOG,
    )
    pushdown = SqlPushdown(engine, runs=runs, states=states, catalog=CATALOG)
    shown = dashboard(source, resolver, scopes=SCOPES, as_of=AS_OF, top=3, store=pushdown)
    assert shown.active.queued == 60
    assert [item.run.id for item in shown.active.newest] == [60, 59, 58]
