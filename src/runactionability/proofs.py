"""Rules 6 and 7: the core checks a policy's decision before any screen shows it.

A superseded or resolved decision must carry a proof the core verifies itself (rule 6: the fact
the port returned for the run's own request, in its scope and subject, in time, and for a state a
status the family declares as resolving the type); a high-risk family's problem run is held at
manual review whatever its policy says (rule 7). A decision that fails becomes
``requires_manual_review`` with a ``PolicyViolation`` for the hook.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from runactionability.catalog import OperationCatalog, OperationType
from runactionability.evidence import RunFact, StateFact
from runactionability.messages import msg
from runactionability.policies.base import Evidence, Family, ProblemRun, Risk, review_action
from runactionability.result import (
    Actionability,
    Decision,
    PolicyViolation,
    PrimaryAction,
    Reason,
)
from runactionability.terms import family_name

_PROBLEM_STATUSES = frozenset(Actionability) - {Actionability.NOT_TERMINAL}
_CLAMPED = frozenset(
    {
        Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        Actionability.RESOLVED_BY_CURRENT_STATE,
        Actionability.INFORMATIONAL_ONLY,
    }
)


class Verifier:
    """Verifies the decisions of one catalog's policies; caches what the families declare."""

    def __init__(self, catalog: OperationCatalog) -> None:
        self.catalog = catalog
        self._superseding_cache: dict[str, frozenset[str | None]] = {}
        self._resolving_cache: dict[tuple[str, str, str], frozenset[str]] = {}

    def verify(
        self,
        problem: ProblemRun,
        family: Family,
        decision: object,
        evidence: Evidence,
        proven: dict[int, tuple[RunFact, object]] | None = None,
    ) -> tuple[Decision, PolicyViolation | None]:
        """The decision as shown, and the violation when it was overridden; ``proven`` (one per
        batch) keeps the later successes verified as a scope's proof (``_check_run_proof``)."""
        if decision is None:
            decision = Decision(
                status=Actionability.ACTIONABLE,
                reason=Reason.NO_RESOLVING_EVIDENCE,
                explanation=msg(
                    "verdict.policy_found_nothing",
                    "The {type} {outcome}, and its policy found nothing that proves it fixed.",
                    type=problem.label,
                    outcome=problem.outcome_name,
                ),
                primary_action=review_action(problem.run, problem.operation_type),
            )
        status = _problem_status(decision)
        if status is None:
            return override(
                problem,
                family,
                "invalid_decision",
                None,
                f"the policy returned {decision!r}, which is not a decision about a problem run",
                Reason.POLICY_VIOLATION,
            )
        assert isinstance(decision, Decision)
        if decision.status is not status:
            # A plain string equal to a status must meet exactly the checks its member would.
            decision = attrs.evolve(decision, status=status)
        fault: str | None = None
        if status is Actionability.SUPERSEDED_BY_LATER_SUCCESS:
            fault = self._check_run_proof(problem, decision.proof, evidence, proven)
        elif status is Actionability.RESOLVED_BY_CURRENT_STATE:
            fault = self._check_state_proof(problem, family, decision.proof, evidence)
        if fault is not None:
            return override(
                problem, family, "invalid_proof", status, fault, Reason.POLICY_VIOLATION
            )
        fault = _malformed(decision)
        if fault is not None:
            # Every consumer reads the proof and the action by their fields; a value of another
            # kind would crash the screen that shows it, far from the plugin that wrote it.
            return override(problem, family, "invalid_decision", status, fault, Reason.POLICY_ERROR)
        if family.risk is Risk.HIGH and status in _CLAMPED:
            return override(
                problem,
                family,
                "high_risk_clamp",
                status,
                f"the policy of high-risk family {family.name!r} returned {status.value}",
                Reason.HIGH_RISK_REQUIRES_REVIEW,
            )
        return decision, None

    def _check_run_proof(
        self,
        problem: ProblemRun,
        proof: object,
        evidence: Evidence,
        proven: dict[int, tuple[RunFact, object]] | None,
    ) -> str | None:
        if not isinstance(proof, RunFact):
            return "a superseded decision needs a RunFact as proof"
        returned = evidence.later_success
        if proof is returned and proven is not None:
            # The scope's request and the fact decide every check but the last; the entry holds
            # both, so neither identity is reused while it lives.
            request = problem.later_success_request
            known = proven.get(id(proof))
            if known is not None and known[0] is proof and known[1] is request:
                return _started_before(proof, problem)
            fault = self._run_proof_fault(problem, proof, evidence)
            if fault is None:
                proven[id(proof)] = (proof, request)
            return fault or _started_before(proof, problem)
        if proof is not returned and proof != returned:
            return "the proof is not the run the history port returned for this run's request"
        return self._run_proof_fault(problem, proof, evidence) or _started_before(proof, problem)

    def _run_proof_fault(
        self, problem: ProblemRun, proof: RunFact, evidence: Evidence
    ) -> str | None:
        """What is wrong with the proof the port returned for the run's scope, but its start."""
        if proof.workspace_id != problem.workspace_id:
            return "the proof run is in another workspace"
        if problem.environment_id is not None and proof.environment_id != problem.environment_id:
            return "the proof run is in another environment"
        if problem.subject is not None and proof.subject != problem.subject:
            return "the proof run is about another subject"
        proof_type = self.catalog.resolve(proof.operation_type)
        if proof_type is None or proof_type.name not in self._superseding(problem.operation_type):
            return f"a {proof.operation_type!r} run cannot supersede this type"
        return run_fact_fault(proof, evidence.as_of)

    def _check_state_proof(
        self, problem: ProblemRun, family: Family, proof: object, evidence: Evidence
    ) -> str | None:
        if not isinstance(proof, StateFact):
            return "a resolved decision needs a StateFact as proof"
        if proof.kind not in family.state_kinds:
            return f"the family does not declare state kind {proof.kind!r}"
        returned = evidence.state(proof.kind)
        if proof is not returned and proof != returned:
            return "the proof is not the state the source returned for this run's request"
        if (
            proof.workspace_id != problem.workspace_id
            or proof.environment_id != problem.environment_id
            or proof.subject != problem.subject
        ):
            return "the proof state is in another scope or about another subject"
        if not is_aware(proof.proven_at):
            return "the proof state's proven_at has no time zone"
        if proof.proven_at <= problem.completed_at:
            return "the proof state was not proven after this run completed"
        if proof.proven_at > evidence.as_of:
            return "the proof state was proven after as_of"
        type_name = problem.operation_type.name
        if proof.status.__class__ is not str and not isinstance(proof.status, str):
            return f"the proof state's status {proof.status!r} is not a string"
        if proof.status not in self._resolving(family, proof.kind, type_name):
            # A policy's code may test health wrongly or not at all; the family's declaration is
            # the one statement of which statuses resolve its runs, and the pushdown reads it too.
            return (
                f"the family does not declare {proof.kind!r} status {proof.status!r} as "
                f"resolving {type_name!r}"
            )
        return None

    def _resolving(self, family: Family, kind: str, operation_type: str) -> frozenset[str]:
        key = (family.name, kind, operation_type)
        statuses = self._resolving_cache.get(key)
        if statuses is None:
            statuses = self._resolving_cache[key] = family.resolving_statuses(kind, operation_type)
        return statuses

    def _superseding(self, op_type: OperationType) -> frozenset[str | None]:
        """The canonical names of the types whose success may supersede ``op_type``."""
        names = self._superseding_cache.get(op_type.name)
        if names is None:
            names = self._superseding_cache[op_type.name] = frozenset(
                {op_type.name, *(self._canonical(name) for name in op_type.superseded_by)}
            )
        return names

    def _canonical(self, name: str) -> str | None:
        op_type = self.catalog.resolve(name)
        return None if op_type is None else op_type.name


