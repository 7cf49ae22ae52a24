"""Two misuses of the request API a host developer makes early, each a ``UsageError`` that says
what to do: scopes given as a plain set (a raw ``AttributeError`` before), and a session read
after its ``with`` block (an ``EvidenceFetchError`` blaming the evidence, or SQLAlchemy's raw
``ResourceClosedError``, before)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import CATALOG, REGISTRY, async_engine_of

from runactionability import AsyncActionabilityService, UsageError
from runactionability.consumers import View, VisibleScopes
from runactionability.service import ActionabilityService, EveryWorkspace, RequestSession

ACME = VisibleScopes({"acme"})
READS: dict[str, Callable[[RequestSession], object]] = {
    "dashboard": lambda s: s.dashboard(),
    "page": lambda s: s.page(View.ALL),
    "follow_up_page": lambda s: s.follow_up_page(),
    "history_page": lambda s: s.history_page(),
    "active_work": lambda s: s.active_work(),
    "explain": lambda s: s.explain(1),
    "primary_action": lambda s: s.primary_action(1),
    "changes": lambda s: s.changes(since=s.as_of - timedelta(hours=1), limit=5),
    "environments_with_runs": lambda s: s.environments_with_runs({"prod"}),
}


def service_of(engine: sa.Engine) -> ActionabilityService:
    return ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)


@pytest.mark.parametrize("scopes", [{"acme"}, "acme", ["acme"], None])
def test_scopes_that_are_not_a_scope_value_are_refused_with_the_fix(
    demo: tuple[sa.Engine, datetime], scopes: Any
) -> None:
    engine, as_of = demo
    with (
        pytest.raises(UsageError, match=r"scopes must be a VisibleScopes or an EveryWorkspace"),
        service_of(engine).session(scopes=scopes, as_of=as_of),
    ):
        pass


@pytest.mark.parametrize("name", sorted(READS))
def test_a_session_read_after_its_block_is_refused_and_says_why(
    demo: tuple[sa.Engine, datetime], name: str
) -> None:
    engine, as_of = demo
    with service_of(engine).session(scopes=ACME, as_of=as_of) as session:
        READS[name](session)  # inside the block it answers
    with pytest.raises(UsageError, match=r"has ended: read through it only inside its `with"):
        READS[name](session)


def test_the_whole_database_session_is_refused_after_its_block_too(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, as_of = demo
    with service_of(engine).session(scopes=EveryWorkspace(), as_of=as_of) as session:
        assert session.unattributed().count == 0
    with pytest.raises(UsageError, match="has ended"):
        session.unattributed()


def test_the_async_twin_refuses_the_same(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo

    async def run() -> None:
        twin_engine = async_engine_of(engine)
        try:
            twin = AsyncActionabilityService(twin_engine, registry=REGISTRY, catalog=CATALOG)
            with pytest.raises(UsageError, match="scopes must be"):
                async with twin.session(scopes={"acme"}, as_of=as_of):  # type: ignore[arg-type]
                    pass
            async with twin.session(scopes=ACME, as_of=as_of) as session:
                await session.dashboard()
            with pytest.raises(UsageError, match="has ended"):
                await session.dashboard()
        finally:
            await twin_engine.dispose()

    asyncio.run(run())
