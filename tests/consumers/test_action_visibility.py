"""A plugin's action never points a screen at something outside the actor's visible scopes.

Issue 8, finding 7: an action names its target by kind and id only, so a plugin could hand the
consumers an action on a run (or an object) in a hidden scope and every screen showed it. The
consumers now keep a policy's action only when it targets the run itself or the run's subject,
and otherwise offer the library's own action for the status; the same holds for runs read from
SQL on either engine, and for nested contexts read back from a JSON column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, T0

from runactionability import (
    Actionability,
    ActionKind,
    Decision,
    Evidence,
    Family,
    FirstDecisive,
    OpenRelatedAction,
    OperationRun,
    OperationType,
    PrimaryAction,
    ProblemRun,
    Registry,
    Resolver,
    RetryAction,
    hookimpl,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource
from runactionability.adapters.sqlalchemy import (
    SqlRunHistory,
    SqlRunSource,
    create_schema,
    insert_runs,
)
from runactionability.consumers import (
    ActiveRuns,
    VisibleScopes,
    assess,
    dashboard,
    explain,
    plan_actions,
)

ACME = VisibleScopes({"acme"})
HIDDEN_RUN = "umbrella-run-9"


class Pointing:
    """A rule that decides what the run's context says, with the action its context names."""

    def plan(self, run: ProblemRun) -> Iterable[Any]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        context = run.run.context
        if "status" not in context:
            return None
        kind, target_kind, target_id = context["action"]
        return Decision(
            status=Actionability(context["status"]),
            reason="pointing",
            explanation="The plugin points somewhere.",
            primary_action=PrimaryAction(
                kind=ActionKind(kind),
                label=f"Go to {target_kind} {target_id}",
                target_kind=target_kind,
                target_id=target_id,
            ),
        )


def registry() -> Registry:
    class Plugin:
        @hookimpl
        def runactionability_families(self) -> Sequence[Family]:
            return (
                Family(
                    name="pointers",
                    policy=FirstDecisive(
                        rules=(Pointing(),), action=OpenRelatedAction("thing", "Open the thing")
                    ),
                ),
                Family(
                    name="pointer_syncs",
                    policy=FirstDecisive(rules=(Pointing(),), action=RetryAction()),
                ),
            )

        @hookimpl
        def runactionability_operation_types(self) -> Sequence[OperationType]:
            return (
                OperationType(name="pointer.check", family="pointers", subject_key="thing_id"),
                OperationType(name="pointer.sync", family="pointer_syncs"),
            )

    built = Registry()
    built.register(Plugin(), name="pointers")
    return built


def pointing(run_id: int, type_: str, status: str, action: tuple[str, str, str]) -> OperationRun:
    return OperationRun(
        id=run_id,
        type=type_,
        workspace_id="acme",
        environment_id="prod",
        status="completed",
        outcome="failed",
        created_at=T0 + timedelta(minutes=run_id),
        completed_at=T0 + timedelta(minutes=run_id, seconds=30),
        context={"thing_id": "t1", "status": status, "action": list(action)},
    )


# (run, the action a screen must show: kind, target kind, target id)
CASES: list[tuple[OperationRun, tuple[ActionKind, str, str]]] = [
    (
        pointing(1, "pointer.check", "actionable", ("open_related", "run", HIDDEN_RUN)),
        (ActionKind.REVIEW, "run", "1"),
    ),
    (
        pointing(2, "pointer.check", "actionable", ("open_related", "thing", "t-hidden")),
        (ActionKind.REVIEW, "run", "2"),
    ),
    (
        pointing(3, "pointer.check", "actionable", ("open_related", "thing", "t1")),
        (ActionKind.OPEN_RELATED, "thing", "t1"),
    ),
    (
        pointing(4, "pointer.check", "requires_manual_review", ("review", "run", HIDDEN_RUN)),
        (ActionKind.REVIEW, "run", "4"),
    ),
    (
        pointing(5, "pointer.check", "requires_manual_review", ("review", "run", "5")),
        (ActionKind.REVIEW, "run", "5"),
    ),
    (
        pointing(6, "pointer.sync", "actionable", ("retry", "run", HIDDEN_RUN)),
        (ActionKind.RETRY, "run", "6"),
    ),
    (
        pointing(7, "pointer.sync", "actionable", ("retry", "run", "7")),
        (ActionKind.RETRY, "run", "7"),
    ),
]
RUNS = [case[0] for case in CASES]
EXPECTED = {case[0].id: case[1] for case in CASES}


