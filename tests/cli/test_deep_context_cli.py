"""The CLI over a database holding one run whose context nests thousands of levels deep.

Reading it raised ``RecursionError`` (Python's JSON reader, psycopg's jsonb loader) and every
command failed with it, ``doctor`` included: now the run reads as an invalid context and every
command answers, on both engines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from tests.cli.test_cli import invoke, ok_json
from tests.support import insert_raw

from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.demo.data import AS_OF

DEEP_RUN = 900_011
DEEP = '{"deep": ' + "[" * 5_000 + "]" * 5_000 + "}"


@pytest.fixture
def database(sql_engine: sa.Engine, demo_into: Callable[[sa.Engine], str]) -> tuple[str, str]:
    """The small demo plus the deep run in (acme, prod), and the run's outcome: a success on
    PostgreSQL, whose covering index of problem runs cannot hold so large a context."""
    url = demo_into(sql_engine)
    outcome = "succeeded" if sql_engine.dialect.name == "postgresql" else "failed"
    at: Any = AS_OF if sql_engine.dialect.name == "postgresql" else to_micros(AS_OF)
    row = {
        "id": DEEP_RUN,
        "type": "inventory.sync",
        "workspace_id": "acme",
        "environment_id": "prod",
        "status": "completed",
        "outcome": outcome,
        "created_at": at,
        "started_at": None,
        "completed_at": at,
        "subject": None,
        "context": DEEP,
    }
    insert_raw(sql_engine, [row])
    return url, outcome


def test_every_command_answers_and_reads_the_run_as_an_invalid_context(
    database: tuple[str, str],
) -> None:
    url, outcome = database
    explained = ok_json("explain", str(DEEP_RUN), "--database", url)["run"]
    listed = ok_json("list", "--database", url, "--limit", "500")["runs"]
    assert [row["actionability"] for row in listed if row["run_id"] == DEEP_RUN] == [
        explained["actionability"]
    ]
    if outcome == "failed":
        assert explained["actionability"] == "requires_manual_review"
        assert explained["reason"] == "invalid_context"
        report = ok_json("report", "--database", url, "--top", "500")
        assert DEEP_RUN in [item["run_id"] for item in report["top"]]
    ok_json("changes", "--database", url, "--since", "3d")
    doctor = invoke("doctor", "--database", url, "--json")
    assert doctor.exit_code in (0, 4), doctor.output + doctor.stderr
    assert "RecursionError" not in doctor.output + doctor.stderr
    if outcome == "failed":
        # The very command meant to find such a row names it.
        assert "invalid_context" in doctor.output
        assert str(DEEP_RUN) in doctor.output
