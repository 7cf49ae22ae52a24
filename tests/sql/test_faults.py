"""Database faults raise a typed error naming the evidence kind; identifiers are validated."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, open_ports
from tests.support import stored_run as run

from runactionability import (
    ConfigurationError,
    EvidenceFetchError,
    LaterSuccessRequest,
    Resolver,
    RunQuery,
    StateRequest,
)
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    SqlRunHistory,
    SqlStateSource,
    StateTableMapping,
    create_schema,
    insert_runs,
    open_backend,
    reference_state_mappings,
)

REQUEST = LaterSuccessRequest(
    operation_types=("inventory.sync",),
    workspace_id="w1",
    environment_id="e1",
    subject_key=None,
    subject=None,
)


def test_a_failing_history_read_names_the_evidence_kind(sql_engine: sa.Engine) -> None:
    history = SqlRunHistory(sql_engine, RunTableMapping(table="no_such_runs"))
    with pytest.raises(EvidenceFetchError) as raised:
        history.latest_successes([REQUEST], as_of=AS_OF)
    assert raised.value.kind == "later success"
    _says_the_driver_not_the_statement(raised.value, "no_such_runs")


def _says_the_driver_not_the_statement(error: EvidenceFetchError, table: str) -> None:
    """The driver's one-line message names the table; the failed statement (which SQLAlchemy's
    own text appends, tens of thousands of characters for the pushdown) is left out."""
    text = str(error)
    assert table in text
    assert "\n" not in text
    assert "SELECT" not in text.upper()
    assert "[SQL" not in text
    assert len(text) < 300, text


def test_a_failing_state_read_names_its_kind(sql_engine: sa.Engine) -> None:
    source = SqlStateSource(
        sql_engine, StateTableMapping(kind="provider_connection", table="no_such_states")
    )
    request = StateRequest(
        kind="provider_connection", workspace_id="w1", environment_id="e1", subject="c1"
    )
    with pytest.raises(EvidenceFetchError) as raised:
        source.current_states([request])
    assert raised.value.kind == "provider_connection"
    _says_the_driver_not_the_statement(raised.value, "no_such_states")


def test_a_fetch_error_never_resolves_a_run(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    failed = run(1, "provider.connection.check", context={"provider_connection_id": "c1"})
    insert_runs(sql_engine, [failed])
    states = {
        **{kind: SqlStateSource(sql_engine, m) for kind, m in reference_state_mappings().items()},
        "provider_connection": SqlStateSource(
            sql_engine, StateTableMapping(kind="provider_connection", table="missing")
        ),
    }
    resolver = Resolver(
        history=SqlRunHistory(sql_engine), states=states, registry=REGISTRY, catalog=CATALOG
    )
    with pytest.raises(EvidenceFetchError, match="provider_connection"):
        resolver.evaluate(failed, as_of=AS_OF)


@pytest.mark.parametrize(
    "fields",
    [
        {"table": "runs; DROP TABLE operation_runs"},
        {"table": "operation_runs", "workspace_id": 'tenant"'},
        {"table": "operation_runs", "schema": "public.x"},
        {"table": "operation_runs", "subject": "1subject"},
        {"table": "x" * 64},
    ],
)
def test_mapping_identifiers_are_validated(fields: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RunTableMapping(**fields)


def test_state_mapping_identifiers_are_validated() -> None:
    with pytest.raises(ConfigurationError):
        StateTableMapping(kind="backup_set", table="sets", proven_at="proven at")


def test_a_vocabulary_must_name_success() -> None:
    with pytest.raises(ConfigurationError, match="succeeded"):
        RunTableMapping(table="jobs", outcomes={"error": "failed"})


def test_values_are_bound_never_pasted(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    hostile = "w'1); DROP TABLE operation_runs; --"
    failed = run(1, workspace_id=hostile)
    later = run(2, outcome="succeeded", start=5, workspace_id=hostile)
    insert_runs(sql_engine, [failed, later])
    ports = open_ports(sql_engine)
    result = ports.resolver().evaluate(failed, as_of=AS_OF)
    assert getattr(result.proof, "run_id", None) == 2
    assert [r.id for r in ports.runs.list_runs(RunQuery(workspace_ids={hostile})).runs] == [2, 1]
    assert sa.inspect(sql_engine).has_table("operation_runs")


def test_ports_read_through_a_callers_connection_and_leave_it_open(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    failed = run(1)
    with sql_engine.connect() as connection:
        transaction = connection.begin()
        # Uncommitted: only a port reading through this very connection can see it.
        insert_runs(connection, [failed, run(2, outcome="succeeded", start=5)])
        backend = open_backend(connection, catalog=CATALOG)
        resolver = Resolver(
            history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
        )
        assert getattr(resolver.evaluate(failed, as_of=AS_OF).proof, "run_id", None) == 2
        assert backend.runs.get_run(2) is not None
        backend.close()
        assert transaction.is_active
        assert not connection.closed
        transaction.rollback()
    assert open_ports(sql_engine).runs.get_run(2) is None


def test_a_backend_disposes_only_the_engine_it_created(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/owned.sqlite"
    with open_backend(url) as backend:
        assert backend.engine is not None
        create_schema(backend.engine)
        assert backend.runs.list_runs(RunQuery(workspace_ids={"w1"})).runs == []
    engine = sa.create_engine(url)
    with open_backend(engine) as borrowed:
        assert borrowed.engine is None
    insert_runs(engine, [run(1, start=1)])
    assert open_ports(engine).runs.get_run("1") == run(1, start=1)
    engine.dispose()


def test_a_failing_joint_read_names_every_kind_it_read(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    history = SqlRunHistory(sql_engine)
    source = SqlStateSource(
        sql_engine, StateTableMapping(kind="provider_connection", table="no_such_states")
    )
    request = StateRequest(
        kind="provider_connection", workspace_id="w1", environment_id="e1", subject="c1"
    )
    with pytest.raises(EvidenceFetchError) as raised:
        history.latest_successes_with_states(
            [REQUEST], {"provider_connection": (source, [request])}, as_of=AS_OF
        )
    assert raised.value.kind == "later success, provider_connection"
