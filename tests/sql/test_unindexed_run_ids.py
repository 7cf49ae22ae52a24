"""A runs table with no index on its id: the history's later-success read stays one seek per
request on SQLite.

The statement joined the runs table on the correlated subquery that finds each request's id.
With no index on the id, SQLite scanned the runs table as the outer loop and ran the subquery
once per (row, request) pair: a follow-up page of one workspace at 20,000 runs took minutes
(docs/performance.md, "Indexes a host must add"). Each request's id is now found once, in a
materialized table, before the join. PostgreSQL reads through a ``LATERAL`` subquery, unchanged.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import AS_OF, insert_raw, raw_row

from runactionability import ActionabilityService, VisibleScopes
from runactionability.adapters.sqlalchemy import REFERENCE_RUNS, create_schema

pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")


def test_the_later_success_read_finds_each_id_before_the_join(tmp_path: Any) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'bare.sqlite'}")
    create_schema(engine)
    # Successes, then failures that no later success supersedes.
    rows = [raw_row(engine, n, outcome="failed" if n > 20 else "succeeded") for n in range(1, 41)]
    insert_raw(engine, rows)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE bare_runs AS SELECT * FROM operation_runs")
    seen: list[tuple[str, Any]] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))

    service = ActionabilityService(
        engine, runs=attrs.evolve(REFERENCE_RUNS, table="bare_runs"), states={}
    )
    with service.session(scopes=VisibleScopes({"w1"}), as_of=AS_OF) as session:
        listed = session.follow_up_page().items
    assert len(listed) == 20
    history = [(text, params) for text, params in seen if "r_keys_" in text]
    assert history
    with engine.connect() as connection:
        for text, params in history:
            plan = [
                row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + text, params)
            ]
            reads = [n for n, step in enumerate(plan) if step.startswith(("SCAN r_", "SEARCH r_"))]
            found = [n for n, step in enumerate(plan) if step.startswith("MATERIALIZE w_")]
            assert found
            assert min(reads) > min(found), plan
    engine.dispose()
