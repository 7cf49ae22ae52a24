"""A Laravel application on PostgreSQL serves its dashboard, follow-up page and explanations.

Its ``operation_runs`` has bigint workspace and environment keys, ``timestamp without time zone``
columns holding UTC, the subject in the JSON ``context``; current state lives in its own domain
tables (``provider_connections`` proven by ``verified_at``...). No SQL view: the glue between the
markers is all it writes, imports included (docs/host-guide.md shows the same lines).

    RUNACTIONABILITY_TEST_DATABASE_URL=postgresql+psycopg://... python examples/host_laravel.py

Without that variable it says so and exits non-zero (it needs a PostgreSQL server). The glue
between the markers is also what serves the test suite's zoo host (a) (tests/zoo/laravel.py).
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects.postgresql import JSONB

# isort: split
# -- glue: begin
from typing import Any

import sqlalchemy as sa

from runactionability import ActionabilityService, VisibleScopes, to_json
from runactionability.adapters.sqlalchemy import RunTableMapping, StateTableMapping

# kind: (the column holding the id the kind's runs name, None for the scope's own object;
# proof-time column) of table <kind>s; docs/adapters.md says which id that is for each kind
PROOF: dict[str, Any] = {"backup_set": ("backup_schedule_id", "completed_at")}
PROOF |= {"provider_connection": ("id", "verified_at"), "review_pack": ("id", "published_at")}
PROOF |= {"baseline_snapshot": ("baseline_profile_id", "captured_at")}
PROOF |= {"evidence_snapshot": (None, "generated_at"), "environment_review": (None, "reviewed_at")}
LARAVEL = {"environment_id": "managed_environment_id", "zone": "UTC"}
OUTCOMES = {word: word for word in ("succeeded", "partially_succeeded", "failed", "blocked")}
RUNS: dict[str, Any] = {"subject": None, "outcomes": OUTCOMES | {"skipped": "cancelled"}}
STATUSES = {"connected": "healthy", "error": "failing", "complete": "complete"}
STATE: dict[str, Any] = {"statuses": STATUSES | {"published": "published"}, **LARAVEL}


def build_service(engine: sa.Engine) -> ActionabilityService:
    runs = RunTableMapping.reflect(engine, "operation_runs", **RUNS, **LARAVEL)
    states = {}
    for kind, (subject, proven) in PROOF.items():
        names = {"subject": subject, "proven_at": proven}
        states[kind] = StateTableMapping.reflect(engine, kind, f"{kind}s", **names, **STATE)
    return ActionabilityService(engine, runs=runs, states=states)


def dashboard_view(service: ActionabilityService, workspaces: set[int]) -> Any:
    with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        return to_json(s.dashboard(top=5))


def follow_up_view(service: ActionabilityService, workspaces: set[int], cursor: str | None) -> Any:
    with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        return to_json(s.follow_up_page(limit=20, cursor=cursor))


def explain_view(service: ActionabilityService, workspaces: set[int], run_id: int) -> Any:
    with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        return to_json(s.explain(run_id))  # None: missing, or not the actor's (a 404)


# -- glue: end

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a request would pass None: now

# -- the application's own tables (its migrations made them; nothing here is for the library) --
metadata = sa.MetaData()
wall_time = sa.DateTime(timezone=False)
operation_runs = sa.Table(
    "operation_runs",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.BigInteger, index=True),
    sa.Column("managed_environment_id", sa.BigInteger),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("context", JSONB, nullable=False),
    sa.Column("created_at", wall_time),
    sa.Column("started_at", wall_time),
    sa.Column("completed_at", wall_time),
)


ABOUT: dict[str, str | None] = {"provider_connection": "id", "review_pack": "id"}
ABOUT |= {"backup_set": "backup_schedule_id", "baseline_snapshot": "baseline_profile_id"}
ABOUT |= {"evidence_snapshot": None, "environment_review": None}
"""What each domain row is about, as the application's migrations say it: ``"id"``, the row is
the object itself (a connection); another column, the object it belongs to (a backup set is of a
backup schedule, a baseline snapshot of a baseline profile); None, the whole scope. Written apart
from the glue's mapping, which must name the same column: the zoo (tests/zoo/laravel.py) writes
each row by this, so a mapping that names another column answers otherwise than the history."""


def _domain_table(kind: str, about: str | None, proven: str) -> sa.Table:
    """A domain table: keyed by its own id, numbered by the database unless the row is the
    object its runs name; a row that belongs to another object names it in a column."""
    columns = [sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=about != "id")]
    if about not in ("id", None):
        columns.append(sa.Column(about, sa.BigInteger, nullable=False))
    return sa.Table(
        f"{kind}s",
        metadata,
        *columns,
        sa.Column("workspace_id", sa.BigInteger, nullable=False),
        sa.Column("managed_environment_id", sa.BigInteger),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column(proven, wall_time),
    )


domain_tables = {kind: _domain_table(kind, about, PROOF[kind][1]) for kind, about in ABOUT.items()}


def record_runs(engine: sa.Engine) -> None:
    """What the application writes: UTC wall time, as Laravel stores it."""
    t0 = datetime(2026, 11, 10, 12, 0)
    scope = {"workspace_id": 1, "managed_environment_id": 11}
    rows: list[dict[str, Any]] = [
        {"id": 1, "type": "provider.connection.check", "outcome": "failed",
         "context": {"provider_connection_id": 7}},
        {"id": 2, "type": "inventory.sync", "outcome": "failed", "context": {}},
        {"id": 3, "type": "inventory.sync", "outcome": "succeeded", "context": {}},
        {"id": 4, "type": "directory.sync", "outcome": "failed", "context": {}},
        {"id": 5, "type": "inventory.sync", "outcome": None, "context": {}},
    ]  # fmt: skip
    with engine.begin() as connection:
        metadata.create_all(connection)
        for minutes, row in enumerate(rows):
            created = t0 + timedelta(minutes=10 * minutes)
            done = None if row["outcome"] is None else created + timedelta(minutes=1)
            status = "running" if done is None else "completed"
            connection.execute(
                operation_runs.insert().values(
                    **row, **scope, status=status, created_at=created, completed_at=done
                )
            )
        connection.execute(
            domain_tables["provider_connection"]
            .insert()
            .values(id=7, **scope, status="connected", verified_at=t0 + timedelta(minutes=5))
        )


def main(url: str) -> None:
    schema = f"host_laravel_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        record_runs(engine)
        service = build_service(engine)
        print(dashboard_view(service, {1})["by_status"])
        page = follow_up_view(service, {1}, None)
        assert [run["run_id"] for run in page["runs"]] == [4]
        print(explain_view(service, {1}, 1)["run"]["actionability"])
        assert explain_view(service, {2}, 1) is None  # another workspace's run
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
