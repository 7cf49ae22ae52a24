"""Every statement matches a collated vocabulary column byte for byte, as Python reads it.

Under a case-insensitive collation (SQLite ``NOCASE``, a nondeterministic ICU collation on
PostgreSQL) 'OK' equals 'ok' in a plain comparison, while the mapping reads each stored value as
its exact key. The pages and counts already matched byte for byte; the change feed's filters and
doctor's grouping of stored values did not, so the feed left out a failure that a success
settled, and doctor reported a value the mapping does not list as one it does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from tests.support import T0, case_insensitive_text

from runactionability import ActionabilityService, VisibleScopes, to_json
from runactionability.adapters.sqlalchemy import RunTableMapping, StateTableMapping, check
from runactionability.findings import CheckReport, FindingCode

CHECK = "provider.connection.check"
# Two keys the collation calls equal, with different meanings: only a byte-exact match reads
# 'OK' as the failure it is.
OUTCOMES = {"ok": "succeeded", "OK": "failed"}
pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")


def _tables(
    engine: sa.Engine,
    runs: list[tuple[str, str, float]],
    states: tuple[tuple[str, str], ...] = (
        ("s1", "healthy"),
        ("s2", "HEALTHY"),
        ("s3", "HEALTHY"),
        ("s4", "failing"),
    ),
) -> None:
    """``jobs`` with one provider check per (status, outcome, hours after T0), all about
    connection "c1", and ``conns`` with one state per (connection, status), proven at T0 + 2h."""
    aware = engine.dialect.name == "postgresql"
    collated = case_insensitive_text(engine)
    metadata = sa.MetaData()
    jobs = sa.Table(
        "jobs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type", sa.Text),
        sa.Column("workspace_id", sa.Integer),
        sa.Column("environment_id", sa.Integer),
        sa.Column("status", collated),
        sa.Column("outcome", collated),
        sa.Column("context", sa.JSON),
        *(sa.Column(name, sa.DateTime(timezone=aware)) for name in _TIMES),
    )
    conns = sa.Table(
        "conns",
        metadata,
        sa.Column("id", sa.Text),
        sa.Column("workspace_id", sa.Integer),
        sa.Column("environment_id", sa.Integer),
        sa.Column("status", collated),
        sa.Column("checked_at", sa.DateTime(timezone=aware)),
    )
    metadata.create_all(engine)

    def instant(hours: float) -> datetime:
        value = T0 + timedelta(hours=hours)
        return value if aware else value.replace(tzinfo=None)

    rows = [
        {
            "id": run_id,
            "type": CHECK,
            "workspace_id": 1,
            "environment_id": 2,
            "status": status,
            "outcome": outcome,
            "context": {"provider_connection_id": "c1"},
            "created_at": instant(hours),
            "started_at": instant(hours),
            "completed_at": instant(hours + 0.5),
        }
        for run_id, (status, outcome, hours) in enumerate(runs, start=1)
    ]
    with engine.begin() as connection:
        connection.execute(jobs.insert(), rows)
        connection.execute(
            conns.insert(),
            [
                {"id": i, "workspace_id": 1, "environment_id": 2, "status": s}
                | {"checked_at": instant(2)}
                for i, s in states
            ],
        )


_TIMES = ("created_at", "started_at", "completed_at")


def _zone(engine: sa.Engine) -> dict[str, str]:
    return {} if engine.dialect.name == "postgresql" else {"zone": "UTC"}


def _runs(engine: sa.Engine) -> RunTableMapping:
    runs = RunTableMapping.reflect(engine, "jobs", subject=None, outcomes=OUTCOMES, **_zone(engine))
    assert (runs.status_type, runs.outcome_type) == ("collated_text", "collated_text")
    return runs


def test_the_change_feed_reads_a_collated_outcome_byte_for_byte(sql_engine: sa.Engine) -> None:
    # Run 1 failed ('OK'), run 2 succeeded ('ok') an hour later: run 1 is superseded then.
    _tables(sql_engine, [("completed", "OK", 1), ("completed", "ok", 2)])
    service = ActionabilityService(sql_engine, runs=_runs(sql_engine), states={})
    since, until = T0 + timedelta(hours=2), T0 + timedelta(hours=4)
    explained = []
    for instant in (since, until):
        with service.session(scopes=VisibleScopes({1}), as_of=instant) as session:
            explained.append(to_json(session.explain(1))["run"]["actionability"])
    assert explained == ["actionable", "superseded_by_later_success"]
    with service.session(scopes=VisibleScopes({1}), as_of=until) as session:
        page = session.changes(since=since, until=until)
    # Run 2 itself is new in the window (informational, a success).
    assert sorted((change.run.id, change.result.status.value) for change in page.changes) == [
        (1, "superseded_by_later_success"),
        (2, "informational_only"),
    ]


def _unmapped(report: CheckReport) -> dict[tuple[str | None, str | None], str | None]:
    return {
        (finding.table, finding.column): finding.example
        for finding in report.findings
        if finding.code is FindingCode.UNMAPPED_VALUE
    }


def test_doctor_names_a_stored_value_that_differs_from_a_listed_one_only_in_case(
    sql_engine: sa.Engine,
) -> None:
    _tables(
        sql_engine,
        [("completed", "ok", 1), ("Completed", "OK", 2), ("completed", "ok", 3)],
    )
    zone = _zone(sql_engine)
    conns = StateTableMapping.reflect(
        sql_engine,
        "provider_connection",
        "conns",
        subject="id",
        proven_at="checked_at",
        statuses={"healthy": "healthy", "failing": "failing"},
        **zone,
    )
    assert conns.status_type == "collated_text"
    report = check(sql_engine, _runs(sql_engine), states={"provider_connection": conns})
    # 'Completed' is no status the mapping lists, 'HEALTHY' no state status: grouped under the
    # collation, each was counted as the listed value it equals.
    assert _unmapped(report) == {("jobs", "status"): "Completed", ("conns", "status"): "HEALTHY"}


def test_tied_states_that_differ_only_in_case_prove_nothing_in_the_counts_too(
    sql_engine: sa.Engine,
) -> None:
    # The state source reads two rows of one object at one proof time that say different
    # things as no fact; the pushdown compared them under the collation, found them equal, and
    # counted the failure resolved while its explanation said actionable.
    _tables(sql_engine, [("completed", "OK", 1)], states=(("c1", "healthy"), ("c1", "HEALTHY")))
    conns = StateTableMapping.reflect(
        sql_engine,
        "provider_connection",
        "conns",
        subject="id",
        proven_at="checked_at",
        attributes=None,
        **_zone(sql_engine),
    )
    states = {"provider_connection": conns}
    service = ActionabilityService(sql_engine, runs=_runs(sql_engine), states=states)
    with service.session(scopes=VisibleScopes({1}), as_of=T0 + timedelta(hours=4)) as session:
        explained = to_json(session.explain(1))["run"]["actionability"]
        counts = to_json(session.dashboard(top=0))["by_status"]
    assert explained == "actionable"
    assert {status: n for status, n in counts.items() if n} == {"actionable": 1}