def override(
    problem: ProblemRun,
    family: Family,
    kind: str,
    claimed: Actionability | None,
    detail: str,
    reason: Reason,
) -> tuple[Decision, PolicyViolation]:
    if reason is Reason.HIGH_RISK_REQUIRES_REVIEW:
        explanation = msg(
            "verdict.high_risk",
            "The {type} is high-risk: whatever happened since, a person must confirm nothing "
            "was left half-applied.",
            type=problem.label,
        )
    else:
        # The detail names the fault in the plugin's terms, for its author: it stays as written.
        explanation = msg(
            "verdict.policy_violation",
            "The {family} policy's decision could not be verified ({detail}), so the run needs "
            "a review.",
            family=family_name(family.name),
            detail=detail,
        )
    decision = Decision(
        status=Actionability.REQUIRES_MANUAL_REVIEW,
        reason=reason,
        explanation=explanation,
        primary_action=review_action(problem.run, problem.operation_type),
    )
    violation = PolicyViolation(
        run_id=problem.run.id, family=family.name, kind=kind, claimed=claimed, detail=detail
    )
    return decision, violation


def _started_before(proof: RunFact, problem: ProblemRun) -> str | None:
    if proof.started_at < problem.completed_at:
        return "the proof run started before this run completed"
    return None


def _problem_status(decision: object) -> Actionability | None:
    """The status a policy's decision claims, or None when it is no decision about a problem run."""
    if not isinstance(decision, Decision):
        return None
    status = decision.status
    if status.__class__ is not Actionability:
        try:
            status = Actionability(status)
        except (ValueError, TypeError):
            return None
    return status if status in _PROBLEM_STATUSES else None


def _malformed(decision: Decision) -> str | None:
    """What is wrong with a decision's proof or action, or None when both are of their kinds."""
    proof = decision.proof
    if proof is not None and not isinstance(proof, RunFact | StateFact):
        return f"its proof is a {type(proof).__name__}, not a RunFact, a StateFact or None"
    action = decision.primary_action
    if action is not None and not isinstance(action, PrimaryAction):
        return f"its primary action is a {type(action).__name__}, not a PrimaryAction or None"
    return None


def is_aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def run_fact_fault(fact: RunFact, as_of: datetime) -> str | None:
    """Why a history port's fact cannot be evidence at ``as_of`` (None when it can).

    A port that is given the run's ``created_at`` (``RunFact.created_at``) is held to the whole
    of ``sound_run_times``; without it, the event start and the end must still be in order.
    """
    started_at, completed_at = fact.started_at, fact.completed_at
    if not (is_aware(started_at) and is_aware(completed_at)):
        return "the proof run's timestamps have no time zone"
    if completed_at < started_at:
        return "the proof run completed before it started"
    created_at = fact.created_at
    if created_at is not None and not (is_aware(created_at) and completed_at >= created_at):
        return "the proof run completed before it was created"
    if started_at > as_of:
        return "the proof run started after as_of"
    if completed_at > as_of:
        return "the proof run completed after as_of"
    return None
