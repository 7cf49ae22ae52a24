"""Rows of scopes an actor may not see are never read for it, not even to tell which ids two
rows share (``RunsById``): a hidden row the driver cannot decode fails no visible page, and an
id shared only inside a hidden workspace does not change how the actor's pages are read."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import (
    AS_OF,
    async_engine_of,
    compilations,
    insert_raw,
    keyless_runs,
    raw_row,
    statements_built,
)

from runactionability import (
    ActionabilityService,
    AsyncActionabilityService,
    EveryWorkspace,
    OperationRun,
    Reason,
    VisibleScopes,
)
from runactionability.adapters.memory import MemoryRunSource
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.consumers import View
from runactionability.jsonforms import to_json

W1 = VisibleScopes({"w1"})
W2 = VisibleScopes({"w2"})
LATER = Reason.LATER_SUCCESS

Scopes = VisibleScopes | EveryWorkspace
Answers = dict[str, Any]
"""What an actor sees: its listed runs, counts, an explanation, and how many runs the session
read page by page to judge them itself (none when the store judged them: the pushdown)."""


def _sync_answers(service: ActionabilityService, scopes: Scopes, ids: tuple[int, ...]) -> Answers:
    pages: list[int] = []
    with service.session(scopes=scopes, as_of=AS_OF) as session:
        counts = session.dashboard(top=5, on_page=pages.append).counts.by_status
        listed = session.page(View.ALL)
        follow_up = session.follow_up_page()
        explained = [session.explain(run_id) for run_id in ids]
    return _seen(pages, counts, [listed, follow_up], explained)


def _async_answers(engine: sa.Engine, scopes: Scopes, ids: tuple[int, ...]) -> Answers:
    async def read() -> Answers:
        async_engine = async_engine_of(engine)
        try:
            service = AsyncActionabilityService(async_engine)
            pages: list[int] = []
            async with service.session(scopes=scopes, as_of=AS_OF) as session:
                summary = await session.dashboard(top=5, on_page=pages.append)
                listed = await session.page(View.ALL)
                follow_up = await session.follow_up_page()
                explained = [await session.explain(run_id) for run_id in ids]
            return _seen(pages, summary.counts.by_status, [listed, follow_up], explained)
        finally:
            await async_engine.dispose()

    return asyncio.run(read())


def _seen(pages: list[int], counts: Any, listed: list[Any], explained: list[Any]) -> Answers:
    return {
        "read_page_by_page": sum(pages),
        "counts": {status.value: n for status, n in counts.items() if n},
        "listed": [
            [(str(i.run.id), i.run.workspace_id, i.status.value, i.result.reason) for i in p.items]
            for p in listed
        ],
        "explained": [
            None
            if e is None
            else (
                e.assessment.run.workspace_id,
                e.assessment.status.value,
                e.assessment.result.reason,
            )
            for e in explained
        ],
        "explained_in_full": [to_json(e) for e in explained],
    }


def _answers(
    engine: sa.Engine, scopes: Scopes, api: str, ids: tuple[int, ...] = (2, 5, 1)
) -> Answers:
    if api == "async":
        return _async_answers(engine, scopes, ids)
    return _sync_answers(ActionabilityService(engine), scopes, ids)


def _spoil_hidden_rows(engine: sa.Engine) -> None:
    """Make the rows of w2 unreadable to the driver: on SQLite a type that is no UTF-8 (the
    driver's error quotes its bytes), on PostgreSQL a ``json`` context holding an escaped U+0000,
    which no statement that reads the row can turn into the ``jsonb`` it judges."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "UPDATE operation_runs SET type = CAST(X'ff736563726574' AS TEXT) "
                "WHERE workspace_id = 'w2'"
            )
            return
        connection.exec_driver_sql(
            "ALTER TABLE operation_runs ALTER COLUMN context TYPE json USING context::json"
        )
        connection.exec_driver_sql(
            'UPDATE operation_runs SET context = \'{"secret": "\\u0000"}\' '
            "WHERE workspace_id = 'w2'"
        )


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_hidden_row_the_driver_cannot_decode_fails_no_visible_page(
    sql_engine: sa.Engine, api: str
) -> None:
    keyless_runs(sql_engine)
    insert_raw(
        sql_engine,
        [
            raw_row(sql_engine, 1),
            raw_row(sql_engine, 2, outcome="succeeded"),
            # The visible run 2's id, in a workspace the actor may not see.
            raw_row(sql_engine, 2, workspace_id="w2", environment_id="e2"),
            raw_row(sql_engine, 5, workspace_id="w2", environment_id="e2"),
        ],
    )
    expected = _answers(sql_engine, W1, api)
    assert expected["explained"][0][:2] == ("w1", "informational_only")
    assert expected["explained"][1:] == [None, ("w1", "superseded_by_later_success", LATER)]
    _spoil_hidden_rows(sql_engine)
    # Before, the visible page, its counts and the explanation of run 2 failed with the
    # driver's error quoting the hidden row (b'\xffsecret' on SQLite).
    assert _answers(sql_engine, W1, api) == expected


