"""Zoo host (d): the reference schema, on SQLite and PostgreSQL, written by the library itself and
served by the glue of ``examples/host_reference.py`` (the host guide's), which maps nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from examples.host_reference import build_service
from sqlalchemy.dialects.postgresql import JSONB
from tests.support import CATALOG, RAW_RUNS, raw_row
from tests.zoo.canon import Host, Mapped, served

from runactionability import OperationRun, StateFact
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    insert_runs,
    insert_states,
    metadata,
)
from runactionability.adapters.sqlalchemy.types import from_micros


class Reference(Host):
    name = "reference"
    dialects = ("sqlite", "postgresql")
    attributes = True

    tables = metadata

    def write(
        self, connection: sa.Connection, runs: Sequence[OperationRun], facts: Sequence[StateFact]
    ) -> None:
        insert_runs(connection, runs, catalog=CATALOG)
        insert_states(connection, facts)

    def write_bad_rows(self, connection: sa.Connection) -> list[OperationRun]:
        engine = connection.engine
        rows = [
            raw_row(engine, 901, status="finished"),
            raw_row(engine, 902, outcome="exploded"),
            raw_row(engine, 903, workspace_id=" "),
        ]
        insert_raw_rows(connection, rows)
        read = []
        for row in rows:
            created, completed = row["created_at"], row["completed_at"]
            if isinstance(created, int):
                created, completed = from_micros(created), from_micros(completed)
            read.append(
                OperationRun(
                    id=row["id"],
                    type=row["type"],
                    workspace_id=row["workspace_id"],
                    environment_id=row["environment_id"],
                    status=row["status"],
                    outcome=row["outcome"],
                    created_at=created,
                    started_at=None,
                    completed_at=completed,
                    context={},
                )
            )
        return read

    def told(self, dialect: str) -> dict[str, str]:
        # On SQLite the reference schema stores integer UTC microseconds.
        return {"epoch_unit": "us"} if dialect == "sqlite" else {}

    def reflect_runs(self, bind: sa.Engine | sa.Connection, **told: str) -> RunTableMapping:
        return RunTableMapping.reflect(bind, "operation_runs", **told)

    def mapped(self, engine: sa.Engine) -> Mapped:
        return served(build_service(engine))


def insert_raw_rows(connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """``tests.support.insert_raw`` inside the caller's transaction."""
    context: Any = sa.bindparam("context")
    if connection.dialect.name == "postgresql":
        context = sa.cast(context, JSONB)
    for row in rows:
        values: dict[str, Any] = {name: sa.bindparam(name) for name in row if name != "context"}
        values["context"] = context
        connection.execute(RAW_RUNS.insert().values(values), row)
