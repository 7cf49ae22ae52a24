"""The vocabulary of policies: families, the problem run a rule sees, its evidence, the protocol."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

import attrs

from runactionability.catalog import OperationType
from runactionability.evidence import (
    EvidenceRequest,
    LaterSuccessRequest,
    RunFact,
    StateFact,
    StateRequest,
)
from runactionability.model import OperationRun, RunOutcome, as_names, as_optional_names
from runactionability.result import ActionKind, Decision, PrimaryAction


def review_action(run: OperationRun, label: str | None) -> PrimaryAction:
    """The primary action of a run a person must review."""
    return PrimaryAction(
        kind=ActionKind.REVIEW,
        label=f"Review this {label.lower()} run" if label else "Review this run",
        target_kind="run",
        target_id=str(run.id),
    )


class Risk(enum.StrEnum):
    """How much harm a wrong "resolved" would do. High-risk problem runs always stay in review."""

    STANDARD = "standard"
    HIGH = "high"


@attrs.frozen(kw_only=True)
class ProblemRun:
    """A completed run that did not succeed, validated and placed in its scope.

    The core builds one for every problem run whose record is sound, so a rule never sees a naive
    datetime, a missing environment or a missing subject. The scope and subject live in
    ``later_success_request`` (``environment_id`` is None for workspace-owned types; scope ids
    and the subject are strings); ``state_requests`` holds the request for each state kind the
    family declares and a source serves. Runs of one type, scope and subject share both.
    """

    run: OperationRun
    operation_type: OperationType
    later_success_request: LaterSuccessRequest
    state_requests: Mapping[str, StateRequest]

    @property
    def family(self) -> str:
        return self.operation_type.family

    @property
    def outcome(self) -> RunOutcome:
        outcome: RunOutcome = self.run.outcome
        return outcome

    @property
    def completed_at(self) -> datetime:
        completed_at: datetime = self.run.completed_at
        return completed_at

    @property
    def workspace_id(self) -> str:
        return self.later_success_request.workspace_id

    @property
    def environment_id(self) -> str | None:
        return self.later_success_request.environment_id

    @property
    def subject(self) -> str | None:
        return self.later_success_request.subject

    def state_request(self, kind: str) -> StateRequest:
        """The request for the current state of ``kind`` in this run's own scope and subject."""
        request = self.state_requests.get(kind)
        if request is None:
            scope = self.later_success_request
            request = StateRequest(
                kind=kind,
                workspace_id=scope.workspace_id,
                environment_id=scope.environment_id,
                subject=scope.subject,
            )
        return request

    @property
    def label(self) -> str:
        """A human name for the run's type, for explanations."""
        return self.operation_type.label or self.operation_type.name


class Evidence:
    """The facts the ports returned for one problem run's own requests, as of the evaluation.

    Facts that completed or were proven after ``as_of`` are already left out, so a rule cannot use
    them by accident.
    """

    __slots__ = ("_run", "_states", "_successes", "as_of")

    def __init__(
        self,
        run: ProblemRun,
        successes: Mapping[LaterSuccessRequest, RunFact],
        states: Mapping[StateRequest, StateFact],
        as_of: datetime,
    ) -> None:
        self._run = run
        self._successes = successes
        self._states = states
        self.as_of = as_of

    @property
    def later_success(self) -> RunFact | None:
        """The latest successful run for this run's own later-success request, if any."""
        return self._successes.get(self._run.later_success_request)

    def state(self, kind: str) -> StateFact | None:
        """The current state of ``kind`` for this run's scope and subject, if one was proven."""
        request = self._run.state_requests.get(kind)
        return None if request is None else self._states.get(request)


@runtime_checkable
class Rule(Protocol):
    """One step of a policy: what evidence it needs, and a decision or None (not decisive).

    A policy is a rule too: the core calls ``plan`` for every problem run of the family before any
    I/O, fetches what all runs asked for in one call per evidence kind, then calls ``decide``. A
    rule may only see facts for its run's own requests (``ProblemRun.later_success_request`` and
    ``ProblemRun.state_request(kind)`` for the family's declared state kinds); other requests are
    not fetched. When a policy's ``decide`` returns None the run is ``actionable``.
    """

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        """The evidence this rule needs to decide about ``run``."""
        ...

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        """A decision about ``run``, or None when this rule has nothing to say."""
        ...


Policy = Rule
"""A family's policy: a rule whose decision is final (None means ``actionable``)."""


def _as_kinds(kinds: Iterable[str]) -> frozenset[str]:
    return frozenset((kinds,) if isinstance(kinds, str) else kinds)


def _as_declarations(declared: Iterable[ResolvingStates]) -> tuple[ResolvingStates, ...]:
    # A typed converter: with ``converter=tuple`` the attrs plugin gives ``Family.__init__`` a
    # parameter of type ``Iterable[_T_co]`` that no argument satisfies under mypy.
    return tuple(declared)


@attrs.frozen
class ResolvingStates:
    """A family's word that a state of ``kind`` whose status is one of ``statuses`` resolves runs.

    ``types`` limits the declaration to some canonical types of the family (None: every type).
    The core accepts a ``resolved_by_current_state`` decision only when its proof's status is
    declared for the proof's kind and the run's type, whatever the policy's code says.
    """

    kind: str
    statuses: frozenset[str] = attrs.field(converter=as_names)
    types: frozenset[str] | None = attrs.field(default=None, converter=as_optional_names)

    def covers(self, kind: str, operation_type: str) -> bool:
        """Whether this declaration speaks about ``kind`` for runs of ``operation_type``."""
        return self.kind == kind and (self.types is None or operation_type in self.types)


def declared_by(policy: object) -> tuple[ResolvingStates, ...]:
    """The resolving states a policy declares through its ``resolving_states()`` method, if any.

    The built-in rules declare exactly what they test (``ResolvedByState``), and ``FirstDecisive``
    gathers its rules' declarations, so a family composed of them never writes its statuses twice.
    """
    declare = getattr(policy, "resolving_states", None)
    return () if declare is None else tuple(declare())


def _declared_by_family_policy(family: Family) -> tuple[ResolvingStates, ...]:
    return declared_by(family.policy)


@attrs.frozen(kw_only=True)
class Family:
    """A named group of operation types sharing one policy and one risk class.

    ``state_kinds`` lists every state kind the policy may ask for; the resolver checks at
    construction that each has a source. ``resolving_states`` declares which statuses of those
    states resolve which of the family's types; by default it is what the policy declares
    (``declared_by``), and a family that declares nothing is never resolved by state.
    """

    name: str
    policy: Policy
    risk: Risk = attrs.field(default=Risk.STANDARD, converter=Risk)
    state_kinds: frozenset[str] = attrs.field(default=frozenset(), converter=_as_kinds)
    description: str = ""
    resolving_states: tuple[ResolvingStates, ...] = attrs.field(
        default=attrs.Factory(_declared_by_family_policy, takes_self=True),
        converter=_as_declarations,
        validator=attrs.validators.deep_iterable(attrs.validators.instance_of(ResolvingStates)),
    )

    def resolving_statuses(self, kind: str, operation_type: str) -> frozenset[str]:
        """The statuses of state ``kind`` this family declares as resolving ``operation_type``."""
        statuses: set[str] = set()
        for declared in self.resolving_states:
            if declared.covers(kind, operation_type):
                statuses |= declared.statuses
        return frozenset(statuses)
