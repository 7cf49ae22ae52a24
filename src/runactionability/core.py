"""The sans-I/O core: plan the evidence a batch needs, then decide and verify every run.

The core never reads a clock and never does I/O: ``as_of`` and the facts are parameters. A
resolver (sync or async) is a short loop around it: ``plan``, fetch what the plan asks for, then
``decide``. The rules of the architecture brief are enforced here, once, for every policy:

1. one result per run, in input order; duplicate run ids raise before any I/O;
2. active runs are ``not_terminal`` and succeeded runs ``informational_only`` before any policy;
3. unknown types and invalid records need manual review, each with its own reason;
4. a missing correlation subject needs manual review;
5. evidence comes only from the run's own scope and subject, by event time, up to ``as_of``;
6. a superseded or resolved decision must carry a proof the core can verify (a resolving state's
   status must be one its family declares for the run's type);
7. a high-risk family's problem runs always stay in manual review;
8. a policy that raises needs manual review (or re-raises in strict mode);
9. the same runs, facts and ``as_of`` give the same results in any order and any batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, cast

import attrs

from runactionability.catalog import OperationCatalog, OperationType
from runactionability.errors import DuplicateRunError, UsageError
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.model import OperationRun, RunOutcome, RunStatus, usable_id
from runactionability.policies.base import Evidence, Family, ProblemRun, Risk, review_action
from runactionability.result import (
    Actionability,
    ActionabilityResult,
    Decision,
    PolicyViolation,
    PrimaryAction,
    Reason,
    Verdict,
)

_COMPLETED = RunStatus.COMPLETED
_SUCCEEDED = RunOutcome.SUCCEEDED
_QUEUED = RunStatus.QUEUED
_RUNNING = RunStatus.RUNNING
_PROBLEM_STATUSES = frozenset(Actionability) - {Actionability.NOT_TERMINAL}
# ActionabilityResult has no validators or converters, so filling its two slots directly makes the
# same value as calling the class, at about half the cost; a big batch makes one per run.
_new_object = object.__new__
_set_run_id = ActionabilityResult.__dict__["run_id"].__set__
_set_verdict = ActionabilityResult.__dict__["verdict"].__set__
# The same holds for ProblemRun, which the core makes once per problem run.
_set_problem_run = ProblemRun.__dict__["run"].__set__
_set_problem_type = ProblemRun.__dict__["operation_type"].__set__
_set_problem_success = ProblemRun.__dict__["later_success_request"].__set__
_set_problem_states = ProblemRun.__dict__["state_requests"].__set__
_MAPPING_PROXY = MappingProxyType
_DATETIME = datetime
_CLAMPED = frozenset(
    {
        Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        Actionability.RESOLVED_BY_CURRENT_STATE,
        Actionability.INFORMATIONAL_ONLY,
    }
)


@attrs.frozen
class Plan:
    """What a batch needs fetched. Pass it back to ``Core.decide`` with the facts."""

    as_of: datetime
    results: list[ActionabilityResult | None]
    problems: list[tuple[int, ProblemRun, Family]]
    later_success_requests: frozenset[LaterSuccessRequest]
    state_requests: Mapping[str, frozenset[StateRequest]]
    violations: list[PolicyViolation] = attrs.Factory(list)


@attrs.frozen
class Outcome:
    """The results of a batch, in input order, and every policy decision the core overrode."""

    results: list[ActionabilityResult]
    violations: list[PolicyViolation]


class _Invalid(Exception):
    """A record the core cannot judge; carries the reason code and a one-sentence explanation."""

    def __init__(self, reason: Reason, explanation: str) -> None:
        super().__init__(explanation)
        self.reason = reason
        self.explanation = explanation


def _scope_id(value: object, what: str) -> str:
    usable = usable_id(value)
    if usable is None:
        raise _Invalid(Reason.INVALID_SCOPE, f"The run's {what} id {value!r} is not a usable id.")
    return usable


def _aware(value: object, what: str) -> datetime:
    # The common case first: a plain aware datetime needs one check.
    if value.__class__ is _DATETIME and value.utcoffset() is not None:
        return value
    if value is None:
        reason = Reason.MISSING_COMPLETED_AT if what == "completed_at" else Reason.INVALID_TIMESTAMP
        raise _Invalid(reason, f"The run is completed but has no {what}.")
    if not isinstance(value, datetime):
        raise _Invalid(Reason.INVALID_TIMESTAMP, f"The run's {what} {value!r} is not a datetime.")
    if value.utcoffset() is None:
        raise _Invalid(
            Reason.NAIVE_TIMESTAMP,
            f"The run's {what} has no time zone, so its order against other events is unknown.",
        )
    return value


class Core:
    """Plans and decides batches for one catalog and one set of families.

    ``state_kinds`` are the kinds that have a source: requests for any other kind are not
    planned, so a family whose state kind has no source can be superseded but never resolved by
    state. ``strict`` re-raises a policy's own exception instead of turning it into manual review.
    """

    def __init__(
        self,
        *,
        catalog: OperationCatalog,
        families: Mapping[str, Family],
        state_kinds: Iterable[str] = (),
        strict: bool = False,
    ) -> None:
        self.catalog = catalog
        self.families = dict(families)
        self.state_kinds = frozenset(state_kinds)
        self.strict = strict
        self._superseding_cache: dict[str, frozenset[str | None]] = {}
        self._resolving_cache: dict[tuple[str, str, str], frozenset[str]] = {}

    # -- step 1: plan -------------------------------------------------------------------------

    def plan(self, runs: Sequence[OperationRun], *, as_of: datetime) -> Plan:
        """Classify what needs no evidence and collect the de-duplicated evidence requests."""
        _check_as_of(as_of)
        runs = _check_runs(runs)
        catalog = self.catalog
        families = self.families
        results: list[ActionabilityResult | None] = []
        append = results.append
        problems: list[tuple[int, ProblemRun, Family]] = []
        success_requests: set[LaterSuccessRequest] = set()
        state_requests: dict[str, set[StateRequest]] = {}
        scope_cache: dict[
            tuple[Any, ...], tuple[LaterSuccessRequest, Mapping[str, StateRequest]]
        ] = {}
        succeeded: dict[object, Verdict] = {}
        active: dict[object, Verdict] = {}
        violations: list[PolicyViolation] = []
        result_class = ActionabilityResult
        new, set_run_id, set_verdict = _new_object, _set_run_id, _set_verdict
        for index, run in enumerate(runs):
            status = run.status
            raw_type = run.type
            key = raw_type if raw_type.__class__ is str else None
            if status is _COMPLETED:
                outcome = run.outcome
                if outcome is _SUCCEEDED:
                    verdict = succeeded.get(key)
                    if verdict is None:
                        verdict = succeeded[key] = self._succeeded_verdict(key, as_of)
                    result = new(result_class)
                    set_run_id(result, run.id)
                    set_verdict(result, verdict)
                    append(result)
                    continue
            elif (status is _QUEUED or status is _RUNNING) and run.outcome is None:
                verdict = active.get((key, status))
                if verdict is None:
                    verdict = active[(key, status)] = self._active_verdict(key, status, as_of)
                result = new(result_class)
                set_run_id(result, run.id)
                set_verdict(result, verdict)
                append(result)
                continue
            try:
                op_type, problem = self._problem(run, catalog, scope_cache)
            except _Invalid as invalid:
                append(self._invalid(run, catalog.resolve(raw_type), invalid, as_of))
                continue
            family = families[op_type.family]
            try:
                requested = tuple(family.policy.plan(problem))
            except Exception as exc:
                if self.strict:
                    raise
                append(self._policy_error(problem, exc, as_of))
                violations.append(_raised(problem, exc))
                continue
            own_states = problem.state_requests
            for request in requested:
                # Only the run's own requests are fetched: a policy cannot even look at evidence
                # from another scope or subject, or at a kind its family did not declare.
                if request.__class__ is LaterSuccessRequest:
                    if request == problem.later_success_request:
                        success_requests.add(problem.later_success_request)
                elif request.__class__ is StateRequest:
                    own = own_states.get(request.kind)
                    if own is not None and (own is request or own == request):
                        state_requests.setdefault(own.kind, set()).add(own)
            append(None)
            problems.append((index, problem, family))
        return Plan(
            as_of=as_of,
            results=results,
            problems=problems,
            later_success_requests=frozenset(success_requests),
            state_requests={kind: frozenset(reqs) for kind, reqs in state_requests.items()},
            violations=violations,
        )

    def _succeeded_verdict(self, raw_type: str | None, as_of: datetime) -> Verdict:
        op_type = self.catalog.resolve(raw_type)
        return Verdict(
            status=Actionability.INFORMATIONAL_ONLY,
            reason=Reason.RUN_SUCCEEDED,
            explanation="The run succeeded; it is history and calls for no action.",
            family=None if op_type is None else op_type.family,
            operation_type=None if op_type is None else op_type.name,
            proof=None,
            primary_action=None,
            as_of=as_of,
        )

    def _active_verdict(self, raw_type: str | None, status: RunStatus, as_of: datetime) -> Verdict:
        op_type = self.catalog.resolve(raw_type)
        return Verdict(
            status=Actionability.NOT_TERMINAL,
            reason=Reason.RUN_NOT_TERMINAL,
            explanation=(
                f"The run is {status.value}; active work belongs on progress screens, "
                "not on the follow-up list."
            ),
            family=None if op_type is None else op_type.family,
            operation_type=None if op_type is None else op_type.name,
            proof=None,
            primary_action=None,
            as_of=as_of,
        )

    def _problem(
        self,
        run: OperationRun,
        catalog: OperationCatalog,
        scope_cache: dict[tuple[Any, ...], tuple[LaterSuccessRequest, Mapping[str, StateRequest]]],
    ) -> tuple[OperationType, ProblemRun]:
        status = run.status
        if status is _QUEUED or status is _RUNNING:
            raise _Invalid(
                Reason.OUTCOME_ON_ACTIVE_RUN,
                f"The run is {status.value} yet records the outcome {run.outcome!r}.",
            )
        if status is not _COMPLETED:
            raise _Invalid(Reason.INVALID_STATUS, f"The run's status {status!r} is not known.")
        outcome = run.outcome
        if outcome is None:
            raise _Invalid(Reason.MISSING_OUTCOME, "The run is completed but records no outcome.")
        if not isinstance(outcome, RunOutcome):
            raise _Invalid(Reason.INVALID_OUTCOME, f"The run's outcome {outcome!r} is not known.")
        op_type = catalog.resolve(run.type)
        if op_type is None or op_type.family not in self.families:
            raise _Invalid(
                Reason.UNKNOWN_OPERATION_TYPE,
                f"The operation type {run.type!r} is not in the catalog, so no policy can "
                "judge the run safely.",
            )
        created_at = _aware(run.created_at, "created_at")
        started_at = None if run.started_at is None else _aware(run.started_at, "started_at")
        completed_at = _aware(run.completed_at, "completed_at")
        if completed_at < created_at:
            raise _Invalid(
                Reason.COMPLETED_BEFORE_CREATED,
                "The run's completed_at is earlier than its created_at.",
            )
        if started_at is not None and completed_at < started_at:
            raise _Invalid(
                Reason.COMPLETED_BEFORE_STARTED,
                "The run's completed_at is earlier than its started_at.",
            )
        context = run.context
        if context.__class__ is not _MAPPING_PROXY and not isinstance(context, Mapping):
            raise _Invalid(
                Reason.INVALID_CONTEXT,
                f"The run's context is a {type(context).__name__}, not a mapping.",
            )
        workspace_id = _scope_id(run.workspace_id, "workspace")
        environment_id: str | None
        if op_type.workspace_owned:
            environment_id = None
        elif run.environment_id is None:
            raise _Invalid(
                Reason.MISSING_ENVIRONMENT,
                f"A {op_type.name} run belongs to an environment, but this one names none.",
            )
        else:
            environment_id = _scope_id(run.environment_id, "environment")
        subject: str | None = None
        if op_type.subject_key is not None:
            subject = usable_id(context.get(op_type.subject_key))
            if subject is None:
                raise _Invalid(
                    Reason.MISSING_CORRELATION,
                    f"The run's context has no usable {op_type.subject_key!r}, so no later "
                    "run or state can be tied to it.",
                )
        cache_key = (op_type.name, workspace_id, environment_id, subject)
        scoped = scope_cache.get(cache_key)
        if scoped is None:
            scoped = scope_cache[cache_key] = self._scoped_requests(
                op_type, workspace_id, environment_id, subject
            )
        problem = _new_object(ProblemRun)
        _set_problem_run(problem, run)
        _set_problem_type(problem, op_type)
        _set_problem_success(problem, scoped[0])
        _set_problem_states(problem, scoped[1])
        return op_type, problem

    def _scoped_requests(
        self,
        op_type: OperationType,
        workspace_id: str,
        environment_id: str | None,
        subject: str | None,
    ) -> tuple[LaterSuccessRequest, Mapping[str, StateRequest]]:
        """The requests every problem run of one type, scope and subject shares."""
        success = LaterSuccessRequest(
            operation_types=self.catalog.superseding_names(op_type.name),
            workspace_id=workspace_id,
            environment_id=environment_id,
            subject_key=op_type.subject_key,
            subject=subject,
        )
        served = self.families[op_type.family].state_kinds & self.state_kinds
        states = {
            kind: StateRequest(
                kind=kind,
                workspace_id=workspace_id,
                environment_id=environment_id,
                subject=subject,
            )
            for kind in sorted(served)
        }
        return success, MappingProxyType(states)

    # -- step 3: decide and verify ------------------------------------------------------------

    def decide(
        self,
        plan: Plan,
        *,
        successes: Mapping[LaterSuccessRequest, RunFact],
        states: Mapping[str, Mapping[StateRequest, StateFact]],
    ) -> Outcome:
        """Decide every problem run from the facts the ports returned, then verify each decision.

        ``successes`` maps later-success requests to the fact the history port returned;
        ``states`` maps each state kind to its source's facts. Facts for other requests are
        ignored; facts completed or proven after ``as_of`` are never evidence.
        """
        as_of = plan.as_of
        # A broken port's answer (not a fact, or a naive timestamp) is no evidence: comparing it
        # with as_of would raise and take the whole batch down with it.
        visible_successes = {
            request: fact
            for request, fact in successes.items()
            if request in plan.later_success_requests
            and isinstance(fact, RunFact)
            and _run_fact_fault(fact, as_of) is None
        }
        visible_states: dict[StateRequest, StateFact] = {}
        for kind, facts in states.items():
            asked = plan.state_requests.get(kind, frozenset())
            for request, fact in facts.items():
                if (
                    request in asked
                    and isinstance(fact, StateFact)
                    and _is_aware(fact.proven_at)
                    and fact.proven_at <= as_of
                ):
                    visible_states[request] = fact
        results = list(plan.results)
        violations = list(plan.violations)
        for index, problem, family in plan.problems:
            evidence = Evidence(problem, visible_successes, visible_states, as_of)
            try:
                decision = family.policy.decide(problem, evidence)
            except Exception as exc:
                if self.strict:
                    raise
                results[index] = self._policy_error(problem, exc, as_of)
                violations.append(_raised(problem, exc))
                continue
            try:
                decision, violation = self._verify(problem, family, decision, evidence)
            except Exception as exc:
                # Only a policy's malformed answer can make verification fail; it is no decision.
                decision, violation = self._override(
                    problem,
                    family,
                    "invalid_decision",
                    None,
                    f"verifying the policy's decision failed: {type(exc).__name__}: {exc}",
                    Reason.POLICY_VIOLATION,
                )
            if violation is not None:
                violations.append(violation)
            result = _new_object(ActionabilityResult)
            _set_run_id(result, problem.run.id)
            _set_verdict(
                result, _verdict(decision, family.name, problem.operation_type.name, as_of)
            )
            results[index] = result
        # Every slot the plan left empty belongs to a problem run, and each got its result above.
        return Outcome(results=cast(list[ActionabilityResult], results), violations=violations)

    def _verify(
        self, problem: ProblemRun, family: Family, decision: object, evidence: Evidence
    ) -> tuple[Decision, PolicyViolation | None]:
        if decision is None:
            decision = Decision(
                status=Actionability.ACTIONABLE,
                reason=Reason.NO_RESOLVING_EVIDENCE,
                explanation=(
                    f"The {problem.label.lower()} ended {problem.outcome} and its policy "
                    "found nothing that proves it fixed."
                ),
                primary_action=review_action(problem.run, problem.label),
            )
        status = _problem_status(decision)
        if status is None:
            return self._override(
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
            fault = self._check_run_proof(problem, decision.proof, evidence)
        elif status is Actionability.RESOLVED_BY_CURRENT_STATE:
            fault = self._check_state_proof(problem, family, decision.proof, evidence)
        if fault is not None:
            return self._override(
                problem, family, "invalid_proof", status, fault, Reason.POLICY_VIOLATION
            )
        fault = _malformed(decision)
        if fault is not None:
            # Every consumer reads the proof and the action by their fields; a value of another
            # kind would crash the screen that shows it, far from the plugin that wrote it.
            return self._override(
                problem, family, "invalid_decision", status, fault, Reason.POLICY_ERROR
            )
        if family.risk is Risk.HIGH and status in _CLAMPED:
            return self._override(
                problem,
                family,
                "high_risk_clamp",
                status,
                f"the policy of high-risk family {family.name!r} returned {status.value}",
                Reason.HIGH_RISK_REQUIRES_REVIEW,
            )
        return decision, None

    def _check_run_proof(
        self, problem: ProblemRun, proof: object, evidence: Evidence
    ) -> str | None:
        if not isinstance(proof, RunFact):
            return "a superseded decision needs a RunFact as proof"
        returned = evidence.later_success
        if proof is not returned and proof != returned:
            return "the proof is not the run the history port returned for this run's request"
        if proof.workspace_id != problem.workspace_id:
            return "the proof run is in another workspace"
        if problem.environment_id is not None and proof.environment_id != problem.environment_id:
            return "the proof run is in another environment"
        if problem.subject is not None and proof.subject != problem.subject:
            return "the proof run is about another subject"
        proof_type = self.catalog.resolve(proof.operation_type)
        if proof_type is None or proof_type.name not in self._superseding(problem.operation_type):
            return f"a {proof.operation_type!r} run cannot supersede this type"
        fault = _run_fact_fault(proof, evidence.as_of)
        if fault is not None:
            return fault
        if proof.started_at < problem.completed_at:
            return "the proof run started before this run completed"
        return None

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
        if not _is_aware(proof.proven_at):
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

    def _override(
        self,
        problem: ProblemRun,
        family: Family,
        kind: str,
        claimed: Actionability | None,
        detail: str,
        reason: Reason,
    ) -> tuple[Decision, PolicyViolation]:
        if reason is Reason.HIGH_RISK_REQUIRES_REVIEW:
            explanation = (
                f"The {problem.label.lower()} is high-risk: whatever happened since, a person "
                "must confirm nothing was left half-applied."
            )
        else:
            explanation = (
                f"The {family.name} policy's decision could not be verified ({detail}), "
                "so the run needs a review."
            )
        decision = Decision(
            status=Actionability.REQUIRES_MANUAL_REVIEW,
            reason=reason,
            explanation=explanation,
            primary_action=review_action(problem.run, problem.label),
        )
        violation = PolicyViolation(
            run_id=problem.run.id, family=family.name, kind=kind, claimed=claimed, detail=detail
        )
        return decision, violation

    def _invalid(
        self,
        run: OperationRun,
        op_type: OperationType | None,
        invalid: _Invalid,
        as_of: datetime,
    ) -> ActionabilityResult:
        known = op_type is not None and op_type.family in self.families
        return ActionabilityResult(
            run.id,
            Verdict(
                status=Actionability.REQUIRES_MANUAL_REVIEW,
                reason=invalid.reason,
                explanation=invalid.explanation,
                family=op_type.family if known and op_type else None,
                operation_type=op_type.name if known and op_type else None,
                proof=None,
                primary_action=review_action(
                    run, (op_type.label or op_type.name) if op_type else None
                ),
                as_of=as_of,
            ),
        )

    def _policy_error(
        self, problem: ProblemRun, exc: Exception, as_of: datetime
    ) -> ActionabilityResult:
        return ActionabilityResult(
            problem.run.id,
            Verdict(
                status=Actionability.REQUIRES_MANUAL_REVIEW,
                reason=Reason.POLICY_ERROR,
                explanation=(
                    f"The {problem.family} policy failed on this run "
                    f"({type(exc).__name__}), so it needs a review."
                ),
                family=problem.family,
                operation_type=problem.operation_type.name,
                proof=None,
                primary_action=review_action(problem.run, problem.label),
                as_of=as_of,
            ),
        )


_VERDICT_SLOTS = {name: Verdict.__dict__[name].__set__ for name in attrs.fields_dict(Verdict)}
_set_status = _VERDICT_SLOTS["status"]
_set_reason = _VERDICT_SLOTS["reason"]
_set_explanation = _VERDICT_SLOTS["explanation"]
_set_family = _VERDICT_SLOTS["family"]
_set_operation_type = _VERDICT_SLOTS["operation_type"]
_set_proof = _VERDICT_SLOTS["proof"]
_set_primary_action = _VERDICT_SLOTS["primary_action"]
_set_as_of = _VERDICT_SLOTS["as_of"]


def _verdict(decision: Decision, family: str, operation_type: str, as_of: datetime) -> Verdict:
    # Verdict has no validators or converters either; see _new_object above.
    verdict = _new_object(Verdict)
    _set_status(verdict, decision.status)
    _set_reason(verdict, decision.reason)
    _set_explanation(verdict, decision.explanation)
    _set_family(verdict, family)
    _set_operation_type(verdict, operation_type)
    _set_proof(verdict, decision.proof)
    _set_primary_action(verdict, decision.primary_action)
    _set_as_of(verdict, as_of)
    return verdict


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


def _raised(problem: ProblemRun, exc: Exception) -> PolicyViolation:
    return PolicyViolation(
        run_id=problem.run.id,
        family=problem.family,
        kind="policy_error",
        claimed=None,
        detail=f"{type(exc).__name__}: {exc}",
    )


def _is_aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def _run_fact_fault(fact: RunFact, as_of: datetime) -> str | None:
    """Why a history port's fact cannot be evidence at ``as_of`` (None when it can).

    A port that is given the run's ``created_at`` (``RunFact.created_at``) is held to the whole
    of ``sound_run_times``; without it, the event start and the end must still be in order.
    """
    started_at, completed_at = fact.started_at, fact.completed_at
    if not (_is_aware(started_at) and _is_aware(completed_at)):
        return "the proof run's timestamps have no time zone"
    if completed_at < started_at:
        return "the proof run completed before it started"
    created_at = fact.created_at
    if created_at is not None and not (_is_aware(created_at) and completed_at >= created_at):
        return "the proof run completed before it was created"
    if started_at > as_of:
        return "the proof run started after as_of"
    if completed_at > as_of:
        return "the proof run completed after as_of"
    return None


def _check_as_of(as_of: object) -> None:
    if not _is_aware(as_of):
        raise UsageError(f"as_of must be a timezone-aware datetime, not {as_of!r}")


def _check_runs(runs: Iterable[OperationRun]) -> Sequence[OperationRun]:
    if isinstance(runs, str | bytes) or not isinstance(runs, Iterable):
        raise UsageError(f"runs must be an iterable of OperationRun, not {type(runs).__name__}")
    batch = runs if isinstance(runs, list | tuple) else list(runs)
    for run in batch:
        if run.__class__ is not OperationRun and not isinstance(run, OperationRun):
            raise UsageError(f"expected an OperationRun, got {type(run).__name__}")
    ids = {run.id for run in batch}
    if len(ids) != len(batch):
        seen: set[object] = set()
        duplicates = []
        for run in batch:
            if run.id in seen and run.id not in duplicates:
                duplicates.append(run.id)
            seen.add(run.id)
        raise DuplicateRunError(duplicates)
    return batch
