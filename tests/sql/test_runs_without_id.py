"""A host runs table without a primary key may hold a row whose run id is NULL.

Nothing can name such a row (no explanation, cursor, proof or action), so every read leaves it
out alike, SQL and Python, and ``doctor`` counts it (docs/decisions.md): the pages, counts,
explanations and changes of its workspace answer for the other runs instead of failing, sync,
async and in the CLI, on both engines.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from tests.cli.test_cli import invoke, ok_json
from tests.support import (
    AS_OF,
    CATALOG,
    REGISTRY,
    T0,
    async_engine_of,
    database_option,
    insert_raw,
    raw_row,
)

from runactionability import (
    Actionability,
    ActionabilityService,
    AsyncActionabilityService,
    EveryWorkspace,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import RunTableMapping, SqlRunSource, check, create_schema
from runactionability.adapters.sqlalchemy.schema import operation_runs
from runactionability.findings import FindingCode

W1 = VisibleScopes({"w1"})


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    """The reference columns without a primary key: two failures (1, 3), a failure with no id,
    and a later success with no id, which would supersede both failures were it evidence."""
    create_schema(sql_engine)
    with sql_engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {operation_runs.name}"))
    metadata = sa.MetaData()
    sa.Table(
        operation_runs.name,
        metadata,
        *(sa.Column(column.name, column.type, nullable=True) for column in operation_runs.c),
    )
    metadata.create_all(sql_engine)
    insert_raw(
        sql_engine,
        [
            raw_row(sql_engine, 1),
            raw_row(sql_engine, 3),
            {**raw_row(sql_engine, 5), "id": None},
            {**raw_row(sql_engine, 7, outcome="succeeded"), "id": None},
        ],
    )
    return sql_engine


def _answers(session: Any) -> dict[str, Any]:
    counts = session.dashboard().counts
    follow_up = session.follow_up_page(limit=1)
    rest = session.follow_up_page(limit=1, cursor=follow_up.next_cursor)
    told = session.explain(1)
    return {
        "counts": (counts.total, counts.needs_attention),
        "pages": [item.run.id for item in (*follow_up.items, *rest.items)],
        "history": [item.run.id for item in session.history_page(limit=10).items],
        "explained": (told.assessment.result.status, told.assessment.result.proof),
        "changes": sorted(change.run_id for change in session.changes(since=T0).changes),
    }


EXPECTED = {
    "counts": (2, 2),
    "pages": [3, 1],
    "history": [],
    "explained": (Actionability.ACTIONABLE, None),
    "changes": [1, 3],
}


def test_the_pages_counts_and_explanations_leave_the_row_without_id_out(
    engine: sa.Engine,
) -> None:
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=W1, as_of=AS_OF) as session:
        assert _answers(session) == EXPECTED


def test_the_async_session_answers_alike(engine: sa.Engine) -> None:
    async def answers() -> dict[str, Any]:
        async_engine = async_engine_of(engine)
        try:
            service = AsyncActionabilityService(async_engine, registry=REGISTRY, catalog=CATALOG)
            async with service.session(scopes=W1, as_of=AS_OF) as session:
                counts = (await session.dashboard()).counts
                page = await session.follow_up_page(limit=10)
                told = await session.explain(1)
                assert told is not None
                return {
                    "counts": (counts.total, counts.needs_attention),
                    "pages": [item.run.id for item in page.items],
                    "proof": told.assessment.result.proof,
                }
        finally:
            await async_engine.dispose()

    assert asyncio.run(answers()) == {"counts": (2, 2), "pages": [3, 1], "proof": None}


def test_doctor_counts_the_rows_without_id(engine: sa.Engine) -> None:
    report = check(engine, as_of=AS_OF)
    found = [f for f in report.findings if f.code is FindingCode.RUNS_WITHOUT_ID]
    assert [(f.count, f.column) for f in found] == [(2, "id")]
    assert not report.passed
    assert report.total_runs == 4


def test_the_cli_lists_and_reports_the_other_runs(engine: sa.Engine) -> None:
    database = database_option(engine)
    as_of = ["--as-of", AS_OF.isoformat()]
    listed = ok_json("list", "--database", database, "--workspace", "w1", *as_of)
    assert [run["run_id"] for run in listed["runs"]] == [3, 1]
    report = ok_json("report", "--database", database, "--workspace", "w1", *as_of)
    assert (report["total"], report["needs_attention"]) == (2, 2)
    doctor = invoke("doctor", "--database", database, *as_of)
    assert doctor.exit_code == 4
    assert "no run id" in doctor.stdout


def test_a_row_without_id_nor_workspace_is_counted_once(engine: sa.Engine) -> None:
    # It was counted as unattributed too (its sample id shown as "None") and by the sample's
    # undated count, which every other read that leaves it out then disagreed with.
    insert_raw(engine, [{**raw_row(engine, 9), "id": None, "workspace_id": None}])
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {operation_runs.name} SET created_at = NULL"))
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=EveryWorkspace()) as session:
        assert session.unattributed().count == 0
    codes = [f.code for f in check(engine, as_of=AS_OF).findings]
    assert FindingCode.UNATTRIBUTED_RUNS not in codes
    assert FindingCode.RUNS_WITHOUT_ID in codes
    assert SqlRunSource(engine, RunTableMapping(table=operation_runs.name)).count_undated() == 2