def shown(action: PrimaryAction | None) -> tuple[ActionKind, str | None, str | None]:
    assert action is not None
    return (action.kind, action.target_kind, action.target_id)


def check(items: Iterable[Any]) -> None:
    seen = {}
    for item in items:
        seen[item.run_id] = shown(item.primary_action)
        assert HIDDEN_RUN not in (item.primary_action.label or "")
    assert seen == EXPECTED


def _consumers(source: Any, resolver: Resolver, runs: Sequence[OperationRun]) -> None:
    check(assess(resolver, runs, scopes=ACME, as_of=AS_OF))
    summary = dashboard(source, resolver, scopes=ACME, as_of=AS_OF, top=50)
    check(summary.top)
    active = ActiveRuns((), catalog=resolver.catalog, scopes=ACME)
    for read in runs:
        explained = explain(resolver, read, scopes=ACME, as_of=AS_OF, active=active, state_kinds=())
        assert shown(explained.assessment.primary_action) == EXPECTED[read.id]


def test_memory_consumers_show_only_actions_on_visible_targets() -> None:
    resolver = Resolver(registry=registry(), history=MemoryRunHistory(RUNS))
    _consumers(MemoryRunSource(RUNS), resolver, RUNS)


def test_sql_consumers_show_only_actions_on_visible_targets(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    built = registry()
    insert_runs(sql_engine, RUNS, catalog=built.catalog())
    source = SqlRunSource(sql_engine)
    read = source.list_runs(ACME.query(), limit=100).runs
    assert sorted(r.id for r in read) == sorted(EXPECTED)
    # the nested context came back from the JSON column read-only, like any other
    with pytest.raises(TypeError):
        read[0].context["action"].append("more")
    resolver = Resolver(registry=built, history=SqlRunHistory(sql_engine))
    _consumers(source, resolver, read)


def test_a_settled_result_whose_proof_is_hidden_offers_no_action() -> None:
    # plan_actions is public: a caller that skips assess still cannot point at a hidden proof.
    from runactionability import RunFact
    from runactionability.result import ActionabilityResult, Verdict

    proof = RunFact(
        run_id=HIDDEN_RUN,
        operation_type="pointer.check",
        workspace_id="umbrella",
        environment_id="prod",
        subject="t1",
        started_at=T0,
        completed_at=T0,
    )
    victim = RUNS[0]
    result = ActionabilityResult(
        victim.id,
        Verdict(
            status=Actionability.SUPERSEDED_BY_LATER_SUCCESS,
            reason="later_success",
            explanation="Superseded.",
            family="pointers",
            operation_type="pointer.check",
            proof=proof,
            primary_action=None,
            as_of=AS_OF,
        ),
    )
    active = ActiveRuns((), catalog=registry().catalog(), scopes=ACME)
    assert plan_actions(victim, result, family=None, active=active) == (None, frozenset(), None)


def test_would_change_names_only_the_statuses_the_family_declares() -> None:
    from runactionability import ResolvedByState, ResolvingStates
    from runactionability.adapters.memory import MemoryStateSource

    class Lax:
        @hookimpl
        def runactionability_families(self) -> Sequence[Family]:
            return (
                Family(
                    name="pointers",
                    state_kinds={"thing"},
                    policy=FirstDecisive(
                        rules=(ResolvedByState("thing", {"healthy", "failing"}),),
                        action=OpenRelatedAction("thing", "Open the thing"),
                    ),
                    resolving_states=(ResolvingStates("thing", {"healthy"}),),
                ),
            )

        @hookimpl
        def runactionability_operation_types(self) -> Sequence[OperationType]:
            return (OperationType(name="pointer.check", family="pointers", subject_key="thing_id"),)

    built = Registry()
    built.register(Lax(), name="lax")
    resolver = Resolver(
        registry=built,
        history=MemoryRunHistory(()),
        states={"thing": MemoryStateSource("thing", [])},
    )
    victim = pointing(1, "pointer.check", "actionable", ("retry", "run", "1"))
    explained = explain(
        resolver,
        victim,
        scopes=ACME,
        as_of=AS_OF,
        active=ActiveRuns((), catalog=resolver.catalog, scopes=ACME),
        state_kinds={"thing"},
    )
    assert explained.assessment.result.reason == "no_resolving_evidence"
    (message,) = explained.would_change
    sentence = str(message)
    assert "healthy" in sentence
    assert "failing" not in sentence
