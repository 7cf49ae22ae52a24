"""Why a run has its status, and which evidence would change it, derived from its family's rules.

The decision itself comes from the same ``assess`` path as every dashboard count; this module only
adds the reading of the family's policy that tells an operator what would settle the run.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import attrs

from runactionability.catalog import OperationCatalog
from runactionability.consumers.actions import ActiveRuns, work_key
from runactionability.consumers.assess import Assessment, assess, assess_async
from runactionability.errors import UsageError
from runactionability.model import OperationRun
from runactionability.policies.base import Family, Risk
from runactionability.ports import run_as_of
from runactionability.registry import Registry
from runactionability.resolver import AsyncResolver, Resolver
from runactionability.result import Actionability, Reason
from runactionability.scopes import VisibleScopes

_SETTLED = frozenset(
    {Actionability.SUPERSEDED_BY_LATER_SUCCESS, Actionability.RESOLVED_BY_CURRENT_STATE}
)
_RECORD_FAULTS = frozenset(
    {
        Reason.INVALID_STATUS,
        Reason.INVALID_OUTCOME,
        Reason.OUTCOME_ON_ACTIVE_RUN,
        Reason.MISSING_OUTCOME,
        Reason.INVALID_TIMESTAMP,
        Reason.NAIVE_TIMESTAMP,
        Reason.MISSING_COMPLETED_AT,
        Reason.COMPLETED_BEFORE_CREATED,
        Reason.COMPLETED_BEFORE_STARTED,
        Reason.INVALID_SCOPE,
        Reason.MISSING_ENVIRONMENT,
        Reason.INVALID_CONTEXT,
        Reason.MISSING_CORRELATION,
    }
)


@attrs.frozen(kw_only=True)
class Explanation:
    """A run's assessment, its family's risk and plugin, and what evidence would change it."""

    assessment: Assessment
    risk: Risk | None
    plugin: str | None
    would_change: tuple[str, ...]


def _stamp(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def would_change(
    run: OperationRun,
    assessment: Assessment,
    *,
    registry: Registry,
    catalog: OperationCatalog,
    state_kinds: Collection[str],
) -> tuple[str, ...]:
    """Sentences naming the evidence that would change the run's current status.

    For a run needing attention, one sentence per rule of its family's policy that could settle
    it (a later success, a healthy state), in the order the policy tries them, with the run's own
    scope, subject and completion time filled in. A state rule whose kind has no source says so.
    """
    result = assessment.result
    status = result.status
    family_name = result.family
    if status is Actionability.NOT_TERMINAL:
        return ("The run completing: it is then judged by its outcome.",)
    if status in _SETTLED:
        return (
            "Nothing: the proof stands, and a later failure would be a new run with a result "
            "of its own.",
        )
    if status is Actionability.INFORMATIONAL_ONLY:
        return ("Nothing: the run is history and calls for no action.",)
    if result.reason == Reason.UNKNOWN_OPERATION_TYPE:
        return (f"A family registered for the operation type {run.type!r}.",)
    if result.reason in _RECORD_FAULTS:
        return (f"A corrected record: {result.explanation}",)
    family = registry.families().get(family_name) if family_name else None
    if family is None:
        return ("Nothing this library can check: a person must review the run.",)
    if result.reason in (Reason.POLICY_ERROR, Reason.POLICY_VIOLATION):
        return (f"A fix to the {family.name} policy, which could not judge this run.",)
    if family.risk is Risk.HIGH:
        return (
            f"Nothing automatic: {family.name} is a high-risk family, so no later run or state "
            "settles a problem run; a person reviews it.",
        )
    return _from_rules(run, family, catalog=catalog, state_kinds=state_kinds)


def _describe_subject(key: str | None, subject: str | None) -> str:
    if key is None or subject is None:
        return ""
    noun = key.removesuffix("_id").replace("_", " ")
    return f" of {noun} {subject}"


def _from_rules(
    run: OperationRun, family: Family, *, catalog: OperationCatalog, state_kinds: Collection[str]
) -> tuple[str, ...]:
    placed = work_key(run, catalog)
    op_type = catalog.resolve(run.type)
    profile = None if op_type is None else family.profile(op_type, catalog)
    if op_type is None or profile is None or profile.steps is None or placed is None:
        return (f"Evidence the {family.name} policy accepts (see the plugin's documentation).",)
    type_name, workspace_id, environment_id, subject = placed
    where = f"{workspace_id}/{environment_id}" if environment_id else f"workspace {workspace_id}"
    of_subject = _describe_subject(op_type.subject_key, subject)
    after = _stamp(run.completed_at)
    sentences: list[str] = []
    # The family's own description of its rules, in the order the policy tries them: a rule is
    # read as what it says it decides, never as the built-in class it may derive from.
    for step in profile.steps:
        if not step.described:
            sentences.append(f"Whatever the {family.name} rule {step.rule} accepts.")
        elif step.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS:
            sentences.append(
                f"A later successful {' or '.join(profile.superseding_types)}{of_subject} in "
                f"{where}, started at or after {after} and completed by the evaluation time."
            )
        elif step.status is Actionability.RESOLVED_BY_CURRENT_STATE:
            for state in step.states:
                # Only a status the family declares resolves; the core refuses the others.
                declared = state.statuses & family.resolving_statuses(state.kind, type_name)
                if not declared:
                    continue
                healthy = " or ".join(sorted(declared))
                sentence = (
                    f"The {state.kind} state{of_subject} in {where} {healthy}, proven after "
                    f"{after}."
                )
                if state.kind not in state_kinds:
                    sentence += (
                        f" (No {state.kind} state source is configured, so it cannot apply.)"
                    )
                sentences.append(sentence)
    return tuple(sentences) or ("Nothing automatic: a person must act on the run.",)


def explain(
    resolver: Resolver,
    run: OperationRun,
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    active: ActiveRuns,
    state_kinds: Collection[str],
) -> Explanation:
    """Assess one visible run exactly as a dashboard would, and say what would change it."""
    _check_explainable(run, scopes, as_of)
    (assessment,) = assess(resolver, (run,), scopes=scopes, as_of=as_of, active=active)
    return _explained(assessment, resolver.registry, resolver.catalog, state_kinds)


async def explain_async(
    resolver: AsyncResolver,
    run: OperationRun,
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    active: ActiveRuns,
    state_kinds: Collection[str],
) -> Explanation:
    """``explain`` for asyncio hosts: the same explanation, the evidence awaited."""
    _check_explainable(run, scopes, as_of)
    (assessment,) = await assess_async(resolver, (run,), scopes=scopes, as_of=as_of, active=active)
    return _explained(assessment, resolver.registry, resolver.catalog, state_kinds)


def _check_explainable(run: OperationRun, scopes: VisibleScopes, as_of: datetime) -> None:
    if not scopes.admits_run(run):
        raise UsageError(f"run {run.id!r} is outside the visible scopes")
    if run_as_of(run, as_of) is None:
        raise UsageError(f"run {run.id!r} did not exist yet at {as_of.isoformat()}")


def _explained(
    assessment: Assessment,
    registry: Registry,
    catalog: OperationCatalog,
    state_kinds: Collection[str],
) -> Explanation:
    family_name = assessment.result.family
    family = registry.families().get(family_name) if family_name else None
    return Explanation(
        assessment=assessment,
        risk=None if family is None else family.risk,
        plugin=None if family is None else registry.plugin_of(family.name),
        would_change=would_change(
            assessment.run,
            assessment,
            registry=registry,
            catalog=catalog,
            state_kinds=state_kinds,
        ),
    )
