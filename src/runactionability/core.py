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

The core walks the record checks of rules 3-4 as one table (``checks.RECORD_CHECKS``), has the
decisions verified by ``proofs`` (rules 6-7) and builds its verdicts with ``verdicts``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, cast

import attrs

from runactionability.catalog import OperationCatalog, OperationType
from runactionability.checks import RECORD_CHECKS
from runactionability.errors import DuplicateRunError, UsageError
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.messages import Message
from runactionability.model import OperationRun, RunOutcome, RunStatus, usable_id
from runactionability.plain_records import plain_scope, scope_key
from runactionability.policies.base import Evidence, Family, ProblemRun
from runactionability.proofs import Verifier, is_aware, override, run_fact_fault
from runactionability.result import (
    ActionabilityResult,
    PolicyViolation,
    Reason,
    Verdict,
)
from runactionability.verdicts import (
    active_verdict,
    invalid_result,
    policy_error_result,
    problem_verdict,
    raised,
    succeeded_verdict,
)

_COMPLETED = RunStatus.COMPLETED
_SUCCEEDED = RunOutcome.SUCCEEDED
_QUEUED = RunStatus.QUEUED
_RUNNING = RunStatus.RUNNING
# The record checks as the core walks them: the tests alone, in table order, so the walk of a
# valid run is one call per check; the reason of a failed one is looked up only then.
_CHECKS = tuple(check.test for check in RECORD_CHECKS)
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
_ScopeCache = dict[tuple[Any, ...], tuple[LaterSuccessRequest, Mapping[str, StateRequest]]]


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

    def __init__(self, reason: Reason, explanation: Message) -> None:
        super().__init__(explanation.id)
        self.reason = reason
        self.explanation = explanation


