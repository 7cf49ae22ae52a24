"""A plugin cannot resolve by a state its family did not declare, nor crash a screen or a batch.

Issue 8, findings 6 and 12: the core checks a state proof's status against the family's
declaration; a decision whose proof or action is of the wrong kind becomes a policy error; an
observer hook that raises is reported and never loses the batch it observes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pytest
from tests.support import AS_OF, MINUTE, T0, Recorder, run, state

from runactionability import (
    Actionability,
    ActionabilityResult,
    AsyncResolver,
    Decision,
    Evidence,
    Family,
    ObserverFailedWarning,
    OperationRun,
    OperationType,
    PrimaryAction,
    ProblemRun,
    Reason,
    Registry,
    ResolvedByState,
    Resolver,
    ResolvingStates,
    StateFact,
    StateRequest,
    VisibleScopes,
    assess,
    dashboard,
    explain,
    hookimpl,
)
from runactionability.adapters.memory import (
    MemoryRunHistory,
    MemoryRunSource,
    MemoryStateSource,
)
from runactionability.consumers import ActiveRuns
from runactionability.policies import artifact, backup, baseline, provider_connection
from runactionability.policies.rules import FirstDecisive

CLAIM = "claim.check"


class Claims:
    """A plugin policy that says what ``answer`` says, whatever the evidence."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def plan(self, run: ProblemRun) -> Iterable[Any]:
        return (run.state_request("thing"),)

    def decide(self, run: ProblemRun, evidence: Evidence) -> Any:
        return self.answer(run, evidence)


def registry_of(family: Family, *plugins: object) -> Registry:
    class Plugin:
        @hookimpl
        def runactionability_families(self) -> Sequence[Family]:
            return (family,)

        @hookimpl
        def runactionability_operation_types(self) -> Sequence[OperationType]:
            return (
                OperationType(name=CLAIM, family=family.name, subject_key="thing_id"),
                OperationType(name="claim.other", family=family.name, subject_key="thing_id"),
            )

    registry = Registry()
    registry.register(Plugin(), name="claims-plugin")
    for index, plugin in enumerate(plugins):
        registry.register(plugin, name=f"observer-{index}")
    return registry


def claim(run_id: int, **fields: Any) -> OperationRun:
    fields.setdefault("context", {"thing_id": "t1"})
    return run(run_id, fields.pop("type", CLAIM), **fields)


def resolver_of(
    family: Family, states: Iterable[StateFact] = (), *plugins: object, strict: bool = False
) -> Resolver:
    return Resolver(
        registry=registry_of(family, *plugins),
        history=MemoryRunHistory(()),
        states={"thing": MemoryStateSource("thing", states)},
        strict=strict,
    )


def resolved_by_state(run: ProblemRun, evidence: Evidence) -> Decision:
    return Decision(
        status=Actionability.RESOLVED_BY_CURRENT_STATE,
        reason="the plugin says so",
        explanation="The thing is fine.",
        proof=evidence.state("thing"),
    )


# -- finding 6: the family's declaration decides which statuses resolve ------------------------


@pytest.mark.parametrize("status", ["failing", "degraded", "HEALTHY"])
def test_a_state_whose_status_the_family_did_not_declare_never_resolves(status: str) -> None:
    family = Family(
        name="claims",
        policy=Claims(resolved_by_state),
        state_kinds={"thing"},
        resolving_states=(ResolvingStates("thing", {"healthy"}),),
    )
    recorder = Recorder()
    current = state("thing", subject="t1", status=status)
    result = resolver_of(family, [current], recorder).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION
    assert result.proof is None
    (violation,) = recorder.violations
    assert violation.kind == "invalid_proof"
    assert violation.claimed is Actionability.RESOLVED_BY_CURRENT_STATE
    assert f"status {status!r}" in violation.detail


def test_a_declared_status_resolves() -> None:
    family = Family(
        name="claims",
        policy=Claims(resolved_by_state),
        state_kinds={"thing"},
        resolving_states=(ResolvingStates("thing", {"healthy"}),),
    )
    current = state("thing", subject="t1", status="healthy")
    result = resolver_of(family, [current]).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert result.proof == current


def test_a_declaration_limited_to_some_types_resolves_only_those() -> None:
    family = Family(
        name="claims",
        policy=Claims(resolved_by_state),
        state_kinds={"thing"},
        resolving_states=(ResolvingStates("thing", {"healthy"}, {"claim.other"}),),
    )
    current = state("thing", subject="t1", status="healthy")
    judge = resolver_of(family, [current])
    own, other = judge.evaluate_many([claim(1), claim(2, type="claim.other")], as_of=AS_OF)
    assert own.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert own.reason == Reason.POLICY_VIOLATION
    assert other.status is Actionability.RESOLVED_BY_CURRENT_STATE


def test_a_family_that_declares_nothing_is_never_resolved_by_state() -> None:
    family = Family(name="claims", policy=Claims(resolved_by_state), state_kinds={"thing"})
    assert family.resolving_states == ()
    current = state("thing", subject="t1", status="healthy")
    result = resolver_of(family, [current]).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION


