"""Mappings reflected from a host's own tables: ids and instants as the columns store them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, at

from runactionability import Actionability, Resolver, RunQuery
from runactionability.adapters.memory import MemoryStateSource
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    IdTypes,
    Instants,
    RunTableMapping,
    SqlRunHistory,
    SqlRunSource,
    StateIdTypes,
    StateTableMapping,
)
from runactionability.errors import ConfigurationError

JOBS = {
    "id": "job_id",
    "type": "kind",
    "workspace_id": "tenant",
    "environment_id": "env",
    "status": "state",
    "outcome": "result",
    "created_at": "created",
    "started_at": "started",
    "completed_at": "finished",
    "context": "payload",
    "subject": None,
}


def _create(engine: sa.Engine, ddl: str) -> None:
    with engine.begin() as db:
        db.exec_driver_sql(ddl)


def _only(engine: sa.Engine, dialect: str) -> None:
    if engine.dialect.name != dialect:
        pytest.skip(f"a {dialect} column type")


def test_sqlite_datetime_columns_are_iso_text_and_integer_ids_integers(
    sql_engine: sa.Engine,
) -> None:
    _only(sql_engine, "sqlite")
    _create(
        sql_engine,
        "CREATE TABLE m2_jobs (job_id INTEGER PRIMARY KEY, kind TEXT, tenant INTEGER, "
        "env VARCHAR(20), state TEXT, result TEXT, created DATETIME, started DATETIME, "
        "finished TIMESTAMP, payload TEXT)",
    )
    mapping = RunTableMapping.reflect(sql_engine, "m2_jobs", zone="UTC", **JOBS)
    assert mapping.ids == IdTypes(run="integer", workspace="integer", environment="text")
    assert mapping.timestamps == Instants.iso_text("UTC")
    assert (mapping.table, mapping.workspace_id, mapping.subject) == ("m2_jobs", "tenant", None)
    with pytest.raises(ConfigurationError, match=r"m2_jobs\.created .*zone='UTC'"):
        RunTableMapping.reflect(sql_engine, "m2_jobs", **JOBS)
    with pytest.raises(ConfigurationError, match="SQLite"):
        RunTableMapping.reflect(sql_engine, "m2_jobs", zone="Europe/Berlin", **JOBS)


def _payload(engine: sa.Engine) -> str:
    """A context column's type (PostgreSQL refuses a text one: ``test_text_context.py``)."""
    return "jsonb" if engine.dialect.name == "postgresql" else "TEXT"


def test_integer_timestamps_need_their_unit(sql_engine: sa.Engine) -> None:
    _create(
        sql_engine,
        "CREATE TABLE m2_epochs (job_id BIGINT, kind TEXT, tenant TEXT, env TEXT, state TEXT, "
        "result TEXT, created BIGINT, started BIGINT, finished BIGINT, "
        f"payload {_payload(sql_engine)})",
    )
    with pytest.raises(ConfigurationError, match=r"m2_epochs\.created is an integer.*epoch_unit"):
        RunTableMapping.reflect(sql_engine, "m2_epochs", **JOBS)
    mapping = RunTableMapping.reflect(sql_engine, "m2_epochs", epoch_unit="ms", **JOBS)
    assert mapping.timestamps == Instants.epoch("ms")
    assert mapping.ids == IdTypes(run="integer", workspace="text", environment="text")
    with pytest.raises(ConfigurationError, match="epoch_fortnights"):
        RunTableMapping.reflect(sql_engine, "m2_epochs", epoch_unit="fortnights", **JOBS)


def test_a_missing_column_or_table_is_named(sql_engine: sa.Engine) -> None:
    _create(
        sql_engine,
        "CREATE TABLE m2_short (job_id BIGINT, kind TEXT, tenant TEXT, env TEXT, state TEXT, "
        "result TEXT, created BIGINT, started BIGINT, payload TEXT)",
    )
    with pytest.raises(ConfigurationError, match=r"'m2_short' has no column 'finished'"):
        RunTableMapping.reflect(sql_engine, "m2_short", epoch_unit="s", **JOBS)
    with pytest.raises(ConfigurationError, match="no table 'm2_nowhere'"):
        RunTableMapping.reflect(sql_engine, "m2_nowhere", epoch_unit="s", **JOBS)
    # A where key has no default column: the fields' "created_at='inserted_at'" hint misled.
    with pytest.raises(
        ConfigurationError,
        match=r"no column 'flavour': name a column of the table in the mapping's where",
    ):
        StateTableMapping.reflect(
            sql_engine,
            "provider_connection",
            "m2_short",
            subject="job_id",
            status="state",
            proven_at="created",
            workspace_id="tenant",
            environment_id="env",
            where={"flavour": "x"},
        )
    with pytest.raises(ConfigurationError, match="no table 'm2_nowhere'"):
        StateTableMapping.reflect(sql_engine, "provider_connection", "m2_nowhere")


def test_timestamps_stored_differently_are_refused(sql_engine: sa.Engine) -> None:
    _create(
        sql_engine,
        "CREATE TABLE m2_mixed (job_id BIGINT, kind TEXT, tenant TEXT, env TEXT, state TEXT, "
        "result TEXT, created BIGINT, started BIGINT, finished TEXT, "
        f"payload {_payload(sql_engine)})",
    )
    with pytest.raises(ConfigurationError, match="stored differently"):
        RunTableMapping.reflect(sql_engine, "m2_mixed", epoch_unit="s", zone="UTC", **JOBS)
    # What a host states is taken as it is.
    given = RunTableMapping.reflect(
        sql_engine, "m2_mixed", timestamps="epoch_s", ids={"run": "text"}, **JOBS
    )
    assert (given.timestamps, given.ids) == (Instants.epoch("s"), IdTypes(run="text"))


