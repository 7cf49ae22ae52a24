"""The dashboard and the follow-up listing computed by the SQL pushdown equal the Python path.

On SQLite and PostgreSQL, over the demo history: with a ``store`` the helpers count and pick the
runs in the database, and the summary, the runs shown and their explanations are the same as when
every run is read and evaluated in Python, for every scope, narrow or wide.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from runactionability import Resolver
from runactionability.adapters.sqlalchemy import open_backend
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import (
    ActiveRuns,
    DashboardSummary,
    View,
    VisibleScopes,
    dashboard,
    list_assessed,
    read_runs,
)
from runactionability.demo import Size, generate, load
from runactionability.model import OperationRun, RunId, RunStatus
from runactionability.ports import RunPage, RunQuery, RunSource, StoreEvaluation

DATA = generate(Size.SMALL)
SCOPES = [
    VisibleScopes(["acme", "globex", "initech"]),
    VisibleScopes(["acme"]),
    VisibleScopes(["acme"], environment_ids=["prod"]),
    VisibleScopes(["globex"], environment_ids=["prod"], include_workspace_runs=False),
]


@pytest.fixture
def world(sql_engine: sa.Engine) -> tuple[Any, Resolver, SqlPushdown]:
    load(sql_engine, DATA)
    backend = open_backend(sql_engine)
    resolver = Resolver(history=backend.history, states=backend.states)
    return backend, resolver, SqlPushdown(sql_engine)


def _shown(summary: DashboardSummary) -> list[tuple[Any, str, str]]:
    return [
        (item.run.id, str(item.status), item.result.explanation)
        for item in (*summary.top, *summary.active.newest)
    ]


def test_the_pushdown_is_a_store_evaluation(world: tuple[Any, Resolver, SqlPushdown]) -> None:
    assert isinstance(world[2], StoreEvaluation)


@pytest.mark.parametrize("scopes", SCOPES, ids=["all", "workspace", "environment", "no-ws-runs"])
def test_dashboard_from_the_store_equals_the_python_summary(
    world: tuple[Any, Resolver, SqlPushdown], scopes: VisibleScopes
) -> None:
    backend, resolver, pushdown = world
    python = dashboard(backend.runs, resolver, scopes=scopes, as_of=DATA.as_of, top=500)
    stored = dashboard(
        backend.runs, resolver, scopes=scopes, as_of=DATA.as_of, top=500, store=pushdown
    )
    assert stored.counts == python.counts
    assert dict(stored.by_family) == dict(python.by_family)
    assert dict(stored.by_environment) == dict(python.by_environment)
    assert stored.active == python.active
    # Every run needing attention is shown (top=500), newest created first, explained alike.
    assert sorted(_shown(stored)) == sorted(_shown(python))
    created = [(item.run.created_at, item.run.id) for item in stored.top]
    assert created == sorted(created, reverse=True)
    assert all(scopes.admits_run(item.run) for item in stored.top)


def test_a_short_top_is_the_head_of_the_follow_up_list(
    world: tuple[Any, Resolver, SqlPushdown],
) -> None:
    backend, resolver, pushdown = world
    scopes = SCOPES[0]
    summary = dashboard(
        backend.runs, resolver, scopes=scopes, as_of=DATA.as_of, top=3, store=pushdown
    )
    head = pushdown.follow_up_page(scopes, as_of=DATA.as_of, limit=3)
    assert [item.run.id for item in summary.top] == [run.id for run in head.runs]
    assert summary.needs_attention > 3


@pytest.mark.parametrize("scopes", SCOPES, ids=["all", "workspace", "environment", "no-ws-runs"])
def test_follow_up_pages_from_the_store_equal_the_filtered_listing(
    world: tuple[Any, Resolver, SqlPushdown], scopes: VisibleScopes
) -> None:
    backend, resolver, pushdown = world

    def pages(store: StoreEvaluation | None) -> list[tuple[Any, str, str]]:
        shown: list[tuple[Any, str, str]] = []
        cursor = None
        while True:
            page = list_assessed(
                backend.runs,
                resolver,
                scopes=scopes,
                as_of=DATA.as_of,
                view=View.CURRENT_FOLLOW_UP,
                limit=4,
                cursor=cursor,
                store=store,
            )
            shown += [(i.run.id, str(i.status), i.result.explanation) for i in page.items]
            cursor = page.next_cursor
            if cursor is None:
                return shown

    assert pages(pushdown) == pages(None)


class _CountingSource:
    """A run source that counts the listings asked of it."""

    def __init__(self, source: RunSource) -> None:
        self.source = source
        self.listings = 0

    def list_runs(self, query: RunQuery, *, limit: int = 100, cursor: str | None = None) -> RunPage:
        self.listings += 1
        return self.source.list_runs(query, limit=limit, cursor=cursor)

    def get_run(self, run_id: RunId) -> OperationRun | None:
        return self.source.get_run(run_id)


@pytest.mark.parametrize("store", [True, False], ids=["store", "python"])
def test_active_runs_read_already_are_not_read_again(
    world: tuple[Any, Resolver, SqlPushdown], store: bool
) -> None:
    backend, resolver, pushdown = world
    scopes, as_of = SCOPES[0], DATA.as_of
    active = ActiveRuns(
        read_runs(
            backend.runs,
            scopes.query(statuses={RunStatus.QUEUED, RunStatus.RUNNING}, as_of=as_of),
        ),
        catalog=resolver.catalog,
        scopes=scopes,
    )
    assert len(active), "the demo has active work"
    counting = _CountingSource(backend.runs)
    # A window needs the active runs created before it: the Python path reads them too.
    window = None if store else DATA.as_of - timedelta(days=1)
    given = dashboard(
        counting,
        resolver,
        scopes=scopes,
        as_of=as_of,
        created_from=window,
        store=pushdown if store else None,
        active=active,
    )
    read = dashboard(
        backend.runs,
        resolver,
        scopes=scopes,
        as_of=as_of,
        created_from=window,
        store=pushdown if store else None,
    )
    assert given == read
    # With a store the dashboard lists nothing itself; in a window it lists the window only.
    assert counting.listings == (0 if store else 1)
