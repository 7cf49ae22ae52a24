"""Zoo host (b): a small job runner on SQLite.

One ``state`` column holds a job's whole lifecycle (pending, running, done, error...), the
timestamps are SQLAlchemy ``DateTime`` columns (ISO-8601 text on SQLite, written by SQLAlchemy
itself), tenants are integers, and every kind of current state lives in one ``job_states`` table
told apart by its ``kind`` column. Its tables, vocabulary and mappings are the glue of
``examples/host_jobs.py`` (the host guide's); this module writes the canonical history into them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from examples.host_jobs import LIFECYCLES, RUNS, STATE, build_service, job_states, jobs, metadata
from tests.support import CATALOG
from tests.zoo.canon import Host, Mapped, plain, served

from runactionability import OperationRun, RunOutcome, RunStatus, StateFact
from runactionability.adapters.sqlalchemy import RunTableMapping, UnmappedValue
from runactionability.model import usable_id

TENANTS = {"w1": 1, "w2": 2}
MEANINGS = {
    word: (RunStatus(status), None if outcome is None else RunOutcome(outcome))
    for word, (status, outcome) in LIFECYCLES.items()
}
"""The glue's lifecycle words (examples/host_jobs.py) and what each means."""
STORED_LIFECYCLE = {meaning: word for word, meaning in MEANINGS.items()}
STORED_STATE = {meaning: word for word, meaning in STATE["statuses"].items()}


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

    tables = metadata

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
        for held in facts:
            connection.execute(
                job_states.insert().values(
                    kind=held.kind,
                    tenant=held.workspace_id,
                    env=held.environment_id,
                    object_id=held.subject,
                    state=STORED_STATE[held.status],
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
            status, outcome = MEANINGS.get(row["state"], (UnmappedValue(row["state"]), None))
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
        names = {key: value for key, value in RUNS.items() if key != "zone"}
        return RunTableMapping.reflect(bind, "jobs", lifecycles=LIFECYCLES, **names, **told)

    def mapped(self, engine: sa.Engine) -> Mapped:
        return served(build_service(engine))
