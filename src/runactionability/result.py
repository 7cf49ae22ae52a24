"""What the library answers about a run: its current actionability, why, and on what proof."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

import attrs

from runactionability.evidence import RunFact, StateFact
from runactionability.messages import Message, as_message
from runactionability.model import RunId


class Actionability(enum.StrEnum):
    """The current actionability of a run. Only the first two need an operator's attention."""

    ACTIONABLE = "actionable"
    REQUIRES_MANUAL_REVIEW = "requires_manual_review"
    SUPERSEDED_BY_LATER_SUCCESS = "superseded_by_later_success"
    RESOLVED_BY_CURRENT_STATE = "resolved_by_current_state"
    INFORMATIONAL_ONLY = "informational_only"
    NOT_TERMINAL = "not_terminal"

    @property
    def needs_attention(self) -> bool:
        """Whether a run with this status belongs on an operator's follow-up list."""
        return self in _NEEDS_ATTENTION


_NEEDS_ATTENTION = frozenset({Actionability.ACTIONABLE, Actionability.REQUIRES_MANUAL_REVIEW})


class Reason(enum.StrEnum):
    """Stable, machine-readable reason codes of the built-in decisions.

    Third-party rules may use their own reason strings; these are the ones the core and the
    built-in families produce, and ``docs/concepts.md`` explains each.
    """

    # Decided by the core before any policy (rule 2).
    RUN_NOT_TERMINAL = "run_not_terminal"
    RUN_SUCCEEDED = "run_succeeded"
    # Rows the core cannot judge safely (rules 3 and 4).
    UNKNOWN_OPERATION_TYPE = "unknown_operation_type"
    INVALID_STATUS = "invalid_status"
    INVALID_OUTCOME = "invalid_outcome"
    OUTCOME_ON_ACTIVE_RUN = "outcome_on_active_run"
    MISSING_OUTCOME = "missing_outcome"
    INVALID_TIMESTAMP = "invalid_timestamp"
    NAIVE_TIMESTAMP = "naive_timestamp"
    MISSING_COMPLETED_AT = "missing_completed_at"
    COMPLETED_BEFORE_CREATED = "completed_before_created"
    COMPLETED_BEFORE_STARTED = "completed_before_started"
    INVALID_SCOPE = "invalid_scope"
    MISSING_ENVIRONMENT = "missing_environment"
    INVALID_CONTEXT = "invalid_context"
    MISSING_CORRELATION = "missing_correlation"
    # Decided by the consumers before the core: one run id names two visible rows.
    DUPLICATE_RUN_ID = "duplicate_run_id"
    # The core overriding a policy (rules 6, 7 and 8).
    POLICY_ERROR = "policy_error"
    POLICY_VIOLATION = "policy_violation"
    HIGH_RISK_REQUIRES_REVIEW = "high_risk_requires_review"
    # Decisions of the built-in rules.
    LATER_SUCCESS = "later_success"
    CURRENT_STATE_HEALTHY = "current_state_healthy"
    CANCELLED_BY_OPERATOR = "cancelled_by_operator"
    INFORMATIONAL_FAMILY = "informational_family"
    ALWAYS_MANUAL_REVIEW = "always_manual_review"
    NO_RESOLVING_EVIDENCE = "no_resolving_evidence"


class ActionKind(enum.StrEnum):
    """What the one primary action of a run asks an operator to do."""

    RETRY = "retry"
    OPEN_RELATED = "open_related"
    REVIEW = "review"
    VIEW_RUN = "view_run"
    VIEW_STATE = "view_state"
    VIEW_ACTIVE_RUN = "view_active_run"


@attrs.frozen(kw_only=True)
class PrimaryAction:
    """The one action a screen offers for a run, and what it points at.

    ``target_kind`` names what ``target_id`` identifies: ``"run"`` for a run id, or a domain object
    kind such as ``"provider_connection"``; both are None when the action needs no target.
    ``label`` is a ``Message`` (a plain string is kept as it is written, in every locale), held
    as ``message``; the ``label`` property is its English text.
    """

    kind: ActionKind
    message: Message = attrs.field(alias="label", converter=as_message)
    target_kind: str | None = None
    target_id: str | None = None

    @property
    def label(self) -> str:
        """The label in English (``runactionability.i18n.Renderer`` renders it per locale)."""
        return str(self.message)


Proof = RunFact | StateFact
"""The fact a decision rests on: a later successful run, or a current domain state."""


@attrs.frozen(kw_only=True)
class Decision:
    """What a policy (or one of its rules) decides about one problem run.

    ``explanation`` is a ``Message`` (``runactionability.messages.msg``), held as ``message``, so
    every locale can render it; a plain string is accepted and shown as written.
    """

    status: Actionability
    reason: str
    message: Message = attrs.field(alias="explanation", converter=as_message)
    proof: Proof | None = None
    primary_action: PrimaryAction | None = None

    @property
    def explanation(self) -> str:
        """The explanation in English."""
        return str(self.message)


