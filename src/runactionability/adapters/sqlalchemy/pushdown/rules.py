"""The SQL of each built-in rule: one compilation per rule type, keyed by the exact type.

A rule is described once, in Python (``policies/rules.py``); its SQL here is a hand-written
function that yields the branch the rule adds to its type's ``CASE``. Each declares the rule's
fields it reads, which ``tests/pushdown/test_rule_compilations.py`` holds to the rule's fields,
and fixed boundary cases compare each with the Python resolver on both engines.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.pushdown.common import (
    _CLAMPED,
    _REVIEW,
)
from runactionability.adapters.sqlalchemy.pushdown.evidence import later_success, resolved
from runactionability.adapters.sqlalchemy.types import vocabulary_in
from runactionability.catalog import OperationType
from runactionability.policies.base import Family, Risk
from runactionability.policies.rules import (
    AlwaysInformational,
    AlwaysManualReview,
    FirstDecisive,
    InformationalWhen,
    ResolvedByState,
    SupersededByLaterSuccess,
)
from runactionability.result import Actionability

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown.classify import _Compiled


@attrs.frozen
class TypeContext:
    """What a rule's SQL is compiled against: one operation type of a compilable family.

    ``subject`` is the row's subject expression (None for a type without a subject key).
    """

    compiled: _Compiled
    op_type: OperationType
    family: Family
    subject: Any


@attrs.frozen
class Branch:
    """One ``WHEN`` of a type's classification: a row for which ``when`` holds gets ``status``.

    ``always`` marks a rule that decides every row reaching it: the rules after it are never
    reached, so they are not compiled.
    """

    when: Any
    status: Actionability
    always: bool = False


_R = TypeVar("_R")
Compile = Callable[[_R, TypeContext], Branch | None]
"""A rule's SQL: its branch for one type, or None when the rule never decides that type."""


@attrs.frozen
class Compilation:
    """The one SQL compilation of a rule type, and the attrs fields of the rule it accounts for.

    ``reads`` are the fields the compilation reads; ``ignores`` are the fields that cannot change
    a status (a reason, an action: the Python resolver explains the run), each with why. A test
    holds ``reads | ignores`` to the rule's fields, so a new field cannot go unread unnoticed.
    ``accepts`` says whether one instance, in its family, is expressible in SQL at all.
    """

    compile: Compile[Any]
    reads: frozenset[str]
    ignores: Mapping[str, str]
    accepts: Callable[[Any, Family], bool]


COMPILATIONS: dict[type[Any], Compilation] = {}
"""The SQL compilation of each built-in rule, keyed by its exact type (a subclass is not one)."""


def _always(rule: object, family: Family) -> bool:
    return True


def compiles(
    rule_type: type[_R],
    *,
    reads: Collection[str] = (),
    ignores: Mapping[str, str] | None = None,
    accepts: Callable[[_R, Family], bool] = _always,
) -> Callable[[Compile[_R]], Compile[_R]]:
    """Register ``function`` as the one SQL compilation of ``rule_type``."""

    def register(function: Compile[_R]) -> Compile[_R]:
        if rule_type in COMPILATIONS:
            raise ValueError(f"{rule_type.__name__} already has its SQL compilation")
        COMPILATIONS[rule_type] = Compilation(
            compile=function,
            reads=frozenset(reads),
            ignores=MappingProxyType(dict(ignores or {})),
            accepts=accepts,
        )
        return function

    return register


POLICY_READS = frozenset({"rules"})
"""The fields of ``FirstDecisive`` the classification reads (its rules, in order)."""
POLICY_IGNORES: Mapping[str, str] = MappingProxyType(
    {"action": "the primary action of an actionable run, which the Python resolver builds"}
)


