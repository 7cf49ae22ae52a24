"""Why a run has its status, and which evidence would change it, derived from its family's rules.

The decision itself comes from the same ``assess`` path as every dashboard count; this module only
adds the reading of the family's policy that tells an operator what would settle the run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

import attrs

from runactionability.catalog import OperationCatalog
from runactionability.consumers.active_runs import ActiveRuns, work_key
from runactionability.consumers.assess import Assessment, assess, assess_async
from runactionability.consumers.dashboard import ActiveWork, DashboardSummary
from runactionability.consumers.listing import AssessedPage
from runactionability.consumers.shared import IdKey, RecentByRunId, id_key
from runactionability.errors import UsageError
from runactionability.messages import Listing, Message, Param, msg
from runactionability.model import OperationRun
from runactionability.policies.base import Family, Risk, type_label
from runactionability.ports import RunSource, run_as_of
from runactionability.registry import Registry
from runactionability.resolver import AsyncResolver, Resolver
from runactionability.result import Actionability, Reason
from runactionability.scopes import VisibleScopes
from runactionability.terms import (
    family_name,
    state_kind_name,
    state_status_name,
    subject_key_name,
    type_name,
)

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
        Reason.DUPLICATE_RUN_ID,
    }
)


@attrs.frozen(kw_only=True)
class Explanation:
    """A run's assessment, its family's risk and plugin, and what evidence would change it.

    ``would_change`` holds messages (``str()`` of one is its English text); the edge renders them
    per locale.
    """

    assessment: Assessment
    risk: Risk | None
    plugin: str | None
    would_change: tuple[Message, ...]


_COMPLETING = msg(
    "would_change.completing", "The run completing: it is then judged by its outcome."
)
_PROOF_STANDS = msg(
    "would_change.proof_stands",
    "Nothing: the proof stands, and a later failure would be a new run with a result of its own.",
)
_HISTORY = msg("would_change.history", "Nothing: the run is history and calls for no action.")
_PERSON = msg(
    "would_change.person_reviews",
    "Nothing this library can check: a person must review the run.",
)
_PERSON_ACTS = msg("would_change.person_acts", "Nothing automatic: a person must act on the run.")


def would_change(
    run: OperationRun,
    assessment: Assessment,
    *,
    registry: Registry,
    catalog: OperationCatalog,
    state_kinds: Collection[str],
) -> tuple[Message, ...]:
    """Sentences naming the evidence that would change the run's current status.

    For a run needing attention, one sentence per rule of its family's policy that could settle
    it (a later success, a healthy state), in the order the policy tries them, with the run's own
    scope, subject and completion time filled in. A state rule whose kind has no source says so.
    """
    result = assessment.result
    status = result.status
    family_name_ = result.family
    if status is Actionability.NOT_TERMINAL:
        return (_COMPLETING,)
    if status in _SETTLED:
        return (_PROOF_STANDS,)
    if status is Actionability.INFORMATIONAL_ONLY:
        return (_HISTORY,)
    if result.reason == Reason.UNKNOWN_OPERATION_TYPE:
        return (
            msg(
                "would_change.register_family",
                "A family registered for the operation type {type}.",
                type=repr(run.type),
            ),
        )
    if result.reason in _RECORD_FAULTS:
        return (
            msg(
                "would_change.corrected_record", "A corrected record: {fault}", fault=result.message
            ),
        )
    family = registry.families().get(family_name_) if family_name_ else None
    if family is None:
        return (_PERSON,)
    if result.reason in (Reason.POLICY_ERROR, Reason.POLICY_VIOLATION):
        return (
            msg(
                "would_change.fix_policy",
                "A fix to the {family} policy, which could not judge this run.",
                family=family_name(family.name),
            ),
        )
    if family.risk is Risk.HIGH:
        return (
            msg(
                "would_change.high_risk",
                "Nothing automatic: a problem run of a high-risk family ({family}) is never "
                "settled by a later run or a state; a person reviews it.",
                family=family_name(family.name),
            ),
        )
    return _from_rules(run, family, catalog=catalog, state_kinds=state_kinds)


def _where(workspace_id: str, environment_id: str | None) -> Message:
    if environment_id is None:
        return msg("scope.workspace", "workspace {workspace_id}", workspace_id=workspace_id)
    return msg(
        "scope.environment",
        "environment {environment_id} of workspace {workspace_id}",
        workspace_id=workspace_id,
        environment_id=environment_id,
    )


def _of_subject(key: str | None, subject: str | None) -> Param:
    if key is None or subject is None:
        return ""
    return msg("subject.of", " of {noun} {subject}", noun=subject_key_name(key), subject=subject)


def _from_rules(
    run: OperationRun, family: Family, *, catalog: OperationCatalog, state_kinds: Collection[str]
) -> tuple[Message, ...]:
    placed = work_key(run, catalog)
    op_type = catalog.resolve(run.type)
    profile = None if op_type is None else family.profile(op_type, catalog)
    if op_type is None or profile is None or profile.steps is None or placed is None:
        return (
            msg(
                "would_change.plugin_evidence",
                "Evidence the {family} policy accepts (see the plugin's documentation).",
                family=family_name(family.name),
            ),
        )
    type_name_, workspace_id, environment_id, subject = placed
    where = _where(workspace_id, environment_id)
    of_subject = _of_subject(op_type.subject_key, subject)
    after = run.completed_at
    sentences: list[Message] = []
    # The family's own description of its rules, in the order the policy tries them: a rule is
    # read as what it says it decides, never as the built-in class it may derive from.
    for step in profile.steps:
        if not step.described:
            sentences.append(
                msg(
                    "would_change.plugin_rule",
                    "Whatever the {family} rule {rule} accepts.",
                    family=family_name(family.name),
                    rule=step.rule,
                )
            )
        elif step.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS:
            types = []
            for name in profile.superseding_types:
                known = catalog.resolve(name)
                types.append(type_label(known) if known is not None else type_name(name))
            sentences.append(
                msg(
                    "would_change.later_success",
                    "A later successful {types}{of_subject} in {where}, started at or after "
                    "{after} and completed by the evaluation time.",
                    types=Listing(types, "or"),
                    of_subject=of_subject,
                    where=where,
                    after=after,
                )
            )
        elif step.status is Actionability.RESOLVED_BY_CURRENT_STATE:
            for state in step.states:
                # Only a status the family declares resolves; the core refuses the others.
                declared = state.statuses & family.resolving_statuses(state.kind, type_name_)
                if not declared:
                    continue
                params: dict[str, Param] = {
                    "state_kind": state_kind_name(state.kind),
                    "of_subject": of_subject,
                    "where": where,
                    "statuses": Listing([state_status_name(s) for s in sorted(declared)], "or"),
                    "after": after,
                }
                if state.kind in state_kinds:
                    sentences.append(
                        msg(
                            "would_change.current_state",
                            "The {state_kind} state{of_subject} in {where} being {statuses}, "
                            "proven after {after}.",
                            **params,
                        )
                    )
                else:
                    sentences.append(
                        msg(
                            "would_change.current_state_unsourced",
                            "The {state_kind} state{of_subject} in {where} being {statuses}, "
                            "proven after {after} (no {state_kind} state source is configured, "
                            "so it cannot apply).",
                            **params,
                        )
                    )
    return tuple(sentences) or (_PERSON_ACTS,)


def explain(
    resolver: Resolver,
    run: OperationRun,
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    active: ActiveRuns,
    state_kinds: Collection[str],
    shared: Collection[IdKey] = (),
    source: RunSource | None = None,
) -> Explanation:
    """Assess one visible run exactly as a dashboard would, and say what would change it.

    ``shared`` holds the run's id key when another visible run has that id (``shared_with``);
    ``source``, the run's source, tells whether the id of a success that would settle it names
    two visible runs (it is then no evidence, as on every page).
    """
    _check_explainable(run, scopes, as_of)
    (assessment,) = assess(
        resolver, (run,), scopes=scopes, as_of=as_of, active=active, shared=shared, source=source
    )
    return _explained(assessment, resolver.registry, resolver.catalog, state_kinds)


async def explain_async(
    resolver: AsyncResolver,
    run: OperationRun,
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    active: ActiveRuns,
    state_kinds: Collection[str],
    shared: Collection[IdKey] = (),
    source: RunSource | None = None,
) -> Explanation:
    """``explain`` for asyncio hosts: the same explanation, the evidence awaited."""
    _check_explainable(run, scopes, as_of)
    (assessment,) = await assess_async(
        resolver, (run,), scopes=scopes, as_of=as_of, active=active, shared=shared, source=source
    )
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


SHOWN_KEPT = 1000
"""Assessments a session keeps for ``explain`` (a request shows a few dozen runs)."""


class ShownAssessments:
    """The assessments one request has shown, by run id, so that explaining one of them reads
    nothing again.

    Every assessment a request's answers hold was made on its one snapshot, at its ``as_of``,
    for its scopes and with its active runs, exactly as ``explain`` would make it: the
    explanation of a run the dashboard or a page showed is then the same without reading the run
    and its evidence a second time (a request's explanation is usually of a run it shows).
    Only ids of the same class are the same id (``1`` is not ``"1"`` nor ``True``); any other
    id is explained as before. At most ``SHOWN_KEPT`` are kept: a session that pages through a
    whole history (the CLI's listings, ``demo.every_assessment``) must not hold all of it, so
    past that the oldest are let go, and explained by reading as before.
    """

    def __init__(self) -> None:
        self._by_id: RecentByRunId[Assessment] = RecentByRunId(SHOWN_KEPT)

    def _keep(self, assessments: Iterable[Assessment]) -> None:
        for assessment in assessments:
            self._by_id.keep(id_key(assessment.run), assessment)

    def summary(self, summary: DashboardSummary) -> DashboardSummary:
        """``summary``, its top runs and newest active runs kept."""
        self._keep(summary.top)
        self._keep(summary.active.newest)
        return summary

    def page(self, page: AssessedPage) -> AssessedPage:
        """``page``, its runs kept."""
        self._keep(page.items)
        return page

    def work(self, work: ActiveWork) -> ActiveWork:
        """``work``, its newest runs kept."""
        self._keep(work.newest)
        return work

    def explanation(
        self, run_id: object, resolver: Resolver, state_kinds: Collection[str]
    ) -> Explanation | None:
        """The explanation of a run shown already; None for any other."""
        if run_id.__class__ not in (str, int):
            return None
        assessment = self._by_id.get((run_id.__class__, run_id))
        if assessment is None:
            return None
        return _explained(assessment, resolver.registry, resolver.catalog, state_kinds)