@attrs.frozen(kw_only=True)
class Verdict:
    """A decision placed in context; results that agree on everything but the run share one."""

    status: Actionability
    reason: str
    message: Message = attrs.field(alias="explanation", converter=as_message)
    family: str | None
    operation_type: str | None
    proof: Proof | None
    primary_action: PrimaryAction | None
    as_of: datetime

    @property
    def explanation(self) -> str:
        """The explanation in English (the edge renders ``message`` per locale)."""
        return str(self.message)


# Decision and PrimaryAction convert a plain string to a Message and validate nothing else, so
# for a Message already in hand, filling their slots directly makes the same value as calling
# the class, at about half the cost; the built-in rules make one of each per problem run.
_new_object = object.__new__
_set_status, _set_reason, _set_message, _set_proof, _set_primary_action = (
    Decision.__dict__[name].__set__ for name in attrs.fields_dict(Decision)
)
_set_kind, _set_label, _set_target_kind, _set_target_id = (
    PrimaryAction.__dict__[name].__set__ for name in attrs.fields_dict(PrimaryAction)
)


def new_decision(
    status: Actionability,
    reason: str,
    message: Message,
    proof: Proof | None = None,
    primary_action: PrimaryAction | None = None,
) -> Decision:
    """``Decision(status=..., reason=..., explanation=message, ...)`` for a ``Message``."""
    decision = _new_object(Decision)
    _set_status(decision, status)
    _set_reason(decision, reason)
    _set_message(decision, message)
    _set_proof(decision, proof)
    _set_primary_action(decision, primary_action)
    return decision


def new_action(
    kind: ActionKind, label: Message, target_kind: str | None, target_id: str | None
) -> PrimaryAction:
    """``PrimaryAction(kind=..., label=label, ...)`` for a ``Message`` label."""
    action = _new_object(PrimaryAction)
    _set_kind(action, kind)
    _set_label(action, label)
    _set_target_kind(action, target_kind)
    _set_target_id(action, target_id)
    return action


@attrs.frozen
class ActionabilityResult:
    """The current actionability of one run, with its reason, explanation and proof.

    A result is a run id and a shared ``Verdict``: a million succeeded runs of one type cost a
    million small objects, not a million copies of the same sentence. The sentence is a
    ``Message`` rendered only when read: ``explanation`` in English, or per locale at the edge.
    """

    run_id: RunId
    verdict: Verdict

    @property
    def status(self) -> Actionability:
        return self.verdict.status

    @property
    def reason(self) -> str:
        return self.verdict.reason

    @property
    def explanation(self) -> str:
        """The explanation in English, instants in UTC (``message`` for any other locale)."""
        return str(self.verdict.message)

    @property
    def message(self) -> Message:
        """The explanation as a message id with its parameters."""
        return self.verdict.message

    @property
    def family(self) -> str | None:
        return self.verdict.family

    @property
    def operation_type(self) -> str | None:
        """The canonical operation type, or None when the run's type is unknown."""
        return self.verdict.operation_type

    @property
    def proof(self) -> Proof | None:
        return self.verdict.proof

    @property
    def primary_action(self) -> PrimaryAction | None:
        return self.verdict.primary_action

    @property
    def as_of(self) -> datetime:
        return self.verdict.as_of

    @property
    def needs_attention(self) -> bool:
        return self.verdict.status in _NEEDS_ATTENTION


@attrs.frozen(kw_only=True)
class PolicyViolation:
    """A policy decision the core overrode, reported through ``runactionability_policy_violation``.

    ``kind`` is one of ``invalid_proof``, ``invalid_decision`` (not a decision, or one whose
    proof or primary action is of the wrong kind), ``high_risk_clamp`` and ``policy_error``;
    ``claimed`` is the status the policy wanted (None when it raised or returned no decision).
    """

    run_id: object
    family: str
    kind: str
    claimed: Actionability | None
    detail: str


class HasStatus(Protocol):
    """Anything with an actionability status: a result, a verdict, a consumer's assessment."""

    @property
    def status(self) -> Actionability: ...


@attrs.frozen(kw_only=True)
class ActiveCounts:
    """The active work of some scopes at an instant: its runs that rule 2 finds queued or
    running with no outcome, by status and by type (canonical, else the stored name as text).

    A store that counts these with its status counts spares a dashboard reading every active run.
    """

    queued: int
    running: int
    by_type: Mapping[str, int]


@attrs.frozen(kw_only=True)
class StatusCounts:
    """How many runs have each actionability status (every status present, zeros included)."""

    total: int
    needs_attention: int
    by_status: Mapping[Actionability, int]

    @classmethod
    def of(cls, items: Iterable[HasStatus]) -> StatusCounts:
        by_status = dict.fromkeys(Actionability, 0)
        for item in items:
            by_status[item.status] += 1
        return cls(
            total=sum(by_status.values()),
            needs_attention=sum(n for status, n in by_status.items() if status.needs_attention),
            by_status=MappingProxyType(by_status),
        )
