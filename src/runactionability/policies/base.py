"""The vocabulary of policies: families, the problem run a rule sees, its evidence, the protocol."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Protocol, runtime_checkable

import attrs

from runactionability.catalog import OperationCatalog, OperationType
from runactionability.catalog.profiles import (
    PolicyDescription,
    StateResolution,
    TypeClass,
    TypeProfile,
)
from runactionability.errors import ConfigurationError
from runactionability.evidence import (
    EvidenceRequest,
    LaterSuccessRequest,
    RunFact,
    StateFact,
    StateRequest,
)
from runactionability.messages import Message, msg
from runactionability.model import OperationRun, RunOutcome, as_names, as_optional_names
from runactionability.policies.describe import describe_policy
from runactionability.result import Actionability, ActionKind, Decision, PrimaryAction, new_action
from runactionability.terms import outcome_verb, type_name


def retry_action(run: OperationRun, op_type: OperationType | None) -> PrimaryAction:
    """The primary action of a run to run again; every path that offers a retry labels it so."""
    return new_action(ActionKind.RETRY, retry_label(op_type), "run", str(run.id))


def retry_label(op_type: OperationType | None) -> Message:
    """The label of the retry of a run of ``op_type`` (None: a type without a name)."""
    if op_type is None:
        return msg("action.retry", "Retry this run")
    return _retry_label(op_type.name, op_type.label)


# Every actionable run of a type offers the same retry: one label per type, not one per run.
@lru_cache(maxsize=1024, typed=True)
def _retry_label(name: str, label: str | None) -> Message:
    return msg("action.retry_type", "Retry the {type}", type=_type_label(name, label))


def _in_sentence(label: str) -> str:
    # A catalog label is written to stand alone ("Inventory sync"); inside an English sentence
    # it reads in lower case, except a leading acronym ("VPN check").
    first = label.split(" ", 1)[0]
    return label if first.isupper() and len(first) > 1 else label[:1].lower() + label[1:]


def type_label(op_type: OperationType) -> Message:
    """The display name of an operation type inside a sentence, for explanations and labels.

    Its id is ``operation_type.<canonical name>``; in English it is the catalog label (else the
    name), so a catalog that does not know the type still names it.
    """
    return _type_label(op_type.name, op_type.label)


@lru_cache(maxsize=1024, typed=True)
def _type_label(name: str, label: str | None) -> Message:
    # Every problem run names its type, often twice (its explanation and its action's label).
    return type_name(name, _in_sentence(label or name))


def review_action(run: OperationRun, op_type: OperationType | None) -> PrimaryAction:
    """The primary action of a run a person must review."""
    label = (
        msg("action.review", "Review this run")
        if op_type is None
        else _review_label(op_type.name, op_type.label)
    )
    return new_action(ActionKind.REVIEW, label, "run", str(run.id))


@lru_cache(maxsize=1024, typed=True)
def _review_label(name: str, label: str | None) -> Message:
    return msg("action.review_type", "Review this {type} run", type=_type_label(name, label))


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
    def label(self) -> Message:
        """The display name of the run's type, for explanations."""
        return type_label(self.operation_type)

    @property
    def outcome_name(self) -> Message:
        """How an explanation says the run ended ("failed", "was blocked")."""
        return outcome_verb(self.run.outcome)

    def type_of(self, stored: str) -> Message:
        """The display name of a type a fact names as stored: the run's own type under any of
        its names, else the stored name (a rule sees no catalog)."""
        own = self.operation_type
        if stored == own.name or stored in own.aliases:
            return self.label
        return type_name(stored)


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


def _family_name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    # Catalog types name their family with a non-empty string, so a blank name could never
    # cover a type: the plugin that returned it would look registered and do nothing.
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"Family.name must be a non-empty string, not {value!r}")


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


def _as_declarations(values: Iterable[ResolvingStates]) -> tuple[ResolvingStates, ...]:
    # A named converter, so type checkers see what the field takes (``tuple`` hides it).
    return tuple(values)


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

    name: str = attrs.field(validator=_family_name)
    policy: Policy
    risk: Risk = attrs.field(default=Risk.STANDARD, converter=Risk)
    state_kinds: frozenset[str] = attrs.field(default=frozenset(), converter=_as_kinds)
    description: str = ""
    # Read once, like ``resolving_states``: screens ask for it per run, and the policy is a value.
    _policy_description: PolicyDescription = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(lambda family: describe_policy(family.policy), takes_self=True),
    )
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

    def policy_description(self) -> PolicyDescription:
        """What the family's policy declares of itself (see ``describe_policy``)."""
        return self._policy_description

    def profile(
        self, op_type: OperationType, catalog: OperationCatalog | None = None
    ) -> TypeProfile:
        """The class this family's policy gives ``op_type``, derived from its rules' descriptions.

        With ``catalog``, the superseding types are canonical names; without, as the type names
        them.
        """
        return _profile(self, op_type, catalog)


def _superseding(op_type: OperationType, catalog: OperationCatalog | None) -> tuple[str, ...]:
    names = [op_type.name]
    for other in op_type.superseded_by:
        resolved = catalog.resolve(other) if catalog is not None else None
        name = other if resolved is None else resolved.name
        if name not in names:
            names.append(name)
    return tuple(names)


def _profile(
    family: Family, op_type: OperationType, catalog: OperationCatalog | None
) -> TypeProfile:
    name = op_type.name
    policy = family.policy_description()
    steps = None if policy.steps is None else tuple(s for s in policy.steps if s.applies_to(name))
    if family.risk is Risk.HIGH:
        # The core holds every problem run of a high-risk family in review, whatever its rules.
        return TypeProfile(
            family=family.name,
            operation_type=name,
            classes=(TypeClass.MANUAL_REVIEW,),
            steps=steps,
            high_risk=True,
        )
    classes: set[TypeClass] = set()
    resolving: list[StateResolution] = []
    outcomes: set[RunOutcome] = set()
    reachable = True
    for step in steps or ():
        if step.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS:
            classes.add(TypeClass.SUPERSEDED_CAPABLE)
        elif step.status is Actionability.RESOLVED_BY_CURRENT_STATE:
            for state in step.states:
                # Only a declared status of a kind the family asks for can ever resolve.
                declared = state.statuses & family.resolving_statuses(state.kind, name)
                if declared and state.kind in family.state_kinds:
                    resolving.append(StateResolution(state.kind, declared))
        elif step.status is Actionability.INFORMATIONAL_ONLY:
            if step.always:
                classes.add(TypeClass.INFORMATIONAL_ONLY)
            outcomes.update(step.outcomes or ())
        elif step.status is Actionability.REQUIRES_MANUAL_REVIEW:
            classes.add(TypeClass.MANUAL_REVIEW)
        elif step.status is Actionability.ACTIONABLE:
            classes.add(TypeClass.ACTIONABLE)
        if step.always:
            reachable = False
            break
    if resolving:
        classes.add(TypeClass.RESOLVED_CAPABLE)
    fallback = policy.fallback if reachable else None
    if reachable:
        classes.add(TypeClass.ACTIONABLE)
    return TypeProfile(
        family=family.name,
        operation_type=name,
        classes=classes,
        steps=steps,
        superseding_types=(
            _superseding(op_type, catalog) if TypeClass.SUPERSEDED_CAPABLE in classes else ()
        ),
        resolving=tuple(resolving),
        informational_outcomes=frozenset(outcomes),
        fallback=fallback,
        retry_label=str(retry_label(op_type)) if fallback is ActionKind.RETRY else None,
    )
