"""An unsigned cursor is anyone's text: its position is checked against the table's storage.

A position the table's storage cannot hold (text for an epoch column, a number for ISO text, an
impossible date for a PostgreSQL timestamp, an instant for a storage whose cursors carry the
stored value, a naive instant off a ``timestamp`` column) is refused as a cursor before any
statement, on both readers (the run source and the follow-up list), sync and async, and by the
CLI with exit 2: never a driver's error, and never a PostgreSQL transaction left unusable.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.cli.test_cli import invoke, one_line_error
from tests.support import (
    AS_OF,
    CATALOG,
    REGISTRY,
    STORAGES,
    async_engine_of,
    database_option,
    sql_ports,
    stored_copy,
    stored_run,
)

from runactionability import (
    ActionabilityService,
    AsyncActionabilityService,
    InvalidCursorError,
    MappingMismatchWarning,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import REFERENCE_RUNS, Instants
from runactionability.adapters.sqlalchemy.cursors import (
    cursor_position_fits,
    stored_timestamp_fits,
)
from runactionability.testing import count_statements

W1 = VisibleScopes(["w1"])
INSTANT = "2026-11-18T00:00:00+00:00"
NAIVE = "2026-11-18T00:00:00"


def cursor_of(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


# Positions no storage of the engine holds, by (form, dialect); "*" is every form.
REFUSED: dict[tuple[str, str], list[Any]] = {
    ("*", "sqlite"): [["naive", NAIVE], ["stored", "\ud800"]],
    ("native", "postgresql"): [
        ["stored", "garbage"],
        ["stored", 10**15],
        ["stored", 1.5],
        ["stored", "2026-13-01 00:00:00+00"],
        ["stored", "2023-02-29 00:00:00+00"],
        ["stored", "294277-01-01 00:00:00+00"],
        ["stored", "4714-11-23 23:59:59+00 BC"],
        ["stored", "2026-01-01 00:00:00+16"],
        ["stored", "infinity\x00"],
    ],
    ("epoch", "postgresql"): [
        ["stored", "garbage"],
        ["stored", "10"],
        ["stored", 1.5],
        ["instant", INSTANT],
        ["naive", NAIVE],
    ],
    ("iso_text", "postgresql"): [
        ["stored", 10**15],
        ["stored", "a\x00b"],
        ["instant", INSTANT],
        ["naive", NAIVE],
    ],
    ("naive", "postgresql"): [
        ["stored", "garbage"],
        ["stored", 5],
        ["stored", "infinity+00"],
        ["stored", "10000-01-01 00:00:00+00"],
        ["instant", INSTANT],
    ],
    ("epoch", "sqlite"): [["instant", INSTANT]],
    ("iso_text", "sqlite"): [["instant", INSTANT]],
}

# Positions a listing of the storage issues (a stored value it cannot read), which still page.
KEPT: dict[tuple[str, str], list[Any]] = {
    ("native", "postgresql"): [
        ["stored", "infinity"],
        ["stored", "-infinity"],
        ["stored", "10000-01-01 00:00:00+00"],
        ["stored", "0044-03-15 12:00:00.5-00:53:28 BC"],
    ],
    ("native", "sqlite"): [["stored", "garbage"], ["stored", 10**15], ["stored", 1.5]],
    ("epoch", "postgresql"): [["stored", 2**62]],
    ("iso_text", "postgresql"): [["stored", "garbage"]],
    ("naive", "postgresql"): [["stored", "infinity"], ["stored", "10000-01-01 00:00:00"]],
    ("epoch", "sqlite"): [["stored", "garbage"], ["stored", 1.5]],
    ("iso_text", "sqlite"): [["stored", 10**15]],
}

STORAGE_NAMES = sorted({"native", *(name for names in STORAGES.values() for name in names)})


@pytest.fixture(params=STORAGE_NAMES)
def tables(request: pytest.FixtureRequest, sql_engine: sa.Engine) -> Any:
    """The mappings of three failed runs whose instants are stored as the parametrized storage."""
    dialect = sql_engine.dialect.name
    if request.param != "native" and request.param not in STORAGES[dialect]:
        pytest.skip(f"{dialect} has no {request.param} leg")
    runs = [stored_run(n, start=n * 10, outcome="failed") for n in (1, 2, 3)]
    sql_ports(sql_engine, runs, [])
    return (
        (REFERENCE_RUNS, None)
        if request.param == "native"
        else stored_copy(sql_engine, request.param)
    )


@pytest.fixture
def service(tables: Any, sql_engine: sa.Engine) -> ActionabilityService:
    runs, states = tables
    return ActionabilityService(
        sql_engine, runs=runs, states=states, registry=REGISTRY, catalog=CATALOG
    )


def _cases(table: dict[tuple[str, str], list[Any]], instants: Instants, dialect: str) -> list[Any]:
    return table.get((instants.form, dialect), []) + table.get(("*", dialect), [])


def test_a_position_the_storage_cannot_hold_is_refused_before_any_statement(
    tables: Any, service: ActionabilityService, sql_engine: sa.Engine
) -> None:
    instants = tables[0].timestamps
    cases = _cases(REFUSED, instants, sql_engine.dialect.name)
    assert cases
    with service.session(scopes=W1, as_of=AS_OF) as session:
        for tag, created in cases:
            cursor = cursor_of([tag, created, 5])
            for page in (session.history_page, session.follow_up_page):
                with (
                    count_statements(sql_engine) as seen,
                    pytest.raises(InvalidCursorError, match="not a cursor"),
                ):
                    page(limit=2, cursor=cursor)
                assert seen.statements == [], (tag, created)
        # The session's transaction is still usable: nothing reached the database.
        assert len(session.follow_up_page(limit=5).items) == 3


def test_a_position_the_storage_issues_still_pages(
    tables: Any, service: ActionabilityService, sql_engine: sa.Engine
) -> None:
    instants = tables[0].timestamps
    with service.session(scopes=W1, as_of=AS_OF) as session:
        for tag, created in _cases(KEPT, instants, sql_engine.dialect.name):
            cursor = cursor_of([tag, created, 5])
            for page in (session.history_page, session.follow_up_page):
                page(limit=2, cursor=cursor)
        assert len(session.follow_up_page(limit=5).items) == 3


@pytest.mark.parametrize("timestamps", ["native", "timestamptz"])
def test_a_naive_position_on_a_column_with_a_time_zone_is_refused(
    sql_engine: sa.Engine, timestamps: str
) -> None:
    """Bound against a timestamptz column, a naive position was placed in the server session's
    TimeZone: the same crafted cursor skipped every run under one setting and none under UTC."""
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL has a column type of naive instants")
    sql_ports(sql_engine, [stored_run(n, start=n * 10, outcome="failed") for n in (1, 2, 3)], [])
    mapping = attrs.evolve(REFERENCE_RUNS, timestamps=timestamps)
    service = ActionabilityService(sql_engine, runs=mapping, registry=REGISTRY, catalog=CATALOG)
    cursor = cursor_of(["naive", NAIVE, 5])
    with service.session(scopes=W1, as_of=AS_OF) as session:
        for page in (session.page, session.history_page, session.follow_up_page):
            with pytest.raises(InvalidCursorError, match="not a cursor"):
                page(limit=2, cursor=cursor)
        assert len(session.follow_up_page(limit=5).items) == 3

    async def refused() -> int:
        engine = async_engine_of(sql_engine)
        try:
            twin = AsyncActionabilityService(
                engine, runs=mapping, registry=REGISTRY, catalog=CATALOG
            )
            async with twin.session(scopes=W1, as_of=AS_OF) as session:
                with pytest.raises(InvalidCursorError, match="not a cursor"):
                    await session.page(limit=2, cursor=cursor)
                return len((await session.page(limit=5)).items)
        finally:
            await engine.dispose()

    assert asyncio.run(refused()) == 3


def test_a_column_without_a_time_zone_pages_on_its_own_naive_positions(
    sql_engine: sa.Engine,
) -> None:
    """A native mapping over a ``timestamp`` column (a mapping ``doctor`` flags: its runs read
    as invalid timestamps) still pages through every run on the cursors its listing writes."""
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL has a column type of naive instants")
    sql_ports(sql_engine, [stored_run(n, start=n * 10, outcome="failed") for n in (1, 2, 3)], [])
    with sql_engine.begin() as connection:
        # Its indexes hold expressions of created_at that a column without a zone would not.
        for index in sa.inspect(connection).get_indexes("operation_runs"):
            connection.execute(sa.text(f'DROP INDEX "{index["name"]}"'))
        connection.execute(
            sa.text(
                "ALTER TABLE operation_runs ALTER COLUMN created_at TYPE timestamp "
                "USING created_at AT TIME ZONE 'UTC'"
            )
        )
    with pytest.warns(MappingMismatchWarning, match="created_at"):
        service = ActionabilityService(sql_engine, registry=REGISTRY, catalog=CATALOG)
    seen: list[Any] = []
    cursor: str | None = None
    with service.session(scopes=W1, as_of=AS_OF) as session:
        for _ in range(5):
            page = session.page(limit=1, cursor=cursor)
            seen += [item.run.id for item in page.items]
            if (cursor := page.next_cursor) is None:
                break
    assert seen == [3, 2, 1]


def test_the_async_session_refuses_them_and_stays_usable(
    tables: Any, sql_engine: sa.Engine
) -> None:
    mapping, states = tables
    cursor = cursor_of(_cases(REFUSED, mapping.timestamps, sql_engine.dialect.name)[0] + [5])

    async def pages() -> int:
        engine = async_engine_of(sql_engine)
        try:
            twin = AsyncActionabilityService(
                engine, runs=mapping, states=states, registry=REGISTRY, catalog=CATALOG
            )
            async with twin.session(scopes=W1, as_of=AS_OF) as session:
                for page in (session.history_page, session.follow_up_page):
                    with pytest.raises(InvalidCursorError, match="not a cursor"):
                        await page(limit=2, cursor=cursor)
                return len((await session.follow_up_page(limit=5)).items)
        finally:
            await engine.dispose()

    assert asyncio.run(pages()) == 3


def test_the_cli_refuses_a_crafted_stored_position_with_exit_2(sql_engine: sa.Engine) -> None:
    sql_ports(sql_engine, [stored_run(1)], [])
    database = database_option(sql_engine)
    # Text for a timestamptz on PostgreSQL; text no driver binds on SQLite.
    created = "garbage" if sql_engine.dialect.name == "postgresql" else "\ud800"
    cursor = cursor_of(["stored", created, 5])
    for view in ("--history", "--current-follow-up"):
        result = invoke("list", view, "--database", database, "--cursor", cursor)
        assert "--cursor: not a cursor" in one_line_error(result, code=2)


PG_TEXTS = [
    "infinity",
    "-infinity",
    "Infinity",
    "2026-11-18 00:00:00",
    "2026-11-18 00:00:00+00",
    "2026-11-18 00:00:00.123456+05:30",
    "2026-11-18 00:00:00.1234567+00",
    "2026-11-18T00:00:00+00",
    "2024-02-29 00:00:00+00",
    "2023-02-29 00:00:00+00",
    "2026-04-31 00:00:00+00",
    "2026-00-10 00:00:00+00",
    "2026-11-18 24:00:00+00",
    "2026-11-18 23:60:00+00",
    "2026-11-18 23:59:60+00",
    "0000-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00 BC",
    "0005-02-29 00:00:00+00 BC",
    "0004-02-29 00:00:00+00 BC",
    "4714-11-24 00:00:00+00 BC",
    "4714-11-24 00:00:00 BC",
    "4714-11-23 23:59:59.999999+00 BC",
    "4714-11-24 00:00:00+01 BC",
    "294276-12-31 23:59:59.999999+00",
    "294276-12-31 23:59:59.999999",
    "294276-12-31 23:59:59-05",
    "294277-01-01 00:00:00+00",
    "10000-01-01 00:00:00+15:59:59",
    "10000-01-01 00:00:00+16",
    "10000-01-01 00:00:00+00:53:28",
    "2026-11-18 00:00:00 +00",
]


@pytest.mark.parametrize("zoned", [True, False])
def test_a_stored_timestamp_that_fits_is_one_postgresql_reads(
    sql_engine: sa.Engine, zoned: bool
) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL timestamp grammar")
    target = "timestamptz" if zoned else "timestamp"
    fitting = 0
    with sql_engine.connect() as connection:
        for text in PG_TEXTS:
            if not stored_timestamp_fits(text, zoned=zoned):
                continue
            fitting += 1
            with connection.begin_nested():
                connection.execute(sa.text(f"SELECT CAST(:t AS {target})"), {"t": text})
    assert fitting >= 5
    # The edges: the last instants of the range fit, the next ones do not.
    assert stored_timestamp_fits("4714-11-24 00:00:00+00 BC", zoned=True)
    assert not stored_timestamp_fits("4714-11-23 23:59:59.999999+00 BC", zoned=True)
    assert stored_timestamp_fits("294276-12-31 23:59:59.999999", zoned=False)
    assert not stored_timestamp_fits("294277-01-01 00:00:00", zoned=False)


def test_only_a_native_storage_takes_an_instant() -> None:
    for storage in ("native", "timestamptz", "iso_text", "epoch_ms", "naive:UTC"):
        instants = Instants.parse(storage)
        for dialect in ("sqlite", "postgresql"):
            fits = cursor_position_fits("instant", None, instants, dialect)
            assert fits == instants.is_native, (storage, dialect)
            assert cursor_position_fits("null", None, instants, dialect)