def is_compilable(family: Family) -> bool:
    """Whether the family's policy is a ``FirstDecisive`` made only of the built-in rules.

    A rule is built in when its exact type has a compilation: a subclass may mean something
    else in Python, so its family is judged by the resolver. Each rule must also accept its
    family (a ``ResolvedByState`` only statuses the family declares).
    """
    policy = family.policy
    if type(policy) is not FirstDecisive:
        return False
    for rule in policy.rules:
        compilation = COMPILATIONS.get(type(rule))
        if compilation is None or not compilation.accepts(rule, family):
            return False
    return True


def rule_whens(
    compiled: _Compiled, op_type: OperationType, family: Family, subject: Any
) -> list[tuple[Any, Any]]:
    """The branches of a compilable family's rules, in order, for a valid row of ``op_type``.

    A high-risk family never leaves manual review: every settled status becomes review.
    """
    policy = family.policy
    assert isinstance(policy, FirstDecisive)
    high = family.risk is Risk.HIGH
    at = TypeContext(compiled=compiled, op_type=op_type, family=family, subject=subject)
    whens: list[tuple[Any, Any]] = []
    for rule in policy.rules:
        branch = COMPILATIONS[type(rule)].compile(rule, at)
        if branch is None:
            continue
        value = branch.status.value
        whens.append((branch.when, _REVIEW if high and value in _CLAMPED else value))
        if branch.always:
            break
    return whens


@compiles(
    InformationalWhen,
    reads={"outcomes"},
    ignores={"reason": "the reason code of the decision, which the Python resolver explains"},
)
def compile_informational_when(rule: InformationalWhen, at: TypeContext) -> Branch | None:
    mapping = at.compiled.pushdown.mapping
    stored = [v for outcome in rule.outcomes for v in mapping.stored_outcomes(outcome)]
    return Branch(
        when=vocabulary_in(at.compiled.c["outcome"], stored, at.compiled.dialect),
        status=Actionability.INFORMATIONAL_ONLY,
    )


@compiles(AlwaysInformational)
def compile_always_informational(rule: AlwaysInformational, at: TypeContext) -> Branch | None:
    return Branch(when=sa.true(), status=Actionability.INFORMATIONAL_ONLY, always=True)


@compiles(AlwaysManualReview)
def compile_always_manual_review(rule: AlwaysManualReview, at: TypeContext) -> Branch | None:
    return Branch(when=sa.true(), status=Actionability.REQUIRES_MANUAL_REVIEW, always=True)


@compiles(SupersededByLaterSuccess)
def compile_superseded(rule: SupersededByLaterSuccess, at: TypeContext) -> Branch | None:
    return Branch(
        when=later_success(at.compiled, at.op_type, at.subject),
        status=Actionability.SUPERSEDED_BY_LATER_SUCCESS,
    )


def _declared(rule: ResolvedByState, family: Family) -> bool:
    """Whether the family declares every status ``rule`` resolves by.

    The core refuses any other (a policy violation), which the compiled rules do not express.
    A rule for every type needs a declaration for every type; per-type ones are checked per type.
    """
    if rule.types is None:
        return rule.healthy <= frozenset().union(
            *(
                d.statuses
                for d in family.resolving_states
                if d.kind == rule.kind and d.types is None
            )
        )
    return all(rule.healthy <= family.resolving_statuses(rule.kind, name) for name in rule.types)


@compiles(ResolvedByState, reads={"kind", "healthy", "types"}, accepts=_declared)
def compile_resolved_by_state(rule: ResolvedByState, at: TypeContext) -> Branch | None:
    compiled, op_type = at.compiled, at.op_type
    state = compiled.pushdown.states.get(rule.kind)
    applies = rule.types is None or op_type.name in rule.types
    if state is None or rule.kind not in at.family.state_kinds or not applies:
        return None
    if op_type.workspace_owned and compiled.visibility is not None and not compiled.visibility[1]:
        # A workspace-owned type's state has no environment, which these scopes do not show:
        # for the actor it does not exist.
        return None
    return Branch(
        when=resolved(compiled, state, rule.healthy, op_type, at.subject),
        status=Actionability.RESOLVED_BY_CURRENT_STATE,
    )
