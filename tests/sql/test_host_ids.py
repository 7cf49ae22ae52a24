"""A host keyed by ``uuid`` ids: listed, looked up and used as proof by their text, on both
engines (SQLite stores them as SQLAlchemy's ``Uuid`` does, 32 hex digits)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, at

from runactionability import Actionability, Resolver, RunId, RunQuery
from runactionability.adapters.memory import MemoryStateSource
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    JsonDocument,
    RunTableMapping,
    SqlRunSource,
    UtcTimestamp,
    open_backend,
)

RUNS = RunTableMapping(table="uuid_runs", subject=None, ids={"run": "uuid"})
IDS = [str(uuid.UUID(int=n)) for n in (1, 2, 3)]


@pytest.fixture
def uuid_runs(sql_engine: sa.Engine) -> sa.Engine:
    # SQLAlchemy's Uuid: native on PostgreSQL, 32 hex digits in a CHAR(32) on SQLite.
    table = sa.Table(
        "uuid_runs",
        sa.MetaData(),
        sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
        *(sa.Column(name, sa.Text()) for name in ("type", "workspace_id", "environment_id")),
        *(sa.Column(name, sa.Text()) for name in ("status", "outcome")),
        *(sa.Column(name, UtcTimestamp()) for name in ("created_at", "started_at")),
        sa.Column("completed_at", UtcTimestamp()),
        sa.Column("context", JsonDocument()),
    )
    table.create(sql_engine)
    base: dict[str, Any] = {"type": "inventory.sync", "workspace_id": "w1", "environment_id": "e1"}
    base |= {"status": "completed", "started_at": None, "context": {}}
    rows = [
        {**base, "id": IDS[0], "outcome": "failed", "created_at": at(0), "completed_at": at(1)},
        {
            **base,
            "id": IDS[1],
            "outcome": "succeeded",
            "created_at": at(60),
            "completed_at": at(61),
        },
        {**base, "id": IDS[2], "outcome": "failed", "created_at": at(60), "completed_at": at(62)},
    ]
    with sql_engine.begin() as db:
        db.execute(table.insert(), rows)
    return sql_engine


def test_uuid_runs_are_listed_page_by_page_with_text_ids(uuid_runs: sa.Engine) -> None:
    source = SqlRunSource(uuid_runs, RUNS)
    seen: list[RunId] = []
    cursor: str | None = None
    while True:
        page = source.list_runs(RunQuery(workspace_ids={"w1"}), limit=1, cursor=cursor)
        seen.extend(run.id for run in page.runs)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [IDS[2], IDS[1], IDS[0]]


def test_a_uuid_run_is_looked_up_by_its_text(uuid_runs: sa.Engine) -> None:
    source = SqlRunSource(uuid_runs, RUNS)
    found = source.get_run(IDS[0])
    assert found is not None
    assert found.id == IDS[0]
    assert source.get_run(str(uuid.UUID(int=9))) is None
    # Text that is no uuid is no run, and a caller's transaction stays usable after it.
    with uuid_runs.connect() as connection, connection.begin():
        inside = SqlRunSource(connection, RUNS)
        assert inside.get_run("42") is None
        assert inside.get_run(IDS[1]) is not None


def test_a_later_uuid_success_is_proof_by_its_text(uuid_runs: sa.Engine) -> None:
    backend = open_backend(uuid_runs, runs=RUNS, states={}, catalog=CATALOG)
    resolver = Resolver(
        history=backend.history,
        states={kind: MemoryStateSource(kind) for kind in STATE_KINDS},
        registry=REGISTRY,
        catalog=CATALOG,
    )
    failed = backend.runs.get_run(IDS[0])
    assert failed is not None
    result = resolver.evaluate(failed, as_of=AS_OF)
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert getattr(result.proof, "run_id", None) == IDS[1]
