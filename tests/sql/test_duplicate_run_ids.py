"""A host table without a unique id may hold two rows with one run id: every row sharing an id
the actor can see reads ``duplicate_run_id`` on every page, count and explanation; none crashes a
listing, and a row of another workspace with the same id changes nothing for an actor."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, T0, insert_raw, keyless_runs, raw_row

from runactionability import (
    Actionability,
    ActionabilityService,
    Reason,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import check, create_schema
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.consumers import View
from runactionability.findings import FindingCode, Severity
from runactionability.testing import count_statements

REVIEW = Actionability.REQUIRES_MANUAL_REVIEW


def _all(session: object, view: View, limit: int) -> list[tuple[object, Actionability, str]]:
    seen, cursor = [], None
    while True:
        page = session.page(view, limit=limit, cursor=cursor)  # type: ignore[attr-defined]
        seen += [(i.run.id, i.result.status, i.result.reason) for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


@pytest.mark.parametrize("limit", [1, 50])
def test_every_row_sharing_an_id_reads_manual_review_everywhere(
    sql_engine: sa.Engine, limit: int
) -> None:
    keyless_runs(sql_engine)
    insert_raw(
        sql_engine,
        [
            raw_row(sql_engine, 1),
            raw_row(sql_engine, 2),
            # The same id again, a success after the failure: it would supersede run 1.
            raw_row(
                sql_engine, 2, outcome="succeeded", created_at=raw_row(sql_engine, 3)["created_at"]
            ),
            raw_row(sql_engine, 4, status="running", outcome=None, completed_at=None),
        ],
    )
    service = ActionabilityService(sql_engine)
    with service.session(scopes=VisibleScopes({"w1"}), as_of=AS_OF) as s:
        every = _all(s, View.ALL, limit)
        assert Counter(run_id for run_id, _, _ in every) == {1: 1, 2: 2, 4: 1}
        shared = [(status, reason) for run_id, status, reason in every if run_id == 2]
        assert shared == [(REVIEW, Reason.DUPLICATE_RUN_ID)] * 2
        follow_up = _all(s, View.CURRENT_FOLLOW_UP, limit)
        history = _all(s, View.HISTORY, limit)
        assert sorted(map(repr, follow_up + history)) == sorted(
            repr(item) for item in every if item[1] is not Actionability.NOT_TERMINAL
        )
        counts = s.dashboard(top=10).counts.by_status
        assert {k: v for k, v in counts.items() if v} == Counter(st for _, st, _ in every)
        explained = s.explain(2)
        assert explained is not None
        assert explained.assessment.result.reason == Reason.DUPLICATE_RUN_ID
    with service.session(scopes=VisibleScopes({"w1"}), as_of=AS_OF) as fresh:
        # Explained without a page shown first: read, not taken from the session's pages.
        again = fresh.explain(2)
        assert again is not None
        assert again.assessment.result.reason == Reason.DUPLICATE_RUN_ID
        # The change feed judges the id as the pages do, and reports each row of it.
        changed = [c for c in fresh.changes(since=T0 - timedelta(days=1)).changes if c.run_id == 2]
        assert [(c.status, c.result.reason) for c in changed] == [
            (REVIEW, Reason.DUPLICATE_RUN_ID)
        ] * 2


def test_the_same_id_in_another_workspace_changes_nothing_for_either_actor(
    sql_engine: sa.Engine,
) -> None:
    keyless_runs(sql_engine)
    insert_raw(
        sql_engine,
        [
            raw_row(sql_engine, 2, workspace_id="w2", environment_id="e2", outcome="succeeded"),
            raw_row(sql_engine, 2),
        ],
    )
    service = ActionabilityService(sql_engine)
    for workspace, status in (
        ("w1", Actionability.ACTIONABLE),
        ("w2", Actionability.INFORMATIONAL_ONLY),
    ):
        with service.session(scopes=VisibleScopes({workspace}), as_of=AS_OF) as s:
            # Explained before any page shows the run: the row of the actor's own workspace is
            # read, whichever of the two the database returns first.
            explained = s.explain(2)
            assert explained is not None
            assert explained.assessment.run.workspace_id == workspace
            assert explained.assessment.result.status is status
            assert [(i.run.workspace_id, i.status) for i in s.page(View.ALL).items] == [
                (workspace, status)
            ]
            assert s.dashboard().counts.by_status[status] == 1


def test_a_table_with_a_unique_id_is_never_asked_about_shared_ids(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    source = SqlRunSource(sql_engine)
    assert source.unique_ids()
    with count_statements(sql_engine) as statements:
        assert not source.shares_ids(None)
    assert statements.statements == []
    keyless_runs(sql_engine)
    loose = SqlRunSource(sql_engine)
    assert not loose.unique_ids()
    assert not loose.shares_ids(VisibleScopes({"w1"}))
    insert_raw(sql_engine, [raw_row(sql_engine, 2), raw_row(sql_engine, 2)])
    assert loose.shares_ids(VisibleScopes({"w1"}))
    assert [run.id for run in loose.runs_by_ids([2, 3], VisibleScopes({"w1"}))] == [2, 2]
    with sql_engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM operation_runs"))
        connection.execute(sa.text("CREATE UNIQUE INDEX ux_runs_id ON operation_runs (id)"))
    # A unique index on the id alone proves it as a primary key does.
    assert SqlRunSource(sql_engine).unique_ids()


def test_the_doctor_names_the_shared_ids_of_a_table_without_a_unique_id(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    insert_raw(sql_engine, [raw_row(sql_engine, 7)])
    keyed = check(sql_engine, as_of=AS_OF)
    assert [f for f in keyed.findings if f.code is FindingCode.DUPLICATE_RUN_IDS] == []
    keyless_runs(sql_engine)
    insert_raw(sql_engine, [raw_row(sql_engine, n) for n in (3, 3, 5, 5, 5, 6)])
    report = check(sql_engine, as_of=AS_OF)
    [finding] = [f for f in report.findings if f.code is FindingCode.DUPLICATE_RUN_IDS]
    assert finding.severity is Severity.ERROR
    assert (finding.count, finding.example, finding.column) == (2, "3", "id")
    assert "e.g. 3, 5)" in finding.message


def test_an_invalid_unique_index_proves_nothing(sql_engine: sa.Engine) -> None:
    # A failed CREATE UNIQUE INDEX CONCURRENTLY leaves a unique index marked invalid, and it fails
    # exactly because two rows share an id: taken as proof, the shared id went unflagged.
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL keeps the index of a failed concurrent build, marked invalid")
    keyless_runs(sql_engine)
    later = raw_row(sql_engine, 3)["created_at"]
    insert_raw(
        sql_engine,
        [raw_row(sql_engine, 1), raw_row(sql_engine, 2, outcome="succeeded", created_at=later)],
    )
    insert_raw(sql_engine, [raw_row(sql_engine, 1)])
    autocommit = sql_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with autocommit as connection, pytest.raises(sa.exc.IntegrityError):
        connection.execute(sa.text("CREATE UNIQUE INDEX CONCURRENTLY ux_id ON operation_runs (id)"))
    assert SqlRunSource(sql_engine).unique_ids() is False
    codes = [finding.code for finding in check(sql_engine).findings]
    assert FindingCode.DUPLICATE_RUN_IDS in codes
    with sql_engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ux_id"))
        connection.execute(sa.text("DELETE FROM operation_runs WHERE id = '1'"))
        connection.execute(
            sa.text("CREATE UNIQUE INDEX ux_id ON operation_runs (id) INCLUDE (type)")
        )
    assert SqlRunSource(sql_engine).unique_ids() is True


def test_a_run_whose_id_is_falsy_is_explained(sql_engine: sa.Engine) -> None:
    # runs_by_ids dropped every id whose stored value is falsy: run 0 was listed, never explained.
    keyless_runs(sql_engine)
    insert_raw(sql_engine, [raw_row(sql_engine, 0), raw_row(sql_engine, 1)])
    service = ActionabilityService(sql_engine)
    with service.session(scopes=VisibleScopes({"w1"}), as_of=AS_OF) as session:
        told = session.explain(0)
    assert told is not None
    assert told.assessment.run.id in (0, "0")
