"""A run created after the session's ``as_of`` did not exist then: ``explain`` and
``primary_action`` say None (a host's 404, as for a missing run), sync and async, and the CLI
says what it says for a missing run; never an error that confirms the run exists."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.cli.test_cli import invoke, one_line_error
from tests.support import CATALOG, REGISTRY, async_engine_of, at, database_option, scoped_run

from runactionability import (
    ActionabilityService,
    AsyncActionabilityService,
    UsageError,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import create_schema, insert_runs
from runactionability.consumers.explain import explain

ACME = VisibleScopes({"acme"})
SYNC = "inventory.sync"


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    runs = [scoped_run(1, SYNC), scoped_run(2, SYNC, at=timedelta(minutes=30))]
    insert_runs(sql_engine, runs, catalog=CATALOG)
    return sql_engine


def test_a_run_created_after_as_of_is_none(engine: sa.Engine) -> None:
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=ACME, as_of=at(20)) as session:
        assert session.explain(2) is None
        assert session.primary_action(2) is None
        assert session.explain("2") is None
        # The run before it is explained as ever.
        told = session.explain(1)
        assert told is not None
        assert told.assessment.run.id == 1
    with service.session(scopes=ACME, as_of=at(40)) as session:
        assert session.explain(2) is not None


def test_the_async_session_says_none_too(engine: sa.Engine) -> None:
    async def told() -> tuple[object, object]:
        async_engine = async_engine_of(engine)
        try:
            service = AsyncActionabilityService(async_engine, registry=REGISTRY, catalog=CATALOG)
            async with service.session(scopes=ACME, as_of=at(20)) as session:
                return await session.explain(2), await session.primary_action(2)
        finally:
            await async_engine.dispose()

    assert asyncio.run(told()) == (None, None)


def test_the_cli_says_no_run_as_for_a_missing_one(engine: sa.Engine) -> None:
    database = database_option(engine)
    as_of = at(20).isoformat()
    later = one_line_error(invoke("explain", "2", "--database", database, "--as-of", as_of))
    missing = one_line_error(invoke("explain", "9", "--database", database, "--as-of", as_of))
    assert later == missing.replace("'9'", "'2'")
    assert "did not exist" not in later


def test_the_consumer_function_still_refuses_it(engine: sa.Engine) -> None:
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=ACME, as_of=at(20)) as session:
        run = session.backend.runs.get_run(2)
        assert run is not None
        with pytest.raises(UsageError, match="did not exist yet"):
            explain(
                session.resolver,
                run,
                scopes=ACME,
                as_of=at(20),
                active=session._active_runs(),
                state_kinds=session.backend.states,
            )
