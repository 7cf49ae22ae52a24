"""Results the core builds on its fast paths are ordinary attrs values, equal to hand-built ones."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from tests.support import AS_OF, registry_replacing, resolver, run

from runactionability import (
    Actionability,
    ActionabilityResult,
    ActionKind,
    Decision,
    Evidence,
    Family,
    FirstDecisive,
    InformationalWhen,
    Message,
    PrimaryAction,
    ProblemRun,
    Reason,
    Verdict,
    msg,
)
from runactionability.evidence import EvidenceRequest


def test_a_problem_result_equals_the_value_built_by_hand() -> None:
    failed = run(1, "inventory.sync", context={})
    [result] = resolver([failed]).evaluate_many([failed], as_of=AS_OF)

    expected = ActionabilityResult(
        1,
        Verdict(
            status=Actionability.ACTIONABLE,
            reason=Reason.NO_RESOLVING_EVIDENCE,
            explanation=result.message,
            family="repeatable_sync",
            operation_type="inventory.sync",
            proof=None,
            primary_action=PrimaryAction(
                kind=ActionKind.RETRY,
                label=msg(
                    "action.retry_type",
                    "Retry the {type}",
                    type=Message("operation_type.inventory.sync", "inventory sync"),
                ),
                target_kind="run",
                target_id="1",
            ),
            as_of=AS_OF,
        ),
    )
    assert result.primary_action is not None
    assert result.primary_action.label == "Retry the inventory sync"
    assert result == expected
    assert hash(result) == hash(expected)
    assert result.verdict == expected.verdict


def test_a_succeeded_result_is_a_value_that_evolve_can_change() -> None:
    done = run(2, "inventory.sync", outcome="succeeded", context={})
    [result] = resolver([done]).evaluate_many([done], as_of=AS_OF)

    assert result.status is Actionability.INFORMATIONAL_ONLY
    moved = attrs.evolve(result, run_id=3)
    assert moved.run_id == 3
    assert moved.verdict is result.verdict
    assert attrs.asdict(result)["verdict"]["reason"] == Reason.RUN_SUCCEEDED


_ONE_DECISION = Decision(
    status=Actionability.REQUIRES_MANUAL_REVIEW,
    reason="looked_at_by_a_person",
    explanation="A person looks at every sync.",
)


@attrs.frozen
class _SameDecisionForEveryRun:
    """A plugin policy that answers every run with one Decision value."""

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision:
        return _ONE_DECISION


def test_a_decision_given_to_many_runs_names_each_runs_own_type() -> None:
    family = Family(name="repeatable_sync", policy=_SameDecisionForEveryRun())
    runs = [
        run(1, "inventory.sync", context={}),
        run(2, "directory.sync", context={}),
        run(3, "inventory.sync", context={}),
    ]
    results = resolver(registry=registry_replacing(family)).evaluate_many(runs, as_of=AS_OF)

    assert [r.operation_type for r in results] == [
        "inventory.sync",
        "directory.sync",
        "inventory.sync",
    ]
    assert {r.explanation for r in results} == {"A person looks at every sync."}
    assert all(r.family == "repeatable_sync" and r.primary_action is None for r in results)


def test_cancelled_and_high_risk_runs_equal_their_values_built_by_hand() -> None:
    cancelled = [run(n, "inventory.sync", outcome="cancelled", context={}) for n in (1, 2)]
    restore = run(3, "restore.execute", context={"backup_set_id": 9})
    results = resolver().evaluate_many([*cancelled, restore], as_of=AS_OF)

    verb = Message("outcome_verb.cancelled", "was cancelled")
    assert results[0].verdict == Verdict(
        status=Actionability.INFORMATIONAL_ONLY,
        reason=Reason.CANCELLED_BY_OPERATOR,
        explanation=msg(
            "verdict.cancelled",
            "The run {outcome}, which an operator chose; it is history only.",
            outcome=verb,
        ),
        family="repeatable_sync",
        operation_type="inventory.sync",
        proof=None,
        primary_action=None,
        as_of=AS_OF,
    )
    assert results[1].verdict == results[0].verdict
    assert (
        results[1].explanation
        == "The run was cancelled, which an operator chose; it is history only."
    )
    assert results[2].reason == Reason.ALWAYS_MANUAL_REVIEW
    assert results[2].primary_action is not None
    assert results[2].primary_action.target_id == "3"
    assert results[2].explanation == (
        "A restore that failed may have left changes half-applied, so a person must review it."
    )


def test_a_plugins_plain_reason_never_becomes_the_built_in_ones() -> None:
    # The shared cancelled decision is cached by its reason: "cancelled_by_operator" equals
    # Reason.CANCELLED_BY_OPERATOR, so an untyped cache handed the plugin's plain str to every
    # built-in result that came after it (the review of the shared values found it).
    plugin = Family(
        name="repeatable_sync",
        policy=FirstDecisive(
            rules=(InformationalWhen(outcomes={"cancelled"}, reason="cancelled_by_operator"),)
        ),
    )
    cancelled = [run(5, "inventory.sync", outcome="cancelled", context={})]
    (theirs,) = resolver(registry=registry_replacing(plugin)).evaluate_many(cancelled, as_of=AS_OF)
    (ours,) = resolver().evaluate_many(cancelled, as_of=AS_OF)
    assert type(theirs.reason) is str
    assert ours.reason is Reason.CANCELLED_BY_OPERATOR
