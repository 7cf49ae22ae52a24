"""The pushdown over a host's own layout gives the memory adapter's answers, run by run.

The host layout (``tests.support.HOST_LAYOUT``) keeps the whole lifecycle in one column and every
state kind in one table read with ``where`` filters. Random histories mix every lifecycle value,
values the mapping does not list, NULL, bad rows, ``as_of`` cut-offs and state facts; the statuses
the database computes (classification, counts, follow-up pages) must equal those the Python
resolver gives over the memory adapter for the same history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import (
    CATALOG,
    HOST_LAYOUT,
    HOST_RUNS,
    HOST_STATE_MAPPINGS,
    LIFECYCLES,
    REGISTRY,
    at,
    follow_up_ids,
    host_ports,
    memory_ports,
    state_facts,
)

from runactionability import OperationRun, Resolver, StateFact
from runactionability.adapters.sqlalchemy import RunTableMapping
from runactionability.adapters.sqlalchemy.mapping import UnmappedValue
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.consumers import VisibleScopes
from runactionability.result import Actionability

STORED_NAMES = sorted(name for t in CATALOG for name in CATALOG.stored_names(t.name))
SCOPES = VisibleScopes({"w1", "w2"})
JSON_SUBJECT = attrs.evolve(HOST_RUNS, subject=None)
# Every value of the lifecycle column, the failures twice as often, and values it cannot read.
LIFECYCLE_VALUES = [*LIFECYCLES, "error", "error", "refused", "bogus", "succeeded", None]


def _meaning(value: str | None) -> tuple[Any, Any]:
    if value is None:
        return None, None
    if value in LIFECYCLES:
        return LIFECYCLES[value]
    # A library word the host's lifecycle does not list is no status of this host.
    return UnmappedValue(value), None


@st.composite
def runs(draw: st.DrawFn, run_id: int) -> OperationRun:
    type_ = draw(st.sampled_from([*STORED_NAMES, "unknown.type"]))
    op_type = CATALOG.resolve(type_)
    status, outcome = _meaning(draw(st.sampled_from(LIFECYCLE_VALUES)))
    created = draw(st.integers(0, 12))
    context: Any = {}
    if op_type is not None and op_type.subject_key is not None:
        value = draw(st.sampled_from(["s1", "s2", 1, "1", " ", None]))
        if value is not None:
            context = {op_type.subject_key: value}
    return OperationRun(
        id=run_id,
        type=type_,
        workspace_id=draw(st.sampled_from(["w1", "w2"])),
        environment_id=draw(st.sampled_from(["e1", "e1", "e2", None, " "])),
        status=status,
        outcome=outcome,
        created_at=None if draw(st.integers(0, 30)) == 0 else at(created),
        started_at=draw(st.sampled_from([None, at(created), at(created + 1)])),
        completed_at=None
        if draw(st.integers(0, 30)) == 0
        else at(created + draw(st.integers(-1, 4))),
        context=context,
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[OperationRun], list[StateFact]]:
    count = draw(st.integers(1, 30))
    history = [draw(runs(run_id)) for run_id in range(1, count + 1)]
    facts = draw(state_facts(max_size=10))
    return history, facts


_PUSHDOWNS: dict[tuple[sa.Engine, bool, SupersedeForm], SqlPushdown] = {}


def _pushdown(engine: sa.Engine, mapping: RunTableMapping, form: SupersedeForm) -> SqlPushdown:
    # One per configuration and engine, so the classification compiles once, not per example.
    key = (engine, mapping.subject is None, form)
    if key not in _PUSHDOWNS:
        _PUSHDOWNS[key] = SqlPushdown(
            engine,
            runs=mapping,
            states=HOST_STATE_MAPPINGS,
            registry=REGISTRY,
            catalog=CATALOG,
            form=form,
        )
    return _PUSHDOWNS[key]


def _memory_view(
    history: list[OperationRun], facts: list[StateFact], as_of: datetime
) -> tuple[Sequence[OperationRun], dict[Any, Actionability]]:
    ports = memory_ports(history, facts)
    listed = ports.runs.list_runs(SCOPES.query(as_of=as_of), limit=1000).runs
    resolver = Resolver(
        history=ports.history, states=ports.states, registry=REGISTRY, catalog=CATALOG
    )
    results = resolver.evaluate_many(listed, as_of=as_of)
    return listed, {run.id: result.status for run, result in zip(listed, results, strict=True)}


EXAMPLES = min(settings().max_examples, 80)


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    return sql_engine


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=histories(),
    as_of=st.integers(-1, 18).map(at),
    json_subject=st.booleans(),
    form=st.sampled_from(SupersedeForm),
)
def test_the_pushdown_over_a_lifecycle_column_answers_as_memory_does(
    engine: sa.Engine,
    data: tuple[list[OperationRun], list[StateFact]],
    as_of: datetime,
    json_subject: bool,
    form: SupersedeForm,
) -> None:
    history, facts = data
    HOST_LAYOUT.create_all(engine)
    with engine.begin() as connection:
        for table in HOST_LAYOUT.sorted_tables:
            connection.execute(table.delete())
    host_ports(engine, history, facts)
    listed, expected = _memory_view(history, facts, as_of)
    pushdown = _pushdown(engine, JSON_SUBJECT if json_subject else HOST_RUNS, form)

    assert pushdown.classify(SCOPES, as_of=as_of) == expected

    counts = pushdown.count(SCOPES, as_of=as_of)
    assert dict(counts.counts.by_status) == {
        s: Counter(expected.values())[s] for s in Actionability
    }

    follow_up = [run.id for run in listed if expected[run.id].needs_attention]
    assert follow_up_ids(pushdown, SCOPES, as_of, expected, limit=4) == follow_up


def test_a_state_of_another_kind_in_the_shared_table_proves_nothing(engine: sa.Engine) -> None:
    failed = OperationRun(
        id=1,
        type="provider.connection.check",
        workspace_id="w1",
        environment_id="e1",
        status="completed",
        outcome="failed",
        created_at=at(0),
        completed_at=at(1),
        context={"provider_connection_id": "c1"},
    )
    # A healthy row of the same object, but of another kind, and one proven before the failure.
    facts = [
        StateFact(
            kind=kind,
            workspace_id="w1",
            environment_id="e1",
            subject="c1",
            status="healthy",
            proven_at=at(proven),
        )
        for kind, proven in (("backup_set", 5), ("provider_connection", 0))
    ]
    ports = host_ports(engine, [failed], facts)
    _, expected = _memory_view([failed], facts, at(10))
    assert expected == {1: Actionability.ACTIONABLE}
    assert ports.resolver().evaluate_many([failed], as_of=at(10))[0].status is expected[1]
    for form in SupersedeForm:
        assert _pushdown(engine, HOST_RUNS, form).classify(SCOPES, as_of=at(10)) == expected
