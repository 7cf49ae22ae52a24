"""A host's PostgreSQL columns without a time zone are reported, never read in a guessed zone."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY

from runactionability import Actionability, Reason, Resolver, RunId, RunQuery
from runactionability.adapters.memory import MemoryStateSource
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    RunTableMapping,
    StateTableMapping,
    open_backend,
)
from runactionability.evidence import LaterSuccessRequest, StateRequest

CHECK = "provider.connection.check"
RUNS = RunTableMapping(table="naive_runs")
STATES = StateTableMapping(kind="provider_connection", table="naive_states")


@pytest.fixture
def naive(sql_engine: sa.Engine) -> sa.Engine:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL has a timestamp type without a time zone")
    with sql_engine.begin() as db:
        db.exec_driver_sql(
            "CREATE TABLE naive_runs (id bigint PRIMARY KEY, type text, workspace_id text, "
            "environment_id text, status text, outcome text, created_at timestamp, "
            "started_at timestamp, completed_at timestamp, subject text, context jsonb)"
        )
        db.exec_driver_sql(
            "INSERT INTO naive_runs VALUES "
            "(1, %(t)s, 'w1', 'e1', 'completed', 'blocked', '2026-11-10 11:59', NULL,"
            " '2026-11-10 12:00', 'c1', '{\"provider_connection_id\": \"c1\"}'),"
            "(2, %(t)s, 'w1', 'e1', 'completed', 'succeeded', '2026-11-10 13:00', NULL,"
            " '2026-11-10 13:01', 'c1', '{\"provider_connection_id\": \"c1\"}'),"
            "(3, %(t)s, 'w1', 'e1', 'completed', 'failed', '2026-11-10 14:00', NULL,"
            " '2026-11-10 14:01', 'c2', '{\"provider_connection_id\": \"c2\"}')",
            {"t": CHECK},
        )
        db.exec_driver_sql(
            "CREATE TABLE naive_states (workspace_id text, environment_id text, subject text, "
            "status text, proven_at timestamp, attributes jsonb)"
        )
        db.exec_driver_sql(
            "INSERT INTO naive_states VALUES "
            "('w1', 'e1', 'c2', 'healthy', '2026-11-10 15:00', '{}')"
        )
    return sql_engine


def test_a_naive_timestamp_is_read_as_stored_and_flagged(naive: sa.Engine) -> None:
    backend = open_backend(naive, runs=RUNS, states={"provider_connection": STATES})
    blocked, failed = backend.runs.get_run(1), backend.runs.get_run(3)
    assert blocked is not None
    assert failed is not None
    assert blocked.completed_at == datetime(2026, 11, 10, 12, 0)
    resolver = Resolver(
        history=backend.history,
        states={**{kind: MemoryStateSource(kind) for kind in STATE_KINDS}, **backend.states},
        registry=REGISTRY,
        catalog=CATALOG,
    )
    results = resolver.evaluate_many([blocked, failed], as_of=AS_OF)
    assert {(r.status, r.reason) for r in results} == {
        (Actionability.REQUIRES_MANUAL_REVIEW, Reason.NAIVE_TIMESTAMP)
    }


def test_a_naive_run_or_state_is_never_evidence(naive: sa.Engine) -> None:
    backend = open_backend(naive, runs=RUNS, states={"provider_connection": STATES})
    success = LaterSuccessRequest(
        operation_types=(CHECK,),
        workspace_id="w1",
        environment_id="e1",
        subject_key="provider_connection_id",
        subject="c1",
    )
    assert backend.history.latest_successes([success], as_of=AS_OF) == {}
    state = StateRequest(
        kind="provider_connection", workspace_id="w1", environment_id="e1", subject="c2"
    )
    assert backend.states["provider_connection"].current_states([state]) == {}


def test_runs_with_naive_timestamps_are_listed_page_by_page(naive: sa.Engine) -> None:
    runs = open_backend(naive, runs=RUNS).runs
    seen: list[RunId] = []
    cursor: str | None = None
    while True:
        page = runs.list_runs(RunQuery(workspace_ids={"w1"}), limit=1, cursor=cursor)
        seen.extend(run.id for run in page.runs)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [3, 2, 1]
