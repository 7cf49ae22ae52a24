"""Invariants of the core over generated histories (hypothesis, profiles from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st
from tests.support import STATE_KINDS, resolver

from runactionability import (
    Actionability,
    ActionabilityResult,
    Decision,
    Evidence,
    Family,
    OperationCatalog,
    OperationRun,
    OperationType,
    ProblemRun,
    Reason,
    Registry,
    Resolver,
    ResolvingStates,
    RunFact,
    StateFact,
    hookimpl,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.testing import strategies as ras

CATALOG = OperationCatalog.reference()
SCENARIOS = ras.scenarios(state_kinds=STATE_KINDS)
CLAMPED = {
    Actionability.SUPERSEDED_BY_LATER_SUCCESS,
    Actionability.RESOLVED_BY_CURRENT_STATE,
    Actionability.INFORMATIONAL_ONLY,
}


def facts(scenario: ras.Scenario) -> list[StateFact]:
    return [fact for kind_facts in scenario.states.values() for fact in kind_facts]


def evaluate_all(
    scenario: ras.Scenario,
    runs: Iterable[OperationRun] | None = None,
    *,
    history: Iterable[OperationRun] = (),
    states: Iterable[StateFact] = (),
) -> list[ActionabilityResult]:
    targets = list(scenario.runs if runs is None else runs)
    judge = resolver([*scenario.runs, *history], [*facts(scenario), *states])
    return judge.evaluate_many(targets, as_of=scenario.as_of)


@given(SCENARIOS)
def test_exactly_one_result_per_run_in_order(scenario: ras.Scenario) -> None:
    results = evaluate_all(scenario)
    assert [r.run_id for r in results] == [run.id for run in scenario.runs]
    for run, result in zip(scenario.runs, results, strict=True):
        assert result.as_of == scenario.as_of
        if run.outcome is None:
            assert result.status is Actionability.NOT_TERMINAL
        elif run.outcome == "succeeded":
            assert result.status is Actionability.INFORMATIONAL_ONLY


@given(SCENARIOS, st.randoms(use_true_random=False))
def test_results_do_not_depend_on_input_order(scenario: ras.Scenario, random: Any) -> None:
    shuffled = list(scenario.runs)
    random.shuffle(shuffled)
    first = {r.run_id: r for r in evaluate_all(scenario)}
    again = {r.run_id: r for r in evaluate_all(scenario, shuffled)}
    assert first == again


@given(SCENARIOS)
def test_a_batch_equals_one_at_a_time(scenario: ras.Scenario) -> None:
    judge = resolver(scenario.runs, facts(scenario))
    batch = judge.evaluate_many(scenario.runs, as_of=scenario.as_of)
    singles = [judge.evaluate(run, as_of=scenario.as_of) for run in scenario.runs]
    assert batch == singles


NOISE_RUNS = st.one_of(
    ras.histories(max_size=10, workspaces=("umbrella",)),
    # Other environments of the same workspaces; workspace-owned types are left out because
    # their scope is the workspace alone.
    ras.histories(
        max_size=10,
        environments=("dev",),
        catalog=OperationCatalog([t for t in CATALOG.inventory() if not t.workspace_owned]),
    ),
)
NOISE_STATES = st.lists(
    st.one_of(
        ras.state_facts(kinds=STATE_KINDS, workspaces=("umbrella",)),
        ras.state_facts(kinds=STATE_KINDS, environments=("dev",)),
    ),
    max_size=8,
)


@given(SCENARIOS, NOISE_RUNS, NOISE_STATES)
def test_other_workspaces_and_environments_change_nothing(
    scenario: ras.Scenario, noise_runs: list[OperationRun], noise_states: list[StateFact]
) -> None:
    known = {run.id for run in scenario.runs}
    noise = [attrs.evolve(run, id=f"noise-{run.id}") for run in noise_runs if run.id not in known]
    assert evaluate_all(scenario) == evaluate_all(scenario, history=noise, states=noise_states)


@given(ras.scenarios(state_kinds=STATE_KINDS, max_runs=40))
def test_high_risk_problem_runs_never_leave_manual_review(scenario: ras.Scenario) -> None:
    for run, result in zip(scenario.runs, evaluate_all(scenario), strict=True):
        if result.family == "high_risk" and run.outcome not in (None, "succeeded"):
            assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
            assert result.status not in CLAMPED


@given(SCENARIOS, st.data())
def test_a_later_same_scope_success_only_moves_a_run_to_superseded(
    scenario: ras.Scenario, data: st.DataObject
) -> None:
    problems = [run for run in scenario.runs if run.outcome not in (None, "succeeded")]
    if not problems:
        return
    target = data.draw(st.sampled_from(problems))
    before = evaluate_all(scenario, [target])[0]
    op_type = CATALOG.resolve(target.type)
    assert op_type is not None
    start = target.completed_at + timedelta(minutes=data.draw(st.integers(0, 30)))
    success = attrs.evolve(
        target,
        id="later-success",
        type=data.draw(st.sampled_from(CATALOG.superseding_names(op_type.name))),
        outcome="succeeded",
        created_at=start,
        started_at=None,
        completed_at=start + timedelta(minutes=1),
    )
    after = evaluate_all(scenario, [target], history=[success])[0]
    if after.needs_attention:
        assert before.needs_attention  # never back to needing attention
    if before.needs_attention and not after.needs_attention:
        assert after.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
        assert after.proof is not None
    if not before.needs_attention:
        assert not after.needs_attention
    if (
        success.completed_at <= scenario.as_of
        and op_type.family
        in {
            "provider_connection",
            "repeatable_sync",
            "baseline",
            "artifact",
            "backup",
        }
        and before.status is Actionability.ACTIONABLE
    ):
        assert after.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS


# -- a plugin policy that claims whatever it likes ---------------------------------------------

RUN_FACTS = st.builds(
    RunFact,
    run_id=st.integers(1, 10**9),
    operation_type=st.sampled_from(("liar.check", "liar_check", "liar.other", "nope")),
    workspace_id=st.sampled_from(ras.WORKSPACES),
    environment_id=st.sampled_from((*ras.ENVIRONMENTS, None)),
    subject=st.sampled_from((*ras.SUBJECTS, None)),
    started_at=ras.instants(),
    completed_at=ras.instants(),
)


class Liar:
    """Claims superseded or resolved, proving it with the port's fact or with a forged one."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def plan(self, run: ProblemRun) -> Iterable[Any]:
        return (run.later_success_request, run.state_request("liar_state"))

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision:
        status = self.data.draw(
            st.sampled_from(
                (Actionability.SUPERSEDED_BY_LATER_SUCCESS, Actionability.RESOLVED_BY_CURRENT_STATE)
            )
        )
        honest = (
            evidence.later_success
            if status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
            else evidence.state("liar_state")
        )
        forged = self.data.draw(
            st.one_of(RUN_FACTS, ras.state_facts(kinds=("liar_state", "other_state")), st.none())
        )
        proof = self.data.draw(st.sampled_from((honest, forged)))
        return Decision(status=status, reason="claimed", explanation="Claimed.", proof=proof)


