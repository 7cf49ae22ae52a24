"""Issue 10's overhead: one request session reads what its dashboard and its follow-up page share
once. The page a request shows after its dashboard is read by the dashboard's walk and evaluated
in the dashboard's batch, so it sends no statement, and every answer is the one a session of its
own gives; nothing is shared across sessions or actors, and nothing compiles after the first."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import async_engine_of, compilations

from runactionability import ActionabilityService, AsyncActionabilityService, Registry
from runactionability.consumers import View, VisibleScopes
from runactionability.service import RequestSession
from runactionability.testing import count_statements

REGISTRY = Registry.default()
CATALOG = REGISTRY.catalog()
SCOPES = VisibleScopes({"acme", "globex"})
# The module, not a name the package exports.
REQUEST = importlib.import_module("runactionability.service.request")
ASSESS = importlib.import_module("runactionability.consumers.assess")

Ask = Callable[[RequestSession], Any]


def _alone(service: ActionabilityService, as_of: datetime, ask: Ask) -> Any:
    with service.session(scopes=SCOPES, as_of=as_of) as s:
        return s.to_json(ask(s))


def _page_after(limit: int, cursor: str | None) -> Ask:
    return lambda s: s.follow_up_page(limit=limit, cursor=cursor)


def test_the_page_after_the_dashboard_sends_no_statement(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=SCOPES, as_of=as_of) as s:
        summary = s.dashboard()
        with count_statements(engine) as counted:
            page = s.follow_up_page()
        shown = s.to_json(summary), s.to_json(page)
    assert page.items
    assert counted.statements == []
    assert shown == (
        _alone(service, as_of, lambda s: s.dashboard()),
        _alone(service, as_of, lambda s: s.follow_up_page()),
    )


@pytest.mark.parametrize("ahead", [50, 2])
def test_shared_reads_answer_as_separate_sessions(
    demo: tuple[sa.Engine, datetime], ahead: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of every size around the dashboard's and the session's shared head, in several
    # orders, with their cursors, and at several instants: each answer is the one its own
    # session gives, whether the whole follow-up list fits in the page ahead (the dashboard
    # evaluates it all) or not (the page reuses the dashboard's top runs alone).
    monkeypatch.setattr(REQUEST, "_PAGE_AHEAD", ahead)
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    for instant in (as_of, as_of - timedelta(days=1), as_of - timedelta(days=30)):
        asked: list[tuple[Ask, Any]] = []
        with service.session(scopes=SCOPES, as_of=instant) as s:
            for ask in _session_asks(s):
                asked.append((ask, s.to_json(ask(s))))
        if instant == as_of:
            assert len(asked) > 10, "the demo's follow-up list must hold several runs then"
        for ask, answer in asked:
            assert answer == _alone(service, instant, ask)


def _session_asks(s: RequestSession) -> list[Ask]:
    asks: list[Ask] = [
        lambda s: s.follow_up_page(limit=1),
        lambda s: s.dashboard(top=2),
        lambda s: s.dashboard(top=0),
        lambda s: s.follow_up_page(limit=3),
        lambda s: s.dashboard(top=60),
        lambda s: s.follow_up_page(),
        lambda s: s.follow_up_page(limit=120),
        lambda s: s.history_page(limit=5),
        lambda s: s.page(View.ALL, limit=5),
        lambda s: s.active_work(newest=3),
    ]
    cursor = s.follow_up_page(limit=1).next_cursor
    for _ in range(3):
        if cursor is None:
            break
        asks.append(_page_after(1, cursor))
        cursor = s.follow_up_page(limit=1, cursor=cursor).next_cursor
    return asks


def test_nothing_is_shared_across_sessions_or_actors(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    acme, globex = VisibleScopes({"acme"}), VisibleScopes({"globex"})
    with service.session(scopes=acme, as_of=as_of) as s:
        s.dashboard()
        with count_statements(engine) as counted:
            s.follow_up_page()
        assert counted.statements == []
    for scopes in (globex, acme):
        with service.session(scopes=scopes, as_of=as_of) as s:
            with count_statements(engine) as counted:
                page = s.to_json(s.follow_up_page())
            # A new session reads for itself, whatever another session read.
            assert counted.statements
        with service.session(scopes=scopes, as_of=as_of) as s:
            s.dashboard(top=1)
            assert s.to_json(s.follow_up_page()) == page


def test_no_statement_compiles_after_the_first_request(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)

    def request(scopes: VisibleScopes) -> None:
        with service.session(scopes=scopes, as_of=as_of) as s:
            summary = s.dashboard()
            page = s.follow_up_page()
            s.follow_up_page(limit=2, cursor=s.follow_up_page(limit=2).next_cursor)
            shown = summary.top or page.items
            s.explain(shown[0].run.id)

    with compilations() as seen:
        request(SCOPES)
        request(VisibleScopes({"acme"}))
    assert seen, "the counter must see the first requests compile"
    with compilations() as seen:
        request(VisibleScopes({"acme"}))
        request(SCOPES)
    assert seen == []


def test_the_async_twin_shares_alike(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)

    async def request() -> tuple[Any, Any, int]:
        async_engine = async_engine_of(engine)
        try:
            aio = AsyncActionabilityService(async_engine, registry=REGISTRY, catalog=CATALOG)
            async with aio.session(scopes=SCOPES, as_of=as_of) as s:
                summary = await s.dashboard()
                with count_statements(async_engine) as counted:
                    page = await s.follow_up_page()
                return s.to_json(summary), s.to_json(page), len(counted.statements)
        finally:
            await async_engine.dispose()

    summary, page, statements = asyncio.run(request())
    assert statements == 0
    assert summary == _alone(service, as_of, lambda s: s.dashboard())
    assert page == _alone(service, as_of, lambda s: s.follow_up_page())


def test_a_session_paging_everything_keeps_a_bounded_few_results(
    demo: tuple[sa.Engine, datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A session may page through a whole list (the CLI's listings): it keeps the most recent
    # results only, and its answers are those of sessions of their own.
    monkeypatch.setattr(ASSESS, "KNOWN_KEPT", 3)
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    asked: list[tuple[str | None, Any]] = []
    with service.session(scopes=SCOPES, as_of=as_of) as s:
        s.dashboard()
        cursor = None
        for _ in range(6):
            page = s.follow_up_page(limit=2, cursor=cursor)
            asked.append((cursor, s.to_json(page)))
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(s._known_results()._results) <= 3
    assert len(asked) > 2
    for after, answer in asked:
        assert answer == _alone(service, as_of, _page_after(2, after))
