"""Vocabulary columns that are not plain text read alike in SQL and in Python.

A host's status, outcome or lifecycle column may hold integers, or text under a case-insensitive
collation, and a state table's status or ``where`` column may hold integers. The pushdown's
counts and pages (SQL) and ``explain`` (the ports and the core, Python) must give every run the
same verdict; a value the vocabulary does not list is manual review on both sides.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import T0, case_insensitive_text

from runactionability import ActionabilityService, VisibleScopes, to_json
from runactionability.adapters.sqlalchemy import RunTableMapping, StateTableMapping
from runactionability.errors import ConfigurationError

START = T0
AS_OF = T0 + timedelta(days=4)
CHECK = "provider.connection.check"
LIFECYCLES = {
    0: ("queued", None),
    1: ("running", None),
    2: ("completed", "succeeded"),
    3: ("completed", "failed"),
}
STORED_LIFECYCLES: dict[Any, Any] = dict(LIFECYCLES)
# (columns, mapping fields, stored values of each run, in run id order)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], list[tuple[Any, ...]]]] = {
    "integer-lifecycle": (
        {"state": sa.SmallInteger()},
        {"lifecycle": "state", "lifecycles": LIFECYCLES},
        [(3,), (3,), (2,), (3,), (1,), (0,), (7,), (3,), (3,)],
    ),
    "integer-status-outcome": (
        {"status": sa.SmallInteger(), "outcome": sa.SmallInteger()},
        {
            # TOML keys are text: "1" means the stored 1.
            "statuses": {"0": "queued", "1": "running", "2": "completed"},
            "outcomes": {"1": "succeeded", "2": "failed"},
        },
        [(2, 2), (2, 2), (2, 1), (1, None), (5, None), (2, 9), (0, None), (2, 2), (2, 2)],
    ),
    "case-insensitive-text": (
        {"status": "nocase", "outcome": "nocase"},
        {},
        [
            ("completed", "failed"),
            ("COMPLETED", "FAILED"),
            ("Running", None),
            ("completed", "Succeeded"),
            ("running", None),
            ("completed", "succeeded"),
            ("queued", None),
            ("completed", "failed"),
            ("Completed", "failed"),
        ],
    ),
}


def _create(engine: sa.Engine, case: str) -> None:
    columns, _, values = CASES[case]
    aware = engine.dialect.name == "postgresql"
    metadata = sa.MetaData()
    vocabulary = [
        sa.Column(name, case_insensitive_text(engine) if kind == "nocase" else kind)
        for name, kind in columns.items()
    ]
    jobs = sa.Table(
        "jobs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type", sa.Text),
        sa.Column("workspace_id", sa.Integer),
        sa.Column("environment_id", sa.Integer),
        *vocabulary,
        sa.Column("context", sa.JSON),
        *(sa.Column(name, sa.DateTime(timezone=aware)) for name in _TIMES),
    )
    conns = sa.Table(
        "conns",
        metadata,
        sa.Column("id", sa.Integer),
        sa.Column("workspace_id", sa.Integer),
        sa.Column("environment_id", sa.Integer),
        sa.Column("status", sa.SmallInteger),
        sa.Column("kind", sa.SmallInteger),
        sa.Column("checked_at", sa.DateTime(timezone=aware)),
    )
    metadata.create_all(engine)

    def instant(hours: float) -> datetime:
        value = START + timedelta(hours=hours)
        return value if aware else value.replace(tzinfo=None)

    rows = []
    for index, stored in enumerate(values):
        run_id = index + 1
        status = dict(zip(columns, stored, strict=True))
        rows.append(
            {
                "id": run_id,
                "type": CHECK,
                "workspace_id": 1,
                "environment_id": 2,
                **status,
                "context": {"provider_connection_id": str(run_id % 4 + 1)},
                "created_at": instant(run_id),
                "started_at": instant(run_id),
                "completed_at": instant(run_id + 0.5),
            }
        )
    # Subject 1 healthy after every run; 2 failing; 3 healthy in another kind's row; 4 a
    # status the vocabulary does not list.
    states = [(1, 1, 1), (2, 0, 1), (3, 1, 2), (4, 5, 1)]
    with engine.begin() as connection:
        connection.execute(jobs.insert(), rows)
        connection.execute(
            conns.insert(),
            [
                {
                    "id": subject,
                    "workspace_id": 1,
                    "environment_id": 2,
                    "status": status,
                    "kind": kind,
                    "checked_at": instant(40),
                }
                for subject, status, kind in states
            ],
        )


_TIMES = ("created_at", "started_at", "completed_at")


def _service(engine: sa.Engine, case: str) -> ActionabilityService:
    zone = {} if engine.dialect.name == "postgresql" else {"zone": "UTC"}
    runs = RunTableMapping.reflect(engine, "jobs", subject=None, **zone, **CASES[case][1])
    connections = StateTableMapping.reflect(
        engine,
        "provider_connection",
        "conns",
        subject="id",
        proven_at="checked_at",
        statuses={1: "healthy", 0: "failing"},
        where={"kind": "1"},
        **zone,
    )
    return ActionabilityService(engine, runs=runs, states={"provider_connection": connections})


@pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")
# Unlisted values are most of some cases' problem runs, on purpose: the service says so once
# (tests/service/test_invalid_sample.py), and what is under test here is that both sides agree.
@pytest.mark.filterwarnings("ignore::runactionability.MappingMismatchWarning")
@pytest.mark.parametrize("case", sorted(CASES))
def test_counts_pages_and_explain_agree_on_every_stored_value(
    sql_engine: sa.Engine, case: str
) -> None:
    _create(sql_engine, case)
    _agree(sql_engine, case)


@pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")
@pytest.mark.filterwarnings("ignore::runactionability.MappingMismatchWarning")
def test_a_collated_column_read_through_a_view_agrees_too(sql_engine: sa.Engine) -> None:
    # A SQLite view's text does not name the collation its columns keep from the table: read
    # as plain text, 'Running' was counted as running and explained as manual review.
    case = "case-insensitive-text"
    _create(sql_engine, case)
    with sql_engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE jobs RENAME TO jobs_stored"))
        connection.execute(sa.text("CREATE VIEW jobs AS SELECT * FROM jobs_stored"))
    _agree(sql_engine, case)


def _agree(sql_engine: sa.Engine, case: str) -> None:
    """Every run's verdict is the same in the counts, the pages and its explanation."""
    service = _service(sql_engine, case)
    run_ids = range(1, len(CASES[case][2]) + 1)
    with service.session(scopes=VisibleScopes({1}), as_of=AS_OF) as session:
        explained = {}
        for run_id in run_ids:
            explanation = session.explain(run_id)
            assert explanation is not None
            explained[run_id] = to_json(explanation)["run"]
        dashboard = to_json(session.dashboard(top=len(run_ids)))
        follow_up = to_json(session.follow_up_page(limit=50))["runs"]
        history = to_json(session.history_page(limit=50))["runs"]
    verdicts = {run_id: run["actionability"] for run_id, run in explained.items()}
    for row in (*dashboard["top"], *follow_up, *history):
        assert (row["run_id"], row["actionability"], row["reason"]) == (
            row["run_id"],
            verdicts[row["run_id"]],
            explained[row["run_id"]]["reason"],
        )
    attention = {run_id for run_id, run in explained.items() if run["needs_attention"]}
    assert {row["run_id"] for row in follow_up} == attention
    # Every verdict is reached, and an unlisted value is manual review on both sides.
    assert "requires_manual_review" in verdicts.values()
    by_status = {status: n for status, n in dashboard["by_status"].items() if n}
    assert by_status == dict(Counter(verdicts.values()))
    assert dashboard["total"] == len(verdicts)


