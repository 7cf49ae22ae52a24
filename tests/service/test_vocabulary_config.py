"""A configuration file that does not reflect its tables names what their vocabulary columns
hold (``status_type``, ``outcome_type``), and a service refuses a type the columns contradict.

Before, a file with ``reflect = false`` could not say it at all: every vocabulary column was
read as plain text, so a case-insensitive status column was counted one way and explained
another, and an integer one on SQLite matched the SQL's integers while Python looked its values
up as text (every run ``invalid_status``), silently.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import T0, case_insensitive_text

from runactionability import ActionabilityService, MappingMismatchWarning, VisibleScopes, to_json
from runactionability.adapters.sqlalchemy import RunTableMapping
from runactionability.config import Config, RunsConfig, StateConfig
from runactionability.errors import ConfigurationError

CHECK = "provider.connection.check"
pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")
_TIMES = ("created_at", "started_at", "completed_at")


def _jobs(engine: sa.Engine, status: sa.types.TypeEngine[Any], values: list[Any]) -> None:
    """``jobs`` with one failed provider check per stored status, timestamps as the library's
    native storage (so that ``reflect = false`` needs no ``timestamps`` key)."""
    aware = engine.dialect.name == "postgresql"
    instant: Any = sa.DateTime(timezone=True) if aware else sa.BigInteger
    metadata = sa.MetaData()
    jobs = sa.Table(
        "jobs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type", sa.Text),
        sa.Column("workspace_id", sa.Text),
        sa.Column("environment_id", sa.Text),
        sa.Column("status", status),
        sa.Column("outcome", sa.Text),
        sa.Column("context", sa.JSON),
        *(sa.Column(name, instant) for name in _TIMES),
    )
    metadata.create_all(engine)

    def at(hours: float) -> Any:
        value = T0 + timedelta(hours=hours)
        return value if aware else int((value - datetime(1970, 1, 1, tzinfo=value.tzinfo)) / _US)

    rows = [
        {
            "id": run_id,
            "type": CHECK,
            "workspace_id": "w1",
            "environment_id": "e1",
            "status": stored,
            "outcome": "failed",
            "context": {"provider_connection_id": f"c{run_id}"},
            "created_at": at(run_id),
            "started_at": at(run_id),
            "completed_at": at(run_id + 0.5),
        }
        for run_id, stored in enumerate(values, start=1)
    ]
    with engine.begin() as connection:
        connection.execute(jobs.insert(), rows)


_US = timedelta(microseconds=1)


def _service(engine: sa.Engine, **runs: Any) -> ActionabilityService:
    config = Config(runs=RunsConfig(table="jobs", reflect=False, subject=False, **runs))
    return ActionabilityService.from_config(config, bind=engine)


def _verdicts(service: ActionabilityService, ids: list[int]) -> tuple[dict[str, int], list[str]]:
    with service.session(scopes=VisibleScopes({"w1"}), as_of=T0 + timedelta(days=1)) as session:
        counts = to_json(session.dashboard(top=0))["by_status"]
        explained = [to_json(session.explain(run_id))["run"]["actionability"] for run_id in ids]
    return {status: n for status, n in counts.items() if n}, explained


def test_an_unreflected_collated_status_column_is_refused_unless_the_file_names_it(
    sql_engine: sa.Engine,
) -> None:
    _jobs(sql_engine, case_insensitive_text(sql_engine), ["completed", "Completed"])
    with pytest.raises(ConfigurationError, match=r'jobs\.status .* status_type = "collated_text"'):
        _service(sql_engine)
    # The outcome column is plain text (on SQLite too, whose reflection names no collation:
    # each column's own definition is read).
    # 'Completed' is no status the vocabulary lists: said at build, and manual review in the
    # counts as in explain.
    with pytest.warns(MappingMismatchWarning, match=r"jobs\.status: .* 'Completed' \(1\)"):
        service = _service(sql_engine, status_type="collated_text")
    counts, explained = _verdicts(service, [1, 2])
    assert explained == ["actionable", "requires_manual_review"]
    assert counts == {"actionable": 1, "requires_manual_review": 1}


def test_an_unreflected_integer_status_column_is_refused_unless_the_file_names_it(
    sql_engine: sa.Engine,
) -> None:
    _jobs(sql_engine, sa.SmallInteger(), [2, 2])
    with pytest.raises(ConfigurationError, match=r'jobs\.status .* status_type = "integer"'):
        _service(sql_engine, statuses={"2": "completed"})
    service = _service(sql_engine, statuses={"2": "completed"}, status_type="integer")
    counts, explained = _verdicts(service, [1, 2])
    assert explained == ["actionable", "actionable"]
    assert counts == {"actionable": 2}


def test_an_unreflected_state_status_column_is_refused_unless_the_file_names_it(
    sql_engine: sa.Engine,
) -> None:
    _jobs(sql_engine, sa.Text(), ["completed"])
    aware = sql_engine.dialect.name == "postgresql"
    sa.Table(
        "conns",
        meta := sa.MetaData(),
        sa.Column("id", sa.Text),
        sa.Column("workspace_id", sa.Text),
        sa.Column("environment_id", sa.Text),
        sa.Column("health", sa.SmallInteger),
        sa.Column("checked_at", sa.DateTime(timezone=True) if aware else sa.BigInteger),
    )
    meta.create_all(sql_engine)
    state: dict[str, Any] = {
        "table": "conns",
        "reflect": False,
        "subject": "id",
        "status": "health",
        "proven_at": "checked_at",
        "attributes": False,
        "statuses": {"1": "healthy"},
    }
    runs = RunsConfig(table="jobs", reflect=False, subject=False)
    refused = Config(runs=runs, states={"provider_connection": StateConfig(**state)})
    with pytest.raises(ConfigurationError, match=r"conns\.health .* status_type = \"integer\""):
        ActionabilityService.from_config(refused, bind=sql_engine)
    named = StateConfig(**state, status_type="integer")
    config = Config(runs=runs, states={"provider_connection": named})
    ActionabilityService.from_config(config, bind=sql_engine).close()


def test_a_collation_sqlite_only_guesses_is_warned_not_refused(sql_engine: sa.Engine) -> None:
    # A view's text names no collation, so SQLite's is a guess: a hand-built mapping over a
    # view with the default status_type was refused at build where it had built before.
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL states every column's collation")
    _jobs(sql_engine, sa.Text(), ["completed"])
    with sql_engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE jobs RENAME TO jobs_stored"))
        connection.execute(sa.text("CREATE VIEW jobs AS SELECT * FROM jobs_stored"))
    with pytest.warns(MappingMismatchWarning, match=r"collation is not stated.*status_type="):
        service = ActionabilityService(
            sql_engine, runs=RunTableMapping(table="jobs", subject=None), states={}
        )
    counts, explained = _verdicts(service, [1])
    assert (counts, explained) == ({"actionable": 1}, ["actionable"])
