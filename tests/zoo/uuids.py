"""Zoo host (c): uuid everything on PostgreSQL.

Runs, organisations, sites and subjects are ``uuid`` columns; run times are ``bigint``
milliseconds since 1970 (what a JavaScript writer stores), state tables prove with
``timestamptz``; the vocabulary is the host's own upper-case words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from tests.support import CATALOG
from tests.zoo.canon import Host, Mapped, plain, zoo_uuid

from runactionability import OperationRun, StateFact
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    StateTableMapping,
    UnmappedValue,
)
from runactionability.model import usable_id

PHASES = {"QUEUED": "queued", "RUNNING": "running", "DONE": "completed"}
RESULTS = {
    "OK": "succeeded",
    "PARTIAL": "partially_succeeded",
    "FAIL": "failed",
    "BLOCKED": "blocked",
    "CANCELLED": "cancelled",
}
STORED_PHASE = {meaning: word for word, meaning in PHASES.items()}
STORED_RESULT = {meaning: word for word, meaning in RESULTS.items()}

metadata = sa.MetaData()

runs_table = sa.Table(
    "zoo_runs",
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

STATE_TABLES = {
    kind: sa.Table(
        f"zoo_{kind}_health",
        metadata,
        sa.Column("row_uuid", sa.Uuid, primary_key=True),
        sa.Column("object_uuid", sa.Uuid),
        sa.Column("org_uuid", sa.Uuid, nullable=False),
        sa.Column("site_uuid", sa.Uuid),
        sa.Column("health", sa.Text, nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True)),
    )
    for kind in (
        "provider_connection",
        "baseline_snapshot",
        "evidence_snapshot",
        "environment_review",
        "review_pack",
        "backup_set",
    )
}


def _ms(value: object) -> object:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return value


def _subject_uuid(run: OperationRun) -> str | None:
    op_type = CATALOG.resolve(run.type)
    if op_type is None or op_type.subject_key is None or not isinstance(run.context, Mapping):
        return None
    value = run.context.get(op_type.subject_key)
    return value if isinstance(value, str) else None


class Uuids(Host):
    name = "uuids"
    dialects = ("postgresql",)

    def workspace(self, value: Any) -> Any:
        return None if value is None else zoo_uuid(value)

    def environment(self, value: Any) -> Any:
        return None if value is None else zoo_uuid(value)

    def subject(self, value: Any) -> Any:
        return zoo_uuid(usable_id(value))

    def run_id(self, value: Any) -> Any:
        return zoo_uuid(value)

    def create(self, connection: sa.Connection) -> None:
        metadata.create_all(connection)

    def drop(self, connection: sa.Connection) -> None:
        metadata.drop_all(connection)

    def write(
        self, connection: sa.Connection, runs: Sequence[OperationRun], facts: Sequence[StateFact]
    ) -> None:
        for one in runs:
            connection.execute(
                runs_table.insert().values(
                    run_uuid=one.id,
                    org_uuid=one.workspace_id,
                    site_uuid=one.environment_id,
                    operation=one.type,
                    phase=STORED_PHASE[str(one.status)],
                    result=None if one.outcome is None else STORED_RESULT[str(one.outcome)],
                    subject_uuid=_subject_uuid(one),
                    details=plain(one.context),
                    created_ms=_ms(one.created_at),
                    started_ms=_ms(one.started_at),
                    finished_ms=_ms(one.completed_at),
                )
            )
        for index, held in enumerate(facts):
            connection.execute(
                STATE_TABLES[held.kind]
                .insert()
                .values(
                    row_uuid=zoo_uuid(f"state-{index}"),
                    object_uuid=held.subject,
                    org_uuid=held.workspace_id,
                    site_uuid=held.environment_id,
                    health=held.status.upper(),
                    observed_at=held.proven_at,
                )
            )

    def write_bad_rows(self, connection: sa.Connection) -> list[OperationRun]:
        created = int(datetime(2026, 11, 10, 13, tzinfo=UTC).timestamp() * 1000)
        rows: list[dict[str, Any]] = [
            # Milliseconds written as microseconds: the year 50,000-something.
            {"run_uuid": zoo_uuid(901), "phase": "DONE", "finished_ms": created * 1000},
            {"run_uuid": zoo_uuid(902), "phase": "ZOMBIE", "finished_ms": None, "result": None},
            {"run_uuid": zoo_uuid(903), "org_uuid": None, "phase": "DONE"},
        ]
        for row in rows:
            values: dict[str, Any] = {
                "org_uuid": zoo_uuid("w1"),
                "site_uuid": zoo_uuid("e1"),
                "operation": "inventory.sync",
                "result": "FAIL",
                "details": {},
                "created_ms": created,
                "finished_ms": created + 60_000,
            }
            values.update(row)
            connection.execute(runs_table.insert().values(values))

        def read(row: dict[str, Any], **fields: Any) -> OperationRun:
            values: dict[str, Any] = {
                "id": row["run_uuid"],
                "type": "inventory.sync",
                "workspace_id": zoo_uuid("w1"),
                "environment_id": zoo_uuid("e1"),
                "status": "completed",
                "outcome": "failed",
                "created_at": datetime.fromtimestamp(created / 1000, UTC),
                "started_at": None,
                "completed_at": datetime.fromtimestamp(created / 1000 + 60, UTC),
                "context": {},
            }
            values.update(fields)
            return OperationRun(**values)

        return [
            read(rows[0], completed_at=created * 1000),
            read(rows[1], status=UnmappedValue("ZOMBIE"), outcome=None, completed_at=None),
            read(rows[2], workspace_id=None),
        ]

    def told(self, dialect: str) -> dict[str, str]:
        return {"epoch_unit": "ms"}

    def reflect_runs(self, bind: sa.Engine | sa.Connection, **told: str) -> RunTableMapping:
        return RunTableMapping.reflect(
            bind,
            "zoo_runs",
            id="run_uuid",
            workspace_id="org_uuid",
            environment_id="site_uuid",
            type="operation",
            status="phase",
            outcome="result",
            statuses=PHASES,
            outcomes=RESULTS,
            subject="subject_uuid",
            context="details",
            created_at="created_ms",
            started_at="started_ms",
            completed_at="finished_ms",
            **told,
        )

    def mapped(self, bind: sa.Engine | sa.Connection) -> Mapped:
        runs = self.reflect_runs(bind, **self.told(bind.dialect.name))
        states = {
            kind: StateTableMapping.reflect(
                bind,
                kind,
                table.name,
                workspace_id="org_uuid",
                environment_id="site_uuid",
                subject="object_uuid",
                status="health",
                proven_at="observed_at",
                attributes=None,
                statuses={
                    word.upper(): word for word in ("healthy", "failing", "complete", "published")
                },
            )
            for kind, table in STATE_TABLES.items()
        }
        return Mapped(runs=runs, states=states)
