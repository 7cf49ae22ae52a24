"""Id columns stored so that a mapping could misread them are read correctly or reported, never
silently misread: SQLAlchemy's ``Uuid`` on SQLite (32 hex digits), PostgreSQL's blank-padded
``char(n)``, uuid text on SQLite that is not in the stored form, and runs whose workspace id no
actor can name.
"""

from __future__ import annotations

import asyncio
import re
import uuid
import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, async_engine_of, at

from runactionability import Actionability, VisibleScopes
from runactionability.adapters.sqlalchemy import IdTypes, RunTableMapping, check
from runactionability.consumers import View
from runactionability.errors import (
    ConfigurationError,
    MappingMismatchWarning,
    MissingStateSourceWarning,
    UsageError,
)
from runactionability.findings import CheckReport, Finding, FindingCode, Severity
from runactionability.service import (
    ActionabilityService,
    AsyncActionabilityService,
    EveryWorkspace,
    UnattributedRuns,
)
from runactionability.service.every import workspace_names

W, E = uuid.UUID(int=0xA1), uuid.UUID(int=0xE1)
FAILED, SUCCEEDED = uuid.UUID(int=1), uuid.UUID(int=2)


def _table(engine: sa.Engine, name: str, **ids: Any) -> sa.Table:
    """A host's runs table with the reference's column names and ``ids`` for its id columns."""
    text = sa.String(200)
    table = sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", ids.get("id", sa.Integer()), primary_key=True),
        sa.Column("type", text),
        sa.Column("workspace_id", ids.get("workspace_id", text)),
        sa.Column("environment_id", ids.get("environment_id", text)),
        sa.Column("status", text),
        sa.Column("outcome", text),
        sa.Column("context", sa.JSON()),
        *(sa.Column(c, sa.DateTime(timezone=True)) for c in ("created_at", "started_at")),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )
    table.create(engine)
    return table


def _run(run_id: Any, outcome: str, minute: int, **fields: Any) -> dict[str, Any]:
    start = at(minute)
    return {
        "id": run_id,
        "type": "inventory.sync",
        "workspace_id": W,
        "environment_id": E,
        "status": "completed",
        "outcome": outcome,
        "context": {},
        "created_at": start,
        "started_at": start,
        "completed_at": start + timedelta(minutes=1),
        **fields,
    }


