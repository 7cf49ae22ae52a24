"""Issue 10's last item: a request reads nothing twice. Explaining a run the request's own answers
showed reuses their assessment (same snapshot, ``as_of``, scopes and active runs), so it sends
no statement, and the explanation is the one a request that showed nothing reads."""

from __future__ import annotations

import asyncio
import importlib
from datetime import datetime

import pytest
import sqlalchemy as sa
from tests.support import async_engine_of

from runactionability import ActionabilityService, AsyncActionabilityService, Registry
from runactionability.consumers import Explanation, VisibleScopes
from runactionability.errors import UsageError
from runactionability.model import RunId
from runactionability.testing import count_statements

REGISTRY = Registry.default()
CATALOG = REGISTRY.catalog()
SCOPES = VisibleScopes({"acme", "globex"})
# The module, not the package's ``explain`` function of the same name.
EXPLAIN = importlib.import_module("runactionability.consumers.explain")


def _read_alone(
    service: ActionabilityService, as_of: datetime, ids: list[RunId]
) -> dict[RunId, Explanation | None]:
    # Each in a session that showed nothing, so each is read from the database.
    told = {}
    for run_id in ids:
        with service.session(scopes=SCOPES, as_of=as_of) as s:
            told[run_id] = s.explain(run_id)
    return told


def test_explaining_a_shown_run_reads_nothing(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=SCOPES, as_of=as_of) as s:
        summary = s.dashboard(top=5)
        follow = s.follow_up_page(limit=4)
        history = s.history_page(limit=4)
        work = s.active_work(newest=3)
        shown = [
            item.run.id
            for item in (*summary.top, *summary.active.newest, *follow.items, *history.items)
        ] + [item.run.id for item in work.newest]
        assert summary.top
        assert summary.active.newest
        assert follow.items
        assert history.items
        with count_statements(engine) as counted:
            told = {run_id: s.explain(run_id) for run_id in shown}
            actions = {run_id: s.primary_action(run_id) for run_id in shown}
    assert counted.statements == []
    assert told == _read_alone(service, as_of, shown)
    assert actions == {run_id: e and e.assessment.primary_action for run_id, e in told.items()}


def test_other_ids_are_read_as_before(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=SCOPES, as_of=as_of) as s:
        shown = s.dashboard(top=3).top
        run_id = shown[0].run.id
        assert isinstance(run_id, int)
        # The same id as text is read (the integer column takes its decimal form), a bool is
        # refused, and a run the request did not show is read: each as without the reuse.
        with count_statements(engine) as counted:
            as_text = s.explain(str(run_id))
        assert counted.statements
        assert as_text == s.explain(run_id)
        with pytest.raises(UsageError):
            s.explain(True)
        with count_statements(engine) as counted:
            assert s.explain(-1) is None
        assert counted.statements


def test_the_async_twin_reuses_alike(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)

    async def request() -> tuple[list[RunId], list[Explanation | None], int]:
        async_engine = async_engine_of(engine)
        try:
            aio = AsyncActionabilityService(async_engine, registry=REGISTRY, catalog=CATALOG)
            async with aio.session(scopes=SCOPES, as_of=as_of) as s:
                summary = await s.dashboard(top=4)
                page = await s.follow_up_page(limit=3)
                ids = [item.run.id for item in (*summary.top, *page.items)]
                with count_statements(async_engine) as counted:
                    told = [await s.explain(run_id) for run_id in ids]
            return ids, told, len(counted.statements)
        finally:
            await async_engine.dispose()

    ids, told, statements = asyncio.run(request())
    assert ids
    assert statements == 0
    alone = _read_alone(service, as_of, ids)
    assert told == [alone[run_id] for run_id in ids]


def test_a_session_paging_everything_keeps_a_bounded_few(
    demo: tuple[sa.Engine, datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A session may page through a whole history (the CLI's listings): it keeps only the last
    # few assessments shown, and explains an earlier run by reading it, alike.
    monkeypatch.setattr(EXPLAIN, "SHOWN_KEPT", 3)
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=SCOPES, as_of=as_of) as s:
        first = s.history_page(limit=4)
        later = s.history_page(limit=2, cursor=first.next_cursor)
        kept = s._shown._by_id
        assert [key[1] for key in kept] == [
            first.items[-1].run.id,
            *(i.run.id for i in later.items),
        ]
        with count_statements(engine) as counted:
            early = s.explain(first.items[0].run.id)
        assert counted.statements
        with count_statements(engine) as counted:
            recent = s.explain(later.items[-1].run.id)
        assert counted.statements == []
    assert [early, recent] == list(
        _read_alone(service, as_of, [first.items[0].run.id, later.items[-1].run.id]).values()
    )
