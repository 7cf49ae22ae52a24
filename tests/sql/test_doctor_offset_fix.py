"""``doctor`` on ISO-8601 text with an offset (``isoformat()``'s form), which ``iso_text`` does
not read: the fix it gives is exact, and once applied as given the table reads (audit finding 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from tests.service.test_invalid_sample import host_table
from tests.support import T0

from runactionability.adapters.sqlalchemy import Instants, RunTableMapping, check
from runactionability.findings import FindingCode

AS_OF = T0 - timedelta(days=5, hours=12)  # 2026-11-05T00:00Z
COLUMNS = ("created_at", "started_at", "completed_at")


def _unreadable(engine: sa.Engine, timestamps: Instants) -> dict[str, str]:
    runs = RunTableMapping(table="jobs", subject=None, timestamps=timestamps)
    report = check(engine, runs, states={}, as_of=AS_OF)
    found = [f for f in report.findings if f.code is FindingCode.UNREADABLE_TIMESTAMP]
    return {str(f.column): str(f.fix) for f in found}


def test_postgresql_is_given_the_statement_that_converts_the_column(
    sql_engine: sa.Engine,
) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL column converts in place")
    host_table(sql_engine, 6, text=True)
    fixes = _unreadable(sql_engine, Instants.iso_text())
    assert sorted(fixes) == sorted(COLUMNS)
    fix = fixes["created_at"]
    statement = (
        "ALTER TABLE jobs ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;"
    )
    assert statement in fix
    assert fix.endswith(
        "map timestamps=Instants.timestamptz() (in runactionability.toml: "
        'timestamps = "timestamptz")'
    )
    with sql_engine.begin() as connection:
        for column in COLUMNS:
            start = fixes[column].index("ALTER TABLE")
            connection.exec_driver_sql(fixes[column][start : fixes[column].index(";") + 1])
    assert _unreadable(sql_engine, Instants.timestamptz()) == {}


def test_sqlite_is_told_how_to_rewrite_each_value(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL converts the column instead")
    host_table(sql_engine, 6, text=True)
    fixes = _unreadable(sql_engine, Instants.iso_text())
    rewrite = "datetime.fromisoformat(value).astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f')"
    assert rewrite in fixes["completed_at"]
    with sql_engine.begin() as connection:
        rows = connection.execute(
            sa.text("SELECT id, created_at, started_at, completed_at FROM jobs")
        )
        for run_id, *values in list(rows):
            rewritten = {
                column: datetime.fromisoformat(value)
                .astimezone(UTC)
                .strftime("%Y-%m-%d %H:%M:%S.%f")
                for column, value in zip(COLUMNS, values, strict=True)
            }
            assignments = ", ".join(f"{column} = :{column}" for column in COLUMNS)
            connection.execute(
                sa.text(f"UPDATE jobs SET {assignments} WHERE id = :id"),
                {**rewritten, "id": run_id},
            )
    assert _unreadable(sql_engine, Instants.iso_text()) == {}