def test_a_family_of_built_in_rules_declares_what_its_rules_test() -> None:
    # Written once, in the rules: a plugin composing ResolvedByState needs no declaration.
    lax = FirstDecisive(rules=(ResolvedByState("thing", {"healthy", "fine"}, {CLAIM}),))
    family = Family(name="claims", policy=lax, state_kinds={"thing"})
    assert family.resolving_states == (ResolvingStates("thing", {"healthy", "fine"}, {CLAIM}),)
    assert family.resolving_statuses("thing", CLAIM) == {"healthy", "fine"}
    assert family.resolving_statuses("thing", "claim.other") == frozenset()
    for status in ("healthy", "fine"):
        current = state("thing", subject="t1", status=status)
        result = resolver_of(family, [current]).evaluate(claim(1), as_of=AS_OF)
        assert result.status is Actionability.RESOLVED_BY_CURRENT_STATE


def test_the_built_in_families_declare_exactly_their_rules() -> None:
    assert provider_connection.FAMILY.resolving_states == (
        ResolvingStates("provider_connection", {"healthy"}),
    )
    assert backup.FAMILY.resolving_states == (ResolvingStates("backup_set", {"complete"}),)
    assert baseline.FAMILY.resolving_states == (
        ResolvingStates("baseline_snapshot", {"complete"}, {"baseline.capture"}),
    )
    assert artifact.FAMILY.resolving_statuses("review_pack", "review_pack.generate") == {
        "published"
    }
    assert artifact.FAMILY.resolving_statuses("review_pack", "evidence.snapshot.generate") == (
        frozenset()
    )
    for family in Registry.default().families().values():
        for rule in getattr(family.policy, "rules", ()):
            if isinstance(rule, ResolvedByState):
                for name in rule.types or ("any type",):
                    if rule.types is None:
                        assert any(
                            d.kind == rule.kind and d.types is None and rule.healthy <= d.statuses
                            for d in family.resolving_states
                        )
                    else:
                        assert rule.healthy <= family.resolving_statuses(rule.kind, name)


def test_a_declaration_must_be_resolving_states() -> None:
    with pytest.raises(TypeError):
        Family(name="claims", policy=Claims(resolved_by_state), resolving_states=("healthy",))  # type: ignore[arg-type]


# -- finding 12: a malformed decision is a policy error, not a crash ---------------------------


def _decision(**fields: Any) -> Any:
    def answer(run: ProblemRun, evidence: Evidence) -> Decision:
        values: dict[str, Any] = {
            "status": Actionability.ACTIONABLE,
            "reason": "plugin",
            "explanation": "Fix it.",
        }
        values.update(fields)
        return Decision(**values)

    return answer


MALFORMED = [
    pytest.param({"proof": "run 2 fixed it"}, "its proof is a str", id="proof-string"),
    pytest.param({"proof": {"run_id": 2}}, "its proof is a dict", id="proof-dict"),
    pytest.param(
        {"status": Actionability.REQUIRES_MANUAL_REVIEW, "proof": 42},
        "its proof is a int",
        id="review-proof-int",
    ),
    pytest.param({"primary_action": "retry"}, "its primary action is a str", id="action-string"),
    pytest.param(
        {"primary_action": {"kind": "retry"}}, "its primary action is a dict", id="action-dict"
    ),
    pytest.param(
        {
            "status": Actionability.INFORMATIONAL_ONLY,
            "primary_action": ("retry", "run", "1"),
        },
        "its primary action is a tuple",
        id="informational-action-tuple",
    ),
]


@pytest.mark.parametrize(("fields", "detail"), MALFORMED)
def test_a_decision_with_a_proof_or_action_of_the_wrong_kind_is_a_policy_error(
    fields: dict[str, Any], detail: str
) -> None:
    family = Family(name="claims", policy=Claims(_decision(**fields)), state_kinds={"thing"})
    recorder = Recorder()
    result = resolver_of(family, (), recorder).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_ERROR
    assert result.proof is None
    assert isinstance(result.primary_action, PrimaryAction)
    assert result.primary_action.target_id == "1"
    (violation,) = recorder.violations
    assert violation.kind == "invalid_decision"
    assert detail in violation.detail


@pytest.mark.parametrize(("fields", "detail"), MALFORMED)
def test_consumers_show_a_malformed_decision_as_a_run_to_review(
    fields: dict[str, Any], detail: str
) -> None:
    family = Family(name="claims", policy=Claims(_decision(**fields)), state_kinds={"thing"})
    judge = resolver_of(family)
    runs = [claim(1), claim(2, outcome="succeeded")]
    scopes = VisibleScopes({"acme"})
    (item, _) = assess(judge, runs, scopes=scopes, as_of=AS_OF)
    assert item.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert item.primary_action is not None
    summary = dashboard(MemoryRunSource(runs), judge, scopes=scopes, as_of=AS_OF)
    assert summary.needs_attention == 1
    assert [top.run_id for top in summary.top] == [1]
    explained = explain(
        judge,
        runs[0],
        scopes=scopes,
        as_of=AS_OF,
        active=ActiveRuns((), catalog=judge.catalog, scopes=scopes),
        state_kinds={"thing"},
    )
    assert explained.assessment.result.reason == Reason.POLICY_ERROR


