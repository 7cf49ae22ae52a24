"""The classification leaves out the workspace tests only for scopes whose ids make them moot.

A scoped statement reads only rows whose workspace id equals a visible id byte for byte. When
every visible id is printable ASCII without a space at either end, the row-level workspace tests
(the escape to Python and the blank test) are false for every row read, so they are left out;
any other visible id keeps them. The choice is part of the statement cache's key: one pushdown
serving both kinds of scopes of the same shape must run each its own statement.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.support import T0, at

from runactionability import OperationRun, Resolver
from runactionability.adapters.sqlalchemy import (
    SqlRunHistory,
    SqlStateSource,
    create_schema,
    insert_runs,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import VisibleScopes
from runactionability.testing import count_statements

AS_OF = T0 + timedelta(hours=1)
# The workspace escape as each dialect writes it: a GLOB (SQLite) or a regular expression
# (PostgreSQL) applied to the row's workspace id.
ESCAPE = re.compile(r"r\.workspace_id(?: AS TEXT\))?(?: COLLATE \"C\")? (?:GLOB|~)")


def _sync(run_id: int, workspace: str, outcome: str, minute: int) -> OperationRun:
    return OperationRun(
        id=run_id,
        type="inventory.sync",
        workspace_id=workspace,
        environment_id="e1",
        status="completed",
        outcome=outcome,
        created_at=at(minute),
        started_at=None,
        completed_at=at(minute + 1),
        context={},
    )


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


def _needing_attention(engine: sa.Engine, scopes: VisibleScopes) -> int:
    """The resolver's needs-attention figure for ``scopes``."""
    states = reference_state_mappings()
    resolver = Resolver(
        history=SqlRunHistory(engine),
        states={kind: SqlStateSource(engine, mapping) for kind, mapping in states.items()},
    )
    runs = SqlPushdown(engine)._run_source().list_runs(scopes.query(), limit=1000).runs
    results = resolver.evaluate_many(runs, as_of=AS_OF, scopes=scopes)
    return sum(1 for result in results if result.status.needs_attention)


@pytest.mark.parametrize("unusual", ["w\u00e9", " w3", "w3 "])
def test_a_scope_with_an_unusual_workspace_id_keeps_the_workspace_tests(
    engine: sa.Engine, unusual: str
) -> None:
    insert_runs(
        engine,
        [
            _sync(1, "w1", "failed", 0),
            _sync(2, "w2", "failed", 0),
            _sync(3, "w2", "succeeded", 5),
            _sync(4, unusual, "failed", 0),
            _sync(5, unusual, "succeeded", 5),
            _sync(6, unusual, "blocked", 10),
        ],
    )
    pushdown = SqlPushdown(engine)
    usual, other = VisibleScopes({"w1", "w2"}), VisibleScopes({"w1", unusual})
    with count_statements(engine) as seen:
        assert pushdown.needs_attention(usual, as_of=AS_OF) == _needing_attention(engine, usual)
        first = seen.count
        assert pushdown.needs_attention(other, as_of=AS_OF) == _needing_attention(engine, other)
    assert not any(ESCAPE.search(sql) for sql in seen.statements[:first])
    assert any(ESCAPE.search(sql) for sql in seen.statements[first:])
    assert pushdown.count(other, as_of=AS_OF).needs_attention == 2
    page = pushdown.follow_up_page(other, as_of=AS_OF)
    assert sorted(item.run.id for item in page.items) == [1, 6]