def _insert(engine: sa.Engine, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(table.insert(), list(rows))


def _service(engine: sa.Engine, runs: RunTableMapping) -> ActionabilityService:
    # A runs table alone: the families that read state are judged without it, as the warning says.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingStateSourceWarning)
        return ActionabilityService(engine, runs=runs, states={})


def _only(report: CheckReport, code: FindingCode) -> list[Finding]:
    return [finding for finding in report.findings if finding.code is code]


def test_sqlalchemy_uuid_columns_are_read_by_the_text_of_their_uuids(sql_engine: sa.Engine) -> None:
    # On SQLite sa.Uuid stores 32 hex digits in a CHAR(32): a host names its ids by str(uuid).
    table = _table(
        sql_engine, "sa_uuid_runs", id=sa.Uuid(), workspace_id=sa.Uuid(), environment_id=sa.Uuid()
    )
    _insert(sql_engine, table, [_run(FAILED, "failed", 0), _run(SUCCEEDED, "succeeded", 5)])
    options: dict[str, Any] = {}
    if sql_engine.dialect.name == "sqlite":
        # A CHAR(32) may hold hex tokens as well: on SQLite the host says which.
        options["ids"] = IdTypes(run="uuid", workspace="uuid", environment="uuid")
    runs = RunTableMapping.reflect(sql_engine, "sa_uuid_runs", zone="UTC", subject=None, **options)
    assert (runs.ids.run, runs.ids.workspace, runs.ids.environment) == ("uuid",) * 3
    service = _service(sql_engine, runs)
    for scopes in (VisibleScopes([str(W)]), EveryWorkspace()):
        with service.session(scopes=scopes, as_of=AS_OF) as session:
            # The uuid read back as its text, where a screen names the workspaces it shows.
            assert workspace_names(session.backend) == [str(W)]
            counts = session.dashboard().counts
            assert counts.total == 2
            assert counts.by_status[Actionability.SUPERSEDED_BY_LATER_SUCCESS] == 1
            page = session.page(View.ALL)
            assert [item.run.id for item in page.items] == [str(SUCCEEDED), str(FAILED)]
            assert {item.run.workspace_id for item in page.items} == {str(W)}
            told = session.explain(str(FAILED))
            assert told is not None
            assert getattr(told.assessment.result.proof, "run_id", None) == str(SUCCEEDED)
    # The stored form is no caller's name for a uuid (the core would not admit it either): the
    # caller is told the spelling to use, rather than shown nothing.
    with (
        service.session(scopes=VisibleScopes([W.hex]), as_of=AS_OF) as session,
        pytest.raises(UsageError, match=f"pass '{W}'"),
    ):
        session.dashboard()
    with (
        service.session(scopes=VisibleScopes([str(W)]), as_of=AS_OF) as session,
        pytest.raises(UsageError, match=f"pass '{FAILED}'"),
    ):
        session.explain(FAILED.hex)


def test_a_char32_column_of_text_ids_reads_as_the_host_wrote_them(sql_engine: sa.Engine) -> None:
    # Hex tokens (secrets.token_hex(16), md5) and short codes in a CHAR(32) are the host's own
    # text ids: reflection must not turn them into uuids nobody wrote.
    if sql_engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL's char(n) is blank-padded, refused as an id column (test below)")
    token = "d41d8cd98f00b204e9800998ecf8427e"
    table = _table(sql_engine, "token_runs", workspace_id=sa.CHAR(32))
    rows = [
        _run(n, "failed", n, workspace_id=workspace, environment_id="prod")
        for n, workspace in ((1, token), (2, "acme"))
    ]
    _insert(sql_engine, table, rows)
    runs = RunTableMapping.reflect(sql_engine, "token_runs", zone="UTC", subject=None)
    assert runs.ids.workspace == "text"
    service = _service(sql_engine, runs)
    for workspace, run_id in ((token, 1), ("acme", 2)):
        with service.session(scopes=VisibleScopes([workspace]), as_of=AS_OF) as session:
            [item] = session.page(View.ALL).items
            assert (item.run.id, item.run.workspace_id) == (run_id, workspace)


def test_uuid_text_that_is_not_the_stored_form_is_a_doctor_error(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("a uuid column on PostgreSQL holds uuids only")
    table = _table(sql_engine, "text_uuid_runs")
    hyphenated = [_run(n, "failed", n, workspace_id=str(W), environment_id=str(E)) for n in (1, 2)]
    _insert(sql_engine, table, hyphenated)
    runs = RunTableMapping(table="text_uuid_runs", subject=None, ids={"workspace": "uuid"})
    report = check(sql_engine, runs, as_of=AS_OF)
    [finding] = [f for f in _only(report, FindingCode.ID_TYPE) if f.column == "workspace_id"]
    assert finding.severity is Severity.ERROR
    assert finding.count == 2
    assert finding.example == str(W)
    assert 'workspace = "text"' in (finding.fix or "")
    assert not report.passed


def test_a_blank_padded_char_id_column_is_refused_and_reported(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL pads char(n) and strips the blanks when comparing")
    table = _table(sql_engine, "padded_runs", workspace_id=sa.CHAR(8))
    _insert(sql_engine, table, [_run(1, "failed", 0, workspace_id="acme", environment_id="e")])
    fix = "ALTER TABLE padded_runs ALTER COLUMN workspace_id TYPE varchar(8)"
    with pytest.raises(ConfigurationError, match=re.escape(fix)):
        RunTableMapping.reflect(sql_engine, "padded_runs", zone="UTC", subject=None)
    runs = RunTableMapping(table="padded_runs", subject=None, timestamps="timestamptz")
    with pytest.warns(MappingMismatchWarning, match=re.escape(fix)):
        _service(sql_engine, runs)
    report = check(sql_engine, runs, as_of=AS_OF)
    [finding] = _only(report, FindingCode.ID_TYPE)
    assert (finding.column, finding.severity, finding.fix) == ("workspace_id", Severity.ERROR, fix)
    assert not report.passed


def test_runs_no_actor_can_see_are_a_doctor_error_with_their_ids(sql_engine: sa.Engine) -> None:
    table = _table(sql_engine, "unseen_runs")
    unusable = ["", "   ", "\u00a0", None]
    rows = [_run(1, "failed", 0, workspace_id="w1", environment_id="e1")]
    rows += [
        _run(n, "failed", n, workspace_id=ws, environment_id="e1")
        for n, ws in enumerate(unusable, start=2)
    ]
    _insert(sql_engine, table, rows)
    runs = RunTableMapping(table="unseen_runs", subject=None, timestamps=_timestamps(sql_engine))
    report = check(sql_engine, runs, as_of=AS_OF)
    [finding] = _only(report, FindingCode.UNATTRIBUTED_RUNS)
    assert (finding.severity, finding.count, finding.example) == (Severity.ERROR, 4, "2")
    assert "runs 2, 3, 4, 5" in finding.message
    assert not report.passed
    service = _service(sql_engine, runs)
    with service.session(scopes=EveryWorkspace(), as_of=AS_OF) as session:
        assert session.dashboard().counts.total == 1
        assert session.unattributed().count == 4
    # Any other actor's scopes hide them: it may not even learn that they exist.
    for scopes in (VisibleScopes(["w1"]), EveryWorkspace(environment_ids=["e1"])):
        with (
            service.session(scopes=scopes, as_of=AS_OF) as session,
            pytest.raises(UsageError, match="whole database"),
        ):
            session.unattributed()


def test_the_async_twin_counts_them_alike(sql_engine: sa.Engine) -> None:
    table = _table(sql_engine, "unseen_async_runs")
    rows = [_run(n, "failed", n, workspace_id=ws, environment_id="e1") for n, ws in enumerate("w ")]
    _insert(sql_engine, table, rows)
    runs = RunTableMapping(
        table="unseen_async_runs", subject=None, timestamps=_timestamps(sql_engine)
    )

    async def count(scopes: Any) -> int:
        engine = async_engine_of(sql_engine)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MissingStateSourceWarning)
                service = AsyncActionabilityService(engine, runs=runs, states={})
            async with service.session(scopes=scopes, as_of=AS_OF) as session:
                return (await session.unattributed()).count
        finally:
            await engine.dispose()

    assert asyncio.run(count(EveryWorkspace())) == 1
    with pytest.raises(UsageError):
        asyncio.run(count(VisibleScopes(["w"])))


def test_text_in_an_integer_workspace_column_is_no_workspace(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores text in an integer column")
    table = _table(sql_engine, "int_ws_runs", workspace_id=sa.Integer())
    rows = [_run(1, "failed", 0, workspace_id=7, environment_id="e1")]
    rows.append(_run(2, "failed", 1, workspace_id="acme", environment_id="e1"))
    _insert(sql_engine, table, rows)
    runs = RunTableMapping(
        table="int_ws_runs",
        subject=None,
        ids={"workspace": "integer"},
        timestamps=_timestamps(sql_engine),
    )
    [finding] = _only(check(sql_engine, runs, as_of=AS_OF), FindingCode.UNATTRIBUTED_RUNS)
    assert (finding.count, finding.example) == (1, "2")
    service = _service(sql_engine, runs)
    with service.session(scopes=EveryWorkspace(), as_of=AS_OF) as session:
        assert session.dashboard().counts.total == 1
        assert session.unattributed().count == 1


def _timestamps(engine: sa.Engine) -> str:
    return "timestamptz" if engine.dialect.name == "postgresql" else "iso_text:UTC"


def test_every_run_with_a_workspace_passes(sql_engine: sa.Engine) -> None:
    table = _table(sql_engine, "seen_runs")
    _insert(sql_engine, table, [_run(1, "failed", 0, workspace_id="w1", environment_id="e1")])
    runs = RunTableMapping(table="seen_runs", subject=None, timestamps=_timestamps(sql_engine))
    report = check(sql_engine, runs, as_of=AS_OF)
    assert _only(report, FindingCode.UNATTRIBUTED_RUNS) == []
    service = _service(sql_engine, runs)
    with service.session(scopes=EveryWorkspace(), as_of=AS_OF) as session:
        assert session.unattributed() == UnattributedRuns(0)