def test_a_laravel_table_on_postgresql(sql_engine: sa.Engine) -> None:
    _only(sql_engine, "postgresql")
    _create(
        sql_engine,
        "CREATE TABLE m2_operation_runs (id bigserial PRIMARY KEY, workspace_id bigint, "
        "managed_environment_id bigint, type text, status text, outcome text, context jsonb, "
        "created_at timestamp, started_at timestamp(0), completed_at timestamp without time zone)",
    )
    _create(
        sql_engine,
        "CREATE TABLE m2_provider_connections (id bigint, workspace_id bigint, "
        "managed_environment_id integer, status varchar(20), verified_at timestamp)",
    )
    with pytest.raises(ConfigurationError, match=r"m2_operation_runs\.created_at .*zone="):
        RunTableMapping.reflect(
            sql_engine,
            "m2_operation_runs",
            subject=None,
            environment_id="managed_environment_id",
        )
    runs = RunTableMapping.reflect(
        sql_engine,
        "m2_operation_runs",
        zone="Europe/Berlin",
        subject=None,
        environment_id="managed_environment_id",
    )
    assert runs.ids == IdTypes(run="integer", workspace="integer", environment="integer")
    assert runs.timestamps == Instants.naive("Europe/Berlin")
    state = StateTableMapping.reflect(
        sql_engine,
        "provider_connection",
        "m2_provider_connections",
        zone="UTC",
        environment_id="managed_environment_id",
        subject="id",
        proven_at="verified_at",
    )
    assert state.ids == StateIdTypes(workspace="integer", environment="integer", subject="integer")
    assert state.timestamps == Instants.naive("UTC")
    assert state.attributes is None


def test_uuid_ids_and_timestamptz_on_postgresql(sql_engine: sa.Engine) -> None:
    _only(sql_engine, "postgresql")
    _create(
        sql_engine,
        "CREATE TABLE m2_uuid_runs (id uuid, type text, workspace_id uuid, environment_id uuid, "
        "status text, outcome text, created_at timestamptz, started_at timestamptz, "
        "completed_at timestamp with time zone, subject uuid, context jsonb)",
    )
    mapping = RunTableMapping.reflect(sql_engine, "m2_uuid_runs")
    assert mapping.ids == IdTypes(run="uuid", workspace="uuid", environment="uuid", subject="uuid")
    assert mapping.timestamps == Instants.timestamptz()


def test_an_id_column_of_another_type_is_refused(sql_engine: sa.Engine) -> None:
    _create(
        sql_engine,
        "CREATE TABLE m2_real_ids (job_id REAL, kind TEXT, tenant TEXT, env TEXT, state TEXT, "
        "result TEXT, created BIGINT, started BIGINT, finished BIGINT, payload TEXT)",
    )
    with pytest.raises(ConfigurationError, match=r"m2_real_ids\.job_id .*ids="):
        RunTableMapping.reflect(sql_engine, "m2_real_ids", epoch_unit="us", **JOBS)


def test_a_reflected_mapping_reads_integer_tenants(sql_engine: sa.Engine) -> None:
    # Instants the reference way (timestamptz; UTC microseconds on SQLite), ids as integers.
    postgresql = sql_engine.dialect.name == "postgresql"
    instant, document = ("timestamptz", "jsonb") if postgresql else ("BIGINT", "TEXT")
    _create(
        sql_engine,
        f"CREATE TABLE m2_int_runs (id BIGINT PRIMARY KEY, type TEXT, workspace_id BIGINT, "
        f"environment_id BIGINT, status TEXT, outcome TEXT, created_at {instant}, "
        f"started_at {instant}, completed_at {instant}, subject TEXT, context {document})",
    )
    mapping = RunTableMapping.reflect(sql_engine, "m2_int_runs", epoch_unit="us")
    assert mapping.ids == IdTypes(run="integer", workspace="integer", environment="integer")
    table = mapping.table_clause()
    rows = [
        {"id": run_id, "outcome": outcome, "created_at": at(start), "completed_at": at(start + 1)}
        for run_id, outcome, start in [(1, "failed", 0), (2, "succeeded", 5)]
    ]
    with sql_engine.begin() as db:
        db.execute(
            sa.insert(table),
            [
                {
                    **row,
                    "type": "inventory.sync",
                    "workspace_id": 42,
                    "environment_id": 7,
                    "status": "completed",
                    "started_at": None,
                    "subject": None,
                    "context": {},
                }
                for row in rows
            ],
        )
    source = SqlRunSource(sql_engine, mapping, catalog=CATALOG)
    listed = source.list_runs(RunQuery(workspace_ids={"42", "042"}, environment_ids={"7"}))
    assert [(run.id, run.workspace_id, run.environment_id) for run in listed.runs] == [
        (2, 42, 7),
        (1, 42, 7),
    ]
    resolver = Resolver(
        history=SqlRunHistory(sql_engine, mapping),
        states={kind: MemoryStateSource(kind) for kind in STATE_KINDS},
        registry=REGISTRY,
        catalog=CATALOG,
    )
    failed = source.get_run("1")
    assert failed is not None
    result = resolver.evaluate(failed, as_of=AS_OF)
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert getattr(result.proof, "run_id", None) == 2
