"""Which row of an object is its current state, when a host table keeps several per object.

The same rule holds for the memory source and the SQL source on SQLite and PostgreSQL: the row
with the greatest ``proven_at``; no fact when that row has no status, when any row of the
object cannot be placed in time, or when rows tied at that instant disagree on the status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, BACKENDS, CATALOG, REGISTRY, at
from tests.support import stored_run as run

from runactionability import Actionability, Resolver, StateFact, StateSource
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    JsonDocument,
    SqlStateSource,
    StateTableMapping,
    UtcTimestamp,
)
from runactionability.evidence import StateRequest

KIND = "provider_connection"
REQUEST = StateRequest(kind=KIND, workspace_id="w1", environment_id="e1", subject="c1")
Row = tuple[str | None, datetime | None, dict[str, Any]]
"""(status, proven_at (None: unreadable), attributes) of one row of connection c1."""


def row(status: str | None, proven: float | None, **attributes: Any) -> Row:
    return (status, None if proven is None else at(proven), attributes)


host = sa.MetaData()
history = sa.Table(
    "connection_history",
    host,
    sa.Column("workspace_id", sa.String(20)),
    sa.Column("environment_id", sa.String(20)),
    sa.Column("subject", sa.String(20)),
    sa.Column("status", sa.String(20)),
    sa.Column("proven_at", UtcTimestamp()),
    sa.Column("attributes", JsonDocument()),
)
MAPPING = StateTableMapping(kind=KIND, table="connection_history")

Store = Callable[[Sequence[Row]], StateSource]


@pytest.fixture
def sql_table(sql_engine: sa.Engine) -> Iterator[sa.Engine]:
    host.create_all(sql_engine)
    yield sql_engine
    host.drop_all(sql_engine)


@pytest.fixture(params=["memory", *BACKENDS])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A source of connection states over the given rows: memory facts or a host table."""
    if request.param == "memory":

        def memory(rows: Sequence[Row]) -> StateSource:
            return MemoryStateSource(
                KIND,
                [
                    StateFact(
                        kind=KIND,
                        workspace_id="w1",
                        environment_id="e1",
                        subject="c1",
                        status=status,  # type: ignore[arg-type]
                        proven_at=proven_at,  # type: ignore[arg-type]
                        attributes=attributes,
                    )
                    for status, proven_at, attributes in rows
                ],
            )

        yield memory
        return
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'states.sqlite'}")
    else:
        engine = request.getfixturevalue("postgres_engine")
    host.create_all(engine)

    def sql(rows: Sequence[Row]) -> StateSource:
        with engine.begin() as connection:
            connection.execute(history.delete())
            connection.execute(
                history.insert(),
                [
                    {
                        "workspace_id": "w1",
                        "environment_id": "e1",
                        "subject": "c1",
                        "status": status,
                        "proven_at": proven_at,
                        "attributes": attributes,
                    }
                    for status, proven_at, attributes in rows
                ],
            )
        return SqlStateSource(engine, MAPPING)

    yield sql
    host.drop_all(engine)
    if request.param == "sqlite":
        engine.dispose()


def current(source: StateSource) -> tuple[str, datetime, dict[str, Any]] | None:
    fact = source.current_states([REQUEST]).get(REQUEST)
    return None if fact is None else (fact.status, fact.proven_at, dict(fact.attributes))


def test_the_newest_row_is_current_and_an_older_tie_does_not_matter(store: Store) -> None:
    source = store([row("healthy", 10), row("failing", 10), row("failing", 30), row("ok", 20)])
    assert current(source) == ("failing", at(30), {})


def test_a_newest_row_without_status_is_no_fact_rather_than_an_older_healthy_row(
    store: Store,
) -> None:
    source = store([row("healthy", 20), row(None, 30)])
    assert current(source) is None
    # What a user sees: the blocked check stays on the follow-up list.
    check = run(
        1, "provider.connection.check", outcome="blocked", context={"provider_connection_id": "c1"}
    )
    resolver = Resolver(
        history=MemoryRunHistory([check]),
        states={**{kind: MemoryStateSource(kind) for kind in STATE_KINDS}, KIND: source},
        registry=REGISTRY,
        catalog=CATALOG,
    )
    assert resolver.evaluate(check, as_of=AS_OF).status is Actionability.ACTIONABLE


@pytest.mark.parametrize("unplaced", [0, 1, 2], ids=["first", "middle", "last"])
def test_a_row_that_cannot_be_placed_in_time_leaves_the_object_without_fact(
    store: Store, unplaced: int
) -> None:
    rows = [row("healthy", 20), row("healthy", 30)]
    rows.insert(unplaced, row("failing", None))
    assert current(store(rows)) is None


@pytest.mark.parametrize("order", ["healthy first", "failing first"])
def test_rows_tied_at_the_newest_instant_that_disagree_are_no_fact(
    store: Store, order: str
) -> None:
    rows = [row("healthy", 20), row("failing", 20), row("failing", 5)]
    if order == "failing first":
        rows[:2] = reversed(rows[:2])
    assert current(store(rows)) is None


@pytest.mark.parametrize("order", ["b first", "a first"])
def test_rows_tied_that_agree_give_the_same_fact_whatever_their_order(
    store: Store, order: str
) -> None:
    rows = [row("healthy", 20, by="b"), row("healthy", 20, by="a", n=1)]
    if order == "a first":
        rows.reverse()
    # The attributes whose canonical JSON text sorts first win: '{"by":"a",...' < '{"by":"b"}'.
    assert current(store(rows)) == ("healthy", at(20), {"by": "a", "n": 1})


def test_stray_text_in_proven_at_leaves_the_object_without_fact(sql_table: sa.Engine) -> None:
    if sql_table.dialect.name != "sqlite":
        pytest.skip("only SQLite can store text in a timestamp column")
    with sql_table.begin() as connection:
        connection.execute(
            history.insert(),
            [
                {"workspace_id": "w1", "environment_id": "e1", "subject": "c1", **fields}
                for fields in (
                    {"status": "healthy", "proven_at": at(20), "attributes": {}},
                    {"status": "failing", "proven_at": at(30), "attributes": {}},
                )
            ],
        )
        connection.exec_driver_sql(
            "UPDATE connection_history SET proven_at = '2026-11-10T12:30:00+00:00' "
            "WHERE status = 'failing'"
        )
    assert current(SqlStateSource(sql_table, MAPPING)) is None


def test_an_infinite_proven_at_leaves_the_object_without_fact(sql_table: sa.Engine) -> None:
    if sql_table.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL stores an infinite timestamp")
    with sql_table.begin() as connection:
        connection.execute(
            history.insert(),
            {
                "workspace_id": "w1",
                "environment_id": "e1",
                "subject": "c1",
                "status": "healthy",
                "proven_at": at(20),
                "attributes": {},
            },
        )
        connection.exec_driver_sql(
            "INSERT INTO connection_history VALUES ('w1', 'e1', 'c1', 'failing', 'infinity', '{}')"
        )
    assert current(SqlStateSource(sql_table, MAPPING)) is None
