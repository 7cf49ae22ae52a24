"""The SQL classification against the Python resolver, run by run, on SQLite and PostgreSQL.

Random histories mix bad rows, aliases, workspace-owned types, ties, ``as_of`` cut-offs and state
facts; for every run the status the database computes must equal the resolver's. Counts and
follow-up pages are checked against the same resolver results. On PostgreSQL the same holds
over a runs table partitioned by created_at or by workspace (``tests.support.PARTITIONED_LAYOUTS``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import at, follow_up_ids, state_facts, stored_copy

from runactionability import OperationCatalog, OperationRun, Resolver, StateFact, run_as_of
from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    RunTableMapping,
    SqlRunHistory,
    SqlRunSource,
    SqlStateSource,
    StateTableMapping,
    create_schema,
    insert_runs,
    insert_states,
    metadata,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import (
    EVALUATE,
    SqlPushdown,
    SupersedeForm,
    is_compilable,
)
from runactionability.consumers import VisibleScopes
from runactionability.evidence import EvidenceRequest
from runactionability.hookspecs import hookimpl
from runactionability.model import RunOutcome, RunStatus
from runactionability.policies import BUILTIN_PLUGINS
from runactionability.policies.base import Evidence, Family, ProblemRun
from runactionability.policies.repeatable_sync import FAMILY as SYNC
from runactionability.policies.rules import FirstDecisive, InformationalWhen
from runactionability.registry import Registry
from runactionability.result import Actionability, Decision, Reason

CATALOG = OperationCatalog.reference()
STORED_NAMES = sorted(name for t in CATALOG for name in CATALOG.stored_names(t.name))
SCOPES = VisibleScopes({"w1", "w2"})
JSON_SUBJECT = RunTableMapping(table="operation_runs", subject=None)


class LongFailures:
    """A custom rule: a failure shorter than ten minutes is informational (not compilable)."""

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        created = run.run.created_at
        if run.completed_at - created < timedelta(minutes=10):
            return Decision(
                status=Actionability.INFORMATIONAL_ONLY,
                reason=Reason.INFORMATIONAL_FAMILY,
                explanation="A short failure is noise.",
            )
        return None


class CustomSync:
    @hookimpl
    def runactionability_families(self) -> list[Family]:
        rules = (InformationalWhen({RunOutcome.CANCELLED}), LongFailures(), *SYNC.policy.rules[1:])  # type: ignore[attr-defined]
        return [Family(name="repeatable_sync", policy=FirstDecisive(rules=rules))]


def _registry(custom: bool) -> Registry:
    registry = Registry()
    for name, plugin in BUILTIN_PLUGINS:
        if custom and name == "runactionability.repeatable_sync":
            continue
        registry.register(plugin, name=name)
    if custom:
        registry.register(CustomSync(), name="custom_sync")
    return registry


REGISTRIES = {False: _registry(False), True: _registry(True)}

subject_values = st.sampled_from(["s1", "s2", 1, "1", " ", "", True, 2.0, None])


@st.composite
def runs(draw: st.DrawFn, run_id: int) -> OperationRun:
    type_ = draw(st.sampled_from([*STORED_NAMES, "unknown.type"]))
    op_type = CATALOG.resolve(type_)
    status = draw(st.sampled_from(["completed"] * 6 + ["queued", "running", "bogus"]))
    outcome = draw(
        st.sampled_from(["failed", "failed", "blocked", "succeeded", "succeeded", "cancelled"])
        | st.sampled_from(["partially_succeeded", None, "weird"])
    )
    created = draw(st.integers(0, 12))
    duration = draw(st.integers(-1, 4))
    context: Any = {}
    if op_type is not None and op_type.subject_key is not None:
        value = draw(subject_values)
        if value is not None:
            context = {op_type.subject_key: value}
    if draw(st.integers(0, 30)) == 0:
        context = ["not", "a", "mapping"]
    return OperationRun(
        id=run_id,
        type=type_,
        workspace_id=draw(st.sampled_from(["w1", "w2"])),
        environment_id=draw(st.sampled_from(["e1", "e1", "e2", None, " "])),
        status=status,
        outcome=outcome,
        created_at=None if draw(st.integers(0, 30)) == 0 else at(created),
        started_at=draw(st.sampled_from([None, at(created), at(created + 1)])),
        completed_at=None if draw(st.integers(0, 30)) == 0 else at(created + duration),
        context=context,
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[OperationRun], list[StateFact]]:
    count = draw(st.integers(1, 30))
    history = [draw(runs(run_id)) for run_id in range(1, count + 1)]
    facts = draw(state_facts(max_size=8))
    return history, facts


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


def _clear(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def _resolver(
    engine: sa.Engine,
    mapping: RunTableMapping,
    registry: Registry,
    states: dict[str, StateTableMapping] | None = None,
) -> Resolver:
    states = reference_state_mappings() if states is None else states
    return Resolver(
        history=SqlRunHistory(engine, mapping),
        states={k: SqlStateSource(engine, m) for k, m in states.items()},
        registry=registry,
        catalog=CATALOG,
    )


def _python_view(
    engine: sa.Engine,
    mapping: RunTableMapping,
    registry: Registry,
    as_of: datetime,
    states: dict[str, StateTableMapping] | None = None,
) -> tuple[list[OperationRun], dict[Any, Actionability]]:
    source = SqlRunSource(engine, mapping, catalog=CATALOG)
    # Issue 8: the runs as they were at as_of (none created later, none completed later).
    stored = source.list_runs(SCOPES.query(), limit=1000).runs
    listed = [then for run in stored if (then := run_as_of(run, as_of)) is not None]
    results = _resolver(engine, mapping, registry, states).evaluate_many(listed, as_of=as_of)
    return listed, {run.id: result.status for run, result in zip(listed, results, strict=True)}


# Each example loads a fresh history and runs a dozen statements on each engine; beyond this many
# examples the thorough profile buys little, and a failing example stays cheap to shrink.
EXAMPLES = min(settings().max_examples, 120)


_PUSHDOWNS: dict[tuple[sa.Engine, bool, bool, SupersedeForm], SqlPushdown] = {}


def _pushdown(
    engine: sa.Engine, json_subject: bool, custom: bool, form: SupersedeForm
) -> SqlPushdown:
    # One per configuration and engine, so the classification compiles once, not per example.
    key = (engine, json_subject, custom, form)
    if key not in _PUSHDOWNS:
        _PUSHDOWNS[key] = SqlPushdown(
            engine,
            runs=JSON_SUBJECT if json_subject else REFERENCE_RUNS,
            registry=REGISTRIES[custom],
            catalog=CATALOG,
            form=form,
        )
    return _PUSHDOWNS[key]


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=histories(),
    as_of=st.integers(-1, 18).map(at),
    json_subject=st.booleans(),
    custom=st.booleans(),
    form=st.sampled_from(SupersedeForm),
)
def test_sql_status_of_every_run_equals_the_resolver(
    engine: sa.Engine,
    data: tuple[list[OperationRun], list[StateFact]],
    as_of: datetime,
    json_subject: bool,
    custom: bool,
    form: SupersedeForm,
) -> None:
    history, facts = data
    _clear(engine)
    insert_runs(engine, history, catalog=CATALOG)
    insert_states(engine, facts)
    mapping = JSON_SUBJECT if json_subject else REFERENCE_RUNS
    registry = REGISTRIES[custom]
    listed, expected = _python_view(engine, mapping, registry, as_of)
    pushdown = _pushdown(engine, json_subject, custom, form)

    _assert_pushdown_answers(pushdown, listed, expected, as_of)


def _assert_pushdown_answers(
    pushdown: SqlPushdown,
    listed: list[OperationRun],
    expected: dict[Any, Actionability],
    as_of: datetime,
) -> None:
    """The pushdown's classification, counts and follow-up pages all say ``expected``."""
    assert pushdown.classify(SCOPES, as_of=as_of) == expected

    counts = pushdown.count(SCOPES, as_of=as_of)
    assert dict(counts.counts.by_status) == {
        s: Counter(expected.values())[s] for s in Actionability
    }
    by_family: Counter[tuple[str | None, Actionability]] = Counter()
    for run in listed:
        op_type = CATALOG.resolve(run.type)
        by_family[(op_type.family if op_type else None, expected[run.id])] += 1
    assert {
        (name, status): n
        for name, group in counts.by_family.items()
        for status, n in group.by_status.items()
        if n
    } == dict(by_family)
    # The active work, as the dashboard counts it from the not_terminal runs as they were.
    active = [run for run in listed if expected[run.id] is Actionability.NOT_TERMINAL]
    by_type = Counter(
        op_type.name if (op_type := CATALOG.resolve(run.type)) else str(run.type) for run in active
    )
    queued = sum(1 for run in active if run.status is RunStatus.QUEUED)
    assert (counts.active.queued, counts.active.running) == (queued, len(active) - queued)
    assert dict(counts.active.by_type) == dict(sorted(by_type.items()))
    needing = sum(1 for status in expected.values() if status.needs_attention)
    assert pushdown.needs_attention(SCOPES, as_of=as_of) == counts.needs_attention == needing
    # One workspace is a statement of its own (an equality, not a list).
    in_w1 = sum(
        1 for run in listed if run.workspace_id == "w1" and expected[run.id].needs_attention
    )
    assert pushdown.needs_attention(VisibleScopes({"w1"}), as_of=as_of) == in_w1

    follow_up = [run.id for run in listed if expected[run.id].needs_attention]
    assert follow_up_ids(pushdown, SCOPES, as_of, expected, limit=4) == follow_up


