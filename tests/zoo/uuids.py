"""Zoo host (c): uuid everything on PostgreSQL.

Runs, organisations, sites and subjects are ``uuid`` columns; run times are ``bigint``
milliseconds since 1970 (what a JavaScript writer stores), state tables prove with
``timestamptz``; the vocabulary is the host's own upper-case words. Its tables, vocabulary and
mappings are the glue of ``examples/host_uuids.py`` (the host guide's); this module writes the
canonical history into them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from examples.host_uuids import PHASES, RESULTS, RUNS, build_service, health_tables, metadata
from examples.host_uuids import runs as runs_table
from tests.support import CATALOG
from tests.zoo.canon import Host, Mapped, plain, served, zoo_uuid

from runactionability import OperationRun, StateFact
from runactionability.adapters.sqlalchemy import RunTableMapping, UnmappedValue
from runactionability.model import usable_id

STORED_PHASE = {meaning: word for word, meaning in PHASES.items()}
STORED_RESULT = {meaning: word for word, meaning in RESULTS.items()}


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

    tables = metadata

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
                health_tables[held.kind]
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
        names = {key: value for key, value in RUNS.items() if key != "epoch_unit"}
        return RunTableMapping.reflect(bind, "runs", **names, **told)

    def mapped(self, engine: sa.Engine) -> Mapped:
        return served(build_service(engine))
