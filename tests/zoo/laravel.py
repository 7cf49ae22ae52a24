"""Zoo host (a): a Laravel application on PostgreSQL.

``operation_runs`` with bigint keys (``workspace_id``, ``managed_environment_id``), the subject in
the JSON ``context``, ``timestamp without time zone`` columns holding UTC wall time (Laravel's
default), and the current state in the application's own domain tables, each keyed by its own
id and proven by its own time column. Its tables, vocabulary and mappings are the glue of
``examples/host_laravel.py`` (the host guide's); this module writes the canonical history into them
as the application does (``ABOUT``), never by the mapping: a row that belongs to another object
(a backup set, of a schedule) has an id of its own, numbered in the order written, so a mapping
that took it for the subject answers otherwise than the memory adapter over the same history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from examples.host_laravel import (
    ABOUT,
    LARAVEL,
    PROOF,
    RUNS,
    STATE,
    build_service,
    domain_tables,
    metadata,
    operation_runs,
)
from tests.zoo.canon import CHECK, Host, Mapped, plain, served

from runactionability import OperationRun, StateFact
from runactionability.adapters.sqlalchemy import RunTableMapping, UnmappedValue

WORKSPACE_KEYS = {"w1": 1, "w2": 2}
ENVIRONMENT_KEYS = {"e1": 11, "e2": 12}
STORED_OUTCOME = {meaning: word for word, meaning in RUNS["outcomes"].items()}
STORED_STATE = {meaning: word for word, meaning in STATE["statuses"].items()}


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
            subject = ABOUT[one.kind]
            if (one.subject is None) != (subject is None):
                continue
            keyed = subject == "id"
            kept[(one.kind, one.subject if keyed else index)] = self.view_fact(one)
        return list(kept.values())

    tables = metadata

    def holding(self, facts: Iterable[StateFact]) -> list[StateFact]:
        # A row keyed by the object's id is updated in place: it holds the newest state proven.
        kept: dict[tuple[str, Any], StateFact] = {}
        for index, one in enumerate(super().holding(facts)):
            subject = ABOUT[one.kind]
            if (one.subject is None) != (subject is None):
                having = "no subject column" if subject is None else f"a subject ({subject})"
                pytest.skip(f"laravel's {one.kind}s rows have {having}; a fact of {one.subject!r}")
            key = (one.kind, one.subject if subject == "id" else index)
            if key not in kept or kept[key].proven_at <= one.proven_at:
                kept[key] = one
        return list(kept.values())

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
        numbered: Counter[str] = Counter()
        for held in facts:
            about = ABOUT[held.kind]
            numbered[held.kind] += 1
            values = {
                # Numbered as a fresh table's sequence numbers its rows, whatever it holds.
                "id": held.subject if about == "id" else numbered[held.kind],
                "workspace_id": held.workspace_id,
                "managed_environment_id": held.environment_id,
                "status": STORED_STATE[held.status],
                PROOF[held.kind][1]: _wall(held.proven_at),
            }
            if about not in ("id", None):
                values[about] = held.subject
            connection.execute(domain_tables[held.kind].insert().values(values))

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
        names = {key: value for key, value in LARAVEL.items() if key != "zone"}
        return RunTableMapping.reflect(bind, "operation_runs", **RUNS, **names, **told)

    def mapped(self, engine: sa.Engine) -> Mapped:
        return served(build_service(engine))