@settings(
    max_examples=min(EXAMPLES, 15), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=histories(),
    as_of=st.integers(-1, 18).map(at),
    json_subject=st.booleans(),
    custom=st.booleans(),
    form=st.sampled_from(SupersedeForm),
)
def test_every_storage_of_instants_answers_as_the_reference(
    storage_leg: tuple[sa.Engine, str],
    data: tuple[list[OperationRun], list[StateFact]],
    as_of: datetime,
    json_subject: bool,
    custom: bool,
    form: SupersedeForm,
) -> None:
    # The same history in tables whose instants are ISO text, epoch counts or naive wall times:
    # the pushdown over them, and the Python resolver over their SQL ports, answer as the
    # reference tables do (whose ports answer as memory does, tests/sql/test_contract.py).
    engine, storage = storage_leg
    history, facts = data
    create_schema(engine)
    _clear(engine)
    insert_runs(engine, history, catalog=CATALOG)
    insert_states(engine, facts)
    registry = REGISTRIES[custom]
    reference = JSON_SUBJECT if json_subject else REFERENCE_RUNS
    listed, expected = _python_view(engine, reference, registry, as_of)
    runs, states = stored_copy(engine, storage)
    if json_subject:
        runs = attrs.evolve(runs, subject=None)
    assert _python_view(engine, runs, registry, as_of, states) == (listed, expected)
    key = (engine, storage, json_subject, custom, form)
    if key not in _STORED_PUSHDOWNS:
        _STORED_PUSHDOWNS[key] = SqlPushdown(
            engine, runs=runs, states=states, registry=registry, catalog=CATALOG, form=form
        )
    _assert_pushdown_answers(_STORED_PUSHDOWNS[key], listed, expected, as_of)


