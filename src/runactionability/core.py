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
from typing import Any, cast

import attrs

from runactionability.catalog import OperationCatalog, OperationType
from runactionability.checks import RECORD_CHECKS
from runactionability.core_inputs import check_as_of, check_runs, visible_facts
from runactionability.evidence import (
    LaterSuccessRequest,
    RunFact,
    StateFact,
    StateRequest,
    new_state_request,
    new_success_request,
)
from runactionability.messages import Message
from runactionability.model import OperationRun, RunOutcome, RunStatus, usable_id
from runactionability.plain_records import plain_scope, scope_key
from runactionability.policies.base import Evidence, Family, ProblemRun
from runactionability.problem_scopes import (
    Batch,
    Scoped,
    TypeFacts,
    new_scoped,
    own_requests,
    problem_run,
    type_facts,
)
from runactionability.proofs import Verifier, override
from runactionability.result import (
    ActionabilityResult,
    Decision,
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


@attrs.frozen
class Plan:
    """What a batch needs fetched. Pass it back to ``Core.decide`` with the facts.

    The problem runs are kept as three parallel lists (their index in the batch, the run, and
    what the runs of its type, scope and subject share), not as an object per run: a value that
    lives from plan to decide survives into the collector's oldest generation, and a million
    of them would make it walk the host's whole heap once more.
    """

    as_of: datetime
    results: list[ActionabilityResult | None]
    problem_indexes: list[int]
    problem_runs: list[OperationRun]
    problem_scopes: list[Scoped]
    later_success_requests: frozenset[LaterSuccessRequest]
    state_requests: Mapping[str, frozenset[StateRequest]]
    violations: list[PolicyViolation] = attrs.Factory(list)

    @property
    def problems(self) -> list[tuple[int, ProblemRun, Family]]:
        """Each problem run's index in the batch, the run as its policy sees it, its family."""
        return [
            (index, problem_run(run, scoped), scoped.family)
            for index, run, scoped in zip(
                self.problem_indexes, self.problem_runs, self.problem_scopes, strict=True
            )
        ]


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
        # What the scopes of each type share (``_type_fact``), by canonical type name.
        self._type_facts: dict[str, TypeFacts] = {}

    # -- step 1: plan -------------------------------------------------------------------------

    def plan(self, runs: Sequence[OperationRun], *, as_of: datetime) -> Plan:
        """Classify what needs no evidence and collect the de-duplicated evidence requests."""
        check_as_of(as_of)
        runs = check_runs(runs)
        results: list[ActionabilityResult | None] = []
        append = results.append
        batch = Batch(as_of)
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
            problem_indexes=batch.indexes,
            problem_runs=batch.runs,
            problem_scopes=batch.scopes,
            later_success_requests=frozenset(batch.success_requests),
            state_requests={kind: frozenset(reqs) for kind, reqs in batch.state_requests.items()},
            violations=batch.violations,
        )

    def _plan_problem(
        self, index: int, run: OperationRun, batch: Batch
    ) -> ActionabilityResult | None:
        """A problem run's result when it needs none from its policy, else None (planned)."""
        op_type = self.catalog.resolve(run.type)
        try:
            scoped = self._scoped(run, op_type, batch)
        except _Invalid as invalid:
            known = op_type is not None and op_type.family in self.families
            return invalid_result(
                run, op_type, known, invalid.reason, invalid.explanation, batch.as_of
            )
        if not scoped.planned:
            problem = problem_run(run, scoped)
            try:
                requested = tuple(scoped.family.policy.plan(problem))
            except Exception as exc:
                if self.strict:
                    raise
                batch.violations.append(raised(problem, exc))
                return policy_error_result(problem, exc, batch.as_of)
            batch.ask(own_requests(requested, scoped))
        batch.indexes.append(index)
        batch.runs.append(run)
        batch.scopes.append(scoped)
        return None

    def _scoped(self, run: OperationRun, op_type: OperationType | None, batch: Batch) -> Scoped:
        """What the run shares with its scope; raises ``_Invalid`` at the first check it fails."""
        judged = op_type if op_type is not None and op_type.family in self.families else None
        # Most runs pass every record check in the common way, found in one pass; the others
        # walk the table, which names the first check they fail (or passes them just the same).
        cache_key = None if judged is None else plain_scope(run, judged)
        if cache_key is None:
            cache_key = _checked_key(run, judged)
        assert judged is not None  # the known_type check passed
        scoped = batch.scope_cache.get(cache_key)
        if scoped is None:
            # The key holds plain ids as stored or the ids as the core compares them: either
            # way usable_id gives the compared id.
            scoped = batch.scope_cache[cache_key] = self._scoped_requests(
                judged,
                cast(str, usable_id(cache_key[1])),
                usable_id(cache_key[2]),
                usable_id(cache_key[3]),
                batch,
            )
        return scoped

    def _scoped_requests(
        self,
        op_type: OperationType,
        workspace_id: str,
        environment_id: str | None,
        subject: str | None,
        batch: Batch,
    ) -> Scoped:
        """The requests every problem run of one type, scope and subject shares.

        When the family's policy plans by the type alone, its requests are the batch's now, once
        for the scope, and its runs are not planned one by one.
        """
        facts = self._type_facts.get(op_type.name)
        if facts is None:
            facts = self._type_facts[op_type.name] = type_facts(
                op_type, self.families[op_type.family], self.catalog, self.state_kinds
            )
        family, superseding, kinds, shape = facts
        success = new_success_request(
            superseding, workspace_id, environment_id, op_type.subject_key, subject
        )
        states = {
            kind: new_state_request(kind, workspace_id, environment_id, subject) for kind in kinds
        }
        scoped = new_scoped(op_type, family, success, states, shape is not None)
        if shape is not None:
            # Only the kinds a source serves are the run's own requests, as in ``own_requests``.
            if shape[0]:
                batch.success_requests.add(success)
            for kind in shape[1]:
                request = states.get(kind)
                if request is not None:
                    batch.state_requests.setdefault(kind, set()).add(request)
        return scoped

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
        visible_successes, visible_states = visible_facts(plan, successes, states)
        results = list(plan.results)
        violations = list(plan.violations)
        # Verdicts of decisions a policy gives many runs as one value (cancelled, history only),
        # by the decision's identity and the type: the entry holds the decision, so its identity
        # is not reused while the entry lives.
        shared: dict[tuple[int, str], tuple[Decision, Verdict]] = {}
        # Later successes already verified as the proof of a scope's request (``Verifier``).
        proven: dict[int, tuple[RunFact, object]] = {}
        for index, run, scoped in zip(
            plan.problem_indexes, plan.problem_runs, plan.problem_scopes, strict=True
        ):
            problem = problem_run(run, scoped)
            evidence = Evidence(problem, visible_successes, visible_states, as_of)
            try:
                decision = scoped.family.policy.decide(problem, evidence)
            except Exception as exc:
                if self.strict:
                    raise
                results[index] = policy_error_result(problem, exc, as_of)
                violations.append(raised(problem, exc))
                continue
            # Only a decision with no proof and no action is shared (_verdict): no key for others.
            known = (
                shared.get((id(decision), scoped.operation_type.name))
                if decision.__class__ is Decision
                and decision.proof is None
                and decision.primary_action is None
                else None
            )
            if known is not None and known[0] is decision:
                verdict = known[1]
            else:
                verdict = self._verdict(
                    problem, scoped, decision, evidence, violations, shared, proven
                )
            result = _new_object(ActionabilityResult)
            _set_run_id(result, run.id)
            _set_verdict(result, verdict)
            results[index] = result
        # Every slot the plan left empty belongs to a problem run, and each got its result above.
        return Outcome(results=cast(list[ActionabilityResult], results), violations=violations)

    def _verdict(
        self,
        problem: ProblemRun,
        scoped: Scoped,
        decision: object,
        evidence: Evidence,
        violations: list[PolicyViolation],
        shared: dict[tuple[int, str], tuple[Decision, Verdict]],
        proven: dict[int, tuple[RunFact, object]],
    ) -> Verdict:
        """The verdict of a policy's decision once the core verified it."""
        family = scoped.family
        try:
            checked, violation = self._verifier.verify(problem, family, decision, evidence, proven)
        except Exception as exc:
            # Only a policy's malformed answer can make verification fail; it is no decision.
            checked, violation = override(
                problem,
                family,
                "invalid_decision",
                None,
                f"verifying the policy's decision failed: {type(exc).__name__}: {exc}",
                Reason.POLICY_VIOLATION,
            )
        if violation is not None:
            violations.append(violation)
        verdict = problem_verdict(
            checked, family.name, scoped.operation_type.name, as_of=evidence.as_of
        )
        if checked is decision and checked.proof is None and checked.primary_action is None:
            # Verified without a proof or anything of the run's own: the same for every run of
            # the type, so the next run given this decision gets this verdict.
            shared[(id(checked), scoped.operation_type.name)] = (checked, verdict)
        return verdict


def _checked_key(run: OperationRun, judged: OperationType | None) -> tuple[Any, ...]:
    """Walk the record checks in order (raising ``_Invalid`` at the first that fails); the key."""
    for test in _CHECKS:
        explanation = test(run, judged)
        if explanation is not None:
            failed = next(check for check in RECORD_CHECKS if check.test is test)
            raise _Invalid(failed.reason, explanation)
    assert judged is not None  # the known_type check passed
    return scope_key(run, judged)
