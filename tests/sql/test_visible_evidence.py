"""Issue 8, finding 4: for an actor, evidence outside their visible scopes does not exist.

A workspace-owned type is scoped by workspace alone, so the success that settles a failure may be
recorded in an environment the actor cannot see. For that actor the run keeps the status it has
without the hidden run, exactly as if it were not stored: in memory, through the SQL ports, in the
pushdown's counts and pages, in the dashboard and in the CLI.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tests.support import (
    AS_OF,
    CATALOG,
    REGISTRY,
    AsyncHistory,
    AsyncSource,
    Loader,
    Ports,
    database_option,
    memory_ports,
    sql_ports,
)
from tests.support import stored_fact as fact
from tests.support import stored_run as run

from runactionability import (
    Actionability,
    AsyncResolver,
    OperationRun,
    Resolver,
    RunFact,
    RunQuery,
    StateFact,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource, MemoryStateSource
from runactionability.adapters.sqlalchemy import STATE_KINDS
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.cli import cli
from runactionability.consumers import (
    View,
    VisibleScopes,
    assess,
    assess_results,
    dashboard,
    list_assessed,
)
from runactionability.consumers.active_runs import ActiveRuns
from runactionability.errors import UsageError

PACK = "review_pack.generate"
NARROW = VisibleScopes({"w1"}, environment_ids={"e1"})
NO_WORKSPACE_RUNS = VisibleScopes({"w1"}, environment_ids={"e1"}, include_workspace_runs=False)
WIDE = VisibleScopes({"w1"})


def pack(run_id: int, env: str | None, **fields: Any) -> OperationRun:
    return run(run_id, PACK, environment_id=env, context={"review_pack_id": 4}, **fields)


FAILED = pack(1, None, start=0, end=1)
HIDDEN_SUCCESS = pack(2, "secret", outcome="succeeded", start=30, end=31)
VISIBLE_SUCCESS = pack(3, "e1", outcome="succeeded", start=10, end=11)
UNSCOPED_SUCCESS = pack(4, None, outcome="succeeded", start=20, end=21)
# A second problem run visible to the narrow actor, so pages and counts have more than one row.
OTHER = run(5, "inventory.sync", start=2, end=3)


def statuses(ports: Ports, runs: list[OperationRun], scopes: VisibleScopes) -> dict[Any, Any]:
    results = ports.resolver().evaluate_many(runs, as_of=AS_OF, scopes=scopes)
    return {
        r.run_id: (r.status, None if r.proof is None else cast(RunFact, r.proof).run_id)
        for r in results
    }


def test_a_hidden_success_is_no_evidence_on_every_port(load: Loader) -> None:
    runs = [FAILED, HIDDEN_SUCCESS]
    assert statuses(load(runs, []), runs, NARROW)[1] == (Actionability.ACTIONABLE, None)


def test_without_scopes_or_for_an_actor_who_sees_it_the_success_settles_the_run(
    load: Loader,
) -> None:
    runs = [FAILED, HIDDEN_SUCCESS]
    ports = load(runs, [])
    plain = ports.resolver().evaluate_many(runs, as_of=AS_OF)
    wide = ports.resolver().evaluate_many(runs, as_of=AS_OF, scopes=WIDE)
    assert plain == wide
    assert wide[0].status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert wide[0].proof is not None
    assert isinstance(wide[0].proof, RunFact)
    assert wide[0].proof.run_id == 2


def test_an_older_visible_success_answers_when_the_newest_is_hidden(load: Loader) -> None:
    # The history is asked for visible runs only: the newest success (hidden) must not shadow an
    # older one the actor sees, in an environment or with none.
    runs = [FAILED, HIDDEN_SUCCESS, VISIBLE_SUCCESS, UNSCOPED_SUCCESS]
    ports = load(runs, [])
    narrow = statuses(ports, runs, NARROW)
    assert narrow[1] == (Actionability.SUPERSEDED_BY_LATER_SUCCESS, 4)
    strict = statuses(ports, runs, NO_WORKSPACE_RUNS)
    # A workspace-owned run with no environment is itself hidden from this actor, but the
    # resolver answers for every run it is given: its evidence is still confined.
    assert strict[1] == (Actionability.SUPERSEDED_BY_LATER_SUCCESS, 3)
    assert statuses(ports, runs, WIDE)[1] == (Actionability.SUPERSEDED_BY_LATER_SUCCESS, 2)


def test_a_hidden_state_is_no_evidence(load: Loader) -> None:
    # A workspace-owned type's state has no environment: an actor who sees no workspace runs
    # cannot see it, even for a failure recorded in an environment they see.
    failed = pack(1, "e1", start=0, end=1)
    published = fact("review_pack", "4", "published", 5, environment_id=None)
    ports = load([failed], [published])
    seen = ports.resolver().evaluate(failed, as_of=AS_OF)
    assert seen.status is Actionability.RESOLVED_BY_CURRENT_STATE
    hidden = ports.resolver().evaluate_many([failed], as_of=AS_OF, scopes=NO_WORKSPACE_RUNS)
    assert hidden[0].status is Actionability.ACTIONABLE
    assert hidden[0].proof is None


def test_consumers_say_nothing_about_the_hidden_run(load: Loader) -> None:
    runs = [FAILED, HIDDEN_SUCCESS, OTHER]
    ports = load(runs, [])
    alone = memory_ports([FAILED, OTHER], [])
    resolver = ports.resolver()
    items = {i.run_id: i for i in assess(resolver, runs, scopes=NARROW, as_of=AS_OF)}
    expected = {i.run_id: i for i in assess(alone.resolver(), runs, scopes=NARROW, as_of=AS_OF)}
    assert items.keys() == {1, 5}
    assert items[1].result == expected[1].result
    assert items[1].primary_action == expected[1].primary_action
    assert items[1].needs_attention
    assert "visible" not in items[1].result.explanation
    summary = dashboard(ports.runs, resolver, scopes=NARROW, as_of=AS_OF)
    assert summary.needs_attention == 2
    assert [item.run_id for item in summary.top] == [5, 1]
    page = list_assessed(
        ports.runs, resolver, scopes=NARROW, as_of=AS_OF, view=View.CURRENT_FOLLOW_UP
    )
    assert [item.run_id for item in page.items] == [5, 1]


def test_assess_results_refuses_a_result_evaluated_for_someone_else(load: Loader) -> None:
    runs = [FAILED, HIDDEN_SUCCESS]
    ports = load(runs, [])
    resolver = ports.resolver()
    results = resolver.evaluate_many(runs, as_of=AS_OF)
    active = ActiveRuns([], catalog=CATALOG, scopes=NARROW)
    with pytest.raises(UsageError, match="not evaluated for these visible scopes") as raised:
        assess_results(runs, results, scopes=NARROW, registry=REGISTRY, active=active)
    assert "2" not in str(raised.value).replace("run 1", "")
    visible = resolver.evaluate_many(runs, as_of=AS_OF, scopes=NARROW)
    items = assess_results(runs, visible, scopes=NARROW, registry=REGISTRY, active=active)
    assert [item.status for item in items] == [Actionability.ACTIONABLE]


@pytest.mark.parametrize("form", list(SupersedeForm))
def test_the_pushdown_counts_and_pages_as_if_the_hidden_run_did_not_exist(
    sql_engine: sa.Engine, form: SupersedeForm
) -> None:
    runs = [FAILED, HIDDEN_SUCCESS, OTHER]
    ports = sql_ports(sql_engine, runs, [])
    pushdown = SqlPushdown(sql_engine, registry=REGISTRY, catalog=CATALOG, form=form)
    for scopes, attention in ((NARROW, 2), (WIDE, 1)):
        counts = pushdown.count(scopes, as_of=AS_OF)
        assert counts.needs_attention == attention
        python = dashboard(ports.runs, ports.resolver(), scopes=scopes, as_of=AS_OF)
        assert counts.counts == python.counts
        stored = dashboard(ports.runs, ports.resolver(), scopes=scopes, as_of=AS_OF, store=pushdown)
        assert stored.counts == python.counts
        assert [i.result for i in stored.top] == [i.result for i in python.top]
        page = pushdown.follow_up_page(scopes, as_of=AS_OF)
        assert [run.id for run in page.runs] == [item.run_id for item in python.top]
    assert pushdown.classify(NARROW, as_of=AS_OF)[1] is Actionability.ACTIONABLE
    assert pushdown.classify(WIDE, as_of=AS_OF)[1] is Actionability.SUPERSEDED_BY_LATER_SUCCESS


@pytest.mark.parametrize("form", list(SupersedeForm))
def test_the_pushdown_takes_an_older_visible_success_and_ignores_hidden_states(
    sql_engine: sa.Engine, form: SupersedeForm
) -> None:
    runs = [FAILED, HIDDEN_SUCCESS, VISIBLE_SUCCESS, pack(6, "e1", start=40, end=41)]
    states: list[StateFact] = [fact("review_pack", "4", "published", 50, environment_id=None)]
    ports = sql_ports(sql_engine, runs, states)
    pushdown = SqlPushdown(sql_engine, registry=REGISTRY, catalog=CATALOG, form=form)
    for scopes in (NARROW, NO_WORKSPACE_RUNS, WIDE):
        python = ports.resolver().evaluate_many(runs, as_of=AS_OF, scopes=scopes)
        classified = pushdown.classify(scopes, as_of=AS_OF)
        visible = {
            r.run_id: r.status for r, x in zip(python, runs, strict=True) if scopes.admits_run(x)
        }
        assert classified == visible, scopes
    # run 6 (in e1, after every success) is settled by the published pack only when it is visible
    assert pushdown.classify(NARROW, as_of=AS_OF)[6] is Actionability.RESOLVED_BY_CURRENT_STATE
    assert pushdown.classify(NO_WORKSPACE_RUNS, as_of=AS_OF)[6] is Actionability.ACTIONABLE


def memory_resolver(runs: list[OperationRun]) -> Resolver:
    states = {kind: MemoryStateSource(kind) for kind in STATE_KINDS}
    return Resolver(
        history=MemoryRunHistory(runs), states=states, registry=REGISTRY, catalog=CATALOG
    )


def test_a_source_that_returns_hidden_runs_never_has_them_counted() -> None:
    # ``scanned`` and ``on_scan`` count only what the actor may see, and a query with an empty
    # environment set never widens the read.
    hidden = run(7, "inventory.sync", environment_id="secret", start=4, end=5)

    class Leaky(MemoryRunSource):
        def list_runs(self, query: RunQuery, *, limit: int = 100, cursor: str | None = None) -> Any:
            wider = attrs.evolve(query, environment_ids=None)
            return super().list_runs(wider, limit=limit, cursor=cursor)

    runs = [OTHER, hidden]
    resolver = memory_resolver(runs)
    heard: list[int] = []
    page = list_assessed(
        Leaky(runs), resolver, scopes=NARROW, as_of=AS_OF, on_scan=heard.append, limit=10
    )
    assert [item.run_id for item in page.items] == [5]
    assert page.scanned == 1
    assert sum(heard) == 1


def test_an_empty_environment_set_with_a_query_shows_nothing() -> None:
    runs = [OTHER, run(7, "inventory.sync", environment_id="secret", start=4, end=5)]
    resolver = memory_resolver(runs)
    nothing = VisibleScopes({"w1"}, environment_ids=set(), include_workspace_runs=False)
    page = list_assessed(
        MemoryRunSource(runs),
        resolver,
        scopes=nothing,
        as_of=AS_OF,
        query=RunQuery(workspace_ids={"w1"}, environment_ids={"secret", "e1"}),
    )
    assert page.items == ()
    assert page.scanned == 0


@pytest.fixture
def cli_database(sql_engine: sa.Engine, tmp_path: Path) -> str:
    sql_ports(sql_engine, [FAILED, HIDDEN_SUCCESS, OTHER], [])
    return database_option(sql_engine)


def test_the_cli_report_agrees(cli_database: str) -> None:
    def report(*scope: str) -> Any:
        result = CliRunner().invoke(
            cli,
            ["report", "--database", cli_database, "--as-of", AS_OF.isoformat(), *scope, "--json"],
        )
        assert result.exit_code == 0, result.output + result.stderr
        return json.loads(result.stdout)

    narrow = report("--workspace", "w1", "--environment", "e1")
    assert narrow["needs_attention"] == 2
    assert [item["run_id"] for item in narrow["top"]] == [5, 1]
    assert "visible" not in narrow["top"][1]["explanation"]
    assert narrow["top"][1]["proof"] is None
    assert "secret" not in json.dumps(narrow)
    wide = report("--workspace", "w1")
    assert wide["needs_attention"] == 1


class _IgnoresVisibility(MemoryRunHistory):
    """A host history written before visible environments existed: it answers without them."""

    def latest_successes(self, requests: Any, *, as_of: datetime) -> Any:
        plain = {attrs.evolve(r, visible_environment_ids=None): r for r in requests}
        answer = super().latest_successes(list(plain), as_of=as_of)
        return {plain[request]: found for request, found in answer.items()}


def test_a_history_that_ignores_visibility_still_never_shows_a_hidden_run() -> None:
    # Its newest answer is hidden, so it is dropped: the run keeps needing attention.
    runs = [FAILED, HIDDEN_SUCCESS]
    states = {kind: MemoryStateSource(kind) for kind in STATE_KINDS}
    resolver = Resolver(
        history=_IgnoresVisibility(runs), states=states, registry=REGISTRY, catalog=CATALOG
    )
    [result, _] = resolver.evaluate_many(runs, as_of=AS_OF, scopes=NARROW)
    assert result.status is Actionability.ACTIONABLE
    assert result.proof is None


def test_the_async_resolver_confines_evidence_alike() -> None:
    runs = [FAILED, HIDDEN_SUCCESS, VISIBLE_SUCCESS, pack(6, "e1", start=40, end=41)]
    published = fact("review_pack", "4", "published", 50, environment_id=None)
    history = MemoryRunHistory(runs)
    sources = {
        kind: MemoryStateSource(kind, [published] if kind == "review_pack" else [])
        for kind in STATE_KINDS
    }
    sync = Resolver(history=history, states=sources, registry=REGISTRY, catalog=CATALOG)
    asynchronous = AsyncResolver(
        history=AsyncHistory(history),
        states={kind: AsyncSource(source) for kind, source in sources.items()},
        registry=REGISTRY,
        catalog=CATALOG,
    )
    for scopes in (NARROW, NO_WORKSPACE_RUNS, WIDE):
        expected = sync.evaluate_many(runs, as_of=AS_OF, scopes=scopes)
        got = asyncio.run(asynchronous.evaluate_many(runs, as_of=AS_OF, scopes=scopes))
        assert got == expected
    [first, *_, last] = asyncio.run(
        asynchronous.evaluate_many(runs, as_of=AS_OF, scopes=NO_WORKSPACE_RUNS)
    )
    assert first.proof is not None
    assert isinstance(first.proof, RunFact)
    assert first.proof.run_id == 3
    assert last.status is Actionability.ACTIONABLE


def test_a_run_whose_environment_is_blank_is_listed_where_the_scopes_admit_it(
    load: Loader,
) -> None:
    """An environment id no scope can name ('') is an environment, not "none": an actor limited
    to e1 sees no such run, even when runs of no environment are shown, on every store alike."""
    blank = run(8, "inventory.sync", environment_id="", start=4, end=5)
    ports = load([OTHER, blank], [])
    query = VisibleScopes({"w1"}, environment_ids={"e1"}, include_workspace_runs=True).query()
    listed = {one.id for one in ports.runs.list_runs(query).runs}
    assert listed == {OTHER.id}
    assert not NARROW.admits_run(blank)