_STORED_PUSHDOWNS: dict[tuple[Any, ...], SqlPushdown] = {}


@settings(
    max_examples=min(EXAMPLES, 15), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=histories(),
    as_of=st.integers(-1, 18).map(at),
    json_subject=st.booleans(),
    form=st.sampled_from(SupersedeForm),
)
def test_a_partitioned_runs_table_answers_as_the_reference(
    partitioned_engine: tuple[sa.Engine, str],
    data: tuple[list[OperationRun], list[StateFact]],
    as_of: datetime,
    json_subject: bool,
    form: SupersedeForm,
) -> None:
    # Issue 13: a host partitions its runs by created_at (as by month) or by workspace; the
    # pushdown runs unmodified over the partitioned table and answers as the resolver does.
    engine, layout = partitioned_engine
    history, facts = data
    _clear(engine)
    insert_runs(engine, history, catalog=CATALOG)
    insert_states(engine, facts)
    registry = REGISTRIES[False]
    mapping = JSON_SUBJECT if json_subject else REFERENCE_RUNS
    listed, expected = _python_view(engine, mapping, registry, as_of)
    key = (engine, layout, json_subject, form)
    if key not in _PARTITIONED_PUSHDOWNS:
        _PARTITIONED_PUSHDOWNS[key] = SqlPushdown(
            engine, runs=mapping, registry=registry, catalog=CATALOG, form=form
        )
    _assert_pushdown_answers(_PARTITIONED_PUSHDOWNS[key], listed, expected, as_of)


_PARTITIONED_PUSHDOWNS: dict[tuple[Any, ...], SqlPushdown] = {}


def test_only_families_of_built_in_rules_compile() -> None:
    families = REGISTRIES[True].families()
    assert {name for name, family in families.items() if not is_compilable(family)} == {
        "repeatable_sync"
    }
    assert all(is_compilable(family) for family in REGISTRIES[False].families().values())


def test_rows_of_custom_families_are_judged_in_python(engine: sa.Engine) -> None:
    failure = OperationRun(
        id=1,
        type="inventory.sync",
        workspace_id="w1",
        environment_id="e1",
        status="completed",
        outcome="failed",
        created_at=at(0),
        completed_at=at(2),
    )
    insert_runs(engine, [failure], catalog=CATALOG)
    pushdown = SqlPushdown(engine, registry=REGISTRIES[True], catalog=CATALOG)
    compiled = pushdown.compiled()
    with engine.connect() as connection:
        raw = connection.execute(
            compiled.select(compiled.status),
            {"as_of": at(5), "workspace_ids": ["w1"], "workspace_id": "w1"},
        ).scalar_one()
    assert raw == EVALUATE
    assert pushdown.classify(SCOPES, as_of=at(5)) == {1: Actionability.INFORMATIONAL_ONLY}
    assert pushdown.evaluated_families == ("repeatable_sync",)
