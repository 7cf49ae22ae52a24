"""Small declarative rules that built-in families compose, and that plugins can reuse.

Each rule is a frozen value whose fields say everything it does, so the SQL pushdown can compile
the built-in ones into predicates; a plugin's own rule is any object with ``plan`` and ``decide``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import attrs

from runactionability.catalog.profiles import PolicyDescription, RuleDescription, StateResolution
from runactionability.evidence import EvidenceRequest
from runactionability.messages import Message, as_message, filled, msg, shared_param
from runactionability.model import RunOutcome, as_names, as_optional_names
from runactionability.policies.base import (
    Evidence,
    ProblemRun,
    ResolvingStates,
    Rule,
    _type_label,
    declared_by,
    retry_action,
    review_action,
)
from runactionability.policies.describe import describe_action, describe_rule
from runactionability.result import (
    Actionability,
    ActionKind,
    Decision,
    PrimaryAction,
    Reason,
    new_action,
    new_decision,
)
from runactionability.terms import outcome_verb, state_kind_name, state_status_name


def as_outcomes(values: Iterable[RunOutcome | str]) -> frozenset[RunOutcome]:
    return frozenset(RunOutcome(value) for value in values)


def as_rules(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(rules)


VIEW_LATER_SUCCESS = msg("action.view_later_success", "View the later successful run")
"""The label of the action that opens a later successful run (the proof of a superseded run)."""

# The explanations a run gets, as templates a decision fills with its run's own parameters: the
# pairs naming a type or an outcome are shared (``shared_param``), the instants are the run's.
_LATER_SUCCESS = msg(
    "verdict.later_success",
    "A later {type} run ({run_id}) started at {started_at} and succeeded, after this run "
    "{outcome} at {completed_at}.",
)
_CURRENT_STATE = msg(
    "verdict.current_state",
    "The {state_kind} is {state_status}, proven at {proven_at}, after this run {outcome} at "
    "{completed_at}.",
)
_NO_RESOLVING_EVIDENCE = msg(
    "verdict.no_resolving_evidence",
    "The {type} {outcome} at {completed_at}, and no later success or current state proves it "
    "fixed.",
)


@lru_cache(maxsize=256, typed=True)
def view_state_label(kind: str) -> Message:
    """The label of the action that opens the current state of ``kind``."""
    return msg(
        "action.view_state", "View the current {state_kind}", state_kind=state_kind_name(kind)
    )


@attrs.frozen
class SupersededByLaterSuccess:
    """Superseded when a successful run of an allowed type started at or after this one completed.

    The allowed types are the run's own canonical type and its ``superseded_by`` types, in the
    same scope and subject (the core builds that request).
    """

    def describe(self) -> RuleDescription:
        """What this rule may decide, for the catalog and the consumers (see ``describe_rule``)."""
        return RuleDescription(
            rule=type(self).__name__, status=Actionability.SUPERSEDED_BY_LATER_SUCCESS
        )

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return (run.later_success_request,)

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        fact = evidence.later_success
        if fact is None or fact.started_at < run.completed_at:
            return None
        return new_decision(
            Actionability.SUPERSEDED_BY_LATER_SUCCESS,
            Reason.LATER_SUCCESS,
            filled(
                _LATER_SUCCESS,
                shared_param("type", run.type_of(fact.operation_type)),
                ("run_id", str(fact.run_id)),
                ("started_at", fact.started_at),
                shared_param("outcome", run.outcome_name),
                ("completed_at", run.completed_at),
            ),
            fact,
            new_action(ActionKind.VIEW_RUN, VIEW_LATER_SUCCESS, "run", str(fact.run_id)),
        )


@attrs.frozen
class ResolvedByState:
    """Resolved when the current state of ``kind`` is in ``healthy`` and was proven after the run.

    ``types`` limits the rule to some canonical types of the family (None: every type).
    """

    kind: str
    healthy: frozenset[str] = attrs.field(converter=as_names)
    types: frozenset[str] | None = attrs.field(default=None, converter=as_optional_names)

    def _applies(self, run: ProblemRun) -> bool:
        return self._applies_to(run.operation_type.name)

    def _applies_to(self, operation_type: str) -> bool:
        return self.types is None or operation_type in self.types

    def resolving_states(self) -> tuple[ResolvingStates, ...]:
        """What this rule resolves by, as its family declares it to the core."""
        return (ResolvingStates(self.kind, self.healthy, self.types),)

    def describe(self) -> RuleDescription:
        """What this rule may decide, for the catalog and the consumers (see ``describe_rule``)."""
        return RuleDescription(
            rule=type(self).__name__,
            status=Actionability.RESOLVED_BY_CURRENT_STATE,
            types=self.types,
            states=(StateResolution(self.kind, self.healthy),),
        )

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return (run.state_request(self.kind),) if self._applies(run) else ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        if not self._applies(run):
            return None
        fact = evidence.state(self.kind)
        if fact is None or fact.status not in self.healthy or fact.proven_at <= run.completed_at:
            return None
        return new_decision(
            Actionability.RESOLVED_BY_CURRENT_STATE,
            Reason.CURRENT_STATE_HEALTHY,
            filled(
                _CURRENT_STATE,
                shared_param("state_kind", state_kind_name(self.kind)),
                shared_param("state_status", state_status_name(fact.status)),
                ("proven_at", fact.proven_at),
                shared_param("outcome", run.outcome_name),
                ("completed_at", run.completed_at),
            ),
            fact,
            new_action(ActionKind.VIEW_STATE, view_state_label(self.kind), self.kind, fact.subject),
        )


@attrs.frozen
class InformationalWhen:
    """Informational when the run ended with one of ``outcomes`` (e.g. an operator cancelled it)."""

    outcomes: frozenset[RunOutcome] = attrs.field(converter=as_outcomes)
    reason: str = Reason.CANCELLED_BY_OPERATOR

    def describe(self) -> RuleDescription:
        """What this rule may decide, for the catalog and the consumers (see ``describe_rule``)."""
        return RuleDescription(
            rule=type(self).__name__,
            status=Actionability.INFORMATIONAL_ONLY,
            outcomes=self.outcomes,
        )

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        outcome = run.outcome
        if outcome not in self.outcomes:
            return None
        return _chosen(self.reason, outcome)


@attrs.frozen
class AlwaysInformational:
    """Every problem run of the family is history only (alerts, notifications)."""

    def describe(self) -> RuleDescription:
        """What this rule may decide, for the catalog and the consumers (see ``describe_rule``)."""
        return RuleDescription(
            rule=type(self).__name__, status=Actionability.INFORMATIONAL_ONLY, always=True
        )

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        op_type = run.operation_type
        return _history_only(op_type.name, op_type.label, run.outcome)


@attrs.frozen
class AlwaysManualReview:
    """Every problem run of the family needs a person to look (high-risk operations)."""

    def describe(self) -> RuleDescription:
        """What this rule may decide, for the catalog and the consumers (see ``describe_rule``)."""
        return RuleDescription(
            rule=type(self).__name__, status=Actionability.REQUIRES_MANUAL_REVIEW, always=True
        )

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        op_type = run.operation_type
        return new_decision(
            Actionability.REQUIRES_MANUAL_REVIEW,
            Reason.ALWAYS_MANUAL_REVIEW,
            _half_applied(op_type.name, op_type.label, run.outcome),
            None,
            review_action(run.run, op_type),
        )


@attrs.frozen
class RetryAction:
    """When nothing resolves the run, the action is to run it again."""

    def describe(self) -> ActionKind:
        """The kind of action this template gives (the label is ``retry_label``'s, per type)."""
        return ActionKind.RETRY

    def action(self, run: ProblemRun) -> PrimaryAction:
        return retry_action(run.run, run.operation_type)


@attrs.frozen
class OpenRelatedAction:
    """When nothing resolves the run, the action is to fix the object its subject names.

    ``label`` is a ``Message`` (a plain string is shown as written, in every locale).
    """

    target_kind: str
    label: Message = attrs.field(converter=as_message)

    def describe(self) -> ActionKind:
        """The kind of action this template gives."""
        return ActionKind.OPEN_RELATED

    def action(self, run: ProblemRun) -> PrimaryAction:
        return PrimaryAction(
            kind=ActionKind.OPEN_RELATED,
            label=self.label,
            target_kind=self.target_kind,
            target_id=run.subject,
        )


ActionTemplate = RetryAction | OpenRelatedAction


@attrs.frozen
class FirstDecisive:
    """A policy: the first rule with a decision wins; when none has one, the run is actionable."""

    rules: tuple[Rule, ...] = attrs.field(converter=as_rules)
    action: ActionTemplate = RetryAction()

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        for rule in self.rules:
            yield from rule.plan(run)

    def resolving_states(self) -> tuple[ResolvingStates, ...]:
        """Every resolving state its rules declare (see ``ResolvingStates``)."""
        return tuple(declared for rule in self.rules for declared in declared_by(rule))

    def describe_policy(self) -> PolicyDescription:
        """Its rules' descriptions in order and its fallback action's kind (``describe_policy``)."""
        return PolicyDescription(
            steps=tuple(describe_rule(rule) for rule in self.rules),
            fallback=describe_action(self.action),
        )

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision:
        for rule in self.rules:
            decision = rule.decide(run, evidence)
            if decision is not None:
                return decision
        return new_decision(
            Actionability.ACTIONABLE,
            Reason.NO_RESOLVING_EVIDENCE,
            filled(
                _NO_RESOLVING_EVIDENCE,
                shared_param("type", run.label),
                shared_param("outcome", run.outcome_name),
                ("completed_at", run.completed_at),
            ),
            None,
            self.action.action(run),
        )


# A decision or explanation that depends only on the type and the outcome is one value for every
# run it is given to, so a million runs hold one, and the core gives them one verdict. The caches
# are typed: a plugin's plain "cancelled_by_operator" equals Reason.CANCELLED_BY_OPERATOR, and
# must not become the value every built-in result carries.
@lru_cache(maxsize=1024, typed=True)
def _chosen(reason: str, outcome: RunOutcome) -> Decision:
    return Decision(
        status=Actionability.INFORMATIONAL_ONLY,
        reason=reason,
        explanation=msg(
            "verdict.cancelled",
            "The run {outcome}, which an operator chose; it is history only.",
            outcome=outcome_verb(outcome),
        ),
    )


@lru_cache(maxsize=1024, typed=True)
def _history_only(name: str, label: str | None, outcome: RunOutcome) -> Decision:
    return Decision(
        status=Actionability.INFORMATIONAL_ONLY,
        reason=Reason.INFORMATIONAL_FAMILY,
        explanation=msg(
            "verdict.informational_family",
            "A {type} that {outcome} is recorded for history; it never calls for an "
            "operator action.",
            type=_type_label(name, label),
            outcome=outcome_verb(outcome),
        ),
    )


@lru_cache(maxsize=1024, typed=True)
def _half_applied(name: str, label: str | None, outcome: RunOutcome) -> Message:
    return msg(
        "verdict.always_manual_review",
        "A {type} that {outcome} may have left changes half-applied, so a person must review it.",
        type=_type_label(name, label),
        outcome=outcome_verb(outcome),
    )


# The built-in rules whose plan is the same for every problem run of one type.
_TYPE_ONLY_PLANS = (InformationalWhen, AlwaysInformational, AlwaysManualReview)


def type_plan(policy: object, operation_type: str) -> tuple[bool, tuple[str, ...]] | None:
    """What a built-in policy asks for every problem run of ``operation_type``.

    Whether it asks for the run's later success, and the state kinds it asks for; None when its
    plan may depend on the run (a plugin's own policy or rule, or a subclass), so the core asks
    it for each run.
    """
    if policy.__class__ is not FirstDecisive:
        return None
    success = False
    kinds: list[str] = []
    for rule in policy.rules:
        if rule.__class__ is SupersededByLaterSuccess:
            success = True
        elif rule.__class__ is ResolvedByState:
            if rule._applies_to(operation_type):
                kinds.append(rule.kind)
        elif rule.__class__ not in _TYPE_ONLY_PLANS:
            return None
    return success, tuple(kinds)
