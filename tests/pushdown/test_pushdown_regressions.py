"""Cases where the SQL classification once disagreed with the Python resolver, on both engines.

Each test builds a small history, asks the resolver (over the same tables) and the pushdown, and
checks both give the status a user expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import T0, at

from runactionability import OperationRun, Resolver
from runactionability.adapters.sqlalchemy import (
    JsonDocument,
    SqlRunHistory,
    SqlStateSource,
    StateTableMapping,
    UtcTimestamp,
    create_schema,
    insert_runs,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import VisibleScopes
from runactionability.result import Actionability
from runactionability.testing import count_statements

# Asked an hour after T0, not at the shared AS_OF: some cases put a state row after ``as_of``.
AS_OF = T0 + timedelta(hours=1)
SCOPES = VisibleScopes({"w1"})
CHECK = "provider.connection.check"


def failed_check(run_id: int = 1, **changes: Any) -> OperationRun:
    fields: dict[str, Any] = {
        "id": run_id,
        "type": CHECK,
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": "completed",
        "outcome": "blocked",
        "created_at": at(0),
        "started_at": None,
        "completed_at": at(10),
        "context": {"provider_connection_id": "c1"},
    }
    fields.update(changes)
    return OperationRun(**fields)


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


def both(
    engine: sa.Engine, states: Mapping[str, StateTableMapping] | None = None
) -> tuple[dict[Any, Actionability], dict[Any, Actionability]]:
    """The status of every run of SCOPES by the resolver and by the pushdown."""
    states = reference_state_mappings() if states is None else states
    pushdown = SqlPushdown(engine, states=states)
    resolver = Resolver(
        history=SqlRunHistory(engine),
        states={kind: SqlStateSource(engine, mapping) for kind, mapping in states.items()},
    )
    runs = pushdown._run_source().list_runs(SCOPES.query(), limit=1000).runs
    python = {
        run.id: result.status
        for run, result in zip(runs, resolver.evaluate_many(runs, as_of=AS_OF), strict=True)
    }
    return python, pushdown.classify(SCOPES, as_of=AS_OF)


# -- the state rule: the newest rows decide, and ambiguity is no fact --------------------------


def _history_table(engine: sa.Engine) -> sa.Table:
    table = sa.Table(
        "conn_history",
        sa.MetaData(),
        sa.Column("workspace_id", sa.String),
        sa.Column("environment_id", sa.String),
        sa.Column("subject", sa.String),
        sa.Column("status", sa.String),
        sa.Column("proven_at", UtcTimestamp()),
        sa.Column("attributes", JsonDocument()),
    )
    table.create(engine)
    return table


def _states(**mapping: Any) -> dict[str, StateTableMapping]:
    return {
        **reference_state_mappings(),
        "provider_connection": StateTableMapping(
            kind="provider_connection", table="conn_history", **mapping
        ),
    }


def _state_rows(*rows: tuple[str | None, datetime]) -> list[dict[str, Any]]:
    base = {"workspace_id": "w1", "environment_id": "e1", "subject": "c1", "attributes": {}}
    return [{**base, "status": status, "proven_at": proven} for status, proven in rows]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([("healthy", at(20))], Actionability.RESOLVED_BY_CURRENT_STATE, id="healthy"),
        pytest.param(
            [("healthy", at(20)), ("healthy", at(20))],
            Actionability.RESOLVED_BY_CURRENT_STATE,
            id="agreeing-tie",
        ),
        pytest.param(
            [("healthy", at(20)), ("failing", at(20))], Actionability.ACTIONABLE, id="tie-first"
        ),
        pytest.param(
            [("failing", at(20)), ("healthy", at(20))], Actionability.ACTIONABLE, id="tie-last"
        ),
        pytest.param(
            [("healthy", at(20)), ("complete", at(20))],
            Actionability.ACTIONABLE,
            id="tie-of-two-words",
        ),
        pytest.param(
            [("healthy", at(20)), (None, at(30))], Actionability.ACTIONABLE, id="newest-no-status"
        ),
        pytest.param(
            [("healthy", at(20)), (None, at(20))], Actionability.ACTIONABLE, id="tied-no-status"
        ),
        pytest.param(
            [("healthy", at(20)), ("failing", at(30))], Actionability.ACTIONABLE, id="newer-failing"
        ),
        pytest.param(
            [("healthy", at(20)), ("healthy", at(90))],
            Actionability.ACTIONABLE,
            id="newest-after-as-of",
        ),
    ],
)
def test_a_state_object_is_read_as_its_newest_rows(
    engine: sa.Engine, rows: list[tuple[str | None, datetime]], expected: Actionability
) -> None:
    table = _history_table(engine)
    insert_runs(engine, [failed_check()])
    with engine.begin() as connection:
        connection.execute(table.insert(), _state_rows(*rows))
    python, pushdown = both(engine, _states())
    assert python[1] is expected
    assert pushdown[1] is expected


def test_a_state_row_that_cannot_be_placed_in_time_leaves_no_fact(engine: sa.Engine) -> None:
    table = _history_table(engine)
    insert_runs(engine, [failed_check()])
    with engine.begin() as connection:
        connection.execute(table.insert(), _state_rows(("healthy", at(20)), ("failing", at(5))))
        connection.execute(table.update().where(table.c.status == "failing").values(proven_at=None))
    python, pushdown = both(engine, _states())
    assert python[1] is Actionability.ACTIONABLE
    assert pushdown[1] is Actionability.ACTIONABLE


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([("ok", at(20))], Actionability.RESOLVED_BY_CURRENT_STATE, id="listed"),
        pytest.param(
            [("ok", at(20)), ("fine", at(20))],
            Actionability.RESOLVED_BY_CURRENT_STATE,
            id="tie-same-word",
        ),
        pytest.param(
            [("ok", at(20)), ("down", at(20))], Actionability.ACTIONABLE, id="tie-other-word"
        ),
        pytest.param(
            [("ok", at(20)), ("healthy", at(20))], Actionability.ACTIONABLE, id="tie-unlisted"
        ),
        pytest.param([("healthy", at(20))], Actionability.ACTIONABLE, id="unlisted-word"),
    ],
)
def test_a_state_vocabulary_translates_before_ties_compare(
    engine: sa.Engine, rows: list[tuple[str | None, datetime]], expected: Actionability
) -> None:
    table = _history_table(engine)
    insert_runs(engine, [failed_check()])
    with engine.begin() as connection:
        connection.execute(table.insert(), _state_rows(*rows))
    states = _states(statuses={"ok": "healthy", "fine": "healthy", "down": "failing"})
    python, pushdown = both(engine, states)
    assert python[1] is expected
    assert pushdown[1] is expected


# -- ids that str.strip() and SQL's trim judge differently ------------------------------------


def _sync(run_id: int, env: str, outcome: str, minute: int, workspace: str = "w1") -> OperationRun:
    return failed_check(
        run_id,
        type="inventory.sync",
        workspace_id=workspace,
        environment_id=env,
        outcome=outcome,
        created_at=at(minute),
        completed_at=at(minute + 1),
        context={},
    )


@pytest.mark.parametrize("blank", ["\u00a0", "\u2003", "\x1c", " \u3000 "])
def test_an_environment_blank_to_python_needs_review_in_counts_and_pages(
    engine: sa.Engine, blank: str
) -> None:
    insert_runs(
        engine,
        [
            _sync(1, blank, "failed", 0),
            _sync(2, blank, "succeeded", 5),
            _sync(3, "e1", "failed", 0),
            _sync(4, "e1", "succeeded", 5),
            _sync(5, "\u00e9t\u00e9", "failed", 0),
            _sync(6, "\u00e9t\u00e9", "succeeded", 5),
        ],
    )
    python, pushdown = both(engine)
    assert pushdown == python
    assert pushdown[1] is Actionability.REQUIRES_MANUAL_REVIEW
    assert pushdown[5] is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    sql = SqlPushdown(engine)
    assert sql.count(SCOPES, as_of=AS_OF).needs_attention == 1
    page = sql.follow_up_page(SCOPES, as_of=AS_OF)
    assert [item.run.id for item in page.items] == [1]


@pytest.mark.parametrize("blob", [b"", b"e1"], ids=["empty", "bytes"])
def test_an_environment_stored_as_a_blob_is_judged_as_python_reads_it(
    engine: sa.Engine, blob: bytes
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores a BLOB in a text column")
    insert_runs(engine, [_sync(1, "e1", "failed", 0), _sync(2, "e1", "succeeded", 5)])
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE operation_runs SET environment_id = :blob WHERE id = '1'"),
            {"blob": blob},
        )
    python, pushdown = both(engine)
    assert pushdown == python
    assert pushdown[1] is Actionability.REQUIRES_MANUAL_REVIEW


def test_runs_of_a_workspace_outside_ascii_merge_into_the_counts(engine: sa.Engine) -> None:
    workspace = "w\u00e9"
    scopes = VisibleScopes({"w1", workspace})
    insert_runs(
        engine,
        [
            _sync(1, "e1", "failed", 0, workspace),
            _sync(2, "e1", "succeeded", 5, workspace),
            _sync(3, "e2", "failed", 0, workspace),
            _sync(4, "e1", "failed", 0),
        ],
    )
    counts = SqlPushdown(engine).count(scopes, as_of=AS_OF)
    assert counts.counts.by_status[Actionability.SUPERSEDED_BY_LATER_SUCCESS] == 1
    assert counts.counts.by_status[Actionability.ACTIONABLE] == 2
    assert counts.by_environment[(workspace, "e2")].needs_attention == 1


@pytest.mark.parametrize("json_subject", [False, True], ids=["column", "context"])
def test_a_subject_blank_to_python_needs_review(engine: sa.Engine, json_subject: bool) -> None:
    from runactionability.adapters.sqlalchemy import RunTableMapping, operation_runs

    base = {
        "type": CHECK,
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": "completed",
        "started_at": None,
    }
    nbsp = "\u00a0"
    with engine.begin() as connection:
        connection.execute(
            operation_runs.insert(),
            [
                {
                    **base,
                    "id": 1,
                    "outcome": "failed",
                    "created_at": at(0),
                    "completed_at": at(1),
                    "subject": nbsp,
                    "context": {"provider_connection_id": nbsp},
                },
                {
                    **base,
                    "id": 2,
                    "outcome": "succeeded",
                    "created_at": at(5),
                    "completed_at": at(6),
                    "subject": nbsp,
                    "context": {"provider_connection_id": nbsp},
                },
            ],
        )
    mapping = RunTableMapping(table="operation_runs", subject=None if json_subject else "subject")
    pushdown = SqlPushdown(engine, runs=mapping)
    assert pushdown.classify(SCOPES, as_of=AS_OF)[1] is Actionability.REQUIRES_MANUAL_REVIEW
    assert pushdown.count(SCOPES, as_of=AS_OF).needs_attention == 1


# -- a subject column beside a context that names the subject itself --------------------------


@pytest.mark.parametrize(
    ("named", "expected"),
    [
        pytest.param(True, Actionability.REQUIRES_MANUAL_REVIEW, id="bool"),
        pytest.param(None, Actionability.REQUIRES_MANUAL_REVIEW, id="null"),
        pytest.param("  ", Actionability.REQUIRES_MANUAL_REVIEW, id="blank"),
        pytest.param("c2", Actionability.ACTIONABLE, id="other-subject"),
        pytest.param("c1", Actionability.SUPERSEDED_BY_LATER_SUCCESS, id="same-subject"),
        pytest.param(7, Actionability.SUPERSEDED_BY_LATER_SUCCESS, id="same-integer"),
    ],
)
def test_the_context_subject_wins_over_the_subject_column(
    engine: sa.Engine, named: object, expected: Actionability
) -> None:
    from runactionability.adapters.sqlalchemy import operation_runs

    column = "7" if named == 7 else "c1"
    base = {
        "type": CHECK,
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": "completed",
        "started_at": None,
        "subject": column,
    }
    with engine.begin() as connection:
        connection.execute(
            operation_runs.insert(),
            [
                {
                    **base,
                    "id": 1,
                    "outcome": "failed",
                    "created_at": at(0),
                    "completed_at": at(1),
                    "context": {"provider_connection_id": named},
                },
                {
                    **base,
                    "id": 2,
                    "outcome": "succeeded",
                    "created_at": at(5),
                    "completed_at": at(6),
                    "context": {},
                },
            ],
        )
    python, pushdown = both(engine)
    assert python[1] is expected
    assert pushdown == python
    assert SqlPushdown(engine).count(SCOPES, as_of=AS_OF).needs_attention == int(
        expected.needs_attention
    )


# -- scope ids travel as bound parameters, never in the SQL text ------------------------------


def test_scope_ids_are_bound_parameters_not_sql_text(engine: sa.Engine) -> None:
    odd = "w'1\" -- marker"
    env = "e'1 marker"
    scopes = VisibleScopes({odd, "w2"}, environment_ids={env}, include_workspace_runs=False)
    insert_runs(
        engine,
        [
            _sync(1, env, "failed", 0, odd),
            _sync(2, env, "succeeded", 5, odd),
            _sync(3, env, "failed", 10, odd),
            _sync(4, "e2", "failed", 0, odd),
            _sync(5, env, "failed", 0, "w3"),
        ],
    )
    with count_statements(engine) as seen:
        for form in ("exists", "grouped"):
            pushdown = SqlPushdown(engine, form=form)
            counts = pushdown.count(scopes, as_of=AS_OF)
            page = pushdown.follow_up_page(scopes, as_of=AS_OF)
            classified = pushdown.classify(scopes, as_of=AS_OF)
            assert counts.counts.total == 3
            assert counts.needs_attention == 1
            assert [item.run.id for item in page.items] == [3]
            assert classified == {
                1: Actionability.SUPERSEDED_BY_LATER_SUCCESS,
                2: Actionability.INFORMATIONAL_ONLY,
                3: Actionability.ACTIONABLE,
            }
    assert seen.statements
    assert not [sql for sql in seen.statements if "marker" in sql]


@pytest.mark.parametrize("naive", [True, False], ids=["naive-column", "infinite"])
def test_a_postgresql_proven_at_python_cannot_read_leaves_no_fact(
    engine: sa.Engine, naive: bool
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL has naive and infinite timestamps")
    kind = "timestamp" if naive else "timestamptz"
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE conn_history (workspace_id text, environment_id text, subject text,"
            f" status text, proven_at {kind}, attributes jsonb)"
        )
        connection.exec_driver_sql(
            "INSERT INTO conn_history VALUES"
            f" ('w1', 'e1', 'c1', 'healthy', '{at(20):%Y-%m-%d %H:%M:%S}', '{{}}')"
            + ("" if naive else ", ('w1', 'e1', 'c1', 'failing', '-infinity', '{}')")
        )
    insert_runs(engine, [failed_check()])
    python, pushdown = both(engine, _states())
    assert python[1] is Actionability.ACTIONABLE
    assert pushdown[1] is Actionability.ACTIONABLE
