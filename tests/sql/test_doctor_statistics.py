"""A PostgreSQL table filled and never analyzed gets plans that read a whole workspace per problem
run: a dashboard over 4,000 failures resolved by current state took 16.6 s instead of 0.7 s
(docs/performance.md, "Tables never analyzed"). ``check`` warns of each such table, with the
``ANALYZE`` to run; an analyzed table, an empty one, or SQLite is no finding."""

from __future__ import annotations

import uuid

import attrs
import sqlalchemy as sa
from tests.support import AS_OF, analyze, run, state

from runactionability import Severity
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    check,
    create_schema,
    insert_runs,
    insert_states,
    reference_state_mappings,
)
from runactionability.findings import CheckReport, FindingCode
from runactionability.model import OperationRun


def _failures(count: int) -> list[OperationRun]:
    return [run(n, context={"provider_connection_id": n}) for n in range(1, count + 1)]


def _unanalyzed(report: CheckReport) -> dict[str | None, str | None]:
    found = [f for f in report.findings if f.code is FindingCode.MISSING_STATISTICS]
    assert all(f.severity is Severity.WARNING for f in found)
    return {f.table: f.fix for f in found}


def test_tables_filled_and_never_analyzed_are_named_with_theiranalyze(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    insert_runs(sql_engine, _failures(20))
    insert_states(sql_engine, [state(subject=str(n)) for n in range(1, 21)])
    report = check(sql_engine, states=reference_state_mappings(), as_of=AS_OF)
    if sql_engine.dialect.name == "sqlite":
        assert _unanalyzed(report) == {}
        return
    # The five empty state tables have nothing to gather: not named.
    assert _unanalyzed(report) == {
        "operation_runs": "ANALYZE operation_runs",
        "provider_connection_states": "ANALYZE provider_connection_states",
    }
    assert report.passed
    analyze(sql_engine, "operation_runs")
    again = check(sql_engine, states=reference_state_mappings(), as_of=AS_OF)
    assert _unanalyzed(again) == {
        "provider_connection_states": "ANALYZE provider_connection_states"
    }
    analyze(sql_engine, "provider_connection_states")
    assert _unanalyzed(check(sql_engine, states=reference_state_mappings(), as_of=AS_OF)) == {}


def test_each_partition_never_analyzed_is_named(
    partitioned_engine: tuple[sa.Engine, str],
) -> None:
    engine, _ = partitioned_engine
    insert_runs(engine, _failures(3))
    with engine.connect() as connection:
        filled = connection.exec_driver_sql(
            "SELECT DISTINCT tableoid::regclass::text FROM operation_runs ORDER BY 1"
        ).scalars()
        expected = {name: f"ANALYZE {name}" for name in filled}
    found = [
        f for f in check(engine, as_of=AS_OF).findings if f.code is FindingCode.MISSING_STATISTICS
    ]
    assert {f.fix for f in found} == set(expected.values())
    assert all(f.table == "operation_runs" for f in found)
    for name in expected:
        analyze(engine, name)
    assert _unanalyzed(check(engine, as_of=AS_OF)) == {}


def test_a_table_in_a_schema_of_its_own_is_named_with_its_schema(
    postgres_engine: sa.Engine,
) -> None:
    schema = f"ra_stats_{uuid.uuid4().hex[:12]}"
    with postgres_engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        connection.exec_driver_sql(f"SET LOCAL search_path = {schema}")
        create_schema(connection)
        insert_runs(connection, _failures(2))
    try:
        mapping = RunTableMapping(table="operation_runs", schema=schema)
        report = check(postgres_engine, mapping, as_of=AS_OF)
        assert _unanalyzed(report) == {"operation_runs": f"ANALYZE {schema}.operation_runs"}
    finally:
        with postgres_engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


def test_two_kinds_kept_in_one_table_name_it_once(sql_engine: sa.Engine) -> None:
    # Each state mapping found the table's missing statistics: the same warning twice.
    create_schema(sql_engine)
    insert_runs(sql_engine, _failures(3))
    insert_states(sql_engine, [state(subject=str(n)) for n in range(1, 4)])
    shared = reference_state_mappings()["provider_connection"]
    states = {
        **reference_state_mappings(),
        "connection_copy": attrs.evolve(shared, kind="connection_copy"),
    }
    found = [
        f
        for f in check(sql_engine, states=states, as_of=AS_OF).findings
        if f.code is FindingCode.MISSING_STATISTICS
    ]
    if sql_engine.dialect.name == "sqlite":
        assert found == []
        return
    assert [f.fix for f in found].count("ANALYZE provider_connection_states") == 1
