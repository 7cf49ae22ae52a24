"""Issue 13: what the pushdown's statements cost the database, on the plans a host would read.

The answers are the differential tests' business; these check the shape of the work: the
later-success seek starts at the failed run's end, the problem walk reads its index alone, and
a request sets its PostgreSQL options once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import T0, at, stored_run

from runactionability import ActionabilityService, Registry
from runactionability.adapters.sqlalchemy import REFERENCE_RUNS, create_schema, insert_runs
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm, _scope_values
from runactionability.adapters.sqlalchemy.pushdown.paging import _walk
from runactionability.adapters.sqlalchemy.pushdown.rules import is_compilable
from runactionability.consumers import VisibleScopes
from runactionability.policies.rules import FirstDecisive, SupersededByLaterSuccess
from runactionability.result import Actionability
from runactionability.testing import count_statements

AS_OF = T0 + timedelta(days=1)
SCOPES = VisibleScopes({"w1"})


def _history(engine: sa.Engine) -> None:
    create_schema(engine)
    runs = []
    for number in range(40):
        # Early failures have a later success; the last ten have none.
        outcome = "failed" if number % 3 == 0 or number >= 30 else "succeeded"
        runs.append(
            stored_run(
                number + 1,
                workspace_id="w1",
                environment_id=f"e{number % 2}",
                outcome=outcome,
                created_at=at(number),
                started_at=at(number),
                completed_at=at(number + 0.5),
            )
        )
    insert_runs(engine, runs)


@pytest.fixture
def sqlite_engine(tmp_path: Any) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'statements.sqlite'}")
    _history(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    yield engine
    engine.dispose()


def _plan(engine: sa.Engine, pushdown: SqlPushdown, purpose: str) -> list[str]:
    prepared = next(p for key, p in pushdown._prepared.items() if key[0] == purpose)
    explained = prepared.prefixed("EXPLAIN QUERY PLAN ")
    values = {"as_of": AS_OF, "chunk": 101, **_scope_values(SCOPES, "sqlite", REFERENCE_RUNS.ids)}
    with engine.connect() as connection:
        return [str(row[-1]) for row in explained.execute(connection, values)]


def _classified(plan: list[str]) -> list[str]:
    """The plan of the classification: the count's statement (``counts``) also groups every run
    (its first arm, before ``UNION ALL``)."""
    return plan[plan.index("UNION ALL") + 1 :] if "UNION ALL" in plan else plan


def test_sqlite_seeks_a_later_success_from_the_failed_runs_end(sqlite_engine: sa.Engine) -> None:
    # SQLite takes one lower bound per index column: given the readable floor as a constant
    # bound beside ``start >= r.completed_at``, it took the floor and walked every success of
    # the key from the beginning. The only bound on the event start must be the correlated one.
    pushdown = SqlPushdown(sqlite_engine)
    counts = pushdown.count(SCOPES, as_of=AS_OF)
    assert counts.counts.by_status[Actionability.SUPERSEDED_BY_LATER_SUCCESS] > 0
    seeks = [
        line
        for line in _classified(_plan(sqlite_engine, pushdown, "counts"))
        if "ix_operation_runs_success" in line
    ]
    assert seeks
    for line in seeks:
        assert line.endswith("AND <expr>>?)"), line


def test_sqlite_walks_problem_runs_from_the_index_alone(sqlite_engine: sa.Engine) -> None:
    pushdown = SqlPushdown(sqlite_engine)
    page = pushdown.follow_up_page(SCOPES, as_of=AS_OF, limit=5)
    assert len(page.items) == 5
    walk = [line for line in _plan(sqlite_engine, pushdown, "page") if line.startswith("SEARCH r")]
    assert walk == [
        "SEARCH r USING COVERING INDEX ix_operation_runs_problem_scope (workspace_id=?)"
    ]


def test_sqlite_counts_needing_attention_from_the_problem_rows_alone(
    sqlite_engine: sa.Engine,
) -> None:
    # One statement, reading the partial problem-row index: no grouped read of every run. Its
    # classification stays a subquery (a co-routine) the grouping reads: flattened into the
    # grouping, SQLite computed the CASE twice a row.
    pushdown = SqlPushdown(sqlite_engine)
    with count_statements(sqlite_engine) as seen:
        needing = pushdown.needs_attention(SCOPES, as_of=AS_OF)
    assert needing == pushdown.count(SCOPES, as_of=AS_OF).needs_attention == 10
    assert len([s for s in seen.statements if s.lstrip().upper().startswith("SELECT")]) == 1
    for purpose in ("attention", "counts"):
        outer = [
            line
            for line in _classified(_plan(sqlite_engine, pushdown, purpose))
            if line.startswith(("CO-ROUTINE", "SEARCH r", "SCAN"))
        ]
        assert outer == [
            "CO-ROUTINE classified",
            "SEARCH r USING COVERING INDEX ix_operation_runs_problem_scope (workspace_id=?)",
            "SCAN classified",
        ], purpose


def test_a_request_sets_the_pushdown_options_once(sql_engine: sa.Engine) -> None:
    # Each set_config is a round trip; the options are the transaction's, and a request's
    # dashboard and follow-up page read in one transaction.
    _history(sql_engine)
    service = ActionabilityService(sql_engine, registry=Registry.default(entry_points=False))
    with (
        count_statements(sql_engine) as seen,
        service.session(scopes=SCOPES, as_of=AS_OF) as session,
    ):
        summary = session.dashboard(top=3)
        page = session.follow_up_page(limit=50)
    assert summary.counts.needs_attention == len(page.items) > 0
    options = [statement for statement in seen.statements if "set_config" in statement]
    expected = 1 if sql_engine.dialect.name == "postgresql" else 0
    assert len(options) == expected


def test_postgresql_walk_seeks_later_successes_once_per_shape_of_type() -> None:
    # PostgreSQL plans every subquery of a statement each time it plans it: one later-success
    # EXISTS per type made planning most of the follow-up walk. Types that share an ownership
    # and a subject expression share one test, whose type list the row's type chooses.
    engine = sa.create_engine("postgresql+psycopg://")
    pushdown = SqlPushdown(engine)
    compiled = pushdown.compiled(scopes=SCOPES, form=SupersedeForm.EXISTS, walk=True)
    sql = str(_walk(pushdown, compiled, SCOPES).compile(dialect=engine.dialect))
    shapes = set()
    for op_type in pushdown.catalog.inventory():
        family = pushdown.families.get(op_type.family)
        if family is None or not is_compilable(family):
            continue
        assert isinstance(family.policy, FirstDecisive)
        if any(isinstance(rule, SupersededByLaterSuccess) for rule in family.policy.rules):
            shapes.add((op_type.workspace_owned, op_type.subject_key is not None))
    assert len(shapes) > 1
    # The walked rows themselves, and one seek per shape.
    assert sql.count("FROM operation_runs AS") == 1 + len(shapes)
    assert "LATERAL" in sql


def test_a_count_is_one_statement(sql_engine: sa.Engine) -> None:
    # The grouping of every run and the classification of the problem rows are the two parts of
    # one statement: each statement costs a request its Python execution path (and, on
    # PostgreSQL, a round trip).
    _history(sql_engine)
    pushdown = SqlPushdown(sql_engine)
    first = pushdown.count(SCOPES, as_of=AS_OF)
    with count_statements(sql_engine) as seen:
        counts = pushdown.count(SCOPES, as_of=AS_OF)
    reads = [
        statement
        for statement in seen.statements
        if statement.lstrip().upper().startswith("SELECT") and "set_config" not in statement
    ]
    assert len(reads) == 1
    assert counts == first
    assert counts.needs_attention == 10
    assert counts.counts.by_status[Actionability.SUPERSEDED_BY_LATER_SUCCESS] > 0
