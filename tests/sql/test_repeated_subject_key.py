"""A context that repeats its subject key with different values names no subject.

JSON leaves a repeated member undefined: SQLite's ``json_extract`` read the first, PostgreSQL's
``json`` operators and ``json.loads`` the last, so with the subject read from the context a run
``{"provider_connection_id": "7", "provider_connection_id": "8"}`` was settled by evidence about
subject 7 on SQLite and about 8 on PostgreSQL (audit F4). Such a run now needs review
(``missing_correlation``) and such a success is evidence of nothing, on both engines and every
path. A ``jsonb`` column keeps one member per name when it stores a value: nothing to judge there.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import (
    AS_OF,
    executed_statements,
    fresh_engine,
    session_views,
    store_contexts,
)

from runactionability import ActionabilityService, VisibleScopes, to_json
from runactionability.adapters.sqlalchemy import REFERENCE_RUNS
from runactionability.adapters.sqlalchemy.json_text import read_json_text

CHECK = "provider.connection.check"
RUNS = attrs.evolve(REFERENCE_RUNS, subject=None)
W1 = VisibleScopes({"w1"})
REVIEW, ACTIONABLE = "requires_manual_review", "actionable"
SUPERSEDED, INFORMATIONAL = "superseded_by_later_success", "informational_only"
# No state table is mapped, and most of the few runs are bad on purpose.
pytestmark = [
    pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning"),
    pytest.mark.filterwarnings("ignore::runactionability.MappingMismatchWarning"),
]

# (outcome, context as stored, expected status on both engines), run ids from 1.
RUNS_STORED: list[tuple[str, str, str]] = [
    # Settled by run 3 on SQLite (the first member), left actionable on PostgreSQL.
    ("failed", '{"provider_connection_id": "7", "provider_connection_id": "8"}', REVIEW),
    # Superseded by run 4 on PostgreSQL (the last member), actionable on SQLite.
    ("failed", '{"provider_connection_id": "8", "provider_connection_id": "9"}', REVIEW),
    ("succeeded", '{"provider_connection_id": "7"}', INFORMATIONAL),
    ("succeeded", '{"provider_connection_id": "9"}', INFORMATIONAL),
    # A success naming 5 and 10 supersedes neither (SQLite took it for 5).
    ("failed", '{"provider_connection_id": "5"}', ACTIONABLE),
    ("succeeded", '{"provider_connection_id": "5", "provider_connection_id": "10"}', INFORMATIONAL),
    # Repeated with one value, the member is that value: run 8 supersedes run 7.
    ("failed", '{"provider_connection_id": "6", "provider_connection_id": "6"}', SUPERSEDED),
    ("succeeded", '{"provider_connection_id": "6"}', INFORMATIONAL),
    # A string and an integer are two JSON values; a third, middle value is seen too.
    ("failed", '{"provider_connection_id": "7", "provider_connection_id": 7}', REVIEW),
    (
        "failed",
        '{"provider_connection_id": "9", "x": 1, "provider_connection_id": "8",'
        ' "provider_connection_id": "9"}',
        REVIEW,
    ),
]
IDS = list(range(1, len(RUNS_STORED) + 1))


def _store(engine: sa.Engine, column: str = "json") -> None:
    """``RUNS_STORED`` as written (a ``column`` context on PostgreSQL, which keeps the text;
    SQLite keeps any text)."""
    store_contexts(
        engine, [(outcome, context) for outcome, context, _ in RUNS_STORED], column=column
    )


def _seen(engine: sa.Engine, api: str) -> Any:
    views = session_views(engine, RUNS, IDS, api=api, scopes=W1)

    def statuses(rows: list[dict[str, Any]]) -> dict[Any, Any]:
        return {row["run_id"]: row["actionability"] for row in rows}

    explained = [to_json(e)["run"] for e in views.explained]
    return {
        "counts": {k: v for k, v in to_json(views.board)["by_status"].items() if v},
        "follow_up": statuses(to_json(views.follow_up)["runs"]),
        "listed": statuses(to_json(views.page)["runs"]),
        "explained": statuses(explained),
        "reasons": {row["run_id"]: row["reason"] for row in explained},
        "changes": statuses(to_json(views.changes)["changes"]),
    }


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_repeated_subject_key_names_no_subject_on_either_engine(
    sql_engine: sa.Engine, api: str
) -> None:
    _store(sql_engine)
    engine = fresh_engine(sql_engine)
    try:
        seen = _seen(engine, api)
    finally:
        engine.dispose()
    expected = {run_id: status for run_id, (_, _, status) in zip(IDS, RUNS_STORED, strict=True)}
    assert seen["listed"] == seen["explained"] == seen["changes"] == expected
    assert seen["follow_up"] == {i: s for i, s in expected.items() if s in (REVIEW, ACTIONABLE)}
    counted: dict[str, int] = {}
    for status in expected.values():
        counted[status] = counted.get(status, 0) + 1
    assert seen["counts"] == counted
    for run_id, status in expected.items():
        if status == REVIEW:
            assert seen["reasons"][run_id] == "missing_correlation", run_id


def test_python_reads_no_value_for_a_member_repeated_with_different_values() -> None:
    assert read_json_text('{"k": "7", "k": "8", "a": 1}') == {"a": 1}
    assert read_json_text('{"k": "7", "k": "7"}') == {"k": "7"}
    assert read_json_text('{"k": 7, "k": 7.0}') == {}
    assert read_json_text('{"k": {"a": [1]}, "k": {"a": [1]}}') == {"k": {"a": [1]}}


def test_the_counts_over_jsonb_test_no_repeated_subject(sql_engine: sa.Engine) -> None:
    # jsonb keeps one member per name: the reference schema's statements are as they were.
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite's context is text")
    walked: dict[str, bool] = {}
    for column in ("jsonb", "json"):
        _store(sql_engine, column)
        engine = fresh_engine(sql_engine)
        try:
            with executed_statements(engine) as seen:
                service = ActionabilityService(engine, runs=RUNS, states={})
                with service.session(scopes=W1, as_of=AS_OF) as session:
                    session.dashboard(top=0)
        finally:
            engine.dispose()
        counts = [sql for sql, _ in seen if "count(" in sql and "jsonb_path_exists" in sql]
        assert counts, column
        # The subject's test searches the text for the member's name as JSON (``to_json``).
        walked[column] = any("to_json(" in sql for sql in counts)
        with sql_engine.begin() as connection:
            tables = connection.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
            connection.exec_driver_sql(f"DROP TABLE {', '.join(tables)}")
    assert walked == {"jsonb": False, "json": True}
