"""A caller's id that no text column can hold is decided before any statement.

PostgreSQL's text cannot hold U+0000 and no driver encodes a lone surrogate: such a run id is
no run (``explain`` and ``primary_action`` say None, as for any id the column cannot hold), and
such a scope id is refused as unusable, sync, async and in the CLI, where they used to reach the
driver (psycopg's ``DataError``, ``UnicodeEncodeError``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from tests.cli.test_cli import invoke, one_line_error
from tests.support import (
    AS_OF,
    CATALOG,
    REGISTRY,
    async_engine_of,
    database_option,
    insert_raw,
    raw_row,
)

from runactionability import (
    ActionabilityService,
    AsyncActionabilityService,
    RunQuery,
    UsageError,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import RunTableMapping, create_schema, open_backend
from runactionability.adapters.sqlalchemy.schema import operation_runs

W1 = VisibleScopes({"w1"})
RUNS = RunTableMapping(table="operation_runs", ids={"run": "text"})
UNHOLDABLE = ["r1\x00", "\x00", "r\ud800", "\udcff"]


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    """The reference schema with text run ids, holding the failed run 'r1'."""
    create_schema(sql_engine)
    with sql_engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {operation_runs.name}"))
    metadata = sa.MetaData()
    sa.Table(
        operation_runs.name,
        metadata,
        sa.Column("id", sa.Text, primary_key=True),
        *(
            sa.Column(column.name, column.type, nullable=column.nullable)
            for column in operation_runs.c
            if column.name != "id"
        ),
    )
    metadata.create_all(sql_engine)
    insert_raw(sql_engine, [{**raw_row(sql_engine, 1), "id": "r1"}])
    return sql_engine


@pytest.mark.parametrize("run_id", UNHOLDABLE)
def test_an_id_no_column_holds_is_no_run(engine: sa.Engine, run_id: str) -> None:
    service = ActionabilityService(engine, runs=RUNS, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=W1, as_of=AS_OF) as session:
        assert session.explain(run_id) is None
        assert session.primary_action(run_id) is None
        # The session's transaction is whole: the next request reads as ever.
        told = session.explain("r1")
        assert told is not None
        assert told.assessment.run.id == "r1"


def test_an_int_id_too_long_to_write_is_no_run(engine: sa.Engine) -> None:
    # Before: ValueError, from the str() that bound it to the text column. No stored text
    # equals it: such an int is no usable id (usable_id), as no run may hold it.
    too_long = 10**5000
    service = ActionabilityService(engine, runs=RUNS, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=W1, as_of=AS_OF) as session:
        assert session.explain(too_long) is None
        assert session.primary_action(too_long) is None
        assert session.explain("r1") is not None


def test_the_async_session_says_none_too(engine: sa.Engine) -> None:
    async def told() -> list[Any]:
        async_engine = async_engine_of(engine)
        try:
            service = AsyncActionabilityService(
                async_engine, runs=RUNS, registry=REGISTRY, catalog=CATALOG
            )
            async with service.session(scopes=W1, as_of=AS_OF) as session:
                answers: list[object] = [await session.explain(run_id) for run_id in UNHOLDABLE]
                answers += [await session.primary_action(run_id) for run_id in UNHOLDABLE]
                return answers
        finally:
            await async_engine.dispose()

    assert asyncio.run(told()) == [None] * 2 * len(UNHOLDABLE)


def test_an_operation_type_no_column_holds_matches_nothing(engine: sa.Engine) -> None:
    runs = open_backend(engine, runs=RUNS).runs
    for types, found in ((["inventory.sync", *UNHOLDABLE], ["r1"]), (UNHOLDABLE, [])):
        query = RunQuery(workspace_ids={"w1"}, operation_types=types)
        assert [run.id for run in runs.list_runs(query).runs] == found


@pytest.mark.parametrize("scope", ["w\ud800", "\udcff"])
def test_a_scope_id_no_column_holds_is_refused(scope: str) -> None:
    with pytest.raises(UsageError, match="not a usable scope id"):
        VisibleScopes({scope})
    with pytest.raises(UsageError, match="not a usable scope id"):
        VisibleScopes({"w1"}, environment_ids={scope})


def test_the_cli_says_no_run_and_refuses_the_scope(engine: sa.Engine) -> None:
    database = database_option(engine)
    config = ["--database", database, "--as-of", AS_OF.isoformat()]
    for run_id in UNHOLDABLE:
        result = invoke("explain", run_id, *config)
        assert result.exit_code == 1, result.output + result.stderr
        assert "Traceback" not in result.stderr
    # A byte that is no UTF-8 reaches Python's argv as a lone surrogate (surrogateescape).
    refused = one_line_error(invoke("report", *config, "--workspace", "w\udcff"), code=2)
    assert "--workspace" in refused
