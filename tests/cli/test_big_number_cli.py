"""The CLI over a database holding runs whose context holds an integer of 5,001 digits, more
than Python's ``int`` reads (``tests/sql/test_big_numbers.py``).

On PostgreSQL every command reading such a row failed with psycopg's ``ValueError``; on
SQLite the report counted a run the pages called invalid. Now each command answers, and the
human ``explain`` prints the context it read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from tests.cli.test_cli import invoke, ok_json
from tests.support import insert_raw

from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.demo.data import AS_OF

HUGE = "1" + "0" * 5000
BESIDE, AS_SUBJECT = 900_021, 900_022


def test_every_command_answers_alike_for_a_huge_integer(
    sql_engine: sa.Engine, demo_into: Callable[[sa.Engine], str]
) -> None:
    url = demo_into(sql_engine)
    at: Any = AS_OF if sql_engine.dialect.name == "postgresql" else to_micros(AS_OF)
    row = {
        "type": "provider.connection.check",
        "workspace_id": "acme",
        "environment_id": "prod",
        "status": "completed",
        "outcome": "failed",
        "created_at": at,
        "started_at": None,
        "completed_at": at,
        "subject": None,
    }
    insert_raw(
        sql_engine,
        [
            {**row, "id": BESIDE, "context": '{"provider_connection_id": "zz", "n": ' + HUGE + "}"},
            {**row, "id": AS_SUBJECT, "context": '{"provider_connection_id": ' + HUGE + "}"},
        ],
    )
    explained = {
        run_id: ok_json("explain", str(run_id), "--database", url)["run"]
        for run_id in (BESIDE, AS_SUBJECT)
    }
    assert explained[BESIDE]["actionability"] == "actionable"
    assert explained[AS_SUBJECT]["reason"] == "missing_correlation"
    listed = ok_json("list", "--database", url, "--limit", "500")["runs"]
    assert {r["run_id"]: r["actionability"] for r in listed if r["run_id"] in explained} == {
        run_id: told["actionability"] for run_id, told in explained.items()
    }
    report = ok_json("report", "--database", url, "--top", "500")
    assert {BESIDE, AS_SUBJECT} <= {item["run_id"] for item in report["top"]}
    ok_json("changes", "--database", url, "--since", "3d")
    human = invoke("explain", str(BESIDE), "--database", url)
    assert human.exit_code == 0, human.output + human.stderr
    assert "Infinity" in human.stdout
    doctor = invoke("doctor", "--database", url, "--json")
    assert doctor.exit_code in (0, 4), doctor.output + doctor.stderr
    assert "ValueError" not in doctor.output + doctor.stderr