class _Batch:
    """What ``plan`` gathers from a batch's problem runs."""

    def __init__(self, as_of: datetime) -> None:
        self.as_of = as_of
        self.problems: list[tuple[int, ProblemRun, Family]] = []
        self.success_requests: set[LaterSuccessRequest] = set()
        self.state_requests: dict[str, set[StateRequest]] = {}
        self.scope_cache: _ScopeCache = {}
        self.violations: list[PolicyViolation] = []


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
        self._verifier = Verifier(catalog)

    # -- step 1: plan -------------------------------------------------------------------------

    def plan(self, runs: Sequence[OperationRun], *, as_of: datetime) -> Plan:
        """Classify what needs no evidence and collect the de-duplicated evidence requests."""
        _check_as_of(as_of)
        runs = _check_runs(runs)
        results: list[ActionabilityResult | None] = []
        append = results.append
        batch = _Batch(as_of)
        succeeded: dict[object, Verdict] = {}
        active: dict[object, Verdict] = {}
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
                        verdict = succeeded[key] = succeeded_verdict(
                            self.catalog.resolve(key), as_of
                        )
                    result = new(result_class)
                    set_run_id(result, run.id)
                    set_verdict(result, verdict)
                    append(result)
                    continue
            elif (status is _QUEUED or status is _RUNNING) and run.outcome is None:
                verdict = active.get((key, status))
                if verdict is None:
                    verdict = active[(key, status)] = active_verdict(
                        self.catalog.resolve(key), status, as_of
                    )
                result = new(result_class)
                set_run_id(result, run.id)
                set_verdict(result, verdict)
                append(result)
                continue
            append(self._plan_problem(index, run, batch))
        return Plan(
            as_of=as_of,
            results=results,
            problems=batch.problems,
            later_success_requests=frozenset(batch.success_requests),
            state_requests={kind: frozenset(reqs) for kind, reqs in batch.state_requests.items()},
            violations=batch.violations,
        )

    def _plan_problem(
        self, index: int, run: OperationRun, batch: _Batch
    ) -> ActionabilityResult | None:
        """A problem run's result when it needs none from its policy, else None (planned)."""
        op_type = self.catalog.resolve(run.type)
        try:
            problem = self._problem(run, op_type, batch.scope_cache)
        except _Invalid as invalid:
            known = op_type is not None and op_type.family in self.families
            return invalid_result(
                run, op_type, known, invalid.reason, invalid.explanation, batch.as_of
            )
        family = self.families[problem.operation_type.family]
        try:
            requested = tuple(family.policy.plan(problem))
        except Exception as exc:
            if self.strict:
                raise
            batch.violations.append(raised(problem, exc))
            return policy_error_result(problem, exc, batch.as_of)
        own_states = problem.state_requests
        for request in requested:
            # Only the run's own requests are fetched: a policy cannot even look at evidence
            # from another scope or subject, or at a kind its family did not declare.
            if request.__class__ is LaterSuccessRequest:
                own_success = problem.later_success_request
                if request is own_success or request == own_success:
                    batch.success_requests.add(own_success)
            elif request.__class__ is StateRequest:
                own = own_states.get(request.kind)
                if own is not None and (own is request or own == request):
                    batch.state_requests.setdefault(own.kind, set()).add(own)
        batch.problems.append((index, problem, family))
        return None

    def _problem(
        self, run: OperationRun, op_type: OperationType | None, scope_cache: _ScopeCache
    ) -> ProblemRun:
        """The run as its policy sees it; raises ``_Invalid`` at the first record check it fails."""
        judged = op_type if op_type is not None and op_type.family in self.families else None
        # Most runs pass every record check in the common way, found in one pass; the others
        # walk the table, which names the first check they fail (or passes them just the same).
        cache_key = None if judged is None else plain_scope(run, judged)
        if cache_key is None:
            cache_key = _checked_key(run, judged)
        assert judged is not None  # the known_type check passed
        scoped = scope_cache.get(cache_key)
        if scoped is None:
            # The key holds plain ids as stored or the ids as the core compares them: either
            # way usable_id gives the compared id.
            scoped = scope_cache[cache_key] = self._scoped_requests(
                judged,
                cast(str, usable_id(cache_key[1])),
                usable_id(cache_key[2]),
                usable_id(cache_key[3]),
            )
        problem = _new_object(ProblemRun)
        _set_problem_run(problem, run)
        _set_problem_type(problem, judged)
        _set_problem_success(problem, scoped[0])
        _set_problem_states(problem, scoped[1])
        return problem

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
        visible_successes, visible_states = _visible(plan, successes, states)
        results = list(plan.results)
        violations = list(plan.violations)
        for index, problem, family in plan.problems:
            evidence = Evidence(problem, visible_successes, visible_states, as_of)
            try:
                decision = family.policy.decide(problem, evidence)
            except Exception as exc:
                if self.strict:
                    raise
                results[index] = policy_error_result(problem, exc, as_of)
                violations.append(raised(problem, exc))
                continue
            try:
                decision, violation = self._verifier.verify(problem, family, decision, evidence)
            except Exception as exc:
                # Only a policy's malformed answer can make verification fail; it is no decision.
                decision, violation = override(
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
                result, problem_verdict(decision, family.name, problem.operation_type.name, as_of)
            )
            results[index] = result
        # Every slot the plan left empty belongs to a problem run, and each got its result above.
        return Outcome(results=cast(list[ActionabilityResult], results), violations=violations)


def _checked_key(run: OperationRun, judged: OperationType | None) -> tuple[Any, ...]:
    """Walk the record checks in order (raising ``_Invalid`` at the first that fails); the key."""
    for test in _CHECKS:
        explanation = test(run, judged)
        if explanation is not None:
            failed = next(check for check in RECORD_CHECKS if check.test is test)
            raise _Invalid(failed.reason, explanation)
    assert judged is not None  # the known_type check passed
    return scope_key(run, judged)


def _visible(
    plan: Plan,
    successes: Mapping[LaterSuccessRequest, RunFact],
    states: Mapping[str, Mapping[StateRequest, StateFact]],
) -> tuple[dict[LaterSuccessRequest, RunFact], dict[StateRequest, StateFact]]:
    """The facts that may be evidence: asked for by the plan, of their kind, and sound at as_of."""
    as_of = plan.as_of
    # A broken port's answer (not a fact, or a naive timestamp) is no evidence: comparing it
    # with as_of would raise and take the whole batch down with it.
    visible_successes = {
        request: fact
        for request, fact in successes.items()
        if request in plan.later_success_requests
        and isinstance(fact, RunFact)
        and run_fact_fault(fact, as_of) is None
    }
    visible_states: dict[StateRequest, StateFact] = {}
    for kind, facts in states.items():
        asked = plan.state_requests.get(kind, frozenset())
        for request, fact in facts.items():
            if (
                request in asked
                and isinstance(fact, StateFact)
                and is_aware(fact.proven_at)
                and fact.proven_at <= as_of
            ):
                visible_states[request] = fact
    return visible_successes, visible_states


def _check_as_of(as_of: object) -> None:
    if not is_aware(as_of):
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
