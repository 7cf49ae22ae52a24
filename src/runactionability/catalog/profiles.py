"""What a family's policy makes of each operation type, as plain values the catalog can show.

A rule describes itself (``RuleDescription``), a policy gathers its rules' descriptions and its
fallback action (``PolicyDescription``), and a family joins them with its risk and declared
resolving statuses into one ``TypeProfile`` per type. These values sit below the policies so the
catalog can show them without importing a policy: the arrows keep pointing down.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from runactionability.model import RunOutcome, as_names, as_optional_names
from runactionability.result import Actionability, ActionKind


class TypeClass(enum.StrEnum):
    """What the problem runs of a type can become, as its family's policy says.

    A type has one or more classes: ``superseded-capable`` and ``actionable`` together mean a
    later success settles a failure, and until one does the run needs an action.
    """

    ACTIONABLE = "actionable"
    """Some problem runs are ``actionable``: no rule decides, and the fallback action applies."""
    MANUAL_REVIEW = "manual-review"
    """Problem runs reaching this point always need a person (a high-risk family is only this)."""
    SUPERSEDED_CAPABLE = "superseded-capable"
    """A later success of the type (or of a type superseding it) can settle a problem run."""
    RESOLVED_CAPABLE = "resolved-by-current-state-capable"
    """A current state of a declared kind and status can settle a problem run."""
    INFORMATIONAL_ONLY = "informational-only"
    """Problem runs reaching this point are always history (alerts, notifications)."""


_CLASS_ORDER = {value: index for index, value in enumerate(TypeClass)}
_DESCRIBE_ORDER = {
    value: index
    for index, value in enumerate(
        (
            TypeClass.SUPERSEDED_CAPABLE,
            TypeClass.RESOLVED_CAPABLE,
            TypeClass.INFORMATIONAL_ONLY,
            TypeClass.MANUAL_REVIEW,
            TypeClass.ACTIONABLE,
        )
    )
}


def _as_outcomes(values: Iterable[RunOutcome | str] | None) -> frozenset[RunOutcome] | None:
    return None if values is None else frozenset(RunOutcome(value) for value in values)


def _as_status(value: Actionability | str | None) -> Actionability | None:
    return None if value is None else Actionability(value)


def _as_states(values: Iterable[StateResolution]) -> tuple[StateResolution, ...]:
    return tuple(values)


def _as_steps(values: Iterable[RuleDescription] | None) -> tuple[RuleDescription, ...] | None:
    return None if values is None else tuple(values)


@attrs.frozen
class StateResolution:
    """A state of ``kind`` with one of ``statuses`` resolves the run."""

    kind: str
    statuses: frozenset[str] = attrs.field(converter=as_names)

    def describe(self) -> str:
        return f"{self.kind}: {', '.join(sorted(self.statuses))}"


@attrs.frozen(kw_only=True)
class RuleDescription:
    """What one rule may decide, as the rule itself declares it (``describe()`` on the rule).

    ``status`` is the one status the rule may decide; None means the rule does not describe
    itself, and then nobody may assume what it decides. ``always`` says it decides every problem
    run it sees (the rules after it never run). ``types`` limits the rule to some canonical types
    (None: every type); ``states`` are the states a resolving rule tests; ``outcomes`` the run
    outcomes an informational rule applies to (None: every outcome).
    """

    rule: str
    status: Actionability | None = attrs.field(default=None, converter=_as_status)
    always: bool = False
    types: frozenset[str] | None = attrs.field(default=None, converter=as_optional_names)
    states: tuple[StateResolution, ...] = attrs.field(default=(), converter=_as_states)
    outcomes: frozenset[RunOutcome] | None = attrs.field(default=None, converter=_as_outcomes)

    @classmethod
    def unknown(cls, rule: object) -> RuleDescription:
        """The description of a rule that gives none: it may decide anything, claims nothing."""
        return cls(rule=type(rule).__name__)

    @property
    def described(self) -> bool:
        return self.status is not None

    def applies_to(self, operation_type: str) -> bool:
        """Whether the rule speaks about runs of ``operation_type`` at all."""
        return self.types is None or operation_type in self.types


@attrs.frozen(kw_only=True)
class PolicyDescription:
    """A policy's rules, in the order it tries them, and the action when none decides.

    ``fallback`` is the kind of that action (retry, open the related object, review); ``steps``
    None means the policy does not describe itself.
    """

    steps: tuple[RuleDescription, ...] | None = attrs.field(default=None, converter=_as_steps)
    fallback: ActionKind | None = None

    @property
    def described(self) -> bool:
        return self.steps is not None and all(step.described for step in self.steps)


UNDESCRIBED = PolicyDescription()
"""What a policy that does not describe itself is taken to be: nothing is claimed about it."""


def _as_classes(values: Iterable[TypeClass | str]) -> tuple[TypeClass, ...]:
    return tuple(sorted({TypeClass(value) for value in values}, key=_CLASS_ORDER.__getitem__))


@attrs.frozen(kw_only=True)
class TypeProfile:
    """The class a family's policy gives one operation type, derived from its rules.

    ``classes`` are what its problem runs can become (see ``TypeClass``), in ``TypeClass`` order;
    ``steps`` are the rule descriptions that apply to the type, in policy order (None when the
    policy does not describe itself: then the type is only ``actionable`` and ``described`` is
    False). ``superseding_types`` are the canonical types whose later success supersedes it, its
    own first; ``resolving`` the state kinds and statuses that resolve it (declared by the family
    and tested by a rule, for a kind the family asks for); ``informational_outcomes`` the outcomes
    that make a problem run history; ``fallback`` the action kind when no rule decides, and
    ``retry_label`` the label of the retry every path offers for it (None unless retryable).
    """

    family: str
    operation_type: str
    classes: tuple[TypeClass, ...] = attrs.field(converter=_as_classes)
    steps: tuple[RuleDescription, ...] | None = attrs.field(default=None, converter=_as_steps)
    superseding_types: tuple[str, ...] = ()
    resolving: tuple[StateResolution, ...] = ()
    informational_outcomes: frozenset[RunOutcome] = frozenset()
    fallback: ActionKind | None = None
    retry_label: str | None = None
    high_risk: bool = False

    @property
    def described(self) -> bool:
        """Whether every rule of the policy that applies to the type describes itself."""
        return self.steps is not None and all(step.described for step in self.steps)

    @property
    def retryable(self) -> bool:
        """Whether an actionable problem run of the type is retried (the retry is reachable)."""
        return self.retry_label is not None

    def describe(self) -> str:
        """A short line naming the classes, e.g. for a ``class`` column of a table."""
        parts: list[str] = []
        # What can settle a run first, then what is left when nothing does.
        for value in sorted(self.classes, key=_DESCRIBE_ORDER.__getitem__):
            if value is TypeClass.RESOLVED_CAPABLE:
                states = "; ".join(state.describe() for state in self.resolving)
                parts.append(f"{value} ({states})")
            elif value is TypeClass.ACTIONABLE and self.fallback is not None:
                parts.append(f"{value} ({self.fallback})")
            else:
                parts.append(str(value))
        if self.informational_outcomes and TypeClass.INFORMATIONAL_ONLY not in self.classes:
            outcomes = ", ".join(sorted(self.informational_outcomes))
            parts.append(f"informational when {outcomes}")
        if not self.described:
            parts.append("policy not described")
        return ", ".join(parts)
