"""``check``: a mapping that misreads a host's tables is an error that names the column and the fix.

Each finding is produced from a real table on each engine where it applies, and a healthy
reference database passes with nothing to fix.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import (
    AS_OF,
    analyze,
    at,
    form_validator,
    insert_raw,
    raw_row,
)

from runactionability import to_json
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    StateTableMapping,
    check,
    create_schema,
    insert_runs,
    insert_states,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.demo import Size, generate
from runactionability.findings import CheckReport, Finding, FindingCode, Severity

DEMO = generate(Size.SMALL)
HOST = "hd_jobs"


def only(report: CheckReport, code: FindingCode, column: str | None = None) -> list[Finding]:
    return [f for f in report.findings if f.code is code and column in (None, f.column)]


def host_table(engine: sa.Engine, *, key: bool = True, **types: Any) -> sa.Table:
    """A host's runs table with no index but its key (if ``key``), with the reference's names."""
    timestamp = types.pop("timestamp", sa.DateTime(timezone=engine.dialect.name == "postgresql"))
    columns = {
        "id": sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        "type": sa.Text(),
        "workspace_id": sa.Text(),
        "environment_id": sa.Text(),
        "status": sa.Text(),
        "outcome": sa.Text(),
        "created_at": timestamp,
        "started_at": timestamp,
        "completed_at": timestamp,
        "subject": sa.Text(),
        "context": sa.JSON(),
        **types,
    }
    table = sa.Table(
        HOST,
        sa.MetaData(),
        *(
            sa.Column(name, kind, primary_key=key and name == "id")
            for name, kind in columns.items()
        ),
    )
    table.create(engine)
    return table


def host_rows(count: int, **fields: Any) -> list[dict[str, Any]]:
    """Failed inventory syncs in (w1, e1), one a minute after T0."""
    return [
        {
            "id": index,
            "type": "inventory.sync",
            "workspace_id": "w1",
            "environment_id": "e1",
            "status": "completed",
            "outcome": "failed",
            "created_at": at(index),
            "started_at": at(index),
            "completed_at": at(index + 1),
            "subject": None,
            "context": {},
            **fields,
        }
        for index in range(1, count + 1)
    ]


def insert(engine: sa.Engine, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(table.insert(), list(rows))


HOST_MAPPING = RunTableMapping(table=HOST)


def test_a_healthy_reference_database_passes_with_nothing_to_fix(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    insert_runs(sql_engine, DEMO.runs)
    insert_states(sql_engine, DEMO.states)
    # A live database has planner statistics; a freshly filled one lacks them, which is warned of.
    analyze(sql_engine)
    report = check(sql_engine, states=reference_state_mappings(), as_of=DEMO.as_of)
    assert report.passed
    assert report.errors == report.warnings == ()
    assert report.total_runs == report.sampled == len(DEMO.runs)
    assert only(report, FindingCode.INVALID_ROWS)[0].count == 0
    form_validator("doctor").validate(to_json(report))


def test_iso_text_timestamps_mapped_as_native_are_an_error_naming_column_and_fix(
    sql_engine: sa.Engine,
) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("SQLAlchemy's DateTime stores ISO text on SQLite only")
    table = host_table(sql_engine, timestamp=sa.DateTime())
    insert(sql_engine, table, [{**row, "outcome": "succeeded"} for row in host_rows(2)])
    insert(sql_engine, table, host_rows(11)[2:])
    report = check(sql_engine, HOST_MAPPING, as_of=AS_OF)
    assert not report.passed
    created = only(report, FindingCode.UNREADABLE_TIMESTAMP, "created_at")
    assert [f.severity for f in created] == [Severity.ERROR]
    assert created[0].count == 11
    assert created[0].example is not None
    assert created[0].example.startswith("2026-11-10 12:")
    assert f"{HOST}.created_at" in created[0].message
    assert created[0].fix is not None
    assert "Instants.iso_text()" in created[0].fix
    # The failed runs all read as invalid: most problem rows, so an error too.
    iso = check(sql_engine, attrs.evolve(HOST_MAPPING, timestamps="iso_text"), as_of=AS_OF)
    assert only(iso, FindingCode.UNREADABLE_TIMESTAMP) == []
    assert only(iso, FindingCode.INVALID_ROWS)[0].count == 0
    invalid = only(report, FindingCode.INVALID_ROWS)[0]
    assert invalid.severity is Severity.ERROR
    assert "9 of 9" in invalid.message
    assert "invalid_timestamp 9" in invalid.message


def test_a_misread_column_is_told_the_storage_most_of_its_values_fit(
    sql_engine: sa.Engine,
) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("SQLAlchemy's DateTime stores ISO text on SQLite only")
    table = host_table(sql_engine, timestamp=sa.DateTime())
    insert(sql_engine, table, host_rows(11))
    # One bad row, which sorts first of the sample: it must not decide the whole column's fix.
    raw = sa.table(HOST, *(sa.column(column.name) for column in table.c))
    bad = {**host_rows(12)[11], "created_at": "yesterday", "started_at": None}
    with sql_engine.begin() as connection:
        connection.execute(raw.insert().values({**bad, "completed_at": None, "context": "{}"}))
    report = check(sql_engine, HOST_MAPPING, as_of=AS_OF)
    [created] = only(report, FindingCode.UNREADABLE_TIMESTAMP, "created_at")
    assert created.count == 12
    assert created.example is not None
    assert created.example.startswith("2026-11-10 12:")
    assert created.fix is not None
    assert "map timestamps=Instants.iso_text()" in created.fix
    assert 'in runactionability.toml: timestamps = "iso_text"' in created.fix
    assert "1 of them fit no storage (e.g. 'yesterday'): correct those rows" in created.fix


def test_a_postgresql_timestamp_outside_the_range_read_is_a_row_to_correct(
    sql_engine: sa.Engine,
) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("a timestamp column without a time zone is PostgreSQL's")
    table = host_table(sql_engine, timestamp=sa.DateTime(timezone=False))
    times = ("created_at", "started_at", "completed_at")
    rows = [{**row, **{k: row[k].replace(tzinfo=None) for k in times}} for row in host_rows(3)]
    rows[0]["created_at"] = datetime(1, 1, 1)  # a zero date a migration left behind
    insert(sql_engine, table, rows)
    report = check(sql_engine, attrs.evolve(HOST_MAPPING, timestamps="naive:UTC"), as_of=AS_OF)
    [created] = only(report, FindingCode.UNREADABLE_TIMESTAMP, "created_at")
    assert created.count == 1
    # It comes back as text, but the column is a timestamp: no other storage would read it.
    assert created.fix == "the stored instants lie outside the range read: correct these rows"


def test_naive_postgresql_timestamps_mapped_as_native_need_a_zone(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("a timestamp column without a time zone is PostgreSQL's")
    table = host_table(sql_engine, timestamp=sa.DateTime(timezone=False))
    times = ("created_at", "started_at", "completed_at")
    naive = [{**row, **{k: row[k].replace(tzinfo=None) for k in times}} for row in host_rows(3)]
    insert(sql_engine, table, naive)
    report = check(sql_engine, HOST_MAPPING, as_of=AS_OF)
    [finding] = only(report, FindingCode.UNREADABLE_TIMESTAMP, "created_at")
    assert finding.severity is Severity.ERROR
    assert "which holds wall-clock times" in finding.message
    assert finding.fix is not None
    assert "Instants.naive(zone=" in finding.fix
    flagged = {f.column for f in only(report, FindingCode.UNREADABLE_TIMESTAMP)}
    assert flagged == {"created_at", "started_at", "completed_at"}
    # Mapped as the host stores them, the same rows read as instants.
    mapped = check(sql_engine, attrs.evolve(HOST_MAPPING, timestamps="naive:UTC"), as_of=AS_OF)
    assert only(mapped, FindingCode.UNREADABLE_TIMESTAMP) == []
    assert only(mapped, FindingCode.INVALID_ROWS)[0].count == 0


def test_epoch_seconds_read_as_microseconds_are_implausible(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("the native SQLite storage is integer microseconds")
    table = host_table(sql_engine, timestamp=sa.BigInteger())
    times = ("created_at", "started_at", "completed_at")
    seconds = [
        {**row, **{k: to_micros(row[k]) // 1_000_000 for k in times}} for row in host_rows(4)
    ]
    insert(sql_engine, table, seconds)
    report = check(sql_engine, HOST_MAPPING, as_of=AS_OF)
    [finding] = only(report, FindingCode.IMPLAUSIBLE_TIMESTAMP, "created_at")
    assert finding.severity is Severity.ERROR
    assert finding.fix is not None
    assert "Instants.epoch('s')" in finding.fix
    epoch = check(sql_engine, attrs.evolve(HOST_MAPPING, timestamps="epoch_s"), as_of=AS_OF)
    assert only(epoch, FindingCode.IMPLAUSIBLE_TIMESTAMP) == []
    assert epoch.passed


def test_unmapped_vocabulary_is_an_error_with_its_values_and_counts(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    rows = [raw_row(sql_engine, n) for n in range(1, 4)]
    rows += [raw_row(sql_engine, n, status="done", outcome=None) for n in range(4, 9)]
    rows += [raw_row(sql_engine, 9, outcome="exploded")]
    insert_raw(sql_engine, rows)
    report = check(sql_engine, as_of=AS_OF)
    [status] = only(report, FindingCode.UNMAPPED_VALUE, "status")
    assert status.severity is Severity.ERROR
    assert status.count == 5
    assert "'done' (5)" in status.message
    assert status.example == "done"
    [outcome] = only(report, FindingCode.UNMAPPED_VALUE, "outcome")
    assert "'exploded' (1)" in outcome.message
    assert outcome.fix is not None
    assert "outcomes" in outcome.fix
    invalid = only(report, FindingCode.INVALID_ROWS)[0]
    assert "invalid_status 5" in invalid.message
    assert invalid.severity is Severity.ERROR


def test_a_few_invalid_rows_are_a_warning_most_are_an_error(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    rows = [raw_row(sql_engine, n) for n in range(1, 10)]
    # A blank environment: the run is still in its workspace's scope (a blank workspace would
    # put it in none, an error of its own: unattributed_runs).
    insert_raw(sql_engine, [*rows, raw_row(sql_engine, 10, environment_id="  ")])
    report = check(sql_engine, as_of=AS_OF)
    [invalid] = only(report, FindingCode.INVALID_ROWS)
    assert invalid.severity is Severity.WARNING
    assert invalid.count == 1
    assert "1 of 10" in invalid.message
    assert "invalid_scope 1" in invalid.message
    assert report.passed


def test_missing_indexes_come_with_the_create_index_that_serves_them(
    sql_engine: sa.Engine,
) -> None:
    host_table(sql_engine)
    report = check(sql_engine, HOST_MAPPING, as_of=AS_OF)
    missing = only(report, FindingCode.MISSING_INDEX)
    assert {f.severity for f in missing} == {Severity.WARNING}
    fixes = [f.fix or "" for f in missing]
    postgresql = sql_engine.dialect.name == "postgresql"
    listing = "(created_at DESC NULLS LAST, id DESC)" if postgresql else "(created_at, id)"
    assert f"CREATE INDEX ix_{HOST}_created ON {HOST} {listing}" in fixes
    assert any(f"ON {HOST} (workspace_id, type, status, outcome, subject" in fix for fix in fixes)
    with sql_engine.begin() as connection:
        for fix in fixes:
            connection.execute(sa.text(fix))
    assert only(check(sql_engine, HOST_MAPPING, as_of=AS_OF), FindingCode.MISSING_INDEX) == []


def test_state_tables_without_their_lookup_index_are_named(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    with sql_engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_backup_set_states_lookup"))
    report = check(sql_engine, states=reference_state_mappings(), as_of=AS_OF)
    [finding] = only(report, FindingCode.MISSING_INDEX)
    assert finding.table == "backup_set_states"
    assert finding.fix is not None
    assert finding.fix.startswith(
        "CREATE INDEX ix_backup_set_states_lookup ON backup_set_states "
        "(workspace_id, environment_id, subject, proven_at, status)"
    )


def test_types_no_family_covers_are_errors(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    rows = [raw_row(sql_engine, n, type="billing.export") for n in range(1, 4)]
    insert_raw(sql_engine, [*rows, raw_row(sql_engine, 4)])
    report = check(sql_engine, as_of=AS_OF)
    [finding] = only(report, FindingCode.UNCOVERED_TYPE)
    assert finding.severity is Severity.ERROR
    assert finding.count == 3
    assert finding.example == "billing.export"
    assert "not in the catalog" in finding.message
    assert not report.passed


def test_integer_scope_ids_mapped_as_text_are_an_error(sql_engine: sa.Engine) -> None:
    table = host_table(sql_engine, workspace_id=sa.BigInteger())
    insert(sql_engine, table, host_rows(3, workspace_id=42))
    report = check(sql_engine, HOST_MAPPING, as_of=AS_OF)
    [finding] = only(report, FindingCode.ID_TYPE)
    assert finding.column == "workspace_id"
    assert finding.severity is Severity.ERROR
    assert finding.fix == (
        "map ids=IdTypes(workspace='integer') "
        '(in runactionability.toml: ids = { workspace = "integer" })'
    )
    assert "is integer" in finding.message


def test_uuid_columns_mapped_as_text_are_an_error(sql_engine: sa.Engine) -> None:
    # On SQLite, SQLAlchemy's Uuid is a CHAR(32) of hex digits, which hex tokens may fill as
    # well: only the host knows, so the doctor warns there instead.
    table = host_table(sql_engine, environment_id=sa.Uuid())
    insert(sql_engine, table, host_rows(2, environment_id=uuid.UUID(int=7)))
    report = check(sql_engine, HOST_MAPPING, as_of=AS_OF)
    [finding] = only(report, FindingCode.ID_TYPE)
    assert finding.column == "environment_id"
    if sql_engine.dialect.name == "sqlite":
        assert finding.severity is Severity.WARNING
        assert finding.count == 2
        assert 'ids = { environment = "uuid" }' in str(finding.fix)
        return
    assert finding.fix == (
        "map ids=IdTypes(environment='uuid') "
        '(in runactionability.toml: ids = { environment = "uuid" })'
    )


def test_text_in_an_integer_id_column_is_an_error(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores text in an integer column")
    table = host_table(sql_engine, key=False, timestamp=sa.BigInteger())
    rows = [{**row, "created_at": to_micros(row["created_at"])} for row in host_rows(2)]
    rows = [{**row, "started_at": None, "completed_at": None, "status": "queued"} for row in rows]
    insert(sql_engine, table, [rows[0], {**rows[1], "id": "run-2"}])
    report = check(sql_engine, HOST_MAPPING, as_of=AS_OF)
    [finding] = only(report, FindingCode.ID_TYPE)
    assert finding.column == "id"
    assert finding.example == "run-2"
    assert finding.count == 1


def test_a_missing_table_or_column_is_an_error_not_a_crash(sql_engine: sa.Engine) -> None:
    report = check(sql_engine, RunTableMapping(table="hd_nowhere"), as_of=AS_OF)
    assert [f.code for f in report.errors] == [FindingCode.MISSING_TABLE]
    host_table(sql_engine)
    report = check(sql_engine, RunTableMapping(table=HOST, outcome="result"), as_of=AS_OF)
    [finding] = report.errors
    assert finding.code is FindingCode.MISSING_TABLE
    assert finding.column == "result"


def test_the_sample_is_the_newest_runs(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    old = [raw_row(sql_engine, n, status="done") for n in range(1, 4)]
    insert_raw(sql_engine, [*old, *(raw_row(sql_engine, n) for n in range(4, 8))])
    report = check(sql_engine, sample=4, as_of=AS_OF)
    assert report.sampled == 4
    assert report.total_runs == 7
    # The old rows are outside the sample, but the grouped counts see the whole table.
    assert only(report, FindingCode.INVALID_ROWS)[0].count == 0
    assert only(report, FindingCode.UNMAPPED_VALUE)[0].count == 3


def test_state_proof_times_and_statuses_the_mapping_cannot_read(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    insert_states(sql_engine, [fact for fact in DEMO.states if fact.kind == "backup_set"][:3])
    table = sa.table("backup_set_states", sa.column("proven_at"), sa.column("status"))
    if sql_engine.dialect.name == "postgresql":
        stored: Any = sa.literal_column("'infinity'::timestamptz")
    else:
        stored = "2026-11-10 12:00:00"
    with sql_engine.begin() as connection:
        connection.execute(table.update().values(proven_at=stored, status="weird"))
    states = {
        **reference_state_mappings(),
        "backup_set": attrs.evolve(
            reference_state_mappings()["backup_set"], statuses={"complete": "complete"}
        ),
    }
    report = check(sql_engine, states=states, as_of=AS_OF)
    [unreadable] = only(report, FindingCode.UNREADABLE_TIMESTAMP)
    assert unreadable.table == "backup_set_states"
    assert unreadable.column == "proven_at"
    assert unreadable.count == 3
    [unlisted] = only(report, FindingCode.UNMAPPED_VALUE)
    # All 3 of the kind's states unlisted: the mapping's miss (decisions.md, audit F6).
    assert unlisted.severity is Severity.ERROR
    assert "'weird' (3)" in unlisted.message


LIFECYCLES = {
    "pending": ("queued", None),
    "running": ("running", None),
    "done": ("completed", "succeeded"),
    "error": ("completed", "failed"),
}


def test_a_lifecycle_value_the_mapping_does_not_list_is_unmapped(sql_engine: sa.Engine) -> None:
    table = host_table(sql_engine, state=sa.Text())
    states = ["done", "error", "running", "cancelled", "cancelled"]
    rows = [{**row, "state": state} for row, state in zip(host_rows(5), states, strict=True)]
    insert(sql_engine, table, rows)
    mapping = RunTableMapping(table=HOST, lifecycle="state", lifecycles=LIFECYCLES)
    report = check(sql_engine, mapping, as_of=AS_OF)
    [unmapped] = only(report, FindingCode.UNMAPPED_VALUE)
    assert unmapped.column == "state"
    assert unmapped.count == 2
    assert "'cancelled' (2)" in unmapped.message
    assert unmapped.fix is not None
    assert "lifecycles" in unmapped.fix
    invalid = only(report, FindingCode.INVALID_ROWS)[0]
    assert "invalid_status 2" in invalid.message
    # One lifecycle column is both status and outcome: the later-success seek is on it once.
    fixes = [f.fix or "" for f in only(report, FindingCode.MISSING_INDEX)]
    assert any(f"ON {HOST} (workspace_id, type, state, subject, environment_id" in f for f in fixes)


def test_a_state_table_of_several_kinds_is_indexed_by_its_where_columns(
    sql_engine: sa.Engine,
) -> None:
    table = sa.Table(
        "hd_job_states",
        sa.MetaData(),
        sa.Column("kind", sa.Text()),
        sa.Column("tenant", sa.Text()),
        sa.Column("env", sa.Text()),
        sa.Column("object_id", sa.Text()),
        sa.Column("state", sa.Text()),
        sa.Column("checked_at", sa.BigInteger()),
    )
    table.create(sql_engine)
    mapping = StateTableMapping(
        kind="baseline_snapshot",
        table="hd_job_states",
        workspace_id="tenant",
        environment_id="env",
        subject="object_id",
        status="state",
        proven_at="checked_at",
        attributes=None,
        where={"kind": "baseline"},
    )
    create_schema(sql_engine)
    report = check(sql_engine, states={"baseline_snapshot": mapping}, as_of=AS_OF)
    [finding] = only(report, FindingCode.MISSING_INDEX)
    assert finding.fix is not None
    assert finding.fix.startswith(
        "CREATE INDEX ix_hd_job_states_lookup ON hd_job_states "
        "(kind, tenant, env, object_id, checked_at, state)"
    )
    with sql_engine.begin() as connection:
        connection.execute(sa.text(finding.fix))
    again = check(sql_engine, states={"baseline_snapshot": mapping}, as_of=AS_OF)
    assert only(again, FindingCode.MISSING_INDEX) == []


def test_postgresql_columns_no_statement_can_read_are_errors_not_crashes(
    sql_engine: sa.Engine,
) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite compares any value with any other")
    table = host_table(sql_engine, timestamp=sa.BigInteger())
    micros = [
        {**row, **{k: to_micros(row[k]) for k in ("created_at", "started_at", "completed_at")}}
        for row in host_rows(2)
    ]
    insert(sql_engine, table, micros)
    report = check(sql_engine, HOST_MAPPING, as_of=AS_OF)
    [created] = only(report, FindingCode.UNREADABLE_TIMESTAMP, "created_at")
    assert "which holds integers" in created.message
    assert created.fix is not None
    assert "Instants.epoch(" in created.fix
    assert report.sampled == 0
    # A value only the read itself fails on (a view dividing by zero) is a finding too.
    with sql_engine.begin() as connection:
        connection.execute(
            sa.text(
                f"CREATE VIEW hd_broken AS SELECT id, type, workspace_id, environment_id, status, "
                f"outcome, now() + (1 / (id - id)) * interval '1 second' AS created_at, "
                f"NULL::timestamptz AS started_at, NULL::timestamptz AS completed_at, subject, "
                f"context FROM {HOST}"
            )
        )
    report = check(sql_engine, RunTableMapping(table="hd_broken"), as_of=AS_OF)
    [failed] = only(report, FindingCode.READ_FAILED)
    assert "division by zero" in failed.message
    assert only(report, FindingCode.SAMPLE)[0].count == 2


def test_a_runs_table_without_an_index_on_its_id_fails_the_check(sql_engine: sa.Engine) -> None:
    # Every read of runs by id scanned such a table: a follow-up page of one workspace at
    # 20,000 runs took minutes on SQLite (docs/performance.md, "Indexes a host must add").
    host_table(sql_engine)
    with sql_engine.begin() as connection:
        connection.execute(sa.text(f"CREATE TABLE bare_runs AS SELECT * FROM {HOST}"))
    bare = attrs.evolve(HOST_MAPPING, table="bare_runs")
    report = check(sql_engine, bare, as_of=AS_OF)
    [by_id] = [f for f in only(report, FindingCode.MISSING_INDEX) if "by id" in f.message]
    assert by_id.severity is Severity.ERROR
    assert by_id.fix == "CREATE INDEX ix_bare_runs_id ON bare_runs (id)"
    assert not report.passed
    with sql_engine.begin() as connection:
        connection.execute(sa.text(by_id.fix))
    again = check(sql_engine, bare, as_of=AS_OF)
    assert not [f for f in only(again, FindingCode.MISSING_INDEX) if "by id" in f.message]
