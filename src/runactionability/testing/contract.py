"""``assert_family_contract``: a property test of one family against the rules the core promises.

A plugin author reuses it on their own family; this library's suite runs it on every built-in
family and on the third-party example. Scenarios come from ``strategies.evidence_scenarios``:
problem runs of the family's types with later successes and states drawn about each of them
(before, at and after the failure; now and then in another environment), so the rules below
meet evidence on both sides of every boundary. For every problem run of the family:

1. evaluation in strict mode never raises (a policy error fails the contract);
2. the policy breaks no rule the core would have to correct: no result has the reason
   ``policy_violation`` (a high-risk family's clamp excepted: holding it in review is the
   core's job);
3. the status is one the family's description allows for the type (``Family.profile``): an
   undescribed policy may decide anything, a described one only what its rules say;
4. a high-risk family's problem run is always ``requires_manual_review``;
5. ``superseded_by_later_success`` rests on a successful run of the same scope and subject, of a
   superseding type, that started at or after the failure completed and completed by ``as_of``,
   and that is in the history given; ``resolved_by_current_state`` on a given state of the same
   scope and subject, a status the family declares for the type, proven after the failure
   completed and by ``as_of`` (positive evidence only: nothing resolves on silence);
6. the batch equals the runs evaluated one at a time and in reverse order (determinism).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hypothesis import given
from hypothesis import settings as hypothesis_settings

from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.catalog import OperationCatalog, OperationType
from runactionability.catalog.profiles import TypeClass, TypeProfile
from runactionability.evidence import RunFact, StateFact
from runactionability.hookspecs import hookimpl
from runactionability.model import OperationRun
from runactionability.policies.base import Family, Risk
from runactionability.registry import Registry
from runactionability.resolver import Resolver
from runactionability.result import Actionability, ActionabilityResult, Reason
from runactionability.testing.strategies import Scenario, evidence_scenarios

_STATUS_OF_CLASS = {
    TypeClass.ACTIONABLE: Actionability.ACTIONABLE,
    TypeClass.MANUAL_REVIEW: Actionability.REQUIRES_MANUAL_REVIEW,
    TypeClass.SUPERSEDED_CAPABLE: Actionability.SUPERSEDED_BY_LATER_SUCCESS,
    TypeClass.RESOLVED_CAPABLE: Actionability.RESOLVED_BY_CURRENT_STATE,
    TypeClass.INFORMATIONAL_ONLY: Actionability.INFORMATIONAL_ONLY,
}


_ACTIVE = Actionability.NOT_TERMINAL


class _FamilyPlugin:
    def __init__(self, family: Family) -> None:
        self.family = family

    @hookimpl
    def runactionability_families(self) -> Sequence[Family]:
        return (self.family,)


def assert_family_contract(
    family: Family,
    types: Iterable[OperationType] | OperationCatalog | None = None,
    *,
    registry: Registry | None = None,
    settings: hypothesis_settings | None = None,
) -> None:
    """Run the contract of the module's docstring on ``family``; fail with a falsifying example.

    ``types`` are the operation types to evaluate (a catalog, or the types a plugin registers);
    the family's own are drawn as problem runs, the others only as evidence and noise. Without
    ``registry`` the family is registered alone on a fresh one, so ``types`` must all be its own;
    with one (e.g. ``Registry.default()`` for a built-in family) it must hold this very family,
    and ``types`` defaults to its catalog. ``settings`` are hypothesis settings (default: the
    active profile).
    """
    if registry is None:
        if types is None:
            raise TypeError("assert_family_contract needs the family's types, or a registry")
        registry = Registry()
        registry.register(_FamilyPlugin(family), name=f"contract:{family.name}")
    elif registry.families().get(family.name) != family:
        raise ValueError(f"the registry's family {family.name!r} is not the family given")
    catalog = _catalog(types, registry)
    own = [op_type.name for op_type in catalog if op_type.family == family.name]
    if not own:
        raise ValueError(f"no operation type of family {family.name!r} among the types given")
    kinds = sorted({kind for each in registry.families().values() for kind in each.state_kinds})
    strategy = evidence_scenarios(
        catalog=catalog,
        types=own,
        state_kinds=sorted(family.state_kinds),
        registry=registry,
    )

    def contract(scenario: Scenario) -> None:
        _check(family, registry, catalog, kinds, scenario)

    test = given(strategy)(contract)
    if settings is not None:
        test = settings(test)
    test()


def _catalog(
    types: Iterable[OperationType] | OperationCatalog | None, registry: Registry
) -> OperationCatalog:
    if types is None:
        return registry.catalog()
    if isinstance(types, OperationCatalog):
        return types
    return OperationCatalog(types)


def _check(
    family: Family,
    registry: Registry,
    catalog: OperationCatalog,
    kinds: Sequence[str],
    scenario: Scenario,
) -> None:
    resolver = Resolver(
        registry=registry,
        catalog=catalog,
        history=MemoryRunHistory(scenario.runs),
        states={k: MemoryStateSource(k, scenario.states.get(k, ())) for k in kinds},
        strict=True,
    )
    results = resolver.evaluate_many(scenario.runs, as_of=scenario.as_of)
    again = [resolver.evaluate(run, as_of=scenario.as_of) for run in scenario.runs]
    reverse = resolver.evaluate_many(scenario.runs[::-1], as_of=scenario.as_of)[::-1]
    # The result of a decision the core corrected says why (a high-risk clamp is the core's job).
    corrected = [
        f"run {result.run_id}: {result.explanation}"
        for result in results
        if result.family == family.name and result.reason == Reason.POLICY_VIOLATION
    ]
    assert not corrected, f"the core corrected the policy of {family.name!r}: {corrected}"
    assert results == again, "a batch differs from its runs evaluated one at a time"
    assert results == reverse, "the results depend on the order of the batch"
    for run, result in zip(scenario.runs, results, strict=True):
        problem = run.outcome not in (None, "succeeded")
        # A run completed after as_of was still active then (not_terminal): no problem yet.
        if result.family == family.name and problem and result.status is not _ACTIVE:
            _check_problem(family, catalog, scenario, run, result)


def _check_problem(
    family: Family,
    catalog: OperationCatalog,
    scenario: Scenario,
    run: OperationRun,
    result: ActionabilityResult,
) -> None:
    op_type = catalog.resolve(run.type)
    assert op_type is not None
    where = f"run {run.id} ({run.type}, {run.outcome}): {result.status} ({result.reason})"
    if family.risk is Risk.HIGH:
        assert result.status is Actionability.REQUIRES_MANUAL_REVIEW, f"high risk, {where}"
        return
    profile = family.profile(op_type, catalog)
    allowed = _allowed(profile, run)
    assert allowed is None or result.status in allowed, (
        f"{where}, which the family's description does not allow ({profile.describe()})"
    )
    if result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS:
        _check_run_proof(catalog, scenario, run, op_type, result.proof, where)
    elif result.status is Actionability.RESOLVED_BY_CURRENT_STATE:
        _check_state_proof(family, scenario, run, op_type, result.proof, where)


def _allowed(profile: TypeProfile, run: OperationRun) -> set[Actionability] | None:
    if not profile.described:
        return None
    allowed = {_STATUS_OF_CLASS[each] for each in profile.classes}
    if run.outcome in profile.informational_outcomes:
        allowed.add(Actionability.INFORMATIONAL_ONLY)
    return allowed


def _check_run_proof(
    catalog: OperationCatalog,
    scenario: Scenario,
    run: OperationRun,
    op_type: OperationType,
    proof: Any,
    where: str,
) -> None:
    assert isinstance(proof, RunFact), f"{where} without a run as proof"
    given_runs = {str(each.id): each for each in scenario.runs}
    source = given_runs.get(str(proof.run_id))
    assert source is not None, f"{where}: proof {proof.run_id} is not in the history"
    assert source.outcome == "succeeded", f"{where}: proof {proof.run_id} did not succeed"
    assert proof.operation_type in catalog.superseding_names(op_type.name), where
    _check_scope(run, op_type, proof.workspace_id, proof.environment_id, proof.subject, where)
    assert proof.started_at >= run.completed_at, f"{where}: the proof started before the failure"
    assert proof.completed_at <= scenario.as_of, f"{where}: the proof completed after as_of"


def _check_state_proof(
    family: Family,
    scenario: Scenario,
    run: OperationRun,
    op_type: OperationType,
    proof: Any,
    where: str,
) -> None:
    assert isinstance(proof, StateFact), f"{where} without a state as proof"
    assert proof in scenario.states.get(proof.kind, ()), f"{where}: the state was not given"
    declared = family.resolving_statuses(proof.kind, op_type.name)
    assert proof.status in declared, f"{where}: status {proof.status!r} is not declared"
    _check_scope(run, op_type, proof.workspace_id, proof.environment_id, proof.subject, where)
    assert proof.proven_at > run.completed_at, f"{where}: the state was proven before the failure"
    assert proof.proven_at <= scenario.as_of, f"{where}: the state was proven after as_of"


def _check_scope(
    run: OperationRun,
    op_type: OperationType,
    workspace: str,
    environment: str | None,
    subject: str | None,
    where: str,
) -> None:
    assert workspace == str(run.workspace_id), f"{where}: evidence from another workspace"
    if not op_type.workspace_owned:
        assert environment == str(run.environment_id), f"{where}: from another environment"
    if op_type.subject_key is not None:
        expected = str(run.context[op_type.subject_key])
        assert subject == expected, f"{where}: evidence about another subject"
