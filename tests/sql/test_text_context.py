"""A run's context stored as text is read alike by the SQL and by Python, or refused loudly.

On PostgreSQL the statements read the context as jsonb: a ``text`` column holding valid JSON was
read as JSON by the SQL and as unparsed text (every run ``invalid_context``) by Python, and one
row of text that is not JSON failed every request of the workspace. Such a column is refused
when the mapping is built. On SQLite, where the context is always text, Python reads it as
SQLite's JSON functions do: ``NaN`` is no JSON, and of duplicate members the first counts when
they hold one value (different values name none: ``test_repeated_subject_key``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import AS_OF, async_engine_of, at, insert_raw, raw_row

from runactionability import ActionabilityService, VisibleScopes, to_json
from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    RunTableMapping,
    SqlRunHistory,
    SqlRunSource,
    check,
    create_schema,
    open_backend,
)
from runactionability.adapters.sqlalchemy.aio import AsyncSqlRunHistory
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.errors import ConfigurationError
from runactionability.findings import FindingCode, Severity
from runactionability.limits import MAX_CONTEXT_DEPTH

CHECK = "provider.connection.check"
# No state table is mapped: the resolver's warning about state kinds is not under test.
pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")
COLUMNS = (
    "id bigint PRIMARY KEY, type text, workspace_id text, environment_id text, status text, "
    "outcome text, created_at timestamptz, started_at timestamptz, completed_at timestamptz"
)


def _runs_table(engine: sa.Engine, name: str, context: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE {name} ({COLUMNS}, context {context})")
        connection.exec_driver_sql(
            f"INSERT INTO {name} VALUES "
            f"(1, '{CHECK}', 'w1', 'e1', 'completed', 'failed', '2026-11-10 10:00Z', NULL, "
            "'2026-11-10 10:05Z', '{\"provider_connection_id\": 7}'), "
            f"(2, '{CHECK}', 'w1', 'e1', 'completed', 'succeeded', '2026-11-10 11:00Z', NULL, "
            "'2026-11-10 11:05Z', '{\"provider_connection_id\": 7}')"
        )


_Answers = tuple[dict[str, int], dict[str, int], dict[Any, str]]


def _answers(engine: sa.Engine, runs: RunTableMapping, ids: list[int]) -> _Answers:
    """The dashboard's counts, the explained statuses counted, and each listed run's status."""
    service = ActionabilityService(engine, runs=runs, states={})
    with service.session(scopes=VisibleScopes({"w1"}), as_of=AS_OF) as session:
        counts = to_json(session.dashboard(top=0))["by_status"]
        explained: dict[str, int] = {}
        for run_id in ids:
            explanation = to_json(session.explain(run_id))
            status = explanation["run"]["actionability"]
            explained[status] = explained.get(status, 0) + 1
        listed = {
            row["run_id"]: row["actionability"]
            for page in (session.follow_up_page(), session.history_page())
            for row in to_json(page)["runs"]
        }
    return {k: v for k, v in counts.items() if v}, explained, listed


@pytest.mark.parametrize("column", ["text", "varchar(200)"])
def test_a_text_context_column_is_refused_on_postgresql(sql_engine: sa.Engine, column: str) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores every context as text, which its statements read as such")
    _runs_table(sql_engine, "text_ctx_runs", column)
    with sql_engine.begin() as connection:
        # The row that made every statement casting the column fail (DataError).
        connection.exec_driver_sql(
            f"INSERT INTO text_ctx_runs VALUES (3, '{CHECK}', 'w1', 'e1', 'completed', "
            "'failed', '2026-11-10 12:00Z', NULL, '2026-11-10 12:05Z', 'not json')"
        )
    with pytest.raises(ConfigurationError, match=r"text_ctx_runs\.context .* json or jsonb"):
        RunTableMapping.reflect(sql_engine, "text_ctx_runs", subject=None)
    by_hand = RunTableMapping(table="text_ctx_runs", subject=None)
    with pytest.raises(ConfigurationError, match=r"TYPE jsonb USING context::jsonb"):
        ActionabilityService(sql_engine, runs=by_hand, states={})


def test_a_json_context_column_is_read_as_jsonb_is(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL column type")
    _runs_table(sql_engine, "json_ctx_runs", "json")
    runs = RunTableMapping.reflect(sql_engine, "json_ctx_runs", subject=None)
    counts, explained, listed = _answers(sql_engine, runs, [1, 2])
    assert counts == {"superseded_by_later_success": 1, "informational_only": 1}
    assert explained == counts
    assert listed[1] == "superseded_by_later_success"


# Hostile contexts are most of this table's problem runs, on purpose: the service says so once
# (tests/service/test_invalid_sample.py); under test is that SQL and Python read them alike.
@pytest.mark.filterwarnings("ignore::runactionability.MappingMismatchWarning")
def test_sqlite_context_text_is_read_as_its_json_functions_read_it(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores the reference context as text")
    create_schema(sql_engine)
    checks: list[tuple[str, float, str]] = [
        # Duplicate members with one value are that value: run 2 is run 1's subject.
        ("failed", 0, '{"provider_connection_id": "c1", "provider_connection_id": "c1"}'),
        ("succeeded", 5, '{"provider_connection_id": "c1"}'),
        # Not JSON to SQLite: an invalid context, though Python's reader takes NaN as a number.
        ("failed", 10, '{"provider_connection_id": "c3", "weight": NaN}'),
        ("failed", 15, '{"provider_connection_id": "c4", "weight": -Infinity}'),
        ("failed", 20, '{"provider_connection_id": "c5"}  '),
        ("failed", 25, "null"),
        ("failed", 30, '["provider_connection_id", "c6"]'),
        # json_extract returns an unpaired surrogate as bytes that are not UTF-8 (the evidence
        # statement failed reading them), and ends a text at an escaped U+0000 ("c8").
        ("failed", 35, '{"provider_connection_id": "\\ud800"}'),
        ("succeeded", 40, '{"provider_connection_id": "\\ud800"}'),
        ("failed", 45, '{"provider_connection_id": "c8\\u0000"}'),
        ("succeeded", 50, '{"provider_connection_id": "c8"}'),
        # A paired surrogate is one character to both.
        ("failed", 55, '{"provider_connection_id": "\\ud83d\\ude00"}'),
        ("succeeded", 60, '{"provider_connection_id": "\\ud83d\\ude00"}'),
        # json_extract (SQLite 3.40) finds no member whose name is written with an escape;
        # Python decodes it, so run 14's subject is "c9", which run 15 supersedes.
        ("failed", 65, '{"provider_connection_i\\u0064": "c9"}'),
        ("succeeded", 70, '{"provider_connection_id": "c9"}'),
    ]
    _insert(sql_engine, checks)
    runs = attrs.evolve(REFERENCE_RUNS, subject=None)
    counts, explained, listed = _answers(sql_engine, runs, list(range(1, len(checks) + 1)))
    assert explained == counts
    assert listed[1] == "superseded_by_later_success"
    assert listed[3] == listed[4] == listed[6] == listed[7] == "requires_manual_review"
    assert listed[5] == "actionable"
    assert listed[8] == listed[10] == "requires_manual_review"
    assert listed[12] == "superseded_by_later_success"
    assert listed[14] == "superseded_by_later_success"


def test_sqlite_escapes_beside_a_subject_column_are_judged_as_python_reads_them(
    sql_engine: sa.Engine,
) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores the reference context as text")
    create_schema(sql_engine)
    checks: list[tuple[str, float, str]] = [
        # The context's subject, not the column's, is the one the core reads: "c1\x00",
        # unusable, where json_extract reads "c1", the column's.
        ("failed", 0, '{"provider_connection_id": "c1\\u0000"}'),
        ("succeeded", 5, '{"provider_connection_id": "c1"}'),
        ("failed", 10, '{"provider_connection_id": "c2", "note": "\\udc00"}'),
        ("succeeded", 15, '{"provider_connection_id": "c2"}'),
    ]
    _insert(sql_engine, checks, subjects=True)
    counts, explained, listed = _answers(sql_engine, REFERENCE_RUNS, [1, 2, 3, 4])
    assert explained == counts
    assert listed[1] == listed[3] == "requires_manual_review"


def _insert(
    engine: sa.Engine, checks: list[tuple[str, float, Any]], *, subjects: bool = False
) -> None:
    """One provider check per ``(outcome, minutes, context)``, run ids from 1; with
    ``subjects``, runs 1 and 2 carry the subject column "c1", 3 and 4 "c2", and so on."""
    stored = at if engine.dialect.name == "postgresql" else lambda minutes: to_micros(at(minutes))
    rows = [
        raw_row(
            engine,
            index,
            type=CHECK,
            outcome=outcome,
            context=context,
            created_at=stored(minutes),
            completed_at=stored(minutes + 1),
            **({"subject": f"c{(index + 1) // 2}"} if subjects else {}),
        )
        for index, (outcome, minutes, context) in enumerate(checks, start=1)
    ]
    insert_raw(engine, rows)


def test_a_text_context_is_refused_by_every_builder_of_a_hand_built_mapping(
    sql_engine: sa.Engine,
) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores every context as text, which its statements read as such")
    _runs_table(sql_engine, "by_hand_text_ctx", "text")
    by_hand = RunTableMapping(table="by_hand_text_ctx", subject=None)
    refused = r"by_hand_text_ctx\.context .* TYPE jsonb USING context::jsonb"
    builders: list[Callable[[], object]] = [
        lambda: SqlPushdown(sql_engine, runs=by_hand, states={}),
        lambda: open_backend(sql_engine, runs=by_hand, states={}),
        lambda: SqlRunHistory(sql_engine, by_hand),
        lambda: SqlRunSource(sql_engine, by_hand),
    ]
    for build in builders:
        with pytest.raises(ConfigurationError, match=refused):
            build()
    with sql_engine.connect() as connection, pytest.raises(ConfigurationError, match=refused):
        SqlRunSource(connection, by_hand)


def test_an_async_history_refuses_a_text_context_on_its_first_call(
    sql_engine: sa.Engine,
) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores every context as text, which its statements read as such")
    _runs_table(sql_engine, "async_text_ctx", "text")
    by_hand = RunTableMapping(table="async_text_ctx", subject=None)

    async def first_call() -> None:
        engine = async_engine_of(sql_engine)
        try:
            # Built outside any connection: an asyncio engine is read on the event loop only.
            history = AsyncSqlRunHistory(engine, by_hand)
            await history.latest_successes([], as_of=AS_OF)
        finally:
            await engine.dispose()

    with pytest.raises(ConfigurationError, match=r"async_text_ctx\.context .* TYPE jsonb"):
        asyncio.run(first_call())


def test_a_json_context_is_reflected_once_at_build_and_never_per_request(
    sql_engine: sa.Engine,
) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL's context type is checked")
    _runs_table(sql_engine, "jsonb_ctx_once", "jsonb")
    by_hand = RunTableMapping(table="jsonb_ctx_once", subject=None)
    pushdown = SqlPushdown(sql_engine, runs=by_hand, states={})
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(sql_engine, "before_cursor_execute", record)
    try:
        SqlRunHistory(sql_engine, by_hand)
        open_backend(sql_engine, runs=by_hand, states={})
        pushdown.count(VisibleScopes({"w1"}), as_of=AS_OF)
    finally:
        sa.event.remove(sql_engine, "before_cursor_execute", record)
    assert statements
    assert not [text for text in statements if "pg_catalog" in text]


def test_doctor_reports_a_text_context_instead_of_failing(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores every context as text, which its statements read as such")
    _runs_table(sql_engine, "doctor_text_ctx", "text")
    report = check(sql_engine, RunTableMapping(table="doctor_text_ctx", subject=None), states={})
    refused = [f for f in report.findings if f.code is FindingCode.READ_FAILED]
    assert [(f.severity, f.column) for f in refused] == [(Severity.ERROR, "context")]
    assert refused[0].fix == (
        "ALTER TABLE doctor_text_ctx ALTER COLUMN context TYPE jsonb USING context::jsonb"
    )


@pytest.mark.filterwarnings("ignore::runactionability.MappingMismatchWarning")
def test_sqlite_a_blob_context_is_no_json_text_to_sql_or_python(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("only SQLite's dynamic typing lets a host store a context as a BLOB")
    create_schema(sql_engine)
    checks: list[tuple[str, float, Any]] = [
        # The bytes of '{}': json_valid (3.40) reads a BLOB as its text, newer SQLite as JSONB;
        # Python reads bytes as no mapping. Run 3 is a later success of the same (no) subject.
        ("failed", 0, b"{}"),
        ("failed", 2, b'{"provider_connection_id": "c1"}'),
        ("succeeded", 5, "{}"),
        # A later success whose subject only a BLOB names: it supersedes nothing.
        ("failed", 10, '{"provider_connection_id": "c2"}'),
        ("succeeded", 15, b'{"provider_connection_id": "c2"}'),
    ]
    _insert(sql_engine, checks)
    runs = attrs.evolve(REFERENCE_RUNS, subject=None)
    counts, explained, listed = _answers(sql_engine, runs, list(range(1, len(checks) + 1)))
    assert explained == counts
    assert listed[1] == listed[2] == "requires_manual_review"
    assert listed[4] == "actionable"


def _nested(depth: int, innermost: str = "[]") -> str:
    """JSON text ``depth`` levels deep: a context object holding ``depth - 1`` levels of arrays."""
    arrays = depth - 1
    inner = "[" * (arrays - 1) + innermost + "]" * (arrays - 1)
    return '{"provider_connection_id": "c%s", "deep": ' + inner + "}"


@pytest.mark.filterwarnings("ignore::runactionability.MappingMismatchWarning")
def test_a_context_nested_too_deep_is_invalid_to_sql_and_python(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    limit = MAX_CONTEXT_DEPTH
    checks: list[tuple[str, float, Any]] = [
        # At the limit: a context like any other, which run 2 supersedes.
        ("failed", 0, _nested(limit) % 1),
        ("succeeded", 5, _nested(limit) % 1),
        # One level past it (valid to SQLite's json_valid and to jsonb): invalid everywhere,
        # and run 4's subject supersedes nothing.
        ("failed", 10, _nested(limit + 1) % 2),
        ("failed", 15, '{"provider_connection_id": "c3"}'),
        ("succeeded", 20, _nested(limit + 1) % 3),
        # Past Python's recursion limit and SQLite's own: it crashed every page.
        ("failed", 25, _nested(5_000) % 4),
        # Many brackets, all in a string: as shallow as it looks.
        ("failed", 30, '{"provider_connection_id": "c5", "note": "%s"}' % ("[" * 600)),
    ]
    _insert(sql_engine, checks)
    runs = attrs.evolve(REFERENCE_RUNS, subject=None)
    counts, explained, listed = _answers(sql_engine, runs, list(range(1, len(checks) + 1)))
    assert explained == counts
    assert listed[1] == "superseded_by_later_success"
    assert listed[3] == listed[6] == "requires_manual_review"
    assert listed[4] == listed[7] == "actionable"


def test_building_over_an_idle_connection_leaves_it_as_found(sql_engine: sa.Engine) -> None:
    # The build-time reads (the context's type, the service's mapping and state checks) once
    # autobegan a transaction they never closed: the host's begin() failed, and snapshot()
    # read at the connection's READ COMMITTED instead of its REPEATABLE READ.
    _runs_table(
        sql_engine, "idle_conn_runs", "jsonb" if sql_engine.dialect.name != "sqlite" else "text"
    )
    by_hand = RunTableMapping(table="idle_conn_runs", subject=None)
    builders: list[Callable[[sa.Connection], object]] = [
        lambda connection: SqlPushdown(connection, runs=by_hand, states={}),
        lambda connection: SqlRunHistory(connection, by_hand),
        lambda connection: SqlRunSource(connection, by_hand),
        lambda connection: ActionabilityService(connection, runs=by_hand, states={}),
        lambda connection: open_backend(connection, runs=by_hand, states={}),
    ]
    for build in builders:
        with sql_engine.connect() as connection:
            build(connection)
            assert not connection.in_transaction(), build
            with connection.begin():
                pass
    if sql_engine.dialect.name != "postgresql":
        return
    with sql_engine.connect() as connection:
        backend = open_backend(connection, runs=by_hand, states={})
        with backend.snapshot():
            isolation = connection.exec_driver_sql("SHOW transaction_isolation").scalar()
    assert isolation == "repeatable read"


def test_a_context_declared_as_a_domain_over_jsonb_is_read_as_jsonb(sql_engine: sa.Engine) -> None:
    # Reflected as DOMAIN, it was refused as not json, by the service and every bare port.
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL column type")
    with sql_engine.begin() as connection:
        connection.exec_driver_sql("CREATE DOMAIN ra_mend_ctx AS jsonb")
    try:
        _runs_table(sql_engine, "domain_ctx_runs", "ra_mend_ctx")
        runs = RunTableMapping.reflect(sql_engine, "domain_ctx_runs", subject=None)
        open_backend(sql_engine, runs=RunTableMapping(table="domain_ctx_runs", subject=None))
        counts, _, listed = _answers(sql_engine, runs, [1, 2])
        assert counts == {"superseded_by_later_success": 1, "informational_only": 1}
        assert listed[1] == "superseded_by_later_success"
    finally:
        with sql_engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS domain_ctx_runs")
            connection.exec_driver_sql("DROP DOMAIN ra_mend_ctx")
