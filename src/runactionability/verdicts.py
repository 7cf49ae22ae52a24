"""The verdicts the core gives without a policy's decision, and the one it builds from a decision.

Rule 2 (succeeded and active runs), rules 3-4 (a record the core cannot judge) and rule 8 (a
policy that raised) each give a fixed kind of verdict; ``problem_verdict`` turns a verified
decision into the verdict a screen reads.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from runactionability.catalog import OperationType
from runactionability.messages import Message, msg
from runactionability.model import OperationRun, RunStatus
from runactionability.policies.base import ProblemRun, review_action
from runactionability.result import (
    Actionability,
    ActionabilityResult,
    Decision,
    PolicyViolation,
    Reason,
    Verdict,
)
from runactionability.terms import family_name, run_status_name

_new_object = object.__new__


def succeeded_verdict(op_type: OperationType | None, as_of: datetime) -> Verdict:
    """Rule 2: a succeeded run is history, whatever its type or fields."""
    return Verdict(
        status=Actionability.INFORMATIONAL_ONLY,
        reason=Reason.RUN_SUCCEEDED,
        explanation=msg(
            "verdict.run_succeeded", "The run succeeded; it is history and calls for no action."
        ),
        family=None if op_type is None else op_type.family,
        operation_type=None if op_type is None else op_type.name,
        proof=None,
        primary_action=None,
        as_of=as_of,
    )


def active_verdict(op_type: OperationType | None, status: RunStatus, as_of: datetime) -> Verdict:
    """Rule 2: a queued or running run without an outcome is not terminal."""
    return Verdict(
        status=Actionability.NOT_TERMINAL,
        reason=Reason.RUN_NOT_TERMINAL,
        explanation=msg(
            "verdict.run_not_terminal",
            "The run is {status}; active work belongs on progress screens, not on the "
            "follow-up list.",
            status=run_status_name(status),
        ),
        family=None if op_type is None else op_type.family,
        operation_type=None if op_type is None else op_type.name,
        proof=None,
        primary_action=None,
        as_of=as_of,
    )


def invalid_result(
    run: OperationRun,
    op_type: OperationType | None,
    known: bool,
    reason: Reason,
    explanation: Message,
    as_of: datetime,
) -> ActionabilityResult:
    """Rules 3 and 4: a record the core cannot judge needs review, with the check's reason.

    ``known`` says whether the type's family is registered: only then does the result name them.
    """
    return ActionabilityResult(
        run.id,
        Verdict(
            status=Actionability.REQUIRES_MANUAL_REVIEW,
            reason=reason,
            explanation=explanation,
            family=op_type.family if known and op_type else None,
            operation_type=op_type.name if known and op_type else None,
            proof=None,
            primary_action=review_action(run, op_type),
            as_of=as_of,
        ),
    )


def duplicate_result(
    run: OperationRun, op_type: OperationType | None, as_of: datetime
) -> ActionabilityResult:
    """A run whose id names another visible run too: which row an id means is not provable, so
    every row sharing it needs review, before rule 2 (``docs/decisions.md``).

    ``op_type`` is the run's type when its family is registered, else None.
    """
    return invalid_result(
        run,
        op_type,
        op_type is not None,
        Reason.DUPLICATE_RUN_ID,
        msg(
            "verdict.duplicate_run_id",
            "Another visible run has the id {run_id}, so no screen can tell which of them the id "
            "names; the host's table needs one row per run id.",
            run_id=repr(run.id),
        ),
        as_of,
    )


def policy_error_result(
    problem: ProblemRun, exc: Exception, as_of: datetime
) -> ActionabilityResult:
    """Rule 8: a policy that raised needs review."""
    return ActionabilityResult(
        problem.run.id,
        Verdict(
            status=Actionability.REQUIRES_MANUAL_REVIEW,
            reason=Reason.POLICY_ERROR,
            explanation=msg(
                "verdict.policy_error",
                "The {family} policy failed on this run ({error}), so it needs a review.",
                family=family_name(problem.family),
                error=type(exc).__name__,
            ),
            family=problem.family,
            operation_type=problem.operation_type.name,
            proof=None,
            primary_action=review_action(problem.run, problem.operation_type),
            as_of=as_of,
        ),
    )


_VERDICT_SLOTS = {name: Verdict.__dict__[name].__set__ for name in attrs.fields_dict(Verdict)}
_set_status = _VERDICT_SLOTS["status"]
_set_reason = _VERDICT_SLOTS["reason"]
_set_message = _VERDICT_SLOTS["message"]
_set_family = _VERDICT_SLOTS["family"]
_set_operation_type = _VERDICT_SLOTS["operation_type"]
_set_proof = _VERDICT_SLOTS["proof"]
_set_primary_action = _VERDICT_SLOTS["primary_action"]
_set_as_of = _VERDICT_SLOTS["as_of"]


def problem_verdict(
    decision: Decision, family: str, operation_type: str, as_of: datetime
) -> Verdict:
    """The verdict of a problem run from its (verified) decision."""
    # Verdict has no validators or converters, so filling its slots directly makes the same
    # value as calling the class, at about half the cost; a big batch makes one per problem run.
    verdict = _new_object(Verdict)
    _set_status(verdict, decision.status)
    _set_reason(verdict, decision.reason)
    _set_message(verdict, decision.message)
    _set_family(verdict, family)
    _set_operation_type(verdict, operation_type)
    _set_proof(verdict, decision.proof)
    _set_primary_action(verdict, decision.primary_action)
    _set_as_of(verdict, as_of)
    return verdict


def raised(problem: ProblemRun, exc: Exception) -> PolicyViolation:
    """The violation a policy that raised is reported by."""
    return PolicyViolation(
        run_id=problem.run.id,
        family=problem.family,
        kind="policy_error",
        claimed=None,
        detail=f"{type(exc).__name__}: {exc}",
    )
