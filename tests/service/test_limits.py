"""Every count a request asks for (a page's ``limit``, the dashboard's ``top``, active work's
``newest``, a change page's ``limit``) is an int within ``MAX_LIMIT``, checked before any
statement: a host that passes a query parameter through gets a ``UsageError``, never a raw
``OverflowError``/``TypeError`` from the driver, nor a request that reads a whole table.
The ports' adapters (the run sources, memory and SQL, and the SQL pushdown) and the consumer
helpers refuse the same counts, for a host that calls them directly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, async_engine_of

from runactionability import ActionabilityService, AsyncActionabilityService, Resolver, UsageError
from runactionability.adapters.memory import MemoryRunSource
from runactionability.adapters.sqlalchemy import SqlRunSource, create_schema, open_backend
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, current_follow_up_page
from runactionability.consumers import (
    ActiveRuns,
    View,
    VisibleScopes,
    dashboard,
    list_assessed,
    read_runs,
    summarize,
)
from runactionability.service import MAX_LIMIT, RequestSession
from runactionability.testing import count_statements

ACME = VisibleScopes({"acme"})
SINCE = AS_OF - timedelta(hours=1)
# Each a count no request may ask for: out of range, too big for a bound parameter, or no int.
NOT_A_LIMIT: list[Any] = [-1, MAX_LIMIT + 1, 10**9, 2**63, "5", True, 5.0, None]

Ask = Callable[[RequestSession, Any], object]
ASKS: dict[str, tuple[Ask, int]] = {
    # name: (the call, the least count it takes)
    "page": (lambda s, n: s.page(View.ALL, limit=n), 1),
    "follow_up_page": (lambda s, n: s.follow_up_page(limit=n), 1),
    "history_page": (lambda s, n: s.history_page(limit=n), 1),
    "changes": (lambda s, n: s.changes(since=SINCE, limit=n), 1),
    "dashboard": (lambda s, n: s.dashboard(top=n), 0),
    "active_work": (lambda s, n: s.active_work(newest=n), 0),
}


@pytest.fixture
def service(sql_engine: sa.Engine) -> ActionabilityService:
    create_schema(sql_engine)
    return ActionabilityService(sql_engine, registry=REGISTRY, catalog=CATALOG)


def test_the_bound_is_public_and_documented() -> None:
    import runactionability.service

    assert runactionability.service.MAX_LIMIT == 10_000
    assert "MAX_LIMIT" in runactionability.service.__all__


@pytest.mark.parametrize("name", sorted(ASKS))
def test_a_count_out_of_range_or_of_another_type_is_refused_before_any_statement(
    service: ActionabilityService, name: str
) -> None:
    ask, least = ASKS[name]
    with service.session(scopes=ACME, as_of=AS_OF) as session:
        for count in [least - 1, *NOT_A_LIMIT]:
            with count_statements(service.bind) as seen, pytest.raises(UsageError) as raised:
                ask(session, count)
            assert seen.statements == [], (name, count)
            message = str(raised.value)
            assert f"from {least} to {MAX_LIMIT}" in message, message
        # The bounds themselves are taken.
        ask(session, least)
        ask(session, MAX_LIMIT)


def test_a_huge_text_is_not_copied_into_the_error(service: ActionabilityService) -> None:
    with (
        service.session(scopes=ACME, as_of=AS_OF) as session,
        pytest.raises(UsageError) as raised,
    ):
        session.follow_up_page(limit="9" * 1_000_000)  # type: ignore[arg-type]
    assert len(str(raised.value)) < 200


def test_a_poll_checks_its_limit_before_any_statement(service: ActionabilityService) -> None:
    for count in [0, *NOT_A_LIMIT]:
        with count_statements(service.bind) as seen, pytest.raises(UsageError):
            service.poll_changes(ACME, since=SINCE, now=AS_OF, limit=count)
        assert seen.statements == [], count
    assert service.poll_changes(ACME, since=SINCE, now=AS_OF, limit=MAX_LIMIT).changes == ()


def test_the_async_twin_refuses_the_same_counts(service: ActionabilityService) -> None:
    async def run() -> list[str]:
        engine = async_engine_of(service.bind)  # type: ignore[arg-type]
        refused: list[str] = []
        try:
            twin = AsyncActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
            async with twin.session(scopes=ACME, as_of=AS_OF) as s:
                counts: tuple[Any, ...] = (0, MAX_LIMIT + 1, "5")
                for count in counts:
                    for call in (
                        s.page(View.ALL, limit=count),
                        s.follow_up_page(limit=count),
                        s.history_page(limit=count),
                        s.changes(since=SINCE, limit=count),
                        s.dashboard(top=-1 if count == 0 else count),
                        s.active_work(newest=-1 if count == 0 else count),
                    ):
                        with pytest.raises(UsageError) as raised:
                            await call
                        refused.append(str(raised.value))
            with pytest.raises(UsageError):
                await twin.poll_changes(ACME, since=SINCE, now=AS_OF, limit=MAX_LIMIT + 1)
        finally:
            await engine.dispose()
        return refused

    assert len(asyncio.run(run())) == 18


def _refused(bind: sa.Engine, least: int, ask: Callable[[Any], object]) -> None:
    """``ask`` refuses every count below ``least`` or outside the bound before any statement."""
    for count in [least - 1, *NOT_A_LIMIT]:
        with count_statements(bind) as seen, pytest.raises(UsageError) as raised:
            ask(count)
        assert seen.statements == [], count
        assert f"from {least} to {MAX_LIMIT}" in str(raised.value)


def test_the_ports_refuse_what_the_request_api_refuses(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    pushdown = SqlPushdown(sql_engine)
    sql, memory = SqlRunSource(sql_engine), MemoryRunSource()
    asks: list[Callable[[Any], object]] = [
        lambda n: pushdown.follow_up_page(ACME, as_of=AS_OF, limit=n),
        lambda n: current_follow_up_page(sql_engine, ACME, as_of=AS_OF, limit=n),
        lambda n: sql.list_runs(ACME.query(), limit=n),
        lambda n: memory.list_runs(ACME.query(), limit=n),
    ]
    for ask in asks:
        _refused(sql_engine, 1, ask)
    # The memory source and the SQL one agree: both take the bounds themselves.
    for count in (1, MAX_LIMIT):
        assert pushdown.follow_up_page(ACME, as_of=AS_OF, limit=count).runs == ()
        assert sql.list_runs(ACME.query(), limit=count) == memory.list_runs(
            ACME.query(), limit=count
        )


def test_the_consumer_helpers_refuse_the_same_counts(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    backend = open_backend(sql_engine)
    resolver = Resolver(history=backend.history, states=backend.states, catalog=CATALOG)
    source, store = backend.runs, SqlPushdown(sql_engine)
    asks: dict[int, list[Callable[[Any], object]]] = {
        0: [
            lambda n: dashboard(source, resolver, scopes=ACME, as_of=AS_OF, top=n),
            lambda n: dashboard(source, resolver, scopes=ACME, as_of=AS_OF, top=n, store=store),
            lambda n: summarize([], scopes=ACME, as_of=AS_OF, top=n),
        ],
        1: [
            lambda n: list_assessed(source, resolver, scopes=ACME, as_of=AS_OF, limit=n),
            lambda n: list_assessed(
                source,
                resolver,
                scopes=ACME,
                as_of=AS_OF,
                view=View.CURRENT_FOLLOW_UP,
                limit=n,
                store=store,
            ),
            lambda n: read_runs(source, ACME.query(), page_size=n),
            lambda n: ActiveRuns.from_source(source, catalog=CATALOG, scopes=ACME, page_size=n),
        ],
    }
    for least, calls in asks.items():
        for ask in calls:
            _refused(sql_engine, least, ask)
            ask(MAX_LIMIT)
