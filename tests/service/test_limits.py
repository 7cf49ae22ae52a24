"""Every count a request asks for (a page's ``limit``, the dashboard's ``top``, active work's
``newest``, a change page's ``limit``) is an int within ``MAX_LIMIT``, checked before any
statement: a host that passes a query parameter through gets a ``UsageError``, never a raw
``OverflowError``/``TypeError`` from the driver, nor a request that reads a whole table."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, async_engine_of

from runactionability import ActionabilityService, AsyncActionabilityService, UsageError
from runactionability.adapters.sqlalchemy import create_schema
from runactionability.consumers import View, VisibleScopes
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
