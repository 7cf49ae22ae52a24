"""The CLI over a database holding one run with an unreadable timestamp, on both engines.

The report, the lists and ``explain`` answer every other run and flag the bad one (needing
attention, ``invalid_timestamp``); a success with an unreadable start is no evidence and fails
nothing.
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

BAD_RUN = 900_001
BAD_SUCCESS = 900_002
UNREADABLE = {"postgresql": "infinity", "sqlite": 2**62}
"""Each sorts first among the created_at values, so the follow-up list's first page ends on it."""


def _stored(engine: sa.Engine, value: Any) -> Any:
    return value if engine.dialect.name == "postgresql" else to_micros(value)


@pytest.fixture
def database(sql_engine: sa.Engine, demo_into: Callable[[sa.Engine], str]) -> str:
    """The small demo plus a failed run with an unreadable created_at and a success with an
    unreadable started_at, in the scope (acme, prod)."""
    url = demo_into(sql_engine)
    bad = UNREADABLE[sql_engine.dialect.name]
    base = {
        "type": "inventory.sync",
        "workspace_id": "acme",
        "environment_id": "prod",
        "status": "completed",
        "started_at": None,
        "completed_at": _stored(sql_engine, AS_OF),
        "subject": None,
        "context": "{}",
    }
    insert_raw(
        sql_engine,
        [
            {**base, "id": BAD_RUN, "outcome": "failed", "created_at": bad},
            {
                **base,
                "id": BAD_SUCCESS,
                "outcome": "succeeded",
                "created_at": _stored(sql_engine, AS_OF),
                "started_at": bad,
            },
        ],
    )
    return url


def _pages(database: str, *flags: str, limit: int = 7) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    cursor: list[str] = []
    for _ in range(500):
        page = ok_json("list", "--database", database, "--limit", str(limit), *flags, *cursor)
        runs += page["runs"]
        if page["next_cursor"] is None:
            return runs
        cursor = ["--cursor", page["next_cursor"]]
    raise AssertionError("the list never ended")


def test_the_report_answers_every_run_and_flags_the_bad_one(database: str) -> None:
    report = ok_json("report", "--database", database, "--top", "500")
    flagged = [item for item in report["top"] if item["run_id"] == BAD_RUN]
    assert len(flagged) == 1
    assert flagged[0]["actionability"] == "requires_manual_review"
    assert flagged[0]["reason"] == "invalid_timestamp"
    assert flagged[0]["needs_attention"] is True
    assert len(report["top"]) == report["needs_attention"]
    # Every run is counted: the bad run needs attention, the bad success is history.
    everything = _pages(database)
    assert report["total"] == len(everything)
    assert sum(1 for r in everything if r["needs_attention"]) == report["needs_attention"]
    assert next(r for r in everything if r["run_id"] == BAD_SUCCESS)["actionability"] == (
        "informational_only"
    )

    text = invoke("report", "--database", database)
    assert text.exit_code == 0, text.stderr
    assert "need attention" in text.stdout


def test_lists_page_past_the_bad_run_once(database: str) -> None:
    everything = _pages(database)
    ids = [r["run_id"] for r in everything]
    assert len(ids) == len(set(ids))
    assert {BAD_RUN, BAD_SUCCESS} <= set(ids)
    follow_up = _pages(database, "--current-follow-up", limit=1)
    report = ok_json("report", "--database", database, "--top", "500")
    assert [r["run_id"] for r in follow_up] == [r["run_id"] for r in report["top"]]
    assert [r["run_id"] for r in follow_up].count(BAD_RUN) == 1
    history = _pages(database, "--history")
    assert BAD_SUCCESS in {r["run_id"] for r in history}


def test_explain_names_the_unreadable_timestamp(database: str) -> None:
    payload = ok_json("explain", str(BAD_RUN), "--database", database)
    assert payload["run"]["actionability"] == "requires_manual_review"
    assert payload["run"]["reason"] == "invalid_timestamp"
    assert "created_at" in payload["run"]["explanation"]
