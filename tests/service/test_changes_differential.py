"""Issue 14: the change feed against evaluating every visible run at both instants.

Random histories (bad rows, aliases, workspace-owned types, ties, state facts, a hidden
workspace and a hidden environment) and random windows: every page of ``changes``, concatenated,
must name exactly the visible runs whose resolver status at ``until`` differs from the one at
``since``, with both statuses, in (changed_at, run id) order, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import CATALOG, REGISTRY, at, state_facts

from runactionability import ActionabilityService, OperationRun, StateFact, run_as_of
from runactionability.adapters.sqlalchemy import create_schema, insert_runs, insert_states, metadata
from runactionability.consumers import VisibleScopes
from runactionability.result import Actionability

STORED_NAMES = sorted(name for t in CATALOG for name in CATALOG.stored_names(t.name))
SCOPE_CHOICES = [
    VisibleScopes({"w1"}),
    VisibleScopes({"w1", "w2"}),
    VisibleScopes({"w1"}, environment_ids={"e1"}),
    VisibleScopes({"w2"}, environment_ids={"e1", "e2"}, include_workspace_runs=False),
]


@st.composite
def runs(draw: st.DrawFn, run_id: int) -> OperationRun:
    type_ = draw(st.sampled_from([*STORED_NAMES, "unknown.type"]))
    op_type = CATALOG.resolve(type_)
    created = draw(st.integers(0, 12))
    context: Any = {}
    if op_type is not None and op_type.subject_key is not None:
        value = draw(st.sampled_from(["s1", "s2", 1, "1", "", None]))
        if value is not None:
            context = {op_type.subject_key: value}
    return OperationRun(
        id=run_id,
        type=type_,
        workspace_id=draw(st.sampled_from(["w1", "w2"])),
        environment_id=draw(st.sampled_from(["e1", "e1", "e2", None])),
        status=draw(st.sampled_from(["completed"] * 6 + ["queued", "running", "bogus"])),
        outcome=draw(st.sampled_from(["failed", "succeeded", "succeeded", "cancelled", None])),
        created_at=None if draw(st.integers(0, 30)) == 0 else at(created),
        started_at=draw(st.sampled_from([None, at(created), at(created + 1)])),
        completed_at=None
        if draw(st.integers(0, 30)) == 0
        else at(created + draw(st.integers(-1, 4))),
        context=context,
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[OperationRun], list[StateFact]]:
    count = draw(st.integers(1, 25))
    return [draw(runs(n)) for n in range(1, count + 1)], draw(state_facts(max_size=8))


@pytest.fixture
def service(sql_engine: sa.Engine) -> Iterator[ActionabilityService]:
    create_schema(sql_engine)
    service = ActionabilityService(sql_engine, registry=REGISTRY, catalog=CATALOG)
    yield service
    service.close()


def _clear(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def expected_changes(
    service: ActionabilityService, scopes: VisibleScopes, since: datetime, until: datetime
) -> dict[Any, tuple[Actionability | None, Actionability]]:
    """Every visible run evaluated at both instants with the resolver, compared."""
    with service.session(scopes=scopes, as_of=until) as session:
        stored = session.backend.runs.list_runs(scopes.query(), limit=10_000).runs

        def statuses(at_: datetime) -> dict[Any, Actionability]:
            then = [r for run in stored if (r := run_as_of(run, at_)) is not None]
            results = session.resolver.evaluate_many(then, as_of=at_, scopes=scopes)
            return {run.id: result.status for run, result in zip(then, results, strict=True)}

        before, after = statuses(since), statuses(until)
    return {
        run_id: (before.get(run_id), status)
        for run_id, status in after.items()
        if before.get(run_id) != status
    }


def every_page(
    service: ActionabilityService,
    scopes: VisibleScopes,
    since: datetime,
    until: datetime,
    limit: int,
) -> list[Any]:
    found: list[Any] = []
    cursor = None
    while True:
        with service.session(scopes=scopes, as_of=until) as session:
            if cursor is None:
                page = session.changes(since=since, until=until, limit=limit)
            else:
                page = session.changes(cursor=cursor, limit=limit)
        assert len(page.changes) <= limit
        found += page.changes
        cursor = page.next_cursor
        if cursor is None:
            return found


@settings(
    max_examples=min(settings().max_examples, 60),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=histories(),
    window=st.tuples(st.integers(-1, 18), st.integers(0, 10)),
    scopes=st.sampled_from(SCOPE_CHOICES),
    limit=st.integers(1, 4),
)
def test_the_feed_equals_every_run_compared_at_both_instants(
    service: ActionabilityService,
    data: tuple[list[OperationRun], list[StateFact]],
    window: tuple[int, int],
    scopes: VisibleScopes,
    limit: int,
) -> None:
    history, facts = data
    engine = service.bind
    assert isinstance(engine, sa.Engine)
    _clear(engine)
    insert_runs(engine, history, catalog=CATALOG)
    insert_states(engine, facts)
    since, until = at(window[0]), at(window[0] + window[1])
    found = every_page(service, scopes, since, until, limit)
    got = {change.run_id: (change.since_status, change.status) for change in found}
    assert len(got) == len(found), "a change is never delivered twice"
    assert got == expected_changes(service, scopes, since, until)
    keys = [change.key for change in found]
    assert keys == sorted(keys)
    for change in found:
        assert since < change.changed_at <= until
        assert scopes.admits_run(change.run)
        if change.evidence is not None:
            assert scopes.admits(change.evidence.workspace_id, change.evidence.environment_id)
