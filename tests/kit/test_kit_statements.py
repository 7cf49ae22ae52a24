"""The N+1 guard: statement counters over engines and connections, sync and asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from tests.support import AS_OF, REGISTRY, sql_ports, stored_run

from runactionability import ActionabilityService
from runactionability.consumers import VisibleScopes
from runactionability.demo import Size, generate, load, read_marker
from runactionability.testing import StatementCounter, assert_max_statements, count_statements
from runactionability.testing.statements import Bind


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / 'count.sqlite'}")


def select_twice(bind: sa.Engine | sa.Connection) -> None:
    if isinstance(bind, sa.Engine):
        with bind.connect() as connection:
            select_twice(connection)
        return
    bind.execute(sa.text("SELECT 1"))
    bind.execute(sa.text("SELECT 2"))


def test_an_engine_counts_every_statement_of_its_connections(engine: sa.Engine) -> None:
    with engine.connect() as already_open, count_statements(engine) as counter:
        select_twice(engine)
        already_open.execute(sa.text("SELECT 3"))
    assert counter.count == 3
    assert counter.statements == ["SELECT 1", "SELECT 2", "SELECT 3"]
    select_twice(engine)
    assert counter.count == 3, "the counter kept listening after its block"


def test_a_connection_counts_only_its_own_statements(engine: sa.Engine) -> None:
    with (
        engine.connect() as counted,
        engine.connect() as other,
        count_statements(counted) as counter,
    ):
        select_twice(counted)
        select_twice(other)
    assert counter.count == 2


def test_an_asyncio_engine_is_counted_through_its_sync_engine(tmp_path: Path) -> None:
    async def scenario() -> int:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'async.sqlite'}")
        try:
            with count_statements(engine) as counter:
                async with engine.connect() as connection:
                    await connection.execute(sa.text("SELECT 1"))
                    with count_statements(connection) as own:
                        await connection.execute(sa.text("SELECT 2"))
            assert own.count == 1
            return counter.count
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == 2


def test_assert_max_statements_passes_at_the_limit_and_lists_them_above(
    engine: sa.Engine,
) -> None:
    with assert_max_statements(engine, 2):
        select_twice(engine)
    with pytest.raises(AssertionError) as raised, assert_max_statements(engine, 1):
        select_twice(engine)
    assert str(raised.value) == (
        "the block sent 2 SQL statements, at most 1 expected:\n  1. SELECT 1\n  2. SELECT 2"
    )


def test_the_block_s_own_error_wins_over_the_count(engine: sa.Engine) -> None:
    def fails_after_two_statements() -> None:
        select_twice(engine)
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError), assert_max_statements(engine, 0):
        fails_after_two_statements()


def test_a_bind_of_another_kind_is_refused() -> None:
    with (
        pytest.raises(TypeError, match="expected an Engine or a Connection"),
        count_statements("sqlite://"),  # type: ignore[arg-type]
    ):
        pass
    with (
        pytest.raises(ValueError, match="limit"),
        assert_max_statements(sa.create_engine("sqlite://"), -1),
    ):
        pass


def test_a_batch_of_any_size_reads_one_statement_per_evidence_kind(engine: sa.Engine) -> None:
    # The N+1 guard a host writes for its own consumer paths, here on the library's resolver.
    runs = [stored_run(i, "inventory.sync", start=i % 50) for i in range(1, 401)]
    resolver = sql_ports(engine, runs, []).resolver()
    for size in (1, 400):
        with assert_max_statements(engine, 1) as counter:
            resolver.evaluate_many(runs[:size], as_of=AS_OF)
        assert counter.count == 1


def test_the_statement_counter_fixture_counts_until_the_test_ends(
    engine: sa.Engine, statement_counter: Callable[[Bind], StatementCounter]
) -> None:
    counter = statement_counter(engine)
    select_twice(engine)
    assert counter.count == 2
    counter.assert_at_most(2)
    with pytest.raises(AssertionError, match="the dashboard sent 2 SQL statements"):
        counter.assert_at_most(1, "the dashboard")


def test_the_request_api_s_screens_read_a_bounded_number_of_statements() -> None:
    # What a host pins for its own screens: the bound holds whatever the scope and page size
    # (what varies is which evidence kinds the runs shown need, never how many runs there are).
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    load(engine, generate(Size.SMALL, catalog=REGISTRY.catalog()))
    marker = read_marker(engine)
    assert marker is not None
    service = ActionabilityService(engine, registry=REGISTRY, catalog=REGISTRY.catalog())
    pages = []
    for workspaces in ({"acme"}, {"acme", "globex"}, {"acme", "globex", "initech"}):
        scopes = VisibleScopes(workspaces)
        with service.session(scopes=scopes, as_of=marker.as_of) as session:
            with assert_max_statements(engine, 10):
                session.dashboard(top=5)
            for limit in (5, 50):
                with count_statements(engine) as page:
                    session.follow_up_page(limit=limit)
                pages.append(page.count)
    assert max(pages) <= 6, pages
