"""Results the core builds on its fast paths are ordinary attrs values, equal to hand-built ones."""

from __future__ import annotations

import attrs
from tests.support import AS_OF, resolver, run

from runactionability import (
    Actionability,
    ActionabilityResult,
    ActionKind,
    Message,
    PrimaryAction,
    Reason,
    Verdict,
    msg,
)


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
