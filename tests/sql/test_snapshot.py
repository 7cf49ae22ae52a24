"""``SqlBackend.snapshot()``: a batch reads its history and its states in one snapshot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY
from tests.support import stored_fact as fact
from tests.support import stored_run as run

from runactionability import Actionability, Resolver, RunQuery
from runactionability.adapters.sqlalchemy import (
    SqlBackend,
    create_schema,
    insert_runs,
    insert_states,
    open_backend,
)
from runactionability.core import Core
from runactionability.evidence import StateRequest

KIND = "provider_connection"
CHECK = run(
    1, "provider.connection.check", outcome="blocked", context={"provider_connection_id": "c1"}
)
REQUEST = StateRequest(kind=KIND, workspace_id="w1", environment_id="e1", subject="c1")


@pytest.fixture(params=["engine", "connection"])
def backend(request: pytest.FixtureRequest, sql_engine: sa.Engine) -> Iterator[SqlBackend]:
    """The ports over the engine itself, or over a connection the host opened (no transaction)."""
    if sql_engine.dialect.name == "sqlite":
        # With a rollback journal the writer below would wait for the reader; WAL lets it commit
        # a version the reader's snapshot does not see, as PostgreSQL does.
        with sql_engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    create_schema(sql_engine)
    insert_runs(sql_engine, [CHECK], catalog=CATALOG)
    if request.param == "engine":
        yield open_backend(sql_engine, catalog=CATALOG)
        return
    with sql_engine.connect() as connection:
        yield open_backend(connection, catalog=CATALOG)


def resolver(backend: SqlBackend) -> Resolver:
    return Resolver(
        history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
    )


def test_a_state_committed_during_a_batch_is_not_seen_by_it(
    backend: SqlBackend, sql_engine: sa.Engine
) -> None:
    plan = Core(catalog=CATALOG, families=REGISTRY.families(), state_kinds={KIND}).plan(
        [CHECK], as_of=AS_OF
    )
    with backend.snapshot() as snapshot:
        page = snapshot.runs.list_runs(RunQuery(workspace_ids={"w1"}))
        assert snapshot.history.latest_successes(plan.later_success_requests, as_of=AS_OF) == {}
        # Another connection fixes the connection and commits, between the two fetches.
        insert_states(sql_engine, [fact(KIND, "c1", "healthy", 30)])
        assert snapshot.states[KIND].current_states([REQUEST]) == {}
        assert resolver(snapshot).evaluate_many(page.runs, as_of=AS_OF)[0].status is (
            Actionability.ACTIONABLE
        )
    # The next batch sees it.
    assert resolver(backend).evaluate(CHECK, as_of=AS_OF).status is (
        Actionability.RESOLVED_BY_CURRENT_STATE
    )


def test_a_snapshot_inside_the_hosts_transaction_reads_through_it(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    with sql_engine.connect() as connection, connection.begin():
        insert_states(connection, [fact(KIND, "c1", "healthy", 30)])
        with open_backend(connection).snapshot() as snapshot:
            # Uncommitted, yet seen: the ports read in the host's own transaction.
            assert snapshot.states[KIND].current_states([REQUEST])[REQUEST].status == "healthy"
        assert connection.in_transaction()
