"""One unreadable timestamp is one flagged run: every other run is answered, paging moves past it.

An unreadable stored instant is one no ``datetime`` holds: PostgreSQL's ``'infinity'``,
``'-infinity'`` and years after 9999; on SQLite an integer out of range or stray text. Each used
to fail a whole batch (``EvidenceFetchError``), listing, follow-up page or count. These tests put
one such value in each timestamp column of one run and check every path: the run source (list,
pages, ``get_run``), the history and state ports in a batch with other runs, the memory adapter
over the same runs, and the pushdown's counts, classification and follow-up pages in both forms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, insert_raw, open_ports, raw_row
from tests.support import stored_run as run

from runactionability import Actionability, Reason, Resolver, RunQuery
from runactionability.adapters.memory import (
    MemoryRunHistory,
    MemoryRunSource,
    MemoryStateSource,
)
from runactionability.adapters.sqlalchemy import STATE_KINDS, create_schema, insert_runs
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.consumers import VisibleScopes
from runactionability.model import OperationRun

SCOPES = VisibleScopes({"w1"})
UNREADABLE: dict[str, dict[str, Any]] = {
    "postgresql": {"late": "infinity", "early": "-infinity", "odd": "10000-01-01 00:00:00+00"},
    "sqlite": {"late": 2**62, "early": -(2**62), "odd": "soon"},
}
"""The unreadable value of each kind that each engine can store in a timestamp column."""
KINDS = ["late", "early", "odd"]
COLUMNS = ["created_at", "started_at", "completed_at"]


def unreadable(engine: sa.Engine, kind: str) -> Any:
    return UNREADABLE[engine.dialect.name][kind]


def all_pages(fetch: Any) -> list[Any]:
    """Every id a cursor walk returns, in order (``fetch(cursor)`` returns a page)."""
    seen: list[Any] = []
    cursor = None
    for _ in range(50):
        page = fetch(cursor)
        seen.extend(r.id for r in page.runs)
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError(f"paging never ended: {seen}")


def follow_up_ids(pushdown: SqlPushdown, limit: int) -> list[Any]:
    return all_pages(
        lambda cursor: pushdown.follow_up_page(SCOPES, as_of=AS_OF, limit=limit, cursor=cursor)
    )


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_run_with_an_unreadable_timestamp_is_flagged_and_every_other_run_answered(
    sql_engine: sa.Engine, kind: str, column: str
) -> None:
    create_schema(sql_engine)
    # 1 failed and superseded by 2; 4 failed with nothing later; 3 failed with a bad instant.
    insert_runs(
        sql_engine, [run(1, start=10), run(2, outcome="succeeded", start=20), run(4, start=30)]
    )
    bad = unreadable(sql_engine, kind)
    insert_raw(sql_engine, [raw_row(sql_engine, 3, **{column: bad})])
    ports = open_ports(sql_engine)

    listed = ports.runs.list_runs(RunQuery(workspace_ids={"w1"}), limit=100).runs
    assert sorted(r.id for r in listed) == [1, 2, 3, 4]
    flagged = next(r for r in listed if r.id == 3)
    # Read back as stored (its text on PostgreSQL), which is no datetime: the core flags it.
    assert getattr(flagged, column) == bad
    assert ports.runs.get_run(3) == flagged

    results = {r.run_id: r for r in ports.resolver().evaluate_many(listed, as_of=AS_OF)}
    assert {run_id: r.status for run_id, r in results.items()} == {
        1: Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        2: Actionability.INFORMATIONAL_ONLY,
        3: Actionability.REQUIRES_MANUAL_REVIEW,
        4: Actionability.ACTIONABLE,
    }
    assert results[3].reason is Reason.INVALID_TIMESTAMP
    assert column in results[3].explanation

    # Pages of one run each walk past the bad row, each run once.
    pages = all_pages(
        lambda cursor: ports.runs.list_runs(RunQuery(workspace_ids={"w1"}), limit=1, cursor=cursor)
    )
    assert sorted(pages) == [1, 2, 3, 4]

    # The memory adapters over the runs as read back: the same answers, and paging past too.
    memory_source = MemoryRunSource(listed)
    memory_pages = all_pages(
        lambda cursor: memory_source.list_runs(
            RunQuery(workspace_ids={"w1"}), limit=1, cursor=cursor
        )
    )
    assert sorted(memory_pages) == [1, 2, 3, 4]
    assert memory_resolver(listed).evaluate_many(listed, as_of=AS_OF) == list(results.values())

    expected = {run_id: r.status for run_id, r in results.items()}
    for form in SupersedeForm:
        pushdown = SqlPushdown(sql_engine, form=form)
        assert pushdown.classify(SCOPES, as_of=AS_OF) == expected
        counts = pushdown.count(SCOPES, as_of=AS_OF).counts
        assert {s: n for s, n in counts.by_status.items() if n} == Counter(expected.values())
        for limit in (1, 2, 5):
            assert sorted(follow_up_ids(pushdown, limit)) == [3, 4]


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("readable_success", [True, False], ids=["readable", "alone"])
def test_an_unreadable_success_is_no_evidence_and_hides_no_readable_one(
    sql_engine: sa.Engine, kind: str, column: str, readable_success: bool
) -> None:
    create_schema(sql_engine)
    failed = run(1, start=10)
    other = run(5, start=12, environment_id="e2")
    runs = [failed, other, run(6, outcome="succeeded", start=14, environment_id="e2")]
    if readable_success:
        runs.append(run(2, outcome="succeeded", start=20))
    insert_runs(sql_engine, runs)
    # Run 3 would be the greatest event start of the scope, were its instants readable.
    bad = unreadable(sql_engine, kind)
    fields: dict[str, Any] = {"created_at": to_micros_or_instant(sql_engine, 30)}
    fields[column] = bad
    insert_raw(sql_engine, [raw_row(sql_engine, 3, outcome="succeeded", **fields)])
    ports = open_ports(sql_engine)

    # The bad success is in the same batch as evidence for another scope: neither fails.
    results = ports.resolver().evaluate_many([failed, other], as_of=AS_OF)
    assert results[1].status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert getattr(results[1].proof, "run_id", None) == 6
    if readable_success:
        assert results[0].status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
        assert getattr(results[0].proof, "run_id", None) == 2
    else:
        assert results[0].status is Actionability.ACTIONABLE
        assert results[0].proof is None

    # The memory adapter over the runs as the run source reads them gives the same answers.
    stored = ports.runs.list_runs(RunQuery(workspace_ids={"w1"}), limit=100).runs
    assert memory_resolver(stored).evaluate_many([failed, other], as_of=AS_OF) == results

    for form in SupersedeForm:
        classified = SqlPushdown(sql_engine, form=form).classify(SCOPES, as_of=AS_OF)
        assert classified[1] is results[0].status
        assert classified[5] is results[1].status


def memory_resolver(runs: Sequence[OperationRun]) -> Resolver:
    return Resolver(
        history=MemoryRunHistory(runs),
        states={kind: MemoryStateSource(kind, []) for kind in STATE_KINDS},
        registry=REGISTRY,
        catalog=CATALOG,
        strict=True,
    )


def to_micros_or_instant(engine: sa.Engine, minutes: float) -> Any:
    instant = run(0, start=minutes).created_at
    assert instant is not None
    return instant if engine.dialect.name == "postgresql" else to_micros(instant)


STATES = sa.table(
    "provider_connection_states",
    *(
        sa.column(name)
        for name in ("workspace_id", "environment_id", "subject", "status", "proven_at")
    ),
    sa.column("attributes"),
)


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreadable_proven_at_leaves_its_object_without_fact_and_others_answered(
    sql_engine: sa.Engine, kind: str
) -> None:
    create_schema(sql_engine)
    check = "provider.connection.check"

    def failed_check(run_id: int, connection: str) -> OperationRun:
        return run(run_id, check, start=10, context={"provider_connection_id": connection})

    insert_runs(sql_engine, [failed_check(1, "c1"), failed_check(2, "c2")], catalog=CATALOG)
    bad = unreadable(sql_engine, kind)
    attributes: Any = sa.bindparam("attributes")
    if sql_engine.dialect.name == "postgresql":
        attributes = sa.cast(attributes, sa.dialects.postgresql.JSONB)
    with sql_engine.begin() as connection:
        for subject, proven in (("c1", bad), ("c2", to_micros_or_instant(sql_engine, 30))):
            connection.execute(
                STATES.insert().values(
                    workspace_id="w1",
                    environment_id="e1",
                    subject=subject,
                    status="healthy",
                    proven_at=sa.bindparam("proven"),
                    attributes=attributes,
                ),
                {"proven": proven, "attributes": "{}"},
            )
    ports = open_ports(sql_engine)
    runs = [failed_check(1, "c1"), failed_check(2, "c2")]
    results = ports.resolver().evaluate_many(runs, as_of=AS_OF)
    assert [r.status for r in results] == [
        Actionability.ACTIONABLE,
        Actionability.RESOLVED_BY_CURRENT_STATE,
    ]
    for form in SupersedeForm:
        classified = SqlPushdown(sql_engine, form=form).classify(SCOPES, as_of=AS_OF)
        assert classified == {1: results[0].status, 2: results[1].status}


def test_a_cursor_past_an_unreadable_created_at_moves_on_in_database_order(
    sql_engine: sa.Engine,
) -> None:
    """Several unreadable rows, with ties, page in the database's order with no run twice."""
    create_schema(sql_engine)
    insert_runs(sql_engine, [run(index, start=index) for index in range(1, 4)])
    values = UNREADABLE[sql_engine.dialect.name]
    rows = [
        raw_row(sql_engine, 10 + index, created_at=values[kind])
        for index, kind in enumerate(KINDS * 2)
    ]
    rows += [raw_row(sql_engine, 20, created_at=None)]
    insert_raw(sql_engine, rows)
    ports = open_ports(sql_engine)
    everything = [r.id for r in ports.runs.list_runs(RunQuery(workspace_ids={"w1"})).runs]
    assert sorted(everything) == [1, 2, 3, 10, 11, 12, 13, 14, 15, 20]
    # One pushdown a form: compiling its statements is most of a test's time.
    pushdowns = [SqlPushdown(sql_engine, form=form) for form in SupersedeForm]
    for limit in (1, 2, 3):
        pages = all_pages(
            lambda cursor, limit=limit: ports.runs.list_runs(
                RunQuery(workspace_ids={"w1"}), limit=limit, cursor=cursor
            )
        )
        assert pages == everything
        for pushdown in pushdowns:
            assert follow_up_ids(pushdown, limit) == everything
