"""Runs with no usable workspace id, which no scope shows, are said aloud on the command line.

The whole-database report says in one line (and in its JSON, ``unattributed``) how many runs it
could not attribute to a workspace and points at ``doctor``, which names them as an error (exit
4); a report of named workspaces says nothing about them (``unattributed`` is null).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from tests.cli.test_cli import invoke
from tests.support import form_validator, insert_raw, raw_row

from runactionability.cli import EXIT_FINDINGS

UNSEEN = (900_001, 900_002)


@pytest.fixture
def database(sql_engine: sa.Engine, demo_into: Callable[[sa.Engine], str]) -> str:
    """The small demo plus two failed runs whose workspace ids are blank."""
    url = demo_into(sql_engine)
    rows = [
        raw_row(sql_engine, run_id, workspace_id=ws)
        for run_id, ws in zip(UNSEEN, ["", "  "], strict=True)
    ]
    insert_raw(sql_engine, rows)
    return url


LINE = "2 runs have no usable workspace id and are in none of these counts"


def test_the_whole_database_report_says_how_many_runs_it_could_not_attribute(
    database: str,
) -> None:
    result = invoke("report", "--database", database)
    assert result.exit_code == 0, result.stderr
    assert LINE in result.stdout
    assert "runactionability doctor" in result.stdout


def test_a_report_of_named_scopes_says_nothing_of_them(database: str) -> None:
    for flags in (["--workspace", "acme"], ["--environment", "prod"]):
        result = invoke("report", "--database", database, *flags)
        assert result.exit_code == 0, result.stderr
        assert "usable workspace id" not in result.stdout


def test_the_doctor_names_them_as_an_error(database: str) -> None:
    result = invoke("doctor", "--database", database)
    assert result.exit_code == EXIT_FINDINGS, result.stdout
    assert "unattributed_runs" in result.stdout
    assert "2 runs have no usable workspace id" in result.stdout
    assert f"runs {UNSEEN[0]}, {UNSEEN[1]}" in result.stdout


def test_the_whole_database_report_json_counts_them(database: str) -> None:
    result = invoke("report", "--database", database, "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    form_validator("report_document").validate(document)
    assert document["unattributed"] == len(UNSEEN)


def test_a_report_json_of_named_scopes_does_not_count_them(database: str) -> None:
    for flags in (["--workspace", "acme"], ["--environment", "prod"]):
        result = invoke("report", "--database", database, "--json", *flags)
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        form_validator("report_document").validate(document)
        assert document["unattributed"] is None
