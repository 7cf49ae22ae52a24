"""Issue 8, finding 13: every public call that issues several statements reads one snapshot.

Given an ``Engine`` (or a ``Connection`` with no transaction open), the pushdown's count and the
history's chunks used to read PostgreSQL's READ COMMITTED: each statement saw the rows committed
before it, so a run that turned failed between two statements was counted twice, and successes
committed between two chunks settled some runs of a batch and not others. Here another connection
commits exactly between the two statements, and the answer must be the one of a single snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, at
from tests.support import stored_run as run

from runactionability import Actionability, Resolver
from runactionability.adapters.sqlalchemy import (
    _reading,
    create_schema,
    insert_runs,
    open_backend,
    operation_runs,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import VisibleScopes

SCOPES = VisibleScopes({"w1"})


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    if sql_engine.dialect.name == "sqlite":
        # With a rollback journal the writer would wait for the reader; WAL lets it commit a
        # version the reader's snapshot does not see, as PostgreSQL does.
        with sql_engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    create_schema(sql_engine)
    return sql_engine


@contextmanager
def bound(engine: sa.Engine, kind: str) -> Iterator[sa.Engine | sa.Connection]:
    if kind == "engine":
        yield engine
        return
    with engine.connect() as connection:
        yield connection


@contextmanager
def commit_after(
    engine: sa.Engine, matches: Callable[[str], bool], change: Callable[[sa.Connection], Any]
) -> Iterator[list[str]]:
    """Commit ``change`` from another connection right after the first statement that matches."""
    done: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if done or not matches(statement):
            return
        done.append(statement)
        with engine.begin() as other:
            change(other)

    sa.event.listen(engine, "after_cursor_execute", listener)
    try:
        yield done
    finally:
        sa.event.remove(engine, "after_cursor_execute", listener)


@pytest.mark.parametrize("kind", ["engine", "connection"])
def test_a_run_that_fails_between_the_counts_statements_is_counted_once(
    engine: sa.Engine, kind: str
) -> None:
    running = run(1, status="running", outcome=None, completed_at=None)
    failed = run(2, "policy.sync")
    insert_runs(engine, [running, failed], catalog=CATALOG)

    def finish(other: sa.Connection) -> None:
        other.execute(
            operation_runs.update()
            .where(operation_runs.c.id == 1)
            .values(status="completed", outcome="failed", completed_at=at(5))
        )

    with (
        bound(engine, kind) as bind,
        commit_after(engine, lambda sql: "count(" in sql.lower(), finish) as done,
    ):
        pushdown = SqlPushdown(bind, registry=REGISTRY, catalog=CATALOG)
        counts = pushdown.count(SCOPES, as_of=AS_OF)
    assert done, "the concurrent change was never committed"
    assert counts.counts.total == 2
    # Before the change: one running, one failed; after it, two failed. Never both at once.
    by_status = counts.counts.by_status
    assert (by_status[Actionability.NOT_TERMINAL], counts.needs_attention) == (1, 1)


@pytest.mark.parametrize("kind", ["engine", "connection"])
def test_successes_committed_between_history_chunks_are_seen_by_no_chunk(
    engine: sa.Engine, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [run(n, "policy.sync", context={}, environment_id=f"e{n}") for n in range(1, 5)]
    insert_runs(engine, failures, catalog=CATALOG)
    monkeypatch.setattr(_reading, "CHUNK_SIZE", 1)

    def succeed(other: sa.Connection) -> None:
        later = [
            run(10 + n, "policy.sync", outcome="succeeded", start=30, environment_id=f"e{n}")
            for n in range(1, 5)
        ]
        insert_runs(other, later, catalog=CATALOG)

    def history_statement(sql: str) -> bool:
        return "json_each" in sql or "jsonb_to_recordset" in sql

    with bound(engine, kind) as bind, commit_after(engine, history_statement, succeed) as done:
        backend = open_backend(bind, catalog=CATALOG)
        resolver = Resolver(
            history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
        )
        results = resolver.evaluate_many(failures, as_of=AS_OF)
    assert done, "the concurrent change was never committed"
    assert {result.status for result in results} == {Actionability.ACTIONABLE}
