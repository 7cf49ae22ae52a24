"""For random histories, the SQL adapters answer exactly as the in-memory reference does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st
from tests.support import (
    AS_OF,
    BACKENDS,
    CATALOG,
    REGISTRY,
    T0,
    Ports,
    clear,
    memory_ports,
    open_ports,
)

from runactionability import OperationRun, RunQuery, RunStatus, StateFact, VisibleScopes
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    create_schema,
    insert_runs,
    insert_states,
    metadata,
)
from runactionability.core import Core

TYPES = (
    "provider.connection.check",
    "provider_connection.check",
    "provider.connection.authorize",
    "inventory.sync",
    "inventory_sync",
    "baseline.capture",
    "baseline.compare",
    "review_pack.generate",
    "backup.create",
    "restore.execute",
    "alerts.dispatch",
    "evidence.snapshot.generate",
)
SUBJECT_KEYS = (
    "provider_connection_id",
    "baseline_profile_id",
    "review_pack_id",
    "backup_schedule_id",
    "backup_set_id",
)
STATE_SUBJECTS = ("s1", "s2", None)

minutes = st.integers(min_value=0, max_value=8)  # coarse, so that ties are common
instants = minutes.map(lambda m: T0 + timedelta(minutes=m))
subjects = st.sampled_from(["s1", "s1", "s2", 1, "1", True, ""])
contexts = st.dictionaries(st.sampled_from(SUBJECT_KEYS), subjects, max_size=2)
outcomes = st.sampled_from(
    [
        "succeeded",
        "succeeded",
        "succeeded",
        "failed",
        "blocked",
        "partially_succeeded",
        "cancelled",
        None,
    ]
)
# (type, workspace, environment, outcome (None: still running), created, start delay, duration,
# context); strategies are built once here, since building them per draw dominates the cost.
run_fields = st.tuples(
    st.sampled_from(TYPES),
    # Mostly one scope, so that runs compete as evidence for each other.
    st.sampled_from(["w1", "w1", "w1", "w2"]),
    st.sampled_from(["e1", "e1", "e1", "e2", None]),
    outcomes,
    minutes,
    st.one_of(st.none(), st.integers(0, 3)),
    st.integers(0, 6),
    contexts,
)
state_facts = st.builds(
    StateFact,
    kind=st.sampled_from(["provider_connection", "baseline_snapshot", "review_pack"]),
    workspace_id=st.sampled_from(["w1", "w2"]),
    environment_id=st.sampled_from(["e1", "e2", None]),
    subject=st.sampled_from(STATE_SUBJECTS),
    status=st.sampled_from(["healthy", "complete", "published", "failing"]),
    proven_at=instants,
)


def _run(run_id: int, fields: tuple[Any, ...]) -> OperationRun:
    type_, workspace, environment, outcome, created, delay, duration, context = fields
    created_at = T0 + timedelta(minutes=created)
    started_at = None if delay is None else created_at + timedelta(minutes=delay)
    return OperationRun(
        id=run_id,
        type=type_,
        workspace_id=workspace,
        environment_id=environment,
        status="running" if outcome is None else "completed",
        outcome=outcome,
        created_at=created_at,
        started_at=started_at,
        completed_at=None
        if outcome is None
        else (started_at or created_at) + timedelta(minutes=duration),
        context=context,
    )


histories = st.tuples(
    st.lists(run_fields, min_size=8, max_size=30).map(
        lambda rows: [_run(run_id, fields) for run_id, fields in enumerate(rows, start=1)]
    ),
    # The reference tables hold one row per object, so two facts of one object proven at the
    # same instant cannot both be stored; test_state_rule.py covers such ties on host tables.
    st.lists(
        state_facts,
        max_size=8,
        unique_by=lambda f: (f.kind, f.workspace_id, f.environment_id, f.subject, f.proven_at),
    ),
)


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[sa.Engine, Ports]]:
    """One schema and one set of ports per backend for the module; each example clears rows."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("property") / "property.sqlite"
        sqlite = sa.create_engine(f"sqlite:///{path}")
        create_schema(sqlite)
        yield sqlite, open_ports(sqlite)
        sqlite.dispose()
        return
    postgres: sa.Engine = request.getfixturevalue("postgres_engine")
    create_schema(postgres)
    yield postgres, open_ports(postgres)
    with postgres.begin() as connection:
        metadata.drop_all(connection)


