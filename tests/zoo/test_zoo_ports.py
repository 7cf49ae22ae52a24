"""The port contracts over every zoo host: the SQL ports over the host's own tables answer
exactly as the memory adapter does over the same history, bad rows included."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, at
from tests.zoo.canon import Host, Seeded, canonical_history, seed

from runactionability import LaterSuccessRequest, OperationRun, RunQuery, StateRequest
from runactionability.model import usable_id

INSTANTS = [at(0), at(35), at(95), at(125), AS_OF]


@pytest.fixture
def seeded(zoo: tuple[Host, sa.Engine]) -> Seeded:
    runs, facts = canonical_history()
    return seed(*zoo, runs, facts)


def _success_requests(seeded: Seeded) -> list[LaterSuccessRequest]:
    requests = set()
    for run in seeded.runs:
        op_type = CATALOG.resolve(run.type) if isinstance(run.type, str) else None
        if op_type is None or usable_id(run.workspace_id) is None:
            continue
        subject = None
        if op_type.subject_key and isinstance(run.context, Mapping):
            subject = usable_id(run.context.get(op_type.subject_key))
        for environment in {usable_id(run.environment_id), None}:
            requests.add(
                LaterSuccessRequest(
                    operation_types=CATALOG.stored_names(op_type.name),
                    workspace_id=str(usable_id(run.workspace_id)),
                    environment_id=environment,
                    subject_key=op_type.subject_key if subject is not None else None,
                    subject=subject,
                )
            )
    return sorted(requests, key=repr)


@pytest.mark.parametrize("as_of", INSTANTS, ids=lambda value: value.isoformat())
def test_latest_successes_equal_memory(seeded: Seeded, as_of: datetime) -> None:
    requests = _success_requests(seeded)
    assert requests
    expected = seeded.memory().history.latest_successes(requests, as_of=as_of)
    assert expected or as_of < at(10), "the canonical history must hold evidence"
    assert dict(seeded.sql().history.latest_successes(requests, as_of=as_of)) == dict(expected)


def test_current_states_equal_memory(seeded: Seeded) -> None:
    memory, sql = seeded.memory(), seeded.sql()
    workspaces = {usable_id(f.workspace_id) for f in seeded.facts}
    environments = {usable_id(f.environment_id) for f in seeded.facts}
    subjects = {usable_id(f.subject) for f in seeded.facts} | {"not-an-id"}
    for kind, source in sql.states.items():
        requests = [
            StateRequest(kind=kind, workspace_id=str(w), environment_id=e, subject=s)
            for w in workspaces
            for e in environments
            for s in subjects
        ]
        expected = memory.states[kind].current_states(requests)
        assert dict(source.current_states(requests)) == dict(expected), kind
    assert any(memory.states[kind].current_states for kind in sql.states)


def test_get_run_reads_every_row_as_memory_does(seeded: Seeded) -> None:
    memory, sql = seeded.memory(), seeded.sql()
    for run in seeded.runs:
        assert sql.runs.get_run(run.id) == memory.runs.get_run(run.id) == run
    assert sql.runs.get_run(123456) is None


def _placed(run: OperationRun) -> bool:
    return isinstance(run.created_at, datetime) and run.created_at.utcoffset() is not None


@pytest.mark.parametrize("as_of", [None, at(95), AS_OF], ids=str)
def test_listing_pages_as_memory_does(seeded: Seeded, as_of: datetime | None) -> None:
    memory, sql = seeded.memory(), seeded.sql()
    query = seeded.scopes().query(as_of=as_of)
    expected = memory.runs.list_runs(query, limit=1000).runs
    seen: list[OperationRun] = []
    cursor = None
    while True:
        page = sql.runs.list_runs(query, limit=3, cursor=cursor)
        seen += page.runs
        cursor = page.next_cursor
        if cursor is None:
            break
    # SqlRunSource's documented difference: a run whose created_at is unreadable sorts where the
    # database orders the stored value, memory lists it last; every other run in the same order.
    assert sorted(seen, key=repr) == sorted(expected, key=repr)
    assert [run for run in seen if _placed(run)] == [run for run in expected if _placed(run)]
    assert len(expected) > 10
    narrowed = RunQuery(
        workspace_ids=query.workspace_ids,
        operation_types={"directory.sync", "inventory.sync"},
        created_from=at(10),
        created_before=at(100),
    )
    assert sql.runs.list_runs(narrowed).runs == memory.runs.list_runs(narrowed).runs


@pytest.mark.parametrize("as_of", INSTANTS, ids=lambda value: value.isoformat())
def test_resolver_results_equal_memory(seeded: Seeded, as_of: datetime) -> None:
    expected = seeded.memory().resolver().evaluate_many(seeded.runs, as_of=as_of)
    assert seeded.sql().resolver().evaluate_many(seeded.runs, as_of=as_of) == expected
