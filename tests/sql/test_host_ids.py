"""A host keyed by ``uuid`` ids: listed, looked up and used as proof by their text."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY

from runactionability import Actionability, Resolver, RunId, RunQuery
from runactionability.adapters.memory import MemoryStateSource
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    RunTableMapping,
    SqlRunSource,
    open_backend,
)

RUNS = RunTableMapping(table="uuid_runs", subject=None, ids={"run": "uuid"})
IDS = [str(uuid.UUID(int=n)) for n in (1, 2, 3)]


@pytest.fixture
def uuid_runs(sql_engine: sa.Engine) -> sa.Engine:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL has a uuid type")
    with sql_engine.begin() as db:
        db.exec_driver_sql(
            "CREATE TABLE uuid_runs (id uuid PRIMARY KEY, type text, workspace_id text, "
            "environment_id text, status text, outcome text, created_at timestamptz, "
            "started_at timestamptz, completed_at timestamptz, context jsonb)"
        )
        db.exec_driver_sql(
            "INSERT INTO uuid_runs VALUES "
            "(%(a)s, 'inventory.sync', 'w1', 'e1', 'completed', 'failed',"
            " '2026-11-10 12:00Z', NULL, '2026-11-10 12:01Z', '{}'),"
            "(%(b)s, 'inventory.sync', 'w1', 'e1', 'completed', 'succeeded',"
            " '2026-11-10 13:00Z', NULL, '2026-11-10 13:01Z', '{}'),"
            "(%(c)s, 'inventory.sync', 'w1', 'e1', 'completed', 'failed',"
            " '2026-11-10 13:00Z', NULL, '2026-11-10 13:02Z', '{}')",
            dict(zip("abc", IDS, strict=True)),
        )
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
