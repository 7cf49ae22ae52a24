"""Zoo host (a): a Laravel application on PostgreSQL.

``operation_runs`` with bigint keys (``workspace_id``, ``managed_environment_id``), the subject in
the JSON ``context``, ``timestamp without time zone`` columns holding UTC wall time (Laravel's
default), and the current state in the application's own domain tables, each keyed by its own
id and proven by its own time column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from tests.zoo.canon import CHECK, Host, Mapped, plain

from runactionability import OperationRun, StateFact
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    StateTableMapping,
    UnmappedValue,
)

WORKSPACE_KEYS = {"w1": 1, "w2": 2}
ENVIRONMENT_KEYS = {"e1": 11, "e2": 12}
OUTCOMES = {
    "succeeded": "succeeded",
    "partially_succeeded": "partially_succeeded",
    "failed": "failed",
    "blocked": "blocked",
    "skipped": "cancelled",
}
STORED_OUTCOME = {meaning: word for word, meaning in OUTCOMES.items()}
STATE_WORDS = {"connected": "healthy", "error": "failing"}

metadata = sa.MetaData()
_TIME = sa.DateTime(timezone=False)

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
    sa.Column("created_at", _TIME),
    sa.Column("started_at", _TIME),
    sa.Column("completed_at", _TIME),
)

# kind -> (table, subject column, proof-time column); the subject is the row's own id unless the
# domain object belongs to another (a baseline snapshot is of a baseline profile), or is the
# whole scope's (an environment's evidence snapshots and reviews: no subject column at all).
DOMAIN = {
    "provider_connection": ("provider_connections", "id", "verified_at"),
    "baseline_snapshot": ("baseline_snapshots", "baseline_profile_id", "captured_at"),
    "evidence_snapshot": ("evidence_snapshots", None, "generated_at"),
    "environment_review": ("environment_reviews", None, "reviewed_at"),
    "review_pack": ("review_packs", "id", "published_at"),
    "backup_set": ("backup_sets", "id", "completed_at"),
}


def _domain_table(name: str, subject: str | None, proven: str) -> sa.Table:
    columns = [sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=subject != "id")]
    if subject not in ("id", None):
        columns.append(sa.Column(subject, sa.BigInteger, nullable=False))
    return sa.Table(
        name,
        metadata,
        *columns,
        sa.Column("workspace_id", sa.BigInteger, nullable=False),
        sa.Column("managed_environment_id", sa.BigInteger),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column(proven, _TIME),
    )


DOMAIN_TABLES = {kind: _domain_table(*where) for kind, where in DOMAIN.items()}


def _wall(value: object) -> object:
    """What Laravel stores: UTC wall time without a zone."""
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


class Laravel(Host):
    name = "laravel"
    dialects = ("postgresql",)

    def workspace(self, value: Any) -> Any:
        return WORKSPACE_KEYS.get(value, value)

    def environment(self, value: Any) -> Any:
        return ENVIRONMENT_KEYS.get(value, value)

    def subject(self, value: Any) -> Any:
        return int(value)

    def view_facts(self, canonical: Iterable[StateFact]) -> list[StateFact]:
        # A table with a subject column holds objects with a subject, one without holds the
        # scope's own object; a table keyed by the subject holds one row per object, the last
        # one saved.
        kept: dict[tuple[str, Any], StateFact] = {}
        for index, one in enumerate(canonical):
            subject = DOMAIN[one.kind][1]
            if (one.subject is None) != (subject is None):
                continue
            keyed = subject == "id"
            kept[(one.kind, one.subject if keyed else index)] = self.view_fact(one)
        return list(kept.values())

    def create(self, connection: sa.Connection) -> None:
        metadata.create_all(connection)

    def drop(self, connection: sa.Connection) -> None:
        metadata.drop_all(connection)

    def write(
        self, connection: sa.Connection, runs: Sequence[OperationRun], facts: Sequence[StateFact]
    ) -> None:
        for one in runs:
            connection.execute(
                operation_runs.insert().values(
                    id=one.id,
                    workspace_id=one.workspace_id,
                    managed_environment_id=one.environment_id,
                    type=one.type,
                    status=str(one.status),
                    outcome=None if one.outcome is None else STORED_OUTCOME[str(one.outcome)],
                    context=plain(one.context),
                    created_at=_wall(one.created_at),
                    started_at=_wall(one.started_at),
                    completed_at=_wall(one.completed_at),
                )
            )
        words = {meaning: word for word, meaning in STATE_WORDS.items()}
        for held in facts:
            table = DOMAIN_TABLES[held.kind]
            _, subject, proven = DOMAIN[held.kind]
            values = {
                "workspace_id": held.workspace_id,
                "managed_environment_id": held.environment_id,
                "status": words.get(held.status, held.status),
                proven: _wall(held.proven_at),
            }
            if subject is not None:
                values[subject] = held.subject
            connection.execute(table.insert().values(values))

    def write_bad_rows(self, connection: sa.Connection) -> list[OperationRun]:
        base = {"type": "inventory.sync", "workspace_id": 1, "managed_environment_id": 11}
        rows: list[dict[str, Any]] = [
            # A wall time before the readable window (a zero date a migration left behind).
            {
                "id": 901,
                **base,
                "status": "completed",
                "outcome": "failed",
                "context": {},
                "created_at": datetime(1, 1, 1),
                "completed_at": datetime(2026, 11, 10, 13),
            },
            # An outcome the application added later and nobody mapped.
            {
                "id": 902,
                **base,
                "status": "completed",
                "outcome": "timed_out",
                "context": {},
                "created_at": datetime(2026, 11, 10, 13),
                "completed_at": datetime(2026, 11, 10, 14),
            },
            # A subject that is no connection id at all.
            {
                "id": 903,
                **base,
                "type": CHECK,
                "status": "completed",
                "outcome": "failed",
                "context": {"provider_connection_id": "abc"},
                "created_at": datetime(2026, 11, 10, 15),
                "completed_at": datetime(2026, 11, 10, 16),
            },
        ]
        for row in rows:
            connection.execute(operation_runs.insert().values(started_at=None, **row))

        def read(row: dict[str, Any], **fields: Any) -> OperationRun:
            values: dict[str, Any] = {
                "id": row["id"],
                "type": row["type"],
                "workspace_id": row["workspace_id"],
                "environment_id": row["managed_environment_id"],
                "status": row["status"],
                "outcome": row["outcome"],
                "created_at": row["created_at"].replace(tzinfo=UTC),
                "started_at": None,
                "completed_at": row["completed_at"].replace(tzinfo=UTC),
                "context": row["context"],
            }
            values.update(fields)
            return OperationRun(**values)

        return [
            # Unreadable: read back as its text, which the core flags (invalid_timestamp).
            read(rows[0], created_at="0001-01-01 00:00:00"),
            read(rows[1], outcome=UnmappedValue("timed_out")),
            read(rows[2]),
        ]

    def told(self, dialect: str) -> dict[str, str]:
        return {"zone": "UTC"}

    def reflect_runs(self, bind: sa.Engine | sa.Connection, **told: str) -> RunTableMapping:
        return RunTableMapping.reflect(
            bind,
            "operation_runs",
            environment_id="managed_environment_id",
            subject=None,
            outcomes=OUTCOMES,
            **told,
        )

    def mapped(self, bind: sa.Engine | sa.Connection) -> Mapped:
        runs = self.reflect_runs(bind, **self.told(bind.dialect.name))
        states = {
            kind: StateTableMapping.reflect(
                bind,
                kind,
                table,
                zone="UTC",
                environment_id="managed_environment_id",
                subject=subject,
                proven_at=proven,
                attributes=None,
                statuses={**STATE_WORDS, **{w: w for w in ("complete", "published")}},
            )
            for kind, (table, subject, proven) in DOMAIN.items()
        }
        return Mapped(runs=runs, states=states)
