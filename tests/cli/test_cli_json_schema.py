"""Every ``--json`` document the CLI prints is valid against the schema shipped with the package,
and holds the library's own forms (runactionability.jsonforms), not a second serialiser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tests.support import database_option, form_validator

from runactionability.cli import cli
from runactionability.jsonforms import JSON_SCHEMA_VERSION


def document(command: str, *args: str) -> Any:
    result = CliRunner().invoke(cli, [command, *args, "--json"], catch_exceptions=True)
    assert result.exit_code == 0, result.output + result.stderr
    payload = json.loads(result.stdout)
    assert payload["schema"] == f"runactionability.{command}/{JSON_SCHEMA_VERSION}"
    form_validator(f"{command}_document").validate(payload)
    return payload


@pytest.fixture
def database(sql_engine: sa.Engine, tmp_path: Path) -> str:
    return database_option(sql_engine)


def test_every_json_document_of_the_cli_is_valid(database: str) -> None:
    demo = document("demo", "--database", database, "--size", "small")
    assert {headline["run"]["actionability"] for headline in demo["headlines"]} >= {
        "superseded_by_later_success",
        "resolved_by_current_state",
    }
    report = document("report", "--database", database, "--top", "500")
    statuses = {run["actionability"] for run in report["top"]}
    assert {"actionable", "requires_manual_review"} <= statuses
    for flags in ((), ("--history",), ("--current-follow-up",)):
        page = document("list", "--database", database, "--limit", "50", *flags)
        assert page["runs"]
        if page["next_cursor"] is not None:
            document(
                "list",
                "--database",
                database,
                "--limit",
                "50",
                "--cursor",
                page["next_cursor"],
                *flags,
            )
    for headline in demo["headlines"]:
        told = document("explain", str(headline["run"]["run_id"]), "--database", database)
        assert told["run"]["run_id"] == headline["run"]["run_id"]
    changed = document("changes", "--database", database, "--since", "7d", "--limit", "500")
    assert {change["cause"] for change in changed["changes"]} >= {"new_run", "run_completed"}
    assert changed["next_cursor"] is None
    document("families")
    document("coverage")
    checked = document("doctor", "--database", database)
    assert checked["passed"] is True
