"""Rows with unexpected values come back as runs the core flags: never a crash, never dropped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, T0, insert_raw, open_ports, raw_row
from tests.support import stored_run as run

from runactionability import Actionability, Reason, RunQuery
from runactionability.adapters.sqlalchemy import create_schema, insert_runs


def test_unexpected_values_become_manual_review_with_their_own_reasons(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    check = "provider.connection.check"
    rows = [
        raw_row(sql_engine, 1, outcome="exploded"),
        raw_row(sql_engine, 2, status="paused"),
        raw_row(sql_engine, 3, completed_at=None),
        raw_row(sql_engine, 4, created_at=None),
        raw_row(sql_engine, 5, context="[1, 2]"),
        raw_row(sql_engine, 6, type=check, context='{"provider_connection_id": true}'),
        raw_row(sql_engine, 7, type=check, context='{"provider_connection_id": 4.5}'),
        raw_row(sql_engine, 8, type=check, context='"c1"'),
        raw_row(sql_engine, 9, type="no.such.type"),
        raw_row(sql_engine, 10, environment_id=None),
    ]
    expected = {
        1: Reason.INVALID_OUTCOME,
        2: Reason.INVALID_STATUS,
        3: Reason.MISSING_COMPLETED_AT,
        4: Reason.INVALID_TIMESTAMP,
        5: Reason.INVALID_CONTEXT,
        6: Reason.MISSING_CORRELATION,
        7: Reason.MISSING_CORRELATION,
        8: Reason.INVALID_CONTEXT,
        9: Reason.UNKNOWN_OPERATION_TYPE,
        10: Reason.MISSING_ENVIRONMENT,
    }
    if sql_engine.dialect.name == "sqlite":
        # SQLite stores whatever it is given: text where an instant belongs, JSON that is not.
        rows += [
            raw_row(sql_engine, 11, created_at="yesterday"),
            raw_row(sql_engine, 12, started_at="soon"),
            raw_row(sql_engine, 13, context="{not json"),
        ]
        expected |= {
            11: Reason.INVALID_TIMESTAMP,
            12: Reason.INVALID_TIMESTAMP,
            13: Reason.INVALID_CONTEXT,
        }
    insert_raw(sql_engine, rows)
    ports = open_ports(sql_engine)

    listed = ports.runs.list_runs(RunQuery(workspace_ids={"w1"}), limit=100)
    assert sorted(r.id for r in listed.runs) == sorted(expected)
    results = ports.resolver().evaluate_many(listed.runs, as_of=AS_OF)
    assert {r.run_id: r.reason for r in results} == expected
    assert {r.status for r in results} == {Actionability.REQUIRES_MANUAL_REVIEW}
    assert ports.runs.get_run(4) == next(r for r in listed.runs if r.id == 4)


def test_listing_pages_through_rows_with_missing_or_stray_created_at(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    rows = [raw_row(sql_engine, index) for index in range(1, 6)]
    rows += [raw_row(sql_engine, index, created_at=None) for index in range(6, 9)]
    if sql_engine.dialect.name == "sqlite":
        rows += [raw_row(sql_engine, index, created_at="stray") for index in range(9, 11)]
    insert_raw(sql_engine, rows)
    ports = open_ports(sql_engine)
    seen: list[Any] = []
    cursor = None
    while True:
        page = ports.runs.list_runs(RunQuery(workspace_ids={"w1"}), limit=2, cursor=cursor)
        seen.extend(r.id for r in page.runs)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(row["id"] for row in rows)
    assert len(seen) == len(set(seen))
    valid = [run_id for run_id in seen if isinstance(run_id, int) and run_id <= 5]
    assert valid == [5, 4, 3, 2, 1]
    assert seen[-3:] == [8, 7, 6]


@pytest.mark.parametrize("flaw", ["null_completed", "null_start", "stray_start"])
def test_a_success_with_unreadable_times_is_never_evidence(
    sql_engine: sa.Engine, flaw: str
) -> None:
    if flaw == "stray_start" and sql_engine.dialect.name != "sqlite":
        pytest.skip("only SQLite can store text in a timestamp column")
    create_schema(sql_engine)
    failed = run(1, start=10)
    earlier_success = run(2, outcome="succeeded", start=12)
    insert_runs(sql_engine, [failed, earlier_success])
    flaws: dict[str, dict[str, Any]] = {
        "null_completed": {"completed_at": None},
        "null_start": {"created_at": None, "started_at": None},
        "stray_start": {"started_at": "later"},
    }
    flawed = flaws[flaw]
    insert_raw(sql_engine, [raw_row(sql_engine, 3, outcome="succeeded", **flawed)])
    ports = open_ports(sql_engine)
    result = ports.resolver().evaluate(failed, as_of=AS_OF)
    # The flawed run is newer than run 2, yet run 2 is the proof.
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert getattr(result.proof, "run_id", None) == 2


def test_a_success_completed_after_as_of_is_not_evidence(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    failed = run(1, start=10)
    insert_runs(sql_engine, [failed, run(2, outcome="succeeded", start=12, end=30)])
    ports = open_ports(sql_engine)
    before = ports.resolver().evaluate(failed, as_of=T0 + timedelta(minutes=29))
    assert before.status is Actionability.ACTIONABLE