LIAR_TYPES = OperationCatalog(
    [
        OperationType(
            name="liar.check",
            family="liar",
            aliases=("liar_check",),
            subject_key="thing_id",
            superseded_by=("liar.other",),
        ),
        OperationType(name="liar.other", family="liar", subject_key="thing_id"),
    ]
)


LIAR_RESOLVING = frozenset({"healthy", "complete"})
"""The statuses the liar family declares as resolving: "degraded" or "failed" never resolve."""


def proof_is_valid(run: OperationRun, result: ActionabilityResult, scenario: Any) -> bool:
    """Rule 6, checked independently of the core."""
    proof = result.proof
    completed = run.completed_at
    if result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS:
        return (
            isinstance(proof, RunFact)
            and proof.workspace_id == str(run.workspace_id)
            and proof.environment_id == str(run.environment_id)
            and proof.subject == str(run.context["thing_id"])
            and proof.operation_type in {"liar.check", "liar_check", "liar.other"}
            and proof.started_at >= completed
            and proof.completed_at <= scenario.as_of
        )
    if result.status is Actionability.RESOLVED_BY_CURRENT_STATE:
        return (
            isinstance(proof, StateFact)
            and proof.kind == "liar_state"
            and (proof.workspace_id, proof.environment_id, proof.subject)
            == (str(run.workspace_id), str(run.environment_id), str(run.context["thing_id"]))
            and completed < proof.proven_at <= scenario.as_of
            and proof.status in LIAR_RESOLVING
        )
    return True


@given(
    ras.scenarios(catalog=LIAR_TYPES, max_runs=15),
    st.lists(ras.state_facts(kinds=("liar_state",)), max_size=8),
    st.data(),
)
def test_a_claim_without_a_valid_proof_is_overridden(
    scenario: ras.Scenario, states: list[StateFact], data: st.DataObject
) -> None:
    class Plugin:
        @hookimpl
        def runactionability_families(self) -> Any:
            return (
                Family(
                    name="liar",
                    policy=Liar(data),
                    state_kinds={"liar_state"},
                    resolving_states=(ResolvingStates("liar_state", LIAR_RESOLVING),),
                ),
            )

    registry = Registry()
    registry.register(Plugin(), name="liar")
    judge = Resolver(
        registry=registry,
        catalog=LIAR_TYPES,
        history=MemoryRunHistory(scenario.runs),
        states={"liar_state": MemoryStateSource("liar_state", states)},
    )
    results = judge.evaluate_many(scenario.runs, as_of=scenario.as_of)
    for run, result in zip(scenario.runs, results, strict=True):
        assert proof_is_valid(run, result, scenario), (run, result)
        if run.outcome not in (None, "succeeded") and result.status not in {
            Actionability.SUPERSEDED_BY_LATER_SUCCESS,
            Actionability.RESOLVED_BY_CURRENT_STATE,
        }:
            assert result.reason == Reason.POLICY_VIOLATION
