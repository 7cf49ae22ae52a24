"""A host's runs table with one lifecycle column, read through ``RunTableMapping.lifecycle``."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import (
    AS_OF,
    CATALOG,
    HOST_RUNS,
    HOST_STATE_MAPPINGS,
    LIFECYCLES,
    REGISTRY,
    Ports,
    executed_statements,
    host_ports,
    query_plan,
)
from tests.support import stored_fact as fact
from tests.support import stored_run as run

from runactionability import (
    Actionability,
    LaterSuccessRequest,
    Reason,
    RunOutcome,
    RunQuery,
    RunStatus,
    StateRequest,
)
from runactionability.adapters.sqlalchemy import RunTableMapping
from runactionability.adapters.sqlalchemy.mapping import UnmappedValue
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import VisibleScopes
from runactionability.errors import ConfigurationError

CHECK = "provider.connection.check"


def jobs(**fields: Any) -> RunTableMapping:
    values: dict[str, Any] = {"table": "jobs", "lifecycle": "state", "lifecycles": LIFECYCLES}
    values.update(fields)
    return RunTableMapping(**values)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lifecycle": None}, "lifecycle names no column"),
        ({"lifecycles": {}}, "needs lifecycles"),
        ({"lifecycles": {**LIFECYCLES, "halted": ("running", "failed")}}, "'halted' means running"),
        ({"lifecycles": {**LIFECYCLES, "over": ("completed", None)}}, "'over' means completed"),
        ({"lifecycles": {"done": ("finished", "succeeded")}}, r"lifecycles\['done'\] must be"),
        ({"lifecycles": {"done": "completed"}}, r"lifecycles\['done'\] must be"),
        (
            {"lifecycles": {"running": ("running", None), "error": ("completed", "failed")}},
            "no value for \\('completed', 'succeeded'\\)",
        ),
        ({"statuses": {"done": "completed"}}, "not read when lifecycle is set"),
        ({"lifecycle": "bad name"}, "must be a SQL identifier"),
    ],
)
def test_a_lifecycle_mapping_is_checked_when_it_is_built(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        jobs(**fields)


def test_each_lifecycle_value_reads_as_its_status_and_outcome() -> None:
    mapping = jobs()
    assert [(mapping.read_status(v), mapping.read_outcome(v)) for v in ("pending", "done")] == [
        (RunStatus.QUEUED, None),
        (RunStatus.COMPLETED, RunOutcome.SUCCEEDED),
    ]
    # A value the host did not list, even a library word, is no status of this host.
    assert mapping.read_status("succeeded") == UnmappedValue("succeeded")
    assert mapping.read_outcome("succeeded") is None
    assert (mapping.read_status(None), mapping.read_outcome(None)) == (None, None)
    assert mapping.stored_statuses(RunStatus.COMPLETED) == (
        "done",
        "error",
        "partial",
        "refused",
        "stopped",
    )
    assert mapping.successes() == (("done", "done"),)


@pytest.fixture
def ports(sql_engine: sa.Engine) -> Ports:
    history = [
        run(1, CHECK, outcome="failed", start=0, context={"provider_connection_id": "c1"}),
        run(2, CHECK, status="running", outcome=None, start=5, completed_at=None),
        run(3, CHECK, status="queued", outcome=None, start=6, completed_at=None),
        run(4, status=UnmappedValue("exploded"), outcome=None, start=7),
        run(5, status=UnmappedValue("succeeded"), outcome=None, start=8),
        run(6, status=None, outcome=None, start=9),
        run(7, outcome="succeeded", start=10),
        run(8, outcome="failed", start=3),
    ]
    facts = [fact("provider_connection", "c1", "healthy", 4)]
    return host_ports(sql_engine, history, facts)


def test_running_jobs_are_active_work_and_unlisted_values_are_flagged(ports: Ports) -> None:
    listed = ports.runs.list_runs(RunQuery(workspace_ids={"w1"}), limit=20).runs
    results = {r.run_id: r for r in ports.resolver().evaluate_many(listed, as_of=AS_OF)}
    assert {run_id: (r.status, r.reason) for run_id, r in results.items()} == {
        1: (Actionability.RESOLVED_BY_CURRENT_STATE, Reason.CURRENT_STATE_HEALTHY),
        2: (Actionability.NOT_TERMINAL, Reason.RUN_NOT_TERMINAL),
        3: (Actionability.NOT_TERMINAL, Reason.RUN_NOT_TERMINAL),
        4: (Actionability.REQUIRES_MANUAL_REVIEW, Reason.INVALID_STATUS),
        5: (Actionability.REQUIRES_MANUAL_REVIEW, Reason.INVALID_STATUS),
        6: (Actionability.REQUIRES_MANUAL_REVIEW, Reason.INVALID_STATUS),
        7: (Actionability.INFORMATIONAL_ONLY, Reason.RUN_SUCCEEDED),
        8: (Actionability.SUPERSEDED_BY_LATER_SUCCESS, Reason.LATER_SUCCESS),
    }
    assert ports.runs.get_run(4).status == UnmappedValue("exploded")  # type: ignore[union-attr]


def test_list_filters_and_the_pushdown_read_the_lifecycle_column(
    sql_engine: sa.Engine, ports: Ports
) -> None:
    def ids(**filters: Any) -> list[Any]:
        query = RunQuery(workspace_ids={"w1"}, statuses=filters.pop("statuses", None))
        return [r.id for r in ports.runs.list_runs(query, limit=20, **filters).runs]

    assert ids(statuses={RunStatus.RUNNING, RunStatus.QUEUED}) == [3, 2]
    assert ids(outcomes={RunOutcome.FAILED}) == [8, 1]
    assert ids(statuses={RunStatus.COMPLETED}, outcomes={RunOutcome.SUCCEEDED}) == [7]
    pushdown = SqlPushdown(
        sql_engine, runs=HOST_RUNS, states=HOST_STATE_MAPPINGS, registry=REGISTRY, catalog=CATALOG
    )
    counts = pushdown.count(VisibleScopes({"w1"}), as_of=AS_OF).counts.by_status
    assert {status: n for status, n in counts.items() if n} == {
        Actionability.RESOLVED_BY_CURRENT_STATE: 1,
        Actionability.NOT_TERMINAL: 2,
        Actionability.REQUIRES_MANUAL_REVIEW: 3,
        Actionability.INFORMATIONAL_ONLY: 1,
        Actionability.SUPERSEDED_BY_LATER_SUCCESS: 1,
    }


def _plan(engine: sa.Engine, call: Any) -> str:
    """The plan of the longest query ``call`` runs (PostgreSQL told to avoid table scans)."""
    with executed_statements(engine) as seen:
        call()
    queries = [each for each in seen if each[0].lstrip().upper().startswith(("SELECT", "WITH"))]
    return query_plan(engine, *max(queries, key=lambda executed: len(executed[0])))


def test_the_lookups_seek_the_lifecycle_index_and_the_state_key(
    sql_engine: sa.Engine, ports: Ports
) -> None:
    request = LaterSuccessRequest(
        operation_types=(CHECK,),
        workspace_id="w1",
        environment_id="e1",
        subject_key="provider_connection_id",
        subject="c1",
    )
    plan = _plan(sql_engine, lambda: ports.history.latest_successes([request], as_of=AS_OF))
    # The seek compares the lifecycle column by equality, as the reference index's status.
    sqlite = sql_engine.dialect.name == "sqlite"
    assert re.search(
        r"ix_m3_jobs_success \(tenant=\? AND kind=\? AND state=\?"
        if sqlite
        else r"using ix_m3_jobs_success on m3_jobs.*\n\s*Index Cond: .*\(state\)::text = ",
        plan,
    ), plan
    state = StateRequest(
        kind="provider_connection", workspace_id="w1", environment_id="e1", subject="c1"
    )
    source = ports.states["provider_connection"]
    plan = _plan(sql_engine, lambda: source.current_states([state]))
    # The kind filter is the first key of the seek for the object's newest row.
    assert re.search(
        r"ix_m3_job_states_object \(kind=\? AND tenant=\? AND env=\? AND ref=\?"
        if sqlite
        else r"ix_m3_job_states_object on m3_job_states newest_rows.*\n\s*"
        r"Index Cond: \(\(kind = 'provider_connection'::text\) AND \(tenant = ",
        plan,
    ), plan


def test_the_pushdown_seeks_successes_on_the_lifecycle_index(
    sql_engine: sa.Engine, ports: Ports
) -> None:
    pushdown = SqlPushdown(
        sql_engine,
        runs=HOST_RUNS,
        states=HOST_STATE_MAPPINGS,
        registry=REGISTRY,
        catalog=CATALOG,
        form="exists",
    )
    plan = _plan(sql_engine, lambda: pushdown.classify(VisibleScopes({"w1"}), as_of=AS_OF))
    # The later-success test of a connection check seeks the success value in the index.
    assert re.search(
        r"s\d+_provider_connection_check USING (COVERING )?INDEX ix_m3_jobs_success "
        r"\(tenant=\? AND kind=\? AND state=\?"
        if sql_engine.dialect.name == "sqlite"
        else r"ix_m3_jobs_success on m3_jobs s\d+_provider_connection_check .*\n\s*"
        r"Index Cond: .*\(state\)::text = 'done'::text",
        plan,
    ), plan
