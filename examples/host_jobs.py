"""A job runner on SQLite serves its dashboard, follow-up page and explanations from its own tables.

The host keeps one ``state`` column for a job's whole lifecycle, SQLAlchemy ``DateTime`` columns
(ISO-8601 text on SQLite), integer tenants, and every kind of current state in one ``job_states``
table. The glue between the markers is all it writes, imports included (docs/host-guide.md shows
the same lines); the test suite's zoo host (b) (tests/zoo/jobs.py) is served by this very glue.

    .venv/bin/python examples/host_jobs.py
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

# isort: split
# -- glue: begin
from typing import Any

import sqlalchemy as sa

from runactionability import ActionabilityService, VisibleScopes, to_json
from runactionability.adapters.sqlalchemy import STATE_KINDS, RunTableMapping, StateTableMapping

LIFECYCLES: dict[str, Any] = {"pending": ("queued", None), "running": ("running", None)}
LIFECYCLES |= {"done": ("completed", "succeeded"), "error": ("completed", "failed")}
LIFECYCLES |= {"partial": ("completed", "partially_succeeded"), "blocked": ("completed", "blocked")}
LIFECYCLES |= {"aborted": ("completed", "cancelled")}
RUNS = {"id": "job_id", "workspace_id": "tenant", "environment_id": "env", "lifecycle": "state"}
RUNS |= {"type": "kind", "subject": "target", "context": "payload", "created_at": "created"}
RUNS |= {"started_at": "started", "completed_at": "finished", "zone": "UTC"}
STATE: dict[str, Any] = {"table": "job_states", "workspace_id": "tenant", "environment_id": "env"}
STATE |= {"subject": "object_id", "status": "state", "proven_at": "checked", "zone": "UTC"}
STATE |= {"statuses": {"ok": "healthy", "down": "failing", "done": "complete", "live": "published"}}


def build_service(engine: sa.Engine) -> ActionabilityService:
    runs = RunTableMapping.reflect(engine, "jobs", lifecycles=LIFECYCLES, **RUNS)
    states = {}
    for kind in STATE_KINDS:  # one table: its `kind` column holds the state kind
        states[kind] = StateTableMapping.reflect(engine, kind, where={"kind": kind}, **STATE)
    return ActionabilityService(engine, runs=runs, states=states)


def dashboard_view(service: ActionabilityService, tenants: set[int]) -> Any:
    with service.session(scopes=VisibleScopes(tenants), as_of=AS_OF) as s:
        return to_json(s.dashboard(top=5))


def follow_up_view(service: ActionabilityService, tenants: set[int], cursor: str | None) -> Any:
    with service.session(scopes=VisibleScopes(tenants), as_of=AS_OF) as s:
        return to_json(s.follow_up_page(limit=20, cursor=cursor))


def explain_view(service: ActionabilityService, tenants: set[int], job_id: int) -> Any:
    with service.session(scopes=VisibleScopes(tenants), as_of=AS_OF) as s:
        return to_json(s.explain(job_id))  # None: missing, or not the actor's (a 404)


# -- glue: end

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a request would pass None: now

# -- the host's own tables and code (nothing here is for the library) ------------------------
metadata = sa.MetaData()
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("job_id", sa.Integer, primary_key=True),
    sa.Column("tenant", sa.Integer, nullable=False),
    sa.Column("env", sa.Text),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("target", sa.Text),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created", sa.DateTime),
    sa.Column("started", sa.DateTime),
    sa.Column("finished", sa.DateTime),
)
job_states = sa.Table(
    "job_states",
    metadata,
    sa.Column("row_id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("tenant", sa.Integer, nullable=False),
    sa.Column("env", sa.Text),
    sa.Column("object_id", sa.Text),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("checked", sa.DateTime),
)


def record_jobs(engine: sa.Engine) -> None:
    """What the job runner writes: naive UTC times, as SQLAlchemy stores ``DateTime`` on SQLite."""
    t0 = datetime(2026, 11, 10, 12, 0)
    check = {"kind": "provider.connection.check", "payload": {"provider_connection_id": "7"}}
    sync = {"kind": "inventory.sync", "payload": {}}
    rows: list[dict[str, Any]] = [
        {"job_id": 1, **check, "target": "7", "state": "error", "minutes": 0},
        {"job_id": 2, **sync, "state": "error", "minutes": 10},
        {"job_id": 3, **sync, "state": "done", "minutes": 20},
        {"job_id": 4, "kind": "directory.sync", "payload": {}, "state": "error", "minutes": 30},
        {"job_id": 5, **sync, "state": "running", "minutes": 40},
    ]
    with engine.begin() as connection:
        metadata.create_all(connection)
        for row in rows:
            created = t0 + timedelta(minutes=row.pop("minutes"))
            done = None if row["state"] == "running" else created + timedelta(minutes=1)
            row.update(tenant=1, env="prod", created=created, started=created, finished=done)
            connection.execute(jobs.insert().values(**row))
        connection.execute(
            job_states.insert().values(
                kind="provider_connection",
                tenant=1,
                env="prod",
                object_id="7",
                state="ok",
                checked=t0 + timedelta(minutes=5),
            )
        )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        engine = sa.create_engine(f"sqlite:///{Path(folder) / 'jobs.sqlite'}")
        record_jobs(engine)
        service = build_service(engine)
        board = dashboard_view(service, {1})
        print(board["by_status"])
        page = follow_up_view(service, {1}, None)
        assert [run["run_id"] for run in page["runs"]] == [4]
        print(explain_view(service, {1}, 1)["run"]["actionability"])  # resolved by the check
        assert explain_view(service, {2}, 1) is None  # another tenant's job: as if missing
        engine.dispose()
