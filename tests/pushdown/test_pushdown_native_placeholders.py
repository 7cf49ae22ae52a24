"""The pushdown's long statements run on psycopg in PostgreSQL's own ``$n`` form.

psycopg caches its conversion of ``%(name)s`` placeholders only for short statements, so the
classification and the follow-up walk were re-parsed on every execution. They are converted
once and run on psycopg's raw cursor, only where the host kept psycopg's default cursor. Every
statement is still seen by the engine's cursor events (``count_statements``), and the answers
are the same whichever cursor runs them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from tests.support import POSTGRES_URL, T0, at, stored_run

from runactionability.adapters.sqlalchemy import create_schema, insert_runs, types
from runactionability.adapters.sqlalchemy.driver_sql import _native, _raw_cursor
from runactionability.adapters.sqlalchemy.json_text import read_json_text
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import VisibleScopes
from runactionability.testing import count_statements

AS_OF = T0 + timedelta(days=1)
# Each with the number of runs it sees (of 30: w1 holds the even ones, e0 every third).
SCOPES = [
    (VisibleScopes({"w1"}), 15),
    (VisibleScopes({"w1", "w2"}, environment_ids={"e0"}), 10),
]


def test_placeholders_become_numbered_in_order_of_first_use() -> None:
    sql = "SELECT %(b)s, '50%%', %(a_1)s WHERE x = %(b)s AND y LIKE 'a%%' AND z IN (%(c)s)"
    assert _native(sql) == (
        "SELECT $1, '50%', $2 WHERE x = $1 AND y LIKE 'a%' AND z IN ($3)",
        ("b", "a_1", "c"),
    )


@pytest.fixture
def history(postgres_engine: sa.Engine) -> Iterator[None]:
    create_schema(postgres_engine)
    runs = [
        stored_run(
            number + 1,
            workspace_id=f"w{number % 2 + 1}",
            environment_id=f"e{number % 3}",
            outcome="failed" if number % 4 else "succeeded",
            created_at=at(number),
            started_at=at(number),
            completed_at=at(number + 0.5),
        )
        for number in range(30)
    ]
    insert_runs(postgres_engine, runs)
    yield
    _drop_tables(postgres_engine)


def _drop_tables(engine: sa.Engine) -> None:
    # The session's schema is shared by every PostgreSQL test that follows.
    with engine.begin() as connection:
        tables = connection.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        for table in list(tables):
            connection.execute(sa.text(f'DROP TABLE "{table}" CASCADE'))
    engine.dispose()


def _answers(engine: sa.Engine, scopes: VisibleScopes) -> tuple[Any, list[Any]]:
    pushdown = SqlPushdown(engine)
    counts = pushdown.count(scopes, as_of=AS_OF)
    page = pushdown.follow_up_page(scopes, as_of=AS_OF, limit=4)
    return counts, [run.id for run in page.runs]


def _engine_like(engine: sa.Engine, **options: Any) -> sa.Engine:
    url = engine.url.render_as_string(hide_password=False)
    search_path = {"options": f"-csearch_path={_schema(engine)}"}
    connect_args = {**search_path, **options.pop("connect_args", {})}
    return sa.create_engine(url, connect_args=connect_args, **options)


def _schema(engine: sa.Engine) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())


@pytest.mark.parametrize(("scopes", "total"), SCOPES, ids=["one-workspace", "many"])
@pytest.mark.usefixtures("history")
def test_every_cursor_gives_the_same_answers_and_each_statement_is_seen(
    postgres_engine: sa.Engine, scopes: VisibleScopes, total: int
) -> None:
    if not POSTGRES_URL:
        pytest.skip("RUNACTIONABILITY_TEST_DATABASE_URL is not set")
    client = _engine_like(postgres_engine, connect_args={"cursor_factory": psycopg.ClientCursor})
    streamed = _engine_like(postgres_engine, execution_options={"stream_results": True})
    # yield_per becomes a server-side cursor only inside the execution (the review's finding).
    yielding = _engine_like(postgres_engine, execution_options={"yield_per": 10})
    engines = [("default", postgres_engine), ("client", client), ("ss", streamed)]
    try:
        answers = {}
        seen = {}
        for name, engine in [*engines, ("yield_per", yielding)]:
            with count_statements(engine) as counter:
                answers[name] = _answers(engine, scopes)
            # Less the one reflection of the run table's context type a new engine makes when
            # its first pushdown is built (the shared engine made it in an earlier test).
            seen[name] = [s for s in counter.statements if "pg_catalog.pg_attribute" not in s]
        assert answers["client"] == answers["default"] == answers["ss"] == answers["yield_per"]
        assert answers["default"][0].counts.total == total
        # The same statements, each seen by the events: in $n form on psycopg's default
        # cursor, in the host's form on the cursor it chose.
        assert len(seen["default"]) == len(seen["client"]) == len(seen["ss"])
        long_ones = [s for s in seen["default"] if len(s) > 4096]
        assert long_ones
        assert all("$1" in s and "%(" not in s for s in long_ones)
        assert all("%(" in s for s in seen["client"] if len(s) > 4096)
        assert all("%(" in s for s in seen["ss"] if len(s) > 4096)
        assert all("%(" in s for s in seen["yield_per"] if len(s) > 4096)
    finally:
        client.dispose()
        streamed.dispose()
        yielding.dispose()


@pytest.mark.usefixtures("history")
def test_the_default_cursor_is_back_after_each_statement(postgres_engine: sa.Engine) -> None:
    with postgres_engine.connect() as connection:
        driver: Any = connection.connection.driver_connection
        SqlPushdown(connection).count(SCOPES[1][0], as_of=AS_OF)
        assert driver.cursor_factory is psycopg.Cursor
        # A host statement in %(name)s form on the same connection still runs.
        value = connection.execute(sa.text("SELECT :x"), {"x": 5}).scalar_one()
        assert value == 5


def test_a_thread_sharing_the_connection_keeps_its_default_cursor(
    postgres_engine: sa.Engine,
) -> None:
    # A StaticPool shares one psycopg connection between threads: a cursor another thread opens
    # while the raw one is armed must be the default one, and only ours disarms it.
    with postgres_engine.connect() as connection:
        driver: Any = connection.connection.driver_connection
        with _raw_cursor(connection) as armed:
            assert armed
            opened: list[Any] = []
            other = threading.Thread(target=lambda: opened.append(driver.cursor()))
            other.start()
            other.join()
            assert type(opened[0]) is psycopg.Cursor
            assert driver.cursor_factory is not psycopg.Cursor
            assert type(driver.cursor()) is psycopg.RawCursor
            assert driver.cursor_factory is psycopg.Cursor


_DECODED: list[str | bytes] = []


def _host_loads(data: str | bytes) -> Any:
    # Module-level: psycopg warns of a closure given as a loads function.
    _DECODED.append(data)
    return json.loads(data, parse_float=Decimal)


def test_the_walk_decodes_the_contexts_it_keeps_with_the_library_reader(
    postgres_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The walk decodes the context of the rows it keeps alone (six rows read, four kept), with
    # the library's own reader (``read_json_text``, as on SQLite), whatever JSON loader the
    # host's connection uses: psycopg's, or a host's, failed the whole page on an integer of
    # more than 4,300 digits (docs/decisions.md).
    if not POSTGRES_URL:
        pytest.skip("RUNACTIONABILITY_TEST_DATABASE_URL is not set")
    create_schema(postgres_engine)
    context = {"ratio": 0.5, "nested": {"items": [1, "two", None]}, "flag": True}
    runs = [
        stored_run(number + 1, created_at=at(number), start=number, context=context)
        for number in range(6)
    ]
    insert_runs(postgres_engine, runs)
    host = _engine_like(postgres_engine)
    read: list[str] = []

    def reading(text: str) -> Any:
        read.append(text)
        return read_json_text(text)

    monkeypatch.setattr(types, "read_json_text", reading)
    _DECODED.clear()

    @sa.event.listens_for(host, "connect")
    def decimals(dbapi_connection: Any, record: Any) -> None:
        psycopg.types.json.set_json_loads(_host_loads, dbapi_connection)

    try:
        page = SqlPushdown(host).follow_up_page(VisibleScopes({"w1"}), as_of=AS_OF, limit=4)
        assert [run.id for run in page.runs] == [6, 5, 4, 3]
        assert len(read) == 4
        assert _DECODED == []
        for run in page.runs:
            assert run.context == context
            assert type(run.context["ratio"]) is float
    finally:
        host.dispose()
        _drop_tables(postgres_engine)
