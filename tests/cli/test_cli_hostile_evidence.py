"""The CLI's report over hostile evidence agrees with the ports (issue 8, findings 1 and 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tests.sql.test_hostile_evidence import CORRUPT, check, ci_tables
from tests.support import AS_OF, CATALOG, database_option

from runactionability.adapters.sqlalchemy import create_schema, insert_runs
from runactionability.cli import cli


@pytest.mark.parametrize("fault", sorted(CORRUPT))
def test_a_corrupt_success_settles_nothing_in_the_report(
    sql_engine: sa.Engine, tmp_path: Path, fault: str
) -> None:
    create_schema(sql_engine)
    runs = [
        check(1, "failed", 0),
        check(2, "succeeded", 5, **CORRUPT[fault]),
        check(3, "failed", 5, context={"provider_connection_id": "c2"}, **CORRUPT[fault]),
    ]
    insert_runs(sql_engine, runs, catalog=CATALOG)
    args = [
        "report",
        "--database",
        database_option(sql_engine),
        "--as-of",
        AS_OF.isoformat(),
        "--json",
    ]
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exit_code == 0, result.output + result.stderr
    payload = json.loads(result.stdout)
    assert payload["by_status"]["superseded_by_later_success"] == 0
    assert payload["by_status"]["actionable"] == 1
    assert payload["by_status"]["requires_manual_review"] == 1


def test_another_case_is_another_workspace_in_the_report(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name == "postgresql":
        with sql_engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE COLLATION IF NOT EXISTS ci "
                "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
            )
    # The reference table, its id columns case-insensitive (the host's choice of collation).
    # Its vocabulary columns stay plain text: the reference mapping reads them as such, and a
    # service refuses collated ones it was not told of (tests/service/test_vocabulary_config).
    runs, _ = ci_tables(sql_engine.dialect.name)
    plain = {"status", "outcome"}
    host = sa.MetaData()
    sa.Table(
        "operation_runs",
        host,
        *(
            sa.Column(
                c.name, sa.String(200) if c.name in plain else c.type, primary_key=c.primary_key
            )
            for c in runs.columns
        ),
    )
    host.create_all(sql_engine)
    create_schema(sql_engine)
    insert_runs(
        sql_engine,
        [check(1, "failed", 0), check(2, "succeeded", 5, workspace_id="ACME")],
        catalog=CATALOG,
    )
    args = ["report", "--database", database_option(sql_engine), "--workspace", "acme"]
    result = CliRunner().invoke(cli, [*args, "--as-of", AS_OF.isoformat(), "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    payload = json.loads(result.stdout)
    assert payload["total"] == 1
    assert payload["by_status"]["actionable"] == 1