def _jobs(engine: sa.Engine, status: sa.types.TypeEngine[Any]) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "jobs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type", sa.Text),
        sa.Column("workspace_id", sa.Integer),
        sa.Column("environment_id", sa.Integer),
        sa.Column("status", status),
        sa.Column("outcome", sa.Text),
        sa.Column("context", sa.JSON),
        *(sa.Column(name, sa.DateTime(timezone=True)) for name in _TIMES),
    )
    sa.Table(
        "conns",
        metadata,
        sa.Column("id", sa.Integer),
        sa.Column("workspace_id", sa.Integer),
        sa.Column("environment_id", sa.Integer),
        sa.Column("status", status),
        sa.Column("kind", sa.SmallInteger),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
    )
    metadata.create_all(engine)


@pytest.mark.parametrize(
    ("status", "fields", "message"),
    [
        # The library's own words can never be stored in an integer column.
        (sa.SmallInteger(), {}, r"'status' is SMALLINT, so .* not 'queued'"),
        (
            sa.SmallInteger(),
            {"lifecycle": "status", "lifecycles": {**STORED_LIFECYCLES, "done": LIFECYCLES[2]}},
            r"'status' is SMALLINT, so .* not 'done'",
        ),
        (sa.SmallInteger(), {"statuses": {"01": "completed", "2": "running"}}, "not '01'"),
        (sa.Numeric(), {}, "cannot read as a vocabulary value: store it as text or an integer"),
    ],
)
def test_a_run_vocabulary_its_column_cannot_hold_is_refused_at_build(
    sql_engine: sa.Engine, status: sa.types.TypeEngine[Any], fields: dict[str, Any], message: str
) -> None:
    _jobs(sql_engine, status)
    with pytest.raises(ConfigurationError, match=message):
        RunTableMapping.reflect(sql_engine, "jobs", subject=None, zone="UTC", **fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "'status' holds integers, which no policy word is: map each stored integer"),
        ({"statuses": {"ok": "healthy"}}, r"'status' is SMALLINT, so .* not 'ok'"),
        ({"statuses": {1: "healthy"}, "where": {"kind": "baseline"}}, "not 'baseline'"),
    ],
)
def test_a_state_vocabulary_its_column_cannot_hold_is_refused_at_build(
    sql_engine: sa.Engine, fields: dict[str, Any], message: str
) -> None:
    _jobs(sql_engine, sa.SmallInteger())
    with pytest.raises(ConfigurationError, match=message):
        StateTableMapping.reflect(
            sql_engine,
            "provider_connection",
            "conns",
            subject="id",
            proven_at="checked_at",
            zone="UTC",
            **fields,
        )
