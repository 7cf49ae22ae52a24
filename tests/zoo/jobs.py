"""Zoo host (b): a small job runner on SQLite.

One ``state`` column holds a job's whole lifecycle (pending, running, done, error...), the
timestamps are SQLAlchemy ``DateTime`` columns (ISO-8601 text on SQLite, written by SQLAlchemy
itself), tenants are integers, and every kind of current state lives in one ``job_states`` table
told apart by its ``kind`` column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from tests.support import CATALOG
from tests.zoo.canon import Host, Mapped, plain

from runactionability import OperationRun, RunOutcome, RunStatus, StateFact
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    StateTableMapping,
    UnmappedValue,
)
from runactionability.model import usable_id

TENANTS = {"w1": 1, "w2": 2}
LIFECYCLES: Mapping[str, tuple[RunStatus, RunOutcome | None]] = {
    "pending": (RunStatus.QUEUED, None),
    "running": (RunStatus.RUNNING, None),
    "done": (RunStatus.COMPLETED, RunOutcome.SUCCEEDED),
    "partial": (RunStatus.COMPLETED, RunOutcome.PARTIALLY_SUCCEEDED),
    "error": (RunStatus.COMPLETED, RunOutcome.FAILED),
    "blocked": (RunStatus.COMPLETED, RunOutcome.BLOCKED),
    "aborted": (RunStatus.COMPLETED, RunOutcome.CANCELLED),
}
STORED_LIFECYCLE = {meaning: word for word, meaning in LIFECYCLES.items()}
KIND_WORDS = {
    "provider_connection": "connection",
    "baseline_snapshot": "baseline",
    "evidence_snapshot": "evidence",
    "environment_review": "review",
    "review_pack": "pack",
    "backup_set": "backup",
}
STATE_WORDS = {"ok": "healthy", "broken": "failing", "complete": "complete", "live": "published"}

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


def _wall(value: object) -> object:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _target(run: OperationRun) -> str | None:
    op_type = CATALOG.resolve(run.type)
    if op_type is None or op_type.subject_key is None or not isinstance(run.context, Mapping):
        return None
    return usable_id(run.context.get(op_type.subject_key))


class Jobs(Host):
    name = "jobs"
    dialects = ("sqlite",)

    def workspace(self, value: Any) -> Any:
        return TENANTS.get(value, value)

    def create(self, connection: sa.Connection) -> None:
        metadata.create_all(connection)

    def drop(self, connection: sa.Connection) -> None:
        metadata.drop_all(connection)

    def write(
        self, connection: sa.Connection, runs: Sequence[OperationRun], facts: Sequence[StateFact]
    ) -> None:
        for one in runs:
            outcome = None if one.outcome is None else RunOutcome(one.outcome)
            connection.execute(
                jobs.insert().values(
                    job_id=one.id,
                    tenant=one.workspace_id,
                    env=one.environment_id,
                    kind=one.type,
                    state=STORED_LIFECYCLE[(RunStatus(one.status), outcome)],
                    target=_target(one),
                    payload=plain(one.context),
                    created=_wall(one.created_at),
                    started=_wall(one.started_at),
                    finished=_wall(one.completed_at),
                )
            )
        words = {meaning: word for word, meaning in STATE_WORDS.items()}
        for held in facts:
            connection.execute(
                job_states.insert().values(
                    kind=KIND_WORDS[held.kind],
                    tenant=held.workspace_id,
                    env=held.environment_id,
                    object_id=held.subject,
                    state=words[held.status],
                    checked=_wall(held.proven_at),
                )
            )

    def write_bad_rows(self, connection: sa.Connection) -> list[OperationRun]:
        done = datetime(2026, 11, 10, 13)
        rows: list[dict[str, Any]] = [
            {"job_id": 901, "created": "yesterday", "state": "error"},
            # An offset is outside the accepted grammar: never guessed at.
            {"job_id": 902, "created": "2026-11-10T12:00:00+01:00", "state": "error"},
            {"job_id": 903, "created": "2026-11-10 12:30:00.000000", "state": "paused"},
            {"job_id": 904, "created": "2026-11-10 12:45:00", "state": "error", "env": " "},
        ]
        raw = sa.table("jobs", *(sa.column(column.name) for column in jobs.c))
        for row in rows:
            values = {"tenant": 1, "env": "e1", "kind": "inventory.sync", "payload": "{}"}
            values.update(row, finished=done.isoformat(sep=" "), started=None, target=None)
            connection.execute(raw.insert().values(values))

        def read(row: dict[str, Any], **fields: Any) -> OperationRun:
            status, outcome = LIFECYCLES.get(row["state"], (UnmappedValue(row["state"]), None))
            values: dict[str, Any] = {
                "id": row["job_id"],
                "type": "inventory.sync",
                "workspace_id": 1,
                "environment_id": row.get("env", "e1"),
                "status": status,
                "outcome": outcome,
                "created_at": row["created"],
                "started_at": None,
                "completed_at": done.replace(tzinfo=UTC),
                "context": {},
            }
            values.update(fields)
            return OperationRun(**values)

        return [
            read(rows[0]),
            read(rows[1]),
            read(rows[2], created_at=datetime(2026, 11, 10, 12, 30, tzinfo=UTC)),
            read(rows[3], created_at=datetime(2026, 11, 10, 12, 45, tzinfo=UTC)),
        ]

    def told(self, dialect: str) -> dict[str, str]:
        return {"zone": "UTC"}

    def reflect_runs(self, bind: sa.Engine | sa.Connection, **told: str) -> RunTableMapping:
        return RunTableMapping.reflect(
            bind,
            "jobs",
            id="job_id",
            workspace_id="tenant",
            environment_id="env",
            type="kind",
            lifecycle="state",
            lifecycles=LIFECYCLES,
            subject="target",
            context="payload",
            created_at="created",
            started_at="started",
            completed_at="finished",
            **told,
        )

    def mapped(self, bind: sa.Engine | sa.Connection) -> Mapped:
        runs = self.reflect_runs(bind, **self.told(bind.dialect.name))
        states = {
            kind: StateTableMapping.reflect(
                bind,
                kind,
                "job_states",
                zone="UTC",
                where={"kind": word},
                workspace_id="tenant",
                environment_id="env",
                subject="object_id",
                status="state",
                proven_at="checked",
                attributes=None,
                statuses=STATE_WORDS,
            )
            for kind, word in KIND_WORDS.items()
        }
        return Mapped(runs=runs, states=states)
