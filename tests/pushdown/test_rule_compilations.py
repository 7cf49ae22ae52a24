"""Each built-in rule has exactly one SQL compilation, which reads every field of the rule.

Issue 9, item 1. A rule is described once, in Python; its SQL is a hand-written function in
``pushdown/rules.py`` keyed by the rule's exact type. These tests hold the two together where a
random test may not look: a field added to a rule class that its compilation does not read (or
declare as unable to change a status) fails here, and a subclass of a built-in rule, which may
mean something else in Python, is judged by the Python resolver rather than compiled.
"""

from __future__ import annotations

import inspect
from datetime import timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import T0, registry_replacing

from runactionability import (
    Family,
    OperationRun,
    Registry,
    Resolver,
)
from runactionability.adapters.sqlalchemy import (
    SqlRunHistory,
    SqlStateSource,
    create_schema,
    insert_runs,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, is_compilable
from runactionability.adapters.sqlalchemy.pushdown.rules import (
    COMPILATIONS,
    POLICY_IGNORES,
    POLICY_READS,
    TypeContext,
)
from runactionability.consumers import VisibleScopes
from runactionability.policies import provider_connection
from runactionability.policies import rules as builtin
from runactionability.policies.base import Evidence, ProblemRun, Rule
from runactionability.policies.rules import (
    AlwaysInformational,
    AlwaysManualReview,
    FirstDecisive,
    InformationalWhen,
    ResolvedByState,
    SupersededByLaterSuccess,
)
from runactionability.result import Actionability, Decision

AS_OF = T0 + timedelta(hours=1)
SCOPES = VisibleScopes({"w1"})
KIND = provider_connection.STATE_KIND
CHECK = "provider.connection.check"

EXAMPLES: dict[type[Any], Rule] = {
    SupersededByLaterSuccess: SupersededByLaterSuccess(),
    ResolvedByState: ResolvedByState(KIND, {"healthy"}, types={CHECK}),
    InformationalWhen: InformationalWhen({"cancelled"}),
    AlwaysManualReview: AlwaysManualReview(),
    AlwaysInformational: AlwaysInformational(),
}
"""An instance of each built-in rule whose compilation applies to a provider-connection check."""


def family_of(*rules: Rule) -> Family:
    return Family(name="provider_connection", policy=FirstDecisive(rules=rules), state_kinds={KIND})


def field_names(cls: type[Any]) -> set[str]:
    return {field.name for field in attrs.fields(cls)}


def test_every_built_in_rule_has_exactly_one_compilation() -> None:
    rule_types = {
        cls
        for _, cls in inspect.getmembers(builtin, inspect.isclass)
        if cls.__module__ == builtin.__name__
        and hasattr(cls, "decide")
        and cls is not FirstDecisive
    }
    assert rule_types == set(COMPILATIONS) == set(EXAMPLES)


@pytest.mark.parametrize("rule_type", list(EXAMPLES), ids=lambda cls: cls.__name__)
def test_a_compilation_accounts_for_every_field_of_its_rule(rule_type: type[Any]) -> None:
    compilation = COMPILATIONS[rule_type]
    assert not compilation.reads & set(compilation.ignores)
    assert compilation.reads | set(compilation.ignores) == field_names(rule_type), (
        f"{rule_type.__name__}: a field its SQL compilation neither reads nor declares ignored"
    )
    assert all(why.strip() for why in compilation.ignores.values())


def test_the_policy_compilation_accounts_for_every_field_of_first_decisive() -> None:
    assert not POLICY_READS & set(POLICY_IGNORES)
    assert POLICY_READS | set(POLICY_IGNORES) == field_names(FirstDecisive)


class Reading:
    """A rule that records which of its attributes a compilation reads."""

    def __init__(self, rule: Rule) -> None:
        self._rule = rule
        self._read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self._read.add(name)
        return getattr(self._rule, name)


@pytest.mark.parametrize("rule_type", list(EXAMPLES), ids=lambda cls: cls.__name__)
def test_a_compilation_reads_exactly_the_fields_it_declares(rule_type: type[Any]) -> None:
    rule = EXAMPLES[rule_type]
    engine = sa.create_engine("sqlite://")
    pushdown = SqlPushdown(engine)
    compiled = pushdown.compiled()
    op_type = pushdown.catalog.resolve(CHECK)
    assert op_type is not None
    at = TypeContext(
        compiled=compiled, op_type=op_type, family=family_of(rule), subject=compiled.subject
    )
    reading = Reading(rule)
    branch = COMPILATIONS[rule_type].compile(reading, at)
    assert branch is not None
    assert reading._read == COMPILATIONS[rule_type].reads


# -- a subclass of a built-in rule is judged in Python ------------------------------------------


@attrs.frozen
class NeverSuperseded(SupersededByLaterSuccess):
    """A later-success rule with another meaning: a later success settles nothing."""

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        return None


@attrs.frozen
class SameMeaning(SupersededByLaterSuccess):
    """A subclass that means the same; still not the built-in type, so not compiled."""


def registry_with(family: Family) -> Registry:
    return registry_replacing(family)


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


def check(run_id: int, **changes: Any) -> OperationRun:
    fields: dict[str, Any] = {
        "id": run_id,
        "type": CHECK,
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": "completed",
        "outcome": "failed",
        "created_at": T0,
        "completed_at": T0 + timedelta(minutes=10),
        "context": {"provider_connection_id": "c1"},
    }
    return OperationRun(**(fields | changes))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        pytest.param(NeverSuperseded(), Actionability.ACTIONABLE, id="other-meaning"),
        pytest.param(SameMeaning(), Actionability.SUPERSEDED_BY_LATER_SUCCESS, id="same-meaning"),
    ],
)
def test_a_subclassed_built_in_rule_is_evaluated_in_python(
    engine: sa.Engine, rule: Rule, expected: Actionability
) -> None:
    family = family_of(rule)
    assert not is_compilable(family)
    assert is_compilable(family_of(SupersededByLaterSuccess()))
    later = T0 + timedelta(minutes=20)
    insert_runs(
        engine,
        [check(1), check(2, outcome="succeeded", created_at=later, completed_at=later)],
    )
    built = registry_with(family)
    states = reference_state_mappings()
    pushdown = SqlPushdown(engine, states=states, registry=built)
    assert pushdown.evaluated_families == ("provider_connection",)
    resolver = Resolver(
        registry=built,
        history=SqlRunHistory(engine),
        states={kind: SqlStateSource(engine, mapping) for kind, mapping in states.items()},
    )
    runs = pushdown._run_source().list_runs(SCOPES.query(), limit=10).runs
    python = {
        run.id: result.status
        for run, result in zip(runs, resolver.evaluate_many(runs, as_of=AS_OF), strict=True)
    }
    assert python == {1: expected, 2: Actionability.INFORMATIONAL_ONLY}
    assert pushdown.classify(SCOPES, as_of=AS_OF) == python
    counts = pushdown.count(SCOPES, as_of=AS_OF).counts
    assert counts.by_status[expected] == 1
    page = pushdown.follow_up_page(SCOPES, as_of=AS_OF)
    assert [item.run.id for item in page.items] == ([1] if expected.needs_attention else [])
