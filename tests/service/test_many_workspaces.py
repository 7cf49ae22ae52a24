"""Audit F3: a host with tens of thousands of tenants. Every reader binds an actor's scope lists
as one value each, so no screen runs out of the driver's parameters (65,535 on PostgreSQL,
32,766 on SQLite), whether the actor names 40,000 workspaces or reads every one of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, T0, run

from runactionability import ActionabilityService, EveryWorkspace, VisibleScopes
from runactionability.adapters.sqlalchemy import create_schema, insert_runs

MANY = 65_000
"""Ids of each kind an actor may see: the two lists were bound as four parameters an id, more
than PostgreSQL's 65,535 for either list, more than SQLite's 250,000 for both."""

TENANTS = 40_000
"""Tenants with runs, ``EveryWorkspace`` lists them all: more than PostgreSQL bound."""

WORKSPACES = frozenset(f"w{i:05}" for i in range(MANY))
ENVIRONMENTS = frozenset(f"e{i:05}" for i in range(MANY)) | {"prod"}


def _store(engine: sa.Engine) -> None:
    create_schema(engine)
    insert_runs(
        engine,
        [
            run(1, workspace_id="w00007", created_at=T0),
            run(2, workspace_id="w39999", status="running", outcome=None, created_at=T0),
            run(4, "directory.sync", outcome="succeeded", workspace_id="w00007", context={}),
            # Outside every scope below: never seen.
            run(3, workspace_id="hidden", created_at=T0),
        ],
    )


def _read_every_screen(engine: sa.Engine, scopes: VisibleScopes | EveryWorkspace) -> None:
    service = ActionabilityService(engine)
    with service.session(scopes=scopes, as_of=AS_OF) as s:
        summary = s.dashboard(top=5)
        assert [a.run.id for a in summary.top] == [1]
        assert [a.run.id for a in s.follow_up_page(limit=5).items] == [1]
        assert 4 in {a.run.id for a in s.history_page(limit=5).items}
        assert {1, 2, 4} <= {a.run.id for a in s.page(limit=5).items}
        explained = s.explain(1)
        assert explained is not None
        assert s.explain(3) is None
        assert [a.run.id for a in s.active_work().newest] == [2]
        changes = s.changes(since=T0 - timedelta(hours=1), until=AS_OF)
        assert {c.run.id for c in changes.changes} == {1, 2, 4}
        assert s.environments_with_runs(["prod", "staging"]) == {"prod"}


@pytest.mark.parametrize("environments", [None, ENVIRONMENTS], ids=["workspaces", "environments"])
def test_tens_of_thousands_of_visible_workspaces_read_every_screen(
    sql_engine: sa.Engine, environments: frozenset[str] | None
) -> None:
    _store(sql_engine)
    _read_every_screen(sql_engine, VisibleScopes(WORKSPACES, environment_ids=environments))


def test_every_workspace_of_forty_thousand_tenants(sql_engine: sa.Engine) -> None:
    _store(sql_engine)
    # One more run per tenant, a day earlier, a success of another kind: every_workspace
    # lists every tenant, and no screen shows these runs before the two above.
    earlier = T0 - timedelta(days=1)
    tenants = [
        run(
            10 + i,
            "directory.sync",
            outcome="succeeded",
            workspace_id=workspace,
            created_at=earlier,
            context={},
        )
        for i, workspace in enumerate(sorted(WORKSPACES)[:TENANTS])
    ]
    insert_runs(sql_engine, tenants)
    with sql_engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM operation_runs WHERE id = 3"))
    _read_every_screen(sql_engine, EveryWorkspace())
