"""Action eligibility and the one primary action a screen offers for a run.

The core already puts a primary-action hint on each result; it knows the run and its evidence but
not what else is going on. These helpers refine the hint with what a screen knows: the actor's
visible scopes and the work that is queued or running right now.
"""

from __future__ import annotations

from runactionability.catalog import OperationCatalog
from runactionability.consumers.active_runs import ActiveRuns, work_key
from runactionability.evidence import RunFact, StateFact
from runactionability.messages import msg
from runactionability.model import OperationRun, RunId
from runactionability.policies.base import Family, Risk, retry_action, review_action
from runactionability.policies.rules import VIEW_LATER_SUCCESS, view_state_label
from runactionability.result import (
    Actionability,
    ActionabilityResult,
    ActionKind,
    PrimaryAction,
)
from runactionability.terms import run_status_name


def is_repeatable(family: Family) -> bool:
    """Whether a family's problem runs may be retried: its policy falls back to ``RetryAction``.

    Read from what the policy declares (``Family.policy_description()``) rather than from a list
    of names, so a plugin family that composes ``FirstDecisive(..., action=RetryAction())`` is
    repeatable too. A fallback that can never be reached (a rule that always decides, such as
    ``AlwaysManualReview``) does not count, a policy that does not describe itself is not
    retried, and a high-risk family is never retried blindly.
    """
    if family.risk is Risk.HIGH:
        return False
    policy = family.policy_description()
    if policy.steps is None or policy.fallback is not ActionKind.RETRY:
        return False
    return not any(step.always and step.types is None for step in policy.steps)


def _view_active(run: OperationRun) -> PrimaryAction:
    return PrimaryAction(
        kind=ActionKind.VIEW_ACTIVE_RUN,
        label=msg(
            "action.view_active_run",
            "View the {status} run of the same operation",
            status=run_status_name(run.status),
        ),
        target_kind="run",
        target_id=str(run.id),
    )


def _retry(run: OperationRun, catalog: OperationCatalog) -> PrimaryAction:
    # Labelled as the policy's own retry is, so a screen shows one label whichever offers it.
    op_type = catalog.resolve(run.type)
    return retry_action(run, op_type)


def _view_proof(proof: RunFact | StateFact) -> PrimaryAction:
    if isinstance(proof, RunFact):
        return PrimaryAction(
            kind=ActionKind.VIEW_RUN,
            label=VIEW_LATER_SUCCESS,
            target_kind="run",
            target_id=str(proof.run_id),
        )
    return PrimaryAction(
        kind=ActionKind.VIEW_STATE,
        label=view_state_label(proof.kind),
        target_kind=proof.kind,
        target_id=proof.subject,
    )


def _target_visible(action: PrimaryAction, run: OperationRun, active: ActiveRuns) -> bool:
    """Whether a policy's action points only at what the actor may see.

    An action names its target by kind and id, not by scope, so only targets placed in the run's
    own (visible) scope qualify: the run itself, or the object its type correlates on (its
    subject). Anything else may be a run or an object in a scope the actor cannot see.
    """
    target_kind, target_id = action.target_kind, action.target_id
    if target_id is None:
        return True
    if target_kind == "run":
        return target_id == str(run.id)
    placed = work_key(run, active._catalog)
    return placed is not None and placed[3] is not None and target_id == placed[3]


def plan_actions(
    run: OperationRun,
    result: ActionabilityResult,
    *,
    family: Family | None,
    active: ActiveRuns,
) -> tuple[PrimaryAction | None, frozenset[ActionKind], RunId | None]:
    """The primary action, every eligible action kind, and the active run blocking a retry.

    - actionable, repeatable family: retry, unless the same work is queued or running (then view
      that run; review when its id names two visible runs);
    - actionable, other families: the core's hint when it opens the related object (a provider
      connection, a baseline profile, a backup schedule), else review;
    - manual review: review;
    - superseded or resolved: view the proof (the later run, the current state);
    - informational and active runs: no action.

    ``result`` is expected to carry only proofs the actor may see (``assess`` redacts others).
    The policy's own action is offered only when its target is the run itself or the run's
    subject; one that names anything else (it may be hidden from the actor) is replaced by the
    library's action for the status.
    """
    status = result.status
    hint = result.primary_action
    if hint is not None and not _target_visible(hint, run, active):
        hint = None
    if status is Actionability.ACTIONABLE:
        if family is not None and is_repeatable(family):
            blocker = active.blocking(run)
            if blocker is not None:
                return _view_active(blocker), frozenset({ActionKind.VIEW_ACTIVE_RUN}), blocker.id
            if active.unnamed(run):
                # The same work may be under way under an id that names two runs: nothing to
                # point at, and a retry beside it could run the work twice.
                return review_action(run, None), frozenset({ActionKind.REVIEW}), None
            action = (
                hint
                if hint is not None and hint.kind is ActionKind.RETRY
                else _retry(run, active._catalog)
            )
            return action, frozenset({ActionKind.RETRY}), None
        if hint is not None and hint.kind is ActionKind.OPEN_RELATED and hint.target_id:
            return hint, frozenset({ActionKind.OPEN_RELATED}), None
        return review_action(run, None), frozenset({ActionKind.REVIEW}), None
    if status is Actionability.REQUIRES_MANUAL_REVIEW:
        if hint is None or hint.kind is not ActionKind.REVIEW:
            hint = review_action(run, None)
        return hint, frozenset({ActionKind.REVIEW}), None
    proof = result.proof
    if (
        status
        in (
            Actionability.SUPERSEDED_BY_LATER_SUCCESS,
            Actionability.RESOLVED_BY_CURRENT_STATE,
        )
        and proof is not None
        and active.scopes.admits_proof(proof)
    ):
        action = _view_proof(proof)
        return action, frozenset({action.kind}), None
    return None, frozenset(), None
