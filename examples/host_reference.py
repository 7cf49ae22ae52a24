"""A host that adopted the reference schema serves its dashboard, follow-up page and explanations.

The reference tables (``create_schema``) need no mapping at all; the glue between the markers
is all the host writes, imports included (docs/host-guide.md shows the same lines); it also
serves the test suite's zoo host (d) (tests/zoo/reference.py).

    .venv/bin/python examples/host_reference.py
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from runactionability import OperationRun, StateFact
from runactionability.adapters.sqlalchemy import create_schema, insert_runs, insert_states

# isort: split
# -- glue: begin
from typing import Any

import sqlalchemy as sa

from runactionability import ActionabilityService, VisibleScopes, to_json


def build_service(engine: sa.Engine) -> ActionabilityService:
    return ActionabilityService(engine)  # the reference tables: no mapping to declare


def dashboard_view(service: ActionabilityService, workspaces: set[str]) -> Any:
    with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        return to_json(s.dashboard(top=5))


def follow_up_view(service: ActionabilityService, workspaces: set[str], cursor: str | None) -> Any:
    with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        return to_json(s.follow_up_page(limit=20, cursor=cursor))


def explain_view(service: ActionabilityService, workspaces: set[str], run_id: int) -> Any:
    with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        return to_json(s.explain(run_id))  # None: missing, or not the actor's (a 404)


# -- glue: end

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a request would pass None: now


def record_runs(engine: sa.Engine) -> None:
    """What the host writes, through the library's own loaders."""
    t0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)

    def one(
        run_id: int, type_: str, outcome: str | None, minutes: int, **context: Any
    ) -> OperationRun:
        created = t0 + timedelta(minutes=minutes)
        return OperationRun(
            id=run_id,
            type=type_,
            workspace_id="acme",
            environment_id="prod",
            status="completed" if outcome else "running",
            outcome=outcome,
            created_at=created,
            completed_at=created + timedelta(minutes=1) if outcome else None,
            context=context,
        )

    create_schema(engine)
    insert_runs(
        engine,
        [
            one(1, "provider.connection.check", "failed", 0, provider_connection_id="7"),
            one(2, "inventory.sync", "failed", 10),
            one(3, "inventory.sync", "succeeded", 20),
            one(4, "directory.sync", "failed", 30),
            one(5, "inventory.sync", None, 40),
        ],
    )
    healthy = StateFact(
        kind="provider_connection",
        workspace_id="acme",
        environment_id="prod",
        subject="7",
        status="healthy",
        proven_at=t0 + timedelta(minutes=5),
    )
    insert_states(engine, [healthy])


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        engine = sa.create_engine(f"sqlite:///{Path(folder) / 'reference.sqlite'}")
        record_runs(engine)
        service = build_service(engine)
        print(dashboard_view(service, {"acme"})["by_status"])
        page = follow_up_view(service, {"acme"}, None)
        assert [run["run_id"] for run in page["runs"]] == [4]
        print(explain_view(service, {"acme"}, 1)["run"]["actionability"])
        assert explain_view(service, {"globex"}, 1) is None  # another workspace's run
        engine.dispose()
