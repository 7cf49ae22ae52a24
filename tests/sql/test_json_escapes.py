"""A ``json`` context that ``jsonb`` cannot hold is an invalid context, never a failed request.

PostgreSQL's ``json`` keeps any valid JSON text, ``jsonb`` refuses an escaped U+0000 and an
unpaired surrogate escape, and every statement cast the context to ``jsonb``: one such row
failed each page, ``explain``, the change feed and ``doctor`` of its workspace
(``DataError: unsupported Unicode escape sequence``). SQLite stores the same text and reads it
as its JSON functions do (``test_text_context``): an escaped U+0000 is a character there, an
unpaired surrogate no JSON.
"""

from __future__ import annotations

import asyncio
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import (
    AS_OF,
    async_engine_of,
    executed_statements,
    fresh_engine,
    insert_raw,
    raw_row,
    session_views,
    store_contexts,
)

from runactionability import (
    ActionabilityService,
    AsyncActionabilityService,
    VisibleScopes,
    to_json,
)
from runactionability.adapters.sqlalchemy import REFERENCE_RUNS, check, create_schema

CHECK = "provider.connection.check"
RUNS = attrs.evolve(REFERENCE_RUNS, subject=None)
W1 = VisibleScopes({"w1"})
REVIEW, ACTIONABLE = "requires_manual_review", "actionable"
SUPERSEDED, INFORMATIONAL = "superseded_by_later_success", "informational_only"
# No state table is mapped, and most runs are hostile on purpose
# (tests/service/test_invalid_sample.py).
pytestmark = [
    pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning"),
    pytest.mark.filterwarnings("ignore::runactionability.MappingMismatchWarning"),
]

# (outcome, context as stored, status on PostgreSQL, status on SQLite), run ids from 1.
CHECKS: list[tuple[str, str, str, str]] = [
    # An escaped U+0000 in a value, in a key, nested: jsonb holds none of them.
    ("failed", '{"provider_connection_id": "c1", "note": "\\u0000"}', REVIEW, ACTIONABLE),
    ("failed", '{"provider_connection_id": "c2", "\\u0000": 1}', REVIEW, ACTIONABLE),
    ("failed", '{"provider_connection_id": "c3", "n": {"m": ["x\\u0000"]}}', REVIEW, ACTIONABLE),
    # Unpaired surrogates: valid json text, no jsonb, no JSON to SQLite.
    ("failed", '{"provider_connection_id": "c4", "s": "\\ud800"}', REVIEW, REVIEW),
    ("failed", '{"provider_connection_id": "c5", "s": "\\uDC00"}', REVIEW, REVIEW),
    # An escaped backslash before "u0000" or "ud800", and a paired surrogate: all valid, and
    # run 7 supersedes run 6 by its subject.
    (
        "failed",
        '{"provider_connection_id": "c6", "s": "\\\\u0000 \\\\\\\\ud800 \\ud83d\\ude00"}',
        SUPERSEDED,
        SUPERSEDED,
    ),
    ("succeeded", '{"provider_connection_id": "c6"}', INFORMATIONAL, INFORMATIONAL),
    # An escaped backslash, then an escaped U+0000.
    ("failed", '{"provider_connection_id": "c8", "s": "\\\\\\u0000"}', REVIEW, ACTIONABLE),
    # A success jsonb cannot hold is evidence of nothing on PostgreSQL.
    ("failed", '{"provider_connection_id": "c9"}', ACTIONABLE, SUPERSEDED),
    ("succeeded", '{"provider_connection_id": "c9", "x": "\\u0000"}', INFORMATIONAL, INFORMATIONAL),
    # An ordinary run on the same pages.
    ("failed", '{"provider_connection_id": "c11"}', ACTIONABLE, ACTIONABLE),
    # Numbers jsonb cannot hold (numeric overflows), each at its bound; the ones just inside
    # each bound, and "e" digits in strings, are valid.
    ("failed", '{"provider_connection_id": "c12", "n": 1e1000000}', REVIEW, ACTIONABLE),
    ("failed", '{"provider_connection_id": "c13", "n": [1E+131072]}', REVIEW, ACTIONABLE),
    ("failed", '{"provider_connection_id": "c14", "n": 1e-16384}', REVIEW, ACTIONABLE),
    ("failed", '{"provider_connection_id": "c15", "n": 0e1073741823}', REVIEW, ACTIONABLE),
    ("failed", '{"provider_connection_id": "c16", "n": 0.' + "0" * 16384 + "}", REVIEW, ACTIONABLE),
    (
        "failed",
        '{"provider_connection_id": "c17", "n": [9.99e4200, 1e-16383, 0e1073741822],'
        ' "s": "1e1000000", "e1e99999": "release-2026"}',
        ACTIONABLE,
        ACTIONABLE,
    ),
]
IDS = list(range(1, len(CHECKS) + 1))