def _listing(ports: Ports, **filters: Any) -> list[OperationRun]:
    listed: list[OperationRun] = []
    cursor = None
    query = RunQuery(workspace_ids={"w1", "w2"}, **filters)
    while True:
        page = ports.runs.list_runs(query, limit=7, cursor=cursor)
        listed.extend(page.runs)
        cursor = page.next_cursor
        if cursor is None:
            return listed


# Ties on event start are rare in random data, so one history that needs both tie-breakers
# (completed_at, then id) is always tried as well.
TIES: tuple[list[OperationRun], list[StateFact]] = (
    [
        _run(1, ("inventory.sync", "w1", "e1", "failed", 0, None, 1, {})),
        _run(2, ("inventory.sync", "w1", "e1", "succeeded", 2, None, 5, {})),
        _run(3, ("inventory.sync", "w1", "e1", "succeeded", 2, None, 4, {})),
        _run(4, ("baseline.capture", "w1", "e1", "failed", 0, None, 1, {"baseline_profile_id": 1})),
        _run(5, ("baseline.capture", "w1", "e1", "succeeded", 3, 0, 2, {"baseline_profile_id": 1})),
        _run(
            6, ("baseline.capture", "w1", "e1", "succeeded", 3, 0, 2, {"baseline_profile_id": "1"})
        ),
    ],
    [],
)


@example(history=TIES, as_of_minutes=None)
@given(history=histories, as_of_minutes=st.sampled_from([6, 10, None]))
def test_sql_adapters_agree_with_memory(
    store: tuple[sa.Engine, Ports],
    history: tuple[list[OperationRun], list[StateFact]],
    as_of_minutes: int | None,
) -> None:
    runs, facts = history
    as_of = AS_OF if as_of_minutes is None else T0 + timedelta(minutes=as_of_minutes)
    engine, actual = store
    clear(engine)
    insert_runs(engine, runs, catalog=CATALOG)
    insert_states(engine, facts)
    expected = memory_ports(runs, facts)

    assert actual.resolver().evaluate_many(runs, as_of=as_of) == expected.resolver().evaluate_many(
        runs, as_of=as_of
    )

    plan = Core(catalog=CATALOG, families=REGISTRY.families(), state_kinds=STATE_KINDS).plan(
        runs, as_of=as_of
    )
    requests = plan.later_success_requests
    assert actual.history.latest_successes(requests, as_of=as_of) == (
        expected.history.latest_successes(requests, as_of=as_of)
    )
    for kind, state_requests in plan.state_requests.items():
        assert actual.states[kind].current_states(state_requests) == (
            expected.states[kind].current_states(state_requests)
        )
    assert _listing(actual) == _listing(expected)
    # Issue 8: the runs as they were at as_of, and evidence confined to an actor's scopes.
    for statuses in (None, {RunStatus.QUEUED, RunStatus.RUNNING}, {RunStatus.COMPLETED}):
        assert _listing(actual, as_of=as_of, statuses=statuses) == (
            _listing(expected, as_of=as_of, statuses=statuses)
        )
    for scopes in ACTORS:
        assert actual.resolver().evaluate_many(runs, as_of=as_of, scopes=scopes) == (
            expected.resolver().evaluate_many(runs, as_of=as_of, scopes=scopes)
        )


ACTORS = (
    VisibleScopes({"w1"}, environment_ids={"e1"}),
    VisibleScopes({"w1", "w2"}, environment_ids={"e1", "e2"}, include_workspace_runs=False),
)
