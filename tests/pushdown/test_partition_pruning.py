"""On a runs table partitioned by workspace, a one-workspace count and page read one partition.

PostgreSQL prunes partitions by the workspace the pushdown binds: at planning for the scanned
runs (a lone id is an equality), at execution for the correlated later-success lookups of the
``EXISTS`` form. ``EXPLAIN ANALYZE`` of every statement a count and a follow-up page run must show
no scan of another workspace's partition that ever executed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from tests.support import CATALOG, at, executed_statements

from runactionability import OperationRun
from runactionability.adapters.sqlalchemy import insert_runs
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.consumers import VisibleScopes

AS_OF = at(100)


def _history() -> list[OperationRun]:
    # Failures and later successes of the same subject in each of three workspaces.
    return [
        OperationRun(
            id=n,
            type="provider.connection.check",
            workspace_id=f"w{1 + n % 3}",
            environment_id="e1",
            status="completed",
            outcome="failed" if n % 2 else "succeeded",
            created_at=at(n),
            completed_at=at(n + 1),
            context={"provider_connection_id": f"c{n % 4}"},
        )
        for n in range(1, 40)
    ]


def _plans(engine: sa.Engine, call: Any) -> list[list[str]]:
    """The ``EXPLAIN ANALYZE`` of every statement ``call`` runs on the runs table."""
    with executed_statements(engine) as statements:
        call()
    plans = []
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        # The pushdown's long statements run in PostgreSQL's $n form, with a tuple of values, on
        # psycopg's raw cursor (pushdown/prepared.py); SQLAlchemy's own, with a dict, on this one.
        raw = psycopg.RawCursor(driver)
        for statement, parameters in statements:
            if "operation_runs" not in statement:
                continue
            runner = cursor if isinstance(parameters, Mapping) else raw
            runner.execute(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + statement, parameters
            )
            plans.append([str(row[0]) for row in runner.fetchall()])
    return plans


@pytest.mark.parametrize(
    "partitioned_engine", ["by_workspace_hash", "by_workspace_list"], indirect=True
)
@pytest.mark.parametrize("form", list(SupersedeForm))
def test_a_one_workspace_count_and_page_read_only_that_workspaces_partition(
    partitioned_engine: tuple[sa.Engine, str], form: SupersedeForm
) -> None:
    engine, _ = partitioned_engine
    insert_runs(engine, _history(), catalog=CATALOG)
    with engine.begin() as connection:
        holding: dict[str, str] = dict(
            connection.execute(
                sa.text(
                    "SELECT workspace_id, min(tableoid::regclass::text) FROM operation_runs "
                    "GROUP BY workspace_id"
                )
            ).all()
        )
        connection.execute(sa.text("ANALYZE operation_runs"))
    mine = holding["w1"]
    others = {name for name in holding.values() if name != mine}
    assert others, f"every workspace landed in {mine}: the layout partitions nothing"
    pushdown = SqlPushdown(engine, catalog=CATALOG, form=form)
    scopes = VisibleScopes({"w1"})

    plans = _plans(engine, lambda: pushdown.count(scopes, as_of=AS_OF))
    plans += _plans(engine, lambda: pushdown.follow_up_page(scopes, as_of=AS_OF, limit=5))

    # The count's one statement (its grouping and its classification) and the page's walk.
    assert len(plans) >= 2
    scanned = [
        line
        for plan in plans
        for line in plan
        if any(f" on {other} " in line + " " for other in others) and "(never executed)" not in line
    ]
    assert scanned == []
    assert all(any(f" on {mine} " in line + " " for line in plan) for plan in plans)
    # The answers are those of w1's runs alone.
    counts = pushdown.count(scopes, as_of=AS_OF)
    assert counts.counts.total == sum(1 for run in _history() if run.workspace_id == "w1")
