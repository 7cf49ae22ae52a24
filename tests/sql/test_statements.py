"""A batch costs one statement per evidence kind, whatever its size."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, Ports, at, open_ports
from tests.support import stored_run as run

from runactionability import Actionability, OperationRun, RunFact
from runactionability.adapters.sqlalchemy import (
    SqlStateSource,
    _reading,
    create_schema,
    insert_runs,
    joint,
)

# Each type below asks for a later success; the first three for a state kind as well.
TYPES = (
    ("provider.connection.check", "provider_connection_id"),
    ("baseline.capture", "baseline_profile_id"),
    ("backup.create", "backup_schedule_id"),
    ("inventory.sync", None),
)
EVIDENCE_KINDS = 4  # later success, provider_connection, baseline_snapshot, backup_set
JOINT = 1  # the history reads every state kind over its own bind with it (``joint``)


def batch(size: int, *, outcome: str = "failed", start: int = 0) -> list[OperationRun]:
    """``size`` runs over 3 workspaces, 7 environments and 50 subjects per type."""
    runs = []
    for index in range(size):
        type_, key = TYPES[index % len(TYPES)]
        runs.append(
            run(
                index + 1,
                type_,
                outcome=outcome,
                start=start + index % 100,
                workspace_id=f"w{index % 3}",
                environment_id=f"e{index % 7}",
                context={key: f"s{index % 50}"} if key else {},
            )
        )
    return runs


@pytest.fixture
def ports_with_history(sql_engine: sa.Engine) -> Ports:
    create_schema(sql_engine)
    # Later successes for every other scope and subject, so the answers are not all empty.
    successes = [r for r in batch(2_000, outcome="succeeded", start=1_000) if r.id % 2]
    insert_runs(sql_engine, successes)
    return open_ports(sql_engine)


def test_statement_count_does_not_grow_with_the_batch(
    sql_engine: sa.Engine,
    ports_with_history: Ports,
    statements: Callable[[sa.Engine], list[str]],
) -> None:
    resolver = ports_with_history.resolver()
    counts = {}
    for size in (10, 10_000):
        seen = statements(sql_engine)
        results = resolver.evaluate_many(batch(size), as_of=AS_OF)
        counts[size] = len(seen)
        statuses = Counter(result.status for result in results)
        assert statuses[Actionability.SUPERSEDED_BY_LATER_SUCCESS] > 0
        assert statuses[Actionability.ACTIONABLE] > 0
    assert counts == {10: JOINT, 10_000: JOINT}


def test_state_sources_over_another_bind_are_read_apart_with_the_same_answers(
    sql_engine: sa.Engine,
    ports_with_history: Ports,
    statements: Callable[[sa.Engine], list[str]],
) -> None:
    runs = batch(400)
    joint = ports_with_history.resolver().evaluate_many(runs, as_of=AS_OF)
    with sql_engine.connect() as connection:
        apart = Ports(
            name="apart",
            history=ports_with_history.history,
            states={
                kind: SqlStateSource(connection, source.mapping)  # type: ignore[attr-defined]
                for kind, source in ports_with_history.states.items()
            },
            runs=ports_with_history.runs,
        ).resolver()
        seen = statements(sql_engine)
        assert apart.evaluate_many(runs, as_of=AS_OF) == joint
        assert len(seen) == EVIDENCE_KINDS


def test_very_large_batches_are_chunked_with_the_same_answers(
    sql_engine: sa.Engine,
    ports_with_history: Ports,
    statements: Callable[[sa.Engine], list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolver = ports_with_history.resolver()
    runs = batch(400)
    whole = resolver.evaluate_many(runs, as_of=AS_OF)
    plan = resolver._shell.core.plan(runs, as_of=AS_OF)
    monkeypatch.setattr(_reading, "CHUNK_SIZE", 100)
    seen = statements(sql_engine)
    assert resolver.evaluate_many(runs, as_of=AS_OF) == whole
    expected = -(-len(plan.later_success_requests) // 100) + sum(
        -(-len(requests) // 100) for requests in plan.state_requests.values()
    )
    reads = [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(reads) == expected > EVIDENCE_KINDS


def test_the_joint_statements_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(joint, "_COMPOSED_KEPT", 3)
    statements = joint.JointStatements()
    for n in range(10):
        parts = [sa.select(sa.literal(n).label("a")), sa.select(sa.literal(-n).label("b"))]
        statements.compose(parts, "sqlite")
        assert len(statements._composed) <= 3


def test_the_joint_statement_runs_compiled_once_as_driver_sql(
    sql_engine: sa.Engine,
    ports_with_history: Ports,
    statements: Callable[[sa.Engine], list[str]],
) -> None:
    # Run through ``Connection.execute``, SQLAlchemy walked the whole joint statement (20-35 KB
    # of SQL for a page) for its cache key on every call, and psycopg converted its %(name)s
    # placeholders again: a third of a classified page's evidence read. Compiled once, it runs
    # as driver SQL, still seen by the engine's cursor events, with the same answers.
    resolver = ports_with_history.resolver()
    runs = batch(40)
    executed: list[object] = []

    def seen(connection: sa.Connection, element: object, *args: object) -> None:
        executed.append(element)

    first = resolver.evaluate_many(runs, as_of=AS_OF)
    sql = statements(sql_engine)
    sa.event.listen(sql_engine, "before_execute", seen)
    try:
        again = ports_with_history.resolver().evaluate_many(runs, as_of=AS_OF)
    finally:
        sa.event.remove(sql_engine, "before_execute", seen)
    assert again == first
    assert len(sql) == JOINT
    # Nothing went through ``Connection.execute`` (whose event sees every statement it builds).
    assert executed == []
    if sql_engine.dialect.name == "postgresql":
        # PostgreSQL's own $n form on psycopg's default cursor: nothing for psycopg to parse.
        assert "$1" in sql[0]
        assert "%(" not in sql[0]


def test_a_success_completed_after_as_of_hides_no_earlier_one_in_the_joint_read(
    sql_engine: sa.Engine, statements: Callable[[sa.Engine], list[str]]
) -> None:
    # The joint read binds ``as_of`` through its type (the stored instant). Bound as the
    # datetime itself, SQLite compared the stored integers with text, which every integer sorts
    # below: the port answered with the newest success, completed after ``as_of`` (no proof),
    # instead of the earlier one that proves the failure superseded.
    create_schema(sql_engine)
    check, key = TYPES[0]
    context = {key: "c1"}
    failed = run(1, check, start=0, context=context)
    earlier = run(2, check, outcome="succeeded", start=5, context=context)
    after_as_of = (AS_OF - at(0)).total_seconds() / 60 + 5
    late = run(3, check, outcome="succeeded", start=20, end=after_as_of, context=context)
    insert_runs(sql_engine, [failed, earlier, late])
    resolver = open_ports(sql_engine).resolver()
    seen = statements(sql_engine)
    result = resolver.evaluate_many([failed], as_of=AS_OF)[0]
    assert len(seen) == JOINT
    assert result.status == Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert isinstance(result.proof, RunFact)
    assert result.proof.run_id == 2