def _store(engine: sa.Engine) -> dict[int, str]:
    """``CHECKS`` stored, the context ``json`` on PostgreSQL; each run's expected status on this
    engine."""
    store_contexts(engine, [(outcome, context) for outcome, context, _, _ in CHECKS])
    postgres = engine.dialect.name == "postgresql"
    return {i: row[2 if postgres else 3] for i, row in zip(IDS, CHECKS, strict=True)}


def _seen(engine: sa.Engine, api: str) -> dict[str, Any]:
    views = session_views(engine, RUNS, IDS, api=api, scopes=W1)
    history = to_json(views.page)["runs"]
    listed_reasons = {row["run_id"]: row["reason"] for row in history}
    return {
        "listed": {row["run_id"]: row["actionability"] for row in history},
        "follow_up": {r["run_id"]: r["actionability"] for r in to_json(views.follow_up)["runs"]},
        "counts": {k: v for k, v in to_json(views.board)["by_status"].items() if v},
        "explained": {
            run_id: to_json(explanation)["run"]["actionability"]
            for run_id, explanation in zip(IDS, views.explained, strict=True)
        },
        "reasons": {
            run_id: (to_json(explanation)["run"]["reason"], listed_reasons.get(run_id))
            for run_id, explanation in zip(IDS, views.explained, strict=True)
        },
        "changes": {c["run_id"]: c["actionability"] for c in to_json(views.changes)["changes"]},
    }


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_json_context_jsonb_cannot_hold_is_an_invalid_context(
    sql_engine: sa.Engine, api: str
) -> None:
    expected = _store(sql_engine)
    engine = fresh_engine(sql_engine)
    try:
        # Before, on PostgreSQL every one of these failed: EvidenceFetchError (DataError).
        seen = _seen(engine, api)
    finally:
        engine.dispose()
    assert seen["listed"] == seen["explained"] == expected
    assert seen["changes"] == expected
    assert seen["follow_up"] == {i: s for i, s in expected.items() if s in (REVIEW, ACTIONABLE)}
    counted: dict[str, int] = {}
    for status in expected.values():
        counted[status] = counted.get(status, 0) + 1
    assert seen["counts"] == counted
    for run_id, status in expected.items():
        if status == REVIEW:
            assert seen["reasons"][run_id] == ("invalid_context", "invalid_context"), run_id


def test_doctor_judges_a_json_context_jsonb_cannot_hold(sql_engine: sa.Engine) -> None:
    expected = _store(sql_engine)
    # Before, on PostgreSQL the sample's read failed the whole check (DataError).
    report = check(sql_engine, RUNS, as_of=AS_OF)
    (invalid,) = [f for f in report.findings if f.code.value == "invalid_rows"]
    reviewed = sum(status == REVIEW for status in expected.values())
    assert invalid.count == reviewed
    assert f"invalid_context {reviewed}" in invalid.message


@pytest.mark.parametrize("api", ["sync", "async"])
def test_the_counts_of_a_jsonb_context_pay_for_no_guard(sql_engine: sa.Engine, api: str) -> None:
    # The guard of the cast, in each of ~100 reads of the context, had doubled the count
    # statement's text and its one-workspace time on the reference schema, where jsonb holds
    # every context: only a json column's statements carry it.
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite's context is text, read by its own JSON functions")
    create_schema(sql_engine)
    insert_raw(
        sql_engine, [raw_row(sql_engine, 1, type=CHECK, context='{"provider_connection_id": "c"}')]
    )
    guarded: dict[str, bool] = {}
    for column in ("jsonb", "json"):
        with sql_engine.begin() as connection:
            connection.exec_driver_sql(
                f"ALTER TABLE operation_runs ALTER COLUMN context TYPE {column}"
            )
        engine = fresh_engine(sql_engine)
        try:
            if api == "sync":
                with executed_statements(engine) as seen:
                    service = ActionabilityService(engine, runs=RUNS, states={})
                    with service.session(scopes=W1, as_of=AS_OF) as session:
                        session.dashboard(top=0)
            else:
                seen = asyncio.run(_async_dashboard(engine))
        finally:
            engine.dispose()
        counts = [sql for sql, _ in seen if "jsonb_path_exists" in sql and "count(" in sql]
        assert counts, column
        guarded[column] = all("strpos(" in sql for sql in counts)
    assert guarded == {"jsonb": False, "json": True}


async def _async_dashboard(engine: sa.Engine) -> list[tuple[str, Any]]:
    async_engine = async_engine_of(engine)
    try:
        with executed_statements(async_engine.sync_engine) as seen:
            service = AsyncActionabilityService(async_engine, runs=RUNS, states={})
            async with service.session(scopes=W1, as_of=AS_OF) as session:
                await session.dashboard(top=0)
        return seen
    finally:
        await async_engine.dispose()