@pytest.mark.parametrize("api", ["sync", "async"])
def test_an_id_shared_only_in_a_hidden_workspace_does_not_switch_the_visible_path(
    sql_engine: sa.Engine, api: str
) -> None:
    keyless_runs(sql_engine)
    visible = [raw_row(sql_engine, 1), raw_row(sql_engine, 2, outcome="succeeded")]
    insert_raw(sql_engine, visible)
    alone = _answers(sql_engine, W1, api)
    # Nothing shares an id: the store counts and lists, nothing is read page by page.
    assert alone["read_page_by_page"] == 0
    hidden = raw_row(sql_engine, 5, workspace_id="w2", environment_id="e2")
    insert_raw(sql_engine, [hidden, hidden])
    # Before, the whole table was asked: w1's session read all of its runs itself.
    assert _answers(sql_engine, W1, api) == alone
    # The actor who sees both rows of 5 reads them as duplicates, everywhere.
    w2 = _answers(sql_engine, W2, api)
    assert w2["read_page_by_page"] == 2
    duplicate = ("5", "w2", "requires_manual_review", Reason.DUPLICATE_RUN_ID)
    assert w2["listed"] == [[duplicate, duplicate], [duplicate, duplicate]]
    assert w2["counts"] == {"requires_manual_review": 2}
    assert w2["explained"] == [
        None,
        ("w2", "requires_manual_review", Reason.DUPLICATE_RUN_ID),
        None,
    ]


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_hidden_row_with_the_id_of_a_visible_success_is_not_its_evidence(
    sql_engine: sa.Engine, api: str
) -> None:
    keyless_runs(sql_engine)
    insert_raw(sql_engine, [raw_row(sql_engine, 1), raw_row(sql_engine, 2, outcome="succeeded")])
    expected = _answers(sql_engine, W1, api)
    assert expected["explained"][2][:2] == ("w1", "superseded_by_later_success")
    # The success's id, later, in another workspace and environment.
    hidden = raw_row(sql_engine, 2, workspace_id="w2", environment_id="e2", outcome="succeeded")
    hidden["started_at"] = hidden["completed_at"] = raw_row(sql_engine, 9)["created_at"]
    insert_raw(sql_engine, [hidden])
    # Before, SQLite joined the evidence on its id alone: run 1 read w2's row as its proof.
    assert _answers(sql_engine, W1, api) == expected


