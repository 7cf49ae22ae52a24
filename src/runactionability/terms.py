"""Display names of the stored words a sentence names: outcomes, run statuses, actionability.

Each is a ``Message`` whose id is ``<kind>.<stored value>``; a value the library does not know
(a hostile row's outcome) is shown as stored. Operation types, families, state kinds and state
statuses are named by ``display_name`` where they are used (their names come from plugins).

A host's templates render these as the CLI and the example web app do:
``renderer.render(status_name(result.status))`` in the request's language.
"""

from __future__ import annotations

from runactionability.messages import Message, display_name, msg
from runactionability.model import RunOutcome, RunStatus, as_stored
from runactionability.result import Actionability, ActionKind

__all__ = [
    "action_kind_name",
    "change_cause_name",
    "family_name",
    "outcome_name",
    "outcome_verb",
    "risk_name",
    "run_status_name",
    "state_kind_name",
    "state_status_name",
    "status_before_name",
    "status_name",
    "subject_key_name",
    "target_kind_name",
    "type_name",
]

OUTCOMES: dict[str, Message] = {
    RunOutcome.SUCCEEDED: msg("outcome.succeeded", "succeeded"),
    RunOutcome.PARTIALLY_SUCCEEDED: msg("outcome.partially_succeeded", "partially succeeded"),
    RunOutcome.FAILED: msg("outcome.failed", "failed"),
    RunOutcome.BLOCKED: msg("outcome.blocked", "blocked"),
    RunOutcome.CANCELLED: msg("outcome.cancelled", "cancelled"),
}
OUTCOME_VERBS: dict[str, Message] = {
    RunOutcome.SUCCEEDED: msg("outcome_verb.succeeded", "succeeded"),
    RunOutcome.PARTIALLY_SUCCEEDED: msg("outcome_verb.partially_succeeded", "partially succeeded"),
    RunOutcome.FAILED: msg("outcome_verb.failed", "failed"),
    RunOutcome.BLOCKED: msg("outcome_verb.blocked", "was blocked"),
    RunOutcome.CANCELLED: msg("outcome_verb.cancelled", "was cancelled"),
}
"""How a sentence says a run ended ("The inventory sync {outcome} at ..."): "failed", "was
blocked"; a language whose sentences name the outcome as a noun translates them as one."""
RUN_STATUSES: dict[str, Message] = {
    RunStatus.QUEUED: msg("run_status.queued", "queued"),
    RunStatus.RUNNING: msg("run_status.running", "running"),
    RunStatus.COMPLETED: msg("run_status.completed", "completed"),
}
STATUSES: dict[Actionability, Message] = {
    Actionability.ACTIONABLE: msg("status.actionable", "actionable"),
    Actionability.REQUIRES_MANUAL_REVIEW: msg("status.requires_manual_review", "manual review"),
    Actionability.SUPERSEDED_BY_LATER_SUCCESS: msg(
        "status.superseded_by_later_success", "superseded"
    ),
    Actionability.RESOLVED_BY_CURRENT_STATE: msg("status.resolved_by_current_state", "resolved"),
    Actionability.INFORMATIONAL_ONLY: msg("status.informational_only", "informational"),
    Actionability.NOT_TERMINAL: msg("status.not_terminal", "active"),
}

ACTION_KINDS: dict[ActionKind, Message] = {
    ActionKind.RETRY: msg("action_kind.retry", "retry"),
    ActionKind.OPEN_RELATED: msg("action_kind.open_related", "open related"),
    ActionKind.REVIEW: msg("action_kind.review", "review"),
    ActionKind.VIEW_RUN: msg("action_kind.view_run", "view run"),
    ActionKind.VIEW_STATE: msg("action_kind.view_state", "view state"),
    ActionKind.VIEW_ACTIVE_RUN: msg("action_kind.view_active_run", "view active run"),
}


def action_kind_name(kind: ActionKind) -> Message:
    """The display name of an action's kind."""
    return ACTION_KINDS[kind]


CHANGE_CAUSES: dict[str, Message] = {
    "new_run": msg("change_cause.new_run", "new run"),
    "run_completed": msg("change_cause.run_completed", "run completed"),
    "later_success": msg("change_cause.later_success", "later success"),
    "state": msg("change_cause.state", "current state"),
}
"""What moved a run to its new status (``runactionability.changes.ChangeCause``'s values)."""
NO_STATUS = msg("status.none", "(new)")
"""The status a change feed shows for a run that did not exist yet at the window's start."""

RISKS: dict[str, Message] = {
    "standard": msg("risk.standard", "standard"),
    "high": msg("risk.high", "high"),
}


def risk_name(risk: str) -> Message:
    """The display name of a family's risk class (``standard``, ``high``)."""
    known = RISKS.get(risk)
    return known if known is not None else display_name("risk", risk)


def outcome_name(outcome: object) -> Message:
    """The display name of a run's outcome (as stored, when the library does not know it)."""
    known = OUTCOMES.get(outcome) if isinstance(outcome, str) else None
    return known if known is not None else display_name("outcome", str(as_stored(outcome)))


def outcome_verb(outcome: object) -> Message:
    """How a sentence says a run ended with ``outcome`` (as stored, when unknown)."""
    known = OUTCOME_VERBS.get(outcome) if isinstance(outcome, str) else None
    return known if known is not None else display_name("outcome_verb", str(as_stored(outcome)))


def run_status_name(status: object) -> Message:
    """The display name of a run's status (as stored, when the library does not know it)."""
    known = RUN_STATUSES.get(status) if isinstance(status, str) else None
    return known if known is not None else display_name("run_status", str(as_stored(status)))


def status_name(status: Actionability) -> Message:
    """The display name of an actionability status."""
    return STATUSES[status]


def status_before_name(status: Actionability | None) -> Message:
    """The display name of a change's status at its window's start (``NO_STATUS`` for none)."""
    return NO_STATUS if status is None else STATUSES[status]


def change_cause_name(cause: object) -> Message:
    """The display name of a change's cause (as stored, when the library does not know it)."""
    known = CHANGE_CAUSES.get(cause) if isinstance(cause, str) else None
    return known if known is not None else display_name("change_cause", str(cause))


def state_kind_name(kind: str) -> Message:
    """The display name of a state kind (``provider_connection``: "provider connection")."""
    return display_name("state_kind", kind, kind.replace("_", " "))


def state_status_name(status: object) -> Message:
    """The display name of a state's status (``healthy``), as stored when no catalog has it."""
    return display_name("state_status", str(status))


def target_kind_name(kind: str) -> Message:
    """The display name of what an action points at (``run``, ``backup_schedule``)."""
    return display_name("target_kind", kind, kind.replace("_", " "))


def subject_key_name(key: str) -> Message:
    """The noun of a subject key (``provider_connection_id``: "provider connection")."""
    return display_name("subject_key", key, key.removesuffix("_id").replace("_", " "))


def type_name(name: str, label: str | None = None) -> Message:
    """The display name of an operation type: its catalog label in English, else its name."""
    return display_name("operation_type", name, label or name)


def family_name(name: str) -> Message:
    """The display name of a family (``provider_connection``: "provider connection")."""
    return display_name("family", name, name.replace("_", " "))
