"""A dashboard over a creation window still sees the work running from before the window."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from tests.support import at

from runactionability import OperationRun, Resolver
from runactionability.adapters.sqlalchemy import create_schema, insert_runs, open_backend
from runactionability.consumers import VisibleScopes, dashboard
from runactionability.result import ActionKind


def sync(run_id: int, **changes: Any) -> OperationRun:
    fields: dict[str, Any] = {
        "id": run_id,
        "type": "inventory.sync",
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": "completed",
        "outcome": "failed",
        "created_at": at(40),
        "started_at": None,
        "completed_at": at(41),
        "context": {},
    }
    fields.update(changes)
    return OperationRun(**fields)


def test_a_windowed_dashboard_offers_no_retry_while_older_work_still_runs(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    running = sync(1, status="running", outcome=None, created_at=at(0), completed_at=None)
    insert_runs(sql_engine, [running, sync(2)])
    backend = open_backend(sql_engine)
    resolver = Resolver(history=backend.history, states=backend.states)
    summary = dashboard(
        backend.runs, resolver, scopes=VisibleScopes({"w1"}), as_of=at(60), created_from=at(30)
    )
    [item] = summary.top
    assert item.run_id == 2
    assert item.primary_action is not None
    assert item.primary_action.kind is ActionKind.VIEW_ACTIVE_RUN
    assert item.active_run_id == 1
