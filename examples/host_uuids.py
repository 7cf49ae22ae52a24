"""A uuid-keyed host on PostgreSQL serves its dashboard, follow-up page and explanations.

Runs, organisations, sites and subjects are ``uuid`` columns, run times are ``bigint``
milliseconds since 1970, the status words are the host's own; its health tables (one per
state kind) prove with ``timestamptz``. No SQL view: the glue between the markers is all it
writes, imports included (docs/host-guide.md shows the same lines).

    RUNACTIONABILITY_TEST_DATABASE_URL=postgresql+psycopg://... python examples/host_uuids.py

Without that variable it says so and exits non-zero (it needs a PostgreSQL server). The glue
between the markers is also what serves the test suite's zoo host (c) (tests/zoo/uuids.py).
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects.postgresql import JSONB

# isort: split
# -- glue: begin
from contextlib import suppress
from typing import Any

import sqlalchemy as sa

from runactionability import ActionabilityService, UsageError, VisibleScopes, to_json
from runactionability.adapters.sqlalchemy import STATE_KINDS, RunTableMapping, StateTableMapping

PHASES = {"QUEUED": "queued", "RUNNING": "running", "DONE": "completed"}
RESULTS = {"OK": "succeeded", "PARTIAL": "partially_succeeded", "FAIL": "failed"}
RESULTS |= {"BLOCKED": "blocked", "CANCELLED": "cancelled"}
RUNS: dict[str, Any] = {"id": "run_uuid", "workspace_id": "org_uuid", "environment_id": "site_uuid"}
RUNS |= {"type": "operation", "status": "phase", "outcome": "result", "context": "details"}
RUNS |= {"created_at": "created_ms", "started_at": "started_ms", "completed_at": "finished_ms"}
RUNS |= {"statuses": PHASES, "outcomes": RESULTS, "subject": "subject_uuid", "epoch_unit": "ms"}
HEALTH: dict[str, Any] = {"workspace_id": "org_uuid", "environment_id": "site_uuid"}
HEALTH |= {"subject": "object_uuid", "status": "health", "proven_at": "observed_at"}
HEALTH |= {"statuses": {w.upper(): w for w in ("healthy", "failing", "complete", "published")}}


def build_service(engine: sa.Engine) -> ActionabilityService:
    runs = RunTableMapping.reflect(engine, "runs", **RUNS)
    states = {k: StateTableMapping.reflect(engine, k, f"{k}_health", **HEALTH) for k in STATE_KINDS}
    return ActionabilityService(engine, runs=runs, states=states)


def dashboard_view(service: ActionabilityService, orgs: set[str]) -> Any:
    with service.session(scopes=VisibleScopes(orgs), as_of=AS_OF) as s:
        return to_json(s.dashboard(top=5))


def follow_up_view(service: ActionabilityService, orgs: set[str], cursor: str | None) -> Any:
    with service.session(scopes=VisibleScopes(orgs), as_of=AS_OF) as s:
        return to_json(s.follow_up_page(limit=20, cursor=cursor))


def explain_view(service: ActionabilityService, orgs: set[str], run_uuid: str) -> Any:
    # UsageError: a uuid spelled otherwise than lowercase with hyphens, which names no run either
    with service.session(scopes=VisibleScopes(orgs), as_of=AS_OF) as s, suppress(UsageError):
        return to_json(s.explain(run_uuid))  # None: missing, or not the actor's (a 404)
    return None


# -- glue: end

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a request would pass None: now

# -- the host's own tables (nothing here is for the library) ---------------------------------
metadata = sa.MetaData()
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_uuid", sa.Uuid, primary_key=True),
    sa.Column("org_uuid", sa.Uuid),
    sa.Column("site_uuid", sa.Uuid),
    sa.Column("operation", sa.Text, nullable=False),
    sa.Column("phase", sa.Text, nullable=False),
    sa.Column("result", sa.Text),
    sa.Column("subject_uuid", sa.Uuid),
    sa.Column("details", JSONB, nullable=False),
    sa.Column("created_ms", sa.BigInteger),
    sa.Column("started_ms", sa.BigInteger),
    sa.Column("finished_ms", sa.BigInteger),
)
health_tables = {
    kind: sa.Table(
        f"{kind}_health",
        metadata,
        sa.Column("row_uuid", sa.Uuid, primary_key=True, default=uuid.uuid4),
        sa.Column("object_uuid", sa.Uuid),
        sa.Column("org_uuid", sa.Uuid, nullable=False),
        sa.Column("site_uuid", sa.Uuid),
        sa.Column("health", sa.Text, nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True)),
    )
    for kind in STATE_KINDS
}
ORG, SITE, CONNECTION = (uuid.uuid5(uuid.NAMESPACE_URL, name) for name in ("org", "site", "c7"))
RUN_IDS = [uuid.uuid5(uuid.NAMESPACE_URL, f"run-{n}") for n in range(5)]


def record_runs(engine: sa.Engine) -> None:
    """What the host writes: milliseconds since 1970, its own words."""
    t0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    check = {"operation": "provider.connection.check", "subject_uuid": CONNECTION}
    rows: list[dict[str, Any]] = [
        {**check, "result": "FAIL", "details": {"provider_connection_id": str(CONNECTION)}},
        {"operation": "inventory.sync", "result": "FAIL", "details": {}},
        {"operation": "inventory.sync", "result": "OK", "details": {}},
        {"operation": "directory.sync", "result": "FAIL", "details": {}},
        {"operation": "inventory.sync", "result": None, "details": {}},
    ]
    with engine.begin() as connection:
        metadata.create_all(connection)
        for index, row in enumerate(rows):
            created = t0 + timedelta(minutes=10 * index)
            done = None if row["result"] is None else created + timedelta(minutes=1)
            connection.execute(
                runs.insert().values(
                    **row,
                    run_uuid=RUN_IDS[index],
                    org_uuid=ORG,
                    site_uuid=SITE,
                    phase="RUNNING" if done is None else "DONE",
                    created_ms=int(created.timestamp() * 1000),
                    finished_ms=None if done is None else int(done.timestamp() * 1000),
                )
            )
        connection.execute(
            health_tables["provider_connection"]
            .insert()
            .values(
                object_uuid=CONNECTION,
                org_uuid=ORG,
                site_uuid=SITE,
                health="HEALTHY",
                observed_at=t0 + timedelta(minutes=5),
            )
        )


def main(url: str) -> None:
    schema = f"host_uuids_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        record_runs(engine)
        service = build_service(engine)
        print(dashboard_view(service, {str(ORG)})["by_status"])
        page = follow_up_view(service, {str(ORG)}, None)
        assert [run["run_id"] for run in page["runs"]] == [str(RUN_IDS[3])]
        print(explain_view(service, {str(ORG)}, str(RUN_IDS[0]))["run"]["actionability"])
        assert explain_view(service, {str(SITE)}, str(RUN_IDS[0])) is None  # not the actor's
        assert explain_view(service, {str(ORG)}, str(RUN_IDS[0]).upper()) is None  # no such id
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    URL = os.environ.get("RUNACTIONABILITY_TEST_DATABASE_URL")
    if URL:
        main(URL)
    else:
        sys.exit("set RUNACTIONABILITY_TEST_DATABASE_URL to a PostgreSQL URL to run this example")