@pytest.mark.parametrize("api", ["sync", "async"])
def test_nothing_is_hidden_from_the_whole_database(sql_engine: sa.Engine, api: str) -> None:
    keyless_runs(sql_engine)
    rows = [
        raw_row(sql_engine, 2),
        raw_row(sql_engine, 2, workspace_id="w2", environment_id="e2"),
        raw_row(sql_engine, 7, workspace_id=None, environment_id=None),
    ]
    insert_raw(sql_engine, rows)
    every = _answers(sql_engine, EveryWorkspace(), api, ids=(2, 7))
    # Both rows of 2 are its own: a shared id, read page by page; the run in no workspace is
    # explained to it, flagged, and to no actor with scopes.
    duplicate = ("requires_manual_review", Reason.DUPLICATE_RUN_ID)
    assert every["read_page_by_page"] == 2
    assert sorted(row[1:] for row in every["listed"][0]) == [("w1", *duplicate), ("w2", *duplicate)]
    assert every["explained"][0][1:] == duplicate
    assert every["explained"][1][:2] == (None, "requires_manual_review")
    assert _answers(sql_engine, W1, api, ids=(7,))["explained"] == [None]


def _row(run_id: int, workspace: str | None, environment: str | None) -> OperationRun:
    return OperationRun.from_mapping(
        {
            "id": run_id,
            "type": "inventory.sync",
            "workspace_id": workspace,
            "environment_id": environment,
            "status": "queued",
            "created_at": AS_OF,
        }
    )


SCOPED_ROWS = [
    (1, "w1", "e1"),
    (1, "w2", "e2"),
    (1, None, None),
    (3, "w1", None),
    (3, "w2", "e2"),
    (3, "w2", "e3"),
]
"""Run 1 in an environment of w1, in w2 and in no workspace; run 3 owned by w1, twice in w2."""


def _sources(engine: sa.Engine) -> list[Any]:
    keyless_runs(engine)
    rows = [
        raw_row(engine, run_id, workspace_id=workspace, environment_id=environment)
        for run_id, workspace, environment in SCOPED_ROWS
    ]
    insert_raw(engine, rows)
    memory = MemoryRunSource(_row(*row) for row in SCOPED_ROWS)
    return [SqlRunSource(engine), memory]


def test_the_port_reads_only_the_rows_of_the_scopes_it_is_given(sql_engine: sa.Engine) -> None:
    def where(source: Any, scopes: VisibleScopes | None) -> list[tuple[Any, Any]]:
        rows = source.runs_by_ids([1, 3], scopes)
        return sorted(((run.workspace_id, run.environment_id) for run in rows), key=repr)

    for source in _sources(sql_engine):
        assert where(source, W1) == [("w1", "e1"), ("w1", None)]
        assert where(source, VisibleScopes({"w1"}, environment_ids={"e1"})) == [
            ("w1", "e1"),
            ("w1", None),
        ]
        owned_out = VisibleScopes({"w1"}, environment_ids={"e1"}, include_workspace_runs=False)
        assert where(source, owned_out) == [("w1", "e1")]
        assert where(source, VisibleScopes({"w2"}, environment_ids={"e9"})) == []
        # The whole database: every row, the one in no workspace too.
        assert len(where(source, None)) == len(SCOPED_ROWS)
        # Each id once in w1, and in e2; run 3 twice in w2, run 1 with a row in no workspace.
        assert not source.shares_ids(W1)
        assert not source.shares_ids(VisibleScopes({"w2"}, environment_ids={"e2"}))
        assert source.shares_ids(W2)
        assert source.shares_ids(None)


def test_the_scoped_statements_are_built_once(sql_engine: sa.Engine) -> None:
    [source, _] = _sources(sql_engine)
    # One id is compared alone, a list otherwise: two shapes of scopes, each built once.
    for scopes in (W1, W2, VisibleScopes({"w1", "w2"}), None):
        source.runs_by_ids([1], scopes)
        source.shares_ids(scopes)
    with compilations() as compiled, statements_built() as built:
        for scopes in (VisibleScopes({"w9", "w1"}), W2, None):
            assert source.runs_by_ids([1, 3, 4], scopes)
            source.shares_ids(scopes)
    assert (compiled, built) == ([], [])
