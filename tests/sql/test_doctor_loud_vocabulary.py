"""``check`` of a state kind's vocabulary (audit F6) and of a success's unreadable time (F7).

Most of a kind's states holding a status its ``statuses`` do not list is an error (such a state
silently proves nothing), a few a warning; the share is the kind's own rows (its ``where``),
compared as the state source reads them. A succeeded run whose time cannot be read stays
``informational_only``, and the finding says so rather than "needs manual review".
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa
from tests.support import AS_OF, at, insert_raw, raw_row, state

from runactionability import ActionabilityService, VisibleScopes
from runactionability.adapters.sqlalchemy import (
    StateTableMapping,
    check,
    create_schema,
    insert_states,
    reference_state_mappings,
)
from runactionability.findings import CheckReport, Finding, FindingCode, Severity


def _unmapped(report: CheckReport) -> list[Finding]:
    return [f for f in report.findings if f.code is FindingCode.UNMAPPED_VALUE]


def _provider_states(*statuses: str) -> list[Any]:
    return [state(subject=str(n), status=word) for n, word in enumerate(statuses, start=1)]


def _listing(**statuses: str) -> dict[str, StateTableMapping]:
    mappings = reference_state_mappings()
    connection = attrs.evolve(mappings["provider_connection"], statuses=statuses)
    return {**mappings, "provider_connection": connection}


def test_a_few_unlisted_states_are_a_warning(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    insert_states(sql_engine, _provider_states("healthy", "healthy", "healthy", "weird"))
    report = check(sql_engine, states=_listing(healthy="healthy"), as_of=AS_OF)
    [finding] = _unmapped(report)
    assert finding.severity is Severity.WARNING
    assert "1 of 4 provider_connection states" in finding.message
    assert report.passed


def test_most_states_unlisted_is_an_error(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    insert_states(sql_engine, _provider_states("healthy", "healthy", "weird"))
    # The host's word for healthy is "ok" in this mapping: every stored "healthy" proves nothing.
    report = check(sql_engine, states=_listing(ok="healthy"), as_of=AS_OF)
    [finding] = _unmapped(report)
    assert finding.severity is Severity.ERROR
    assert "3 of 3 provider_connection states" in finding.message
    assert not report.passed


def _kinds_table(engine: sa.Engine, status: sa.types.TypeEngine[Any], rows: list[Any]) -> None:
    table = sa.Table(
        "hd_kind_states",
        sa.MetaData(),
        sa.Column("kind", sa.Text()),
        sa.Column("tenant", sa.Text()),
        sa.Column("env", sa.Text()),
        sa.Column("object_id", sa.Text()),
        sa.Column("state", status),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
    )
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(
            table.insert(),
            [
                {"kind": kind, "tenant": "w1", "env": "e1", "object_id": str(n), "state": word}
                | {"checked_at": at(n)}
                for n, (kind, word) in enumerate(rows)
            ],
        )


def _kind_mapping(**fields: Any) -> StateTableMapping:
    return StateTableMapping(
        kind="baseline_snapshot",
        table="hd_kind_states",
        workspace_id="tenant",
        environment_id="env",
        subject="object_id",
        status="state",
        proven_at="checked_at",
        attributes=None,
        where={"kind": "baseline"},
        **fields,
    )


def test_only_the_kinds_own_rows_are_judged(sql_engine: sa.Engine) -> None:
    # The other kind's words are its own mapping's business, not this kind's.
    rows = [("baseline", "done"), ("baseline", "done"), *[("other", "weird")] * 5]
    _kinds_table(sql_engine, sa.Text(), rows)
    create_schema(sql_engine)
    mapping = _kind_mapping(statuses={"done": "complete"})
    report = check(sql_engine, states={"baseline_snapshot": mapping}, as_of=AS_OF)
    assert _unmapped(report) == []


def test_integer_statuses_are_compared_as_the_source_reads_them(sql_engine: sa.Engine) -> None:
    _kinds_table(sql_engine, sa.Integer(), [("baseline", 1), ("baseline", 1), ("baseline", 2)])
    create_schema(sql_engine)
    mapping = _kind_mapping(statuses={1: "complete", 2: "failed"}, status_type="integer")
    report = check(sql_engine, states={"baseline_snapshot": mapping}, as_of=AS_OF)
    assert _unmapped(report) == []


def test_a_success_with_an_unreadable_time_is_told_as_informational(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    failed = raw_row(sql_engine, 1)
    success = raw_row(sql_engine, 2, outcome="succeeded")
    insert_raw(sql_engine, [failed, success])
    runs = sa.table("operation_runs", sa.column("id"), sa.column("completed_at"))
    unreadable: Any = "2026-11-10T12:21:00.000Z"
    if sql_engine.dialect.name == "postgresql":
        unreadable = sa.literal_column("'infinity'::timestamptz")
    with sql_engine.begin() as connection:
        connection.execute(runs.update().where(runs.c.id == 2).values(completed_at=unreadable))
    report = check(sql_engine, as_of=AS_OF)
    [finding] = [
        f
        for f in report.findings
        if f.code is FindingCode.UNREADABLE_TIMESTAMP and f.column == "completed_at"
    ]
    service = ActionabilityService(sql_engine)
    with service.session(scopes=VisibleScopes({"w1"}), as_of=AS_OF) as session:
        told = session.explain(2)
    service.close()
    assert told is not None
    status = told.assessment.result.verdict.status.value
    # What the finding says of such a run is what the answers show.
    assert status == "informational_only"
    assert f"a succeeded one still reads {status}" in finding.message
    assert "their problem runs need manual review" in finding.message
