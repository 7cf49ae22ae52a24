"""Issue 10, item 3: one request API. A long-lived ``ActionabilityService`` answers every request
from one snapshot, exactly as the consumers do, and compiles no statement after the first."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import attrs
import pytest
import sqlalchemy as sa
from tests.support import compilations, statements_built

from runactionability import ActionabilityService, EveryWorkspace, Registry, Resolver
from runactionability.adapters.sqlalchemy import open_backend
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import (
    ActiveRuns,
    View,
    VisibleScopes,
    dashboard,
    explain,
    list_assessed,
)
from runactionability.errors import UsageError
from runactionability.result import Actionability
from runactionability.service.every import workspace_names
from runactionability.testing import count_statements

REGISTRY = Registry.default()
CATALOG = REGISTRY.catalog()


def _every_request(service: ActionabilityService, scopes: VisibleScopes, as_of: datetime) -> None:
    with service.session(scopes=scopes, as_of=as_of) as s:
        summary = s.dashboard(top=5)
        follow = s.follow_up_page(limit=1)
        assert follow.next_cursor is not None
        s.follow_up_page(limit=1, cursor=follow.next_cursor)
        s.history_page(limit=3)
        s.active_work()
        run_id = summary.top[0].run.id
        assert s.explain(run_id) is not None
        s.primary_action(run_id)


def test_a_second_session_compiles_nothing(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    first = VisibleScopes({"acme"})
    second = VisibleScopes({"globex"})
    # The first requests compile each statement once: the pushdown's, and the evidence lookups'
    # variants for the request shapes a scope's runs need (at most fifteen per port).
    with compilations() as seen:
        _every_request(service, first, as_of)
        _every_request(service, second, as_of)
    assert seen, "the counter must see the first requests compile"
    with compilations() as seen:
        _every_request(service, second, as_of)
        _every_request(service, first, as_of)
    assert seen == []


def test_a_second_session_builds_no_statement(demo: tuple[sa.Engine, datetime]) -> None:
    # Compiling nothing is not enough: building a statement's expression and its cache key
    # cost more than many of the statements. Every statement of a request is built once per
    # shape (the scopes' ids, as_of and the cursor are parameters) and kept; the evidence
    # lookups' variants depend on the runs a scope holds, so both scopes are seen first.
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    first = VisibleScopes({"acme"})
    second = VisibleScopes({"globex"})
    with statements_built() as seen:
        _every_request(service, first, as_of)
        _every_request(service, second, as_of)
    assert seen, "the counter must see the first requests build their statements"
    with statements_built() as seen:
        _every_request(service, second, as_of)
        _every_request(service, first, as_of)
    assert seen == []


def test_the_counter_sees_a_pushdown_built_per_request(demo: tuple[sa.Engine, datetime]) -> None:
    # The pattern the service replaces: a new pushdown per request recompiles its statements.
    engine, as_of = demo
    scopes = VisibleScopes({"acme"})

    def old_request() -> None:
        with open_backend(engine, catalog=CATALOG).snapshot() as backend:
            pushdown = SqlPushdown(
                backend.history.bind,
                runs=backend.runs.mapping,
                states={kind: source.mapping for kind, source in backend.states.items()},
                registry=REGISTRY,
                catalog=CATALOG,
            )
            resolver = Resolver(
                history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
            )
            dashboard(backend.runs, resolver, scopes=scopes, as_of=as_of, store=pushdown)

    old_request()
    with compilations() as seen:
        old_request()
    assert seen


def test_answers_equal_the_consumers_on_one_snapshot(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    scopes = VisibleScopes({"acme", "globex"})
    backend = open_backend(engine, catalog=CATALOG)
    resolver = Resolver(
        history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
    )
    store = SqlPushdown(engine, registry=REGISTRY, catalog=CATALOG)
    expected = dashboard(backend.runs, resolver, scopes=scopes, as_of=as_of, top=7, store=store)
    pages = {
        view: list_assessed(
            backend.runs, resolver, scopes=scopes, as_of=as_of, view=view, limit=9, store=store
        )
        for view in (View.CURRENT_FOLLOW_UP, View.HISTORY)
    }
    active = ActiveRuns.from_source(backend.runs, catalog=CATALOG, scopes=scopes, as_of=as_of)
    run = expected.top[0].run
    told = explain(
        resolver, run, scopes=scopes, as_of=as_of, active=active, state_kinds=backend.states
    )
    with service.session(scopes=scopes, as_of=as_of) as s:
        assert s.dashboard(top=7) == expected
        assert s.follow_up_page(9) == pages[View.CURRENT_FOLLOW_UP]
        assert s.history_page(9) == pages[View.HISTORY]
        assert s.active_work(newest=10) == expected.active
        assert s.explain(run.id) == told
        assert s.primary_action(run.id) == told.assessment.primary_action
    assert expected.counts.by_status[Actionability.ACTIONABLE] > 0


def test_a_run_outside_the_scopes_reads_as_missing(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=VisibleScopes({"globex"}), as_of=as_of) as s:
        hidden = None
        with service.session(scopes=VisibleScopes({"acme"}), as_of=as_of) as other:
            hidden = other.dashboard(top=1).top[0].run.id
        assert s.explain(hidden) is None
        assert s.primary_action(hidden) is None
        assert s.explain("no-such-run") is None
        assert s.primary_action("no-such-run") is None


def test_every_workspace_reads_the_scopes_in_the_snapshot(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=EveryWorkspace(), as_of=as_of) as s:
        # Every workspace, read without listing them; a screen may still name them.
        assert s.scopes == VisibleScopes.every_workspace()
        assert set(workspace_names(s.backend)) >= {"acme", "globex"}


def test_every_workspace_reads_environments_as_visible_scopes_do(
    demo: tuple[sa.Engine, datetime],
) -> None:
    # An operator with no environment rights sees workspace-owned runs only, never every
    # environment; one string names one environment, not its letters.
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=EveryWorkspace(), as_of=as_of) as s:
        everything = workspace_names(s.backend)
    for environments, expected in (([], frozenset()), ("prod", frozenset({"prod"}))):
        named = VisibleScopes(everything, environment_ids=environments)
        assert named.environment_ids == expected
        with service.session(scopes=named, as_of=as_of) as s:
            wanted = (s.dashboard(top=5), s.follow_up_page(limit=10))
        every = EveryWorkspace(environment_ids=environments)
        with service.session(scopes=every, as_of=as_of) as s:
            assert s.scopes == VisibleScopes.every_workspace(environment_ids=environments)
            summary = attrs.evolve(s.dashboard(top=5), scopes=named)
            assert (summary, s.follow_up_page(limit=10)) == wanted
    with service.session(scopes=EveryWorkspace(), as_of=as_of) as s:
        assert s.dashboard().counts.total > wanted[0].counts.total


OUT_OF_UTC = datetime.fromisoformat("9999-12-31T23:59:59-05:00")


@pytest.mark.parametrize("as_of", [datetime(2026, 11, 20, 12), "2026-11-20", 0, OUT_OF_UTC])
def test_a_bad_as_of_is_refused_before_any_statement(
    demo: tuple[sa.Engine, datetime], as_of: object
) -> None:
    engine, _ = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    scopes = VisibleScopes({"acme"})
    with (
        count_statements(engine) as statements,
        pytest.raises(UsageError, match=r"as_of (must|falls outside)"),
        service.session(scopes=scopes, as_of=as_of),  # type: ignore[arg-type]
    ):
        pass
    assert statements.count == 0


def test_one_service_serves_threads_alike(demo: tuple[sa.Engine, datetime]) -> None:
    # Sessions opened at once from one cold service fill its caches once and answer alike.
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    scopes = VisibleScopes({"acme", "globex"})

    def request(_: int) -> object:
        with service.session(scopes=scopes, as_of=as_of) as s:
            return (s.dashboard(top=5), s.follow_up_page(4))

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(request, range(8)))
    assert all(answer == answers[0] for answer in answers)
