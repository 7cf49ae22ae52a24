"""A state row whose attributes nest deeper than a context may (``limits.MAX_CONTEXT_DEPTH``) is
read with no attributes, as attributes that are no object are: its status still proves what it
says, and no page, count or explanation of the workspace fails on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, T0, insert_raw, raw_row

from runactionability import Actionability, ActionabilityService, VisibleScopes
from runactionability.adapters.sqlalchemy import create_schema
from runactionability.adapters.sqlalchemy.schema import state_tables
from runactionability.consumers import View
from runactionability.limits import MAX_CONTEXT_DEPTH


@pytest.mark.parametrize("depth", [MAX_CONTEXT_DEPTH, 1_500])
def test_attributes_nested_too_deep_are_read_as_none(sql_engine: sa.Engine, depth: int) -> None:
    # 1,500 levels: valid to SQLite 3.40's json_valid and to jsonb, past Python's recursion.
    create_schema(sql_engine)
    insert_raw(sql_engine, [raw_row(sql_engine, 1, type="provider.connection.check", subject="c1")])
    postgresql = sql_engine.dialect.name == "postgresql"
    attributes = '{"a":' * depth + "1" + "}" * depth
    table = state_tables["provider_connection"]
    proven = T0 + timedelta(hours=1)  # after the failure completed
    with sql_engine.begin() as connection:
        connection.execute(
            sa.text(
                f"INSERT INTO {table.name} (workspace_id, environment_id, subject, status, "
                "proven_at, attributes) VALUES ('w1', 'e1', 'c1', 'healthy', :proven, "
                + ("CAST(:attributes AS jsonb))" if postgresql else ":attributes)")
            ),
            {
                "proven": proven if postgresql else int(proven.timestamp() * 1_000_000),
                "attributes": attributes,
            },
        )
    with ActionabilityService(sql_engine).session(
        scopes=VisibleScopes({"w1"}), as_of=AS_OF
    ) as session:
        told = session.explain(1)
        listed = [item.result.status for item in session.page(View.ALL).items]
        counts = session.dashboard().counts.by_status
    assert told is not None
    assert told.assessment.result.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert listed == [Actionability.RESOLVED_BY_CURRENT_STATE]
    assert counts[Actionability.RESOLVED_BY_CURRENT_STATE] == 1
    fact = told.assessment.result.proof
    assert fact is not None
    shown = getattr(fact, "attributes", None)
    assert (shown == {}) is (depth > MAX_CONTEXT_DEPTH)