def test_a_well_formed_decision_is_untouched() -> None:
    action = PrimaryAction(kind="retry", label="Retry", target_kind="run", target_id="1")  # type: ignore[arg-type]
    family = Family(
        name="claims", policy=Claims(_decision(primary_action=action)), state_kinds={"thing"}
    )
    result = resolver_of(family).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.ACTIONABLE
    assert result.primary_action is action


# -- finding 12: an observer that raises is reported, and the batch stands ---------------------


class Raising:
    """An observer plugin that raises from both hooks."""

    @hookimpl
    def runactionability_results_evaluated(
        self, results: Sequence[ActionabilityResult], as_of: datetime
    ) -> None:
        raise RuntimeError("metrics backend is down")

    @hookimpl
    def runactionability_policy_violation(self, violation: Any) -> None:
        raise ValueError("log sink is full")


def _lying_family() -> Family:
    return Family(
        name="claims",
        policy=Claims(resolved_by_state),
        state_kinds={"thing"},
        resolving_states=(ResolvingStates("thing", {"healthy"}),),
    )


def _quiet_family() -> Family:
    return Family(name="claims", policy=Claims(lambda run, evidence: None), state_kinds={"thing"})


def test_a_raising_observer_never_loses_the_batch(caplog: pytest.LogCaptureFixture) -> None:
    before, after = Recorder(), Recorder()
    # Registered around the raising one, so one is called before it and one after it.
    judge = resolver_of(
        _lying_family(), [state("thing", subject="t1", status="failing")], before, Raising(), after
    )
    runs = [claim(1), claim(2, outcome="succeeded")]
    with (
        caplog.at_level(logging.ERROR, logger="runactionability"),
        pytest.warns(ObserverFailedWarning) as caught,
    ):
        results = judge.evaluate_many(runs, as_of=AS_OF)
    assert [r.run_id for r in results] == [1, 2]
    assert results[0].reason == Reason.POLICY_VIOLATION
    assert results[1].status is Actionability.INFORMATIONAL_ONLY
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert "runactionability_policy_violation" in messages[0]
    assert "observer-1" in messages[0]
    assert "log sink is full" in messages[0]
    assert "runactionability_results_evaluated" in messages[1]
    assert "metrics backend is down" in messages[1]
    assert all(isinstance(w.message, ObserverFailedWarning) for w in caught)
    assert [w.message.plugin for w in caught] == ["observer-1", "observer-1"]  # type: ignore[union-attr]
    logged = [r for r in caplog.records if r.name == "runactionability"]
    assert len(logged) == 2
    assert all(r.exc_info for r in logged)
    # every other observer still saw everything
    for recorder in (before, after):
        assert len(recorder.violations) == 1
        assert [r.run_id for r in recorder.batches[0][0]] == [1, 2]


def test_a_raising_observer_never_loses_an_async_batch() -> None:
    class AsyncHistory:
        async def latest_successes(self, requests: Any, *, as_of: datetime) -> Mapping[Any, Any]:
            return {}

    class AsyncStates:
        kind = "thing"

        async def current_states(self, requests: Any) -> Mapping[StateRequest, StateFact]:
            return {}

    judge = AsyncResolver(
        registry=registry_of(_quiet_family(), Raising()),
        history=AsyncHistory(),
        states={"thing": AsyncStates()},
    )
    with pytest.warns(ObserverFailedWarning):
        results = asyncio.run(judge.evaluate_many([claim(1)], as_of=AS_OF))
    assert results[0].status is Actionability.ACTIONABLE


def test_a_raising_hook_wrapper_is_reported_too() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def runactionability_results_evaluated(
            self, results: Sequence[ActionabilityResult], as_of: datetime
        ) -> Any:
            yield
            raise RuntimeError("wrapper failed")

    recorder = Recorder()
    judge = resolver_of(_quiet_family(), (), recorder, Wrapper())
    with pytest.warns(ObserverFailedWarning, match="wrapper failed"):
        results = judge.evaluate_many([claim(1)], as_of=AS_OF)
    assert results[0].status is Actionability.ACTIONABLE
    assert len(recorder.batches) == 1


def test_observers_are_called_in_pluggy_order_with_the_arguments_they_ask_for() -> None:
    seen: list[str] = []

    class First:
        @hookimpl(tryfirst=True)
        def runactionability_results_evaluated(self, as_of: datetime) -> None:
            seen.append(f"first {as_of == AS_OF}")

    class Plain:
        @hookimpl
        def runactionability_results_evaluated(self, results: Any) -> None:
            seen.append(f"plain {len(results)}")

    judge = resolver_of(_quiet_family(), (), First(), Plain())
    judge.evaluate_many([claim(1), claim(2, created_at=T0 + MINUTE)], as_of=AS_OF)
    assert seen == ["first True", "plain 2"]
