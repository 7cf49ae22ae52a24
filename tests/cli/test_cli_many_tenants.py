"""Audit F3 on the command line: the default scope is every workspace in the database, and a
host with 40,000 tenants gets its report, list, explain and changes, not a driver error."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from tests.cli.test_cli import invoke
from tests.support import AS_OF, T0, database_option, run

from runactionability.adapters.sqlalchemy import create_schema, insert_runs

TENANTS = 40_000
"""More tenants than PostgreSQL bound as parameters, each id bound twice."""


def test_every_command_reads_forty_thousand_tenants(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    earlier = T0 - timedelta(days=1)
    # A day before the failure each tenant's last success, of another type: no screen's first
    # rows, the window of changes leaves them out.
    tenants = [
        run(i, "directory.sync", outcome="succeeded", workspace_id=f"t{i:05}", created_at=earlier)
        for i in range(10, 10 + TENANTS)
    ]
    insert_runs(sql_engine, [run(1, workspace_id="t00007"), *tenants])
    database = database_option(sql_engine)
    at = ["--database", database, "--as-of", AS_OF.isoformat()]
    report = invoke("report", *at, "--json")
    assert report.exit_code == 0, report.stderr
    assert [item["run_id"] for item in json.loads(report.stdout)["top"]] == [1]
    listed = invoke("list", *at, "--json")
    assert listed.exit_code == 0, listed.stderr
    explained = invoke("explain", "1", *at)
    assert explained.exit_code == 0, explained.stderr
    since = ["--since", (T0 - timedelta(hours=1)).isoformat(), "--until", AS_OF.isoformat()]
    changes = invoke("changes", "--database", database, *since, "--json")
    assert changes.exit_code == 0, changes.stderr
