"""The request API over every zoo host: each screen a host serves (dashboard, follow-up and
history pages, active work, one run's explanation and primary action) equals, in its JSON form,
what the consumers compute over the memory adapter for the same history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, at
from tests.zoo.canon import Host, Seeded, assert_same_listing, canonical_history, seed

from runactionability import ActionabilityService, Resolver, RunStatus
from runactionability.consumers import (
    ActiveRuns,
    AssessedPage,
    View,
    assess,
    dashboard,
    explain,
    list_assessed,
    read_runs,
    summarize,
)
from runactionability.jsonforms import to_json


@pytest.fixture
def seeded(zoo: tuple[Host, sa.Engine]) -> Seeded:
    runs, facts = canonical_history()
    return seed(*zoo, runs, facts)


def _service(seeded: Seeded) -> ActionabilityService:
    return ActionabilityService(
        seeded.engine,
        runs=seeded.mapped.runs,
        states=seeded.mapped.states,
        registry=REGISTRY,
        catalog=CATALOG,
    )


def _resolver(seeded: Seeded) -> Resolver:
    memory = seeded.memory()
    return Resolver(
        history=memory.history, states=memory.states, registry=REGISTRY, catalog=CATALOG
    )


def _pages(read: Callable[[str | None], AssessedPage]) -> list[Any]:
    """Every page's runs in their JSON form (cursors are each store's own, so not compared)."""
    runs: list[Any] = []
    cursor = None
    while True:
        page = read(cursor)
        runs += to_json(page)["runs"]
        cursor = page.next_cursor
        if cursor is None:
            return runs


@pytest.mark.parametrize("as_of", [at(35), AS_OF], ids=lambda value: value.isoformat())
def test_every_screen_equals_memory(seeded: Seeded, as_of: datetime) -> None:
    scopes = seeded.scopes()
    memory = seeded.memory()
    resolver = _resolver(seeded)
    service = _service(seeded)
    with service.session(scopes=scopes, as_of=as_of) as session:
        expected = to_json(dashboard(memory.runs, resolver, scopes=scopes, as_of=as_of, top=50))
        board = to_json(session.dashboard(top=50))
        assert_same_listing(seeded.runs, board.pop("top"), expected.pop("top"))
        assert board == expected
        for view, read in (
            (View.CURRENT_FOLLOW_UP, session.follow_up_page),
            (View.HISTORY, session.history_page),
        ):

            def memory_page(cursor: str | None, view: View = view) -> AssessedPage:
                return list_assessed(
                    memory.runs,
                    resolver,
                    scopes=scopes,
                    as_of=as_of,
                    view=view,
                    limit=3,
                    cursor=cursor,
                )

            def sql_page(cursor: str | None, read: Any = read) -> AssessedPage:
                return read(limit=3, cursor=cursor)  # type: ignore[no-any-return]

            assert_same_listing(seeded.runs, _pages(sql_page), _pages(memory_page))
        active_runs = read_runs(
            memory.runs,
            scopes.query(statuses={RunStatus.QUEUED, RunStatus.RUNNING}, as_of=as_of),
        )
        active = ActiveRuns(active_runs, catalog=CATALOG, scopes=scopes)
        items = assess(resolver, active_runs, scopes=scopes, as_of=as_of, active=active)
        expected_work = summarize(items, scopes=scopes, as_of=as_of, top=10).active
        assert to_json(session.active_work()) == to_json(expected_work)
        assert expected_work.total or as_of < at(90), "the canonical history holds active work"


def test_explanations_and_actions_equal_memory(seeded: Seeded) -> None:
    scopes = seeded.scopes()
    memory = seeded.memory()
    resolver = _resolver(seeded)
    active = ActiveRuns.from_source(memory.runs, catalog=CATALOG, scopes=scopes, as_of=AS_OF)
    with _service(seeded).session(scopes=scopes, as_of=AS_OF) as session:
        explained = 0
        for run in seeded.runs:
            told = session.explain(run.id)
            if not scopes.admits_run(run):
                assert told is None
                continue
            expected = explain(
                resolver, run, scopes=scopes, as_of=AS_OF, active=active, state_kinds=memory.states
            )
            assert told is not None
            assert to_json(told) == to_json(expected), run.id
            assert session.primary_action(run.id) == expected.assessment.primary_action
            explained += 1
        assert explained > len(seeded.runs) // 2
