"""Evidence under hostile data: proofs from stored rows, exact ids, one validity rule (issue 8).

Every test asks the ports a user would wire up (memory, SQLite, PostgreSQL) through a resolver;
``tests/pushdown/test_pushdown_hostile_evidence.py`` asks the SQL classification the same questions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, Loader, at, sql_ports
from tests.support import stored_run as run

from runactionability import (
    Actionability,
    ActionabilityService,
    EveryWorkspace,
    LaterSuccessRequest,
    OperationRun,
    Reason,
    Resolver,
    RunFact,
    RunQuery,
    StateFact,
    StateRequest,
)
from runactionability.adapters.memory import MemoryStateSource
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    JsonDocument,
    RunTableMapping,
    SqlRunHistory,
    SqlRunSource,
    SqlStateSource,
    StateTableMapping,
    UtcTimestamp,
    create_schema,
    insert_runs,
    insert_states,
    operation_runs,
)
from runactionability.adapters.sqlalchemy.schema import _run_row
from runactionability.errors import MissingStateSourceWarning
from runactionability.service.every import workspace_names

CHECK = "provider.connection.check"
KEY = "provider_connection_id"

# A host whose id columns compare case-insensitively: SQLite's NOCASE, a nondeterministic ICU
# collation on PostgreSQL (created by ``case_insensitive``).
# Their vocabulary columns are case-insensitive too: said, as a service requires (unsaid, the
# statements would match 'FAILED' as 'failed' while the readers flag it).
CI_RUNS = RunTableMapping(
    table="ci_runs", status_type="collated_text", outcome_type="collated_text"
)
CI_JSON_RUNS = RunTableMapping(
    table="ci_runs", subject=None, status_type="collated_text", outcome_type="collated_text"
)
CI_STATES = StateTableMapping(
    kind="provider_connection", table="ci_states", attributes=None, status_type="collated_text"
)
JSON_RUNS = RunTableMapping(table="operation_runs", subject=None)


def _collation(dialect: str) -> str:
    return "NOCASE" if dialect == "sqlite" else "ci"


def ci_tables(dialect: str) -> tuple[sa.Table, sa.Table]:
    """The host's runs and states tables, every id and vocabulary column case-insensitive."""
    text = sa.String(200, collation=_collation(dialect))
    host = sa.MetaData()
    runs = sa.Table(
        "ci_runs",
        host,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type", text),
        sa.Column("workspace_id", text),
        sa.Column("environment_id", text),
        sa.Column("status", text),
        sa.Column("outcome", text),
        sa.Column("created_at", UtcTimestamp()),
        sa.Column("started_at", UtcTimestamp()),
        sa.Column("completed_at", UtcTimestamp()),
        sa.Column("subject", text),
        sa.Column("context", JsonDocument()),
    )
    sa.Index("ix_ci_runs_seek", runs.c.workspace_id, runs.c.type, runs.c.subject)
    states = sa.Table(
        "ci_states",
        host,
        sa.Column("workspace_id", text),
        sa.Column("environment_id", text),
        sa.Column("subject", text),
        sa.Column("status", text),
        sa.Column("proven_at", UtcTimestamp()),
    )
    return runs, states


@pytest.fixture
def case_insensitive(sql_engine: sa.Engine) -> sa.Engine:
    return create_case_insensitive(sql_engine)


def create_case_insensitive(sql_engine: sa.Engine) -> sa.Engine:
    """``sql_engine`` with the case-insensitive host tables created (and empty)."""
    if sql_engine.dialect.name == "postgresql":
        with sql_engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE COLLATION IF NOT EXISTS ci "
                "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
            )
    runs, _ = ci_tables(sql_engine.dialect.name)
    runs.metadata.create_all(sql_engine)
    return sql_engine


def check(run_id: int, outcome: str, start: float, **fields: Any) -> OperationRun:
    """A provider connection check of connection c1 in (acme, prod)."""
    values: dict[str, Any] = {
        "workspace_id": "acme",
        "environment_id": "prod",
        "outcome": outcome,
        "context": {KEY: "c1"},
        "start": start,
    }
    values.update(fields)
    return run(run_id, CHECK, **values)


def store_runs(engine: sa.Engine, table: str, runs: list[OperationRun]) -> None:
    rows = [_run_row(item, CATALOG) for item in runs]
    target = sa.table(table, *(sa.column(c.name, c.type) for c in operation_runs.columns))
    with engine.begin() as connection:
        connection.execute(target.insert(), rows)


def resolver_over(history: Any, states: dict[str, Any] | None = None) -> Resolver:
    """A strict resolver over ``history``; kinds without a source in ``states`` have none."""
    sources: dict[str, Any] = {kind: MemoryStateSource(kind) for kind in STATE_KINDS}
    sources.update(states or {})
    return Resolver(
        history=history, states=sources, registry=REGISTRY, catalog=CATALOG, strict=True
    )


def ci_resolver(engine: sa.Engine, mapping: RunTableMapping = CI_RUNS) -> Resolver:
    return resolver_over(
        SqlRunHistory(engine, mapping),
        {"provider_connection": SqlStateSource(engine, CI_STATES)},
    )


# -- finding 1: a proof carries the stored row; ids compare byte for byte ---------------------

OTHER_CASE: dict[str, dict[str, Any]] = {
    "workspace": {"workspace_id": "ACME"},
    "environment": {"environment_id": "PROD"},
    "subject": {"context": {KEY: "C1"}},
}


@pytest.mark.parametrize("mapping", [CI_RUNS, CI_JSON_RUNS], ids=["subject column", "json"])
@pytest.mark.parametrize("differs", sorted(OTHER_CASE))
def test_a_success_under_another_case_never_supersedes(
    case_insensitive: sa.Engine, differs: str, mapping: RunTableMapping
) -> None:
    failure = check(1, "failed", 0)
    elsewhere = check(2, "succeeded", 5, **OTHER_CASE[differs])
    store_runs(case_insensitive, "ci_runs", [failure, elsewhere])
    result = ci_resolver(case_insensitive, mapping).evaluate(failure, as_of=AS_OF)
    assert result.status is Actionability.ACTIONABLE


@pytest.mark.parametrize("mapping", [CI_RUNS, CI_JSON_RUNS], ids=["subject column", "json"])
def test_a_proof_carries_the_stored_row(
    case_insensitive: sa.Engine, mapping: RunTableMapping
) -> None:
    failure = check(1, "failed", 0)
    # The newest success under the column's collation is in another case; the older exact one
    # is the evidence, and the proof names the row as stored.
    exact = check(2, "succeeded", 5)
    other = check(3, "succeeded", 9, workspace_id="ACME")
    store_runs(case_insensitive, "ci_runs", [failure, exact, other])
    result = ci_resolver(case_insensitive, mapping).evaluate(failure, as_of=AS_OF)
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    proof = result.proof
    assert proof is not None
    assert isinstance(proof, RunFact)
    assert (proof.run_id, proof.workspace_id, proof.environment_id) == (2, "acme", "prod")
    assert proof.subject == "c1"


def test_a_state_under_another_case_never_resolves(case_insensitive: sa.Engine) -> None:
    failure = check(1, "failed", 0)
    store_runs(case_insensitive, "ci_runs", [failure])
    _, states = ci_tables(case_insensitive.dialect.name)
    healthy = {"environment_id": "prod", "status": "healthy", "proven_at": at(30)}
    with case_insensitive.begin() as connection:
        connection.execute(
            states.insert(),
            [
                {**healthy, "workspace_id": "ACME", "subject": "c1"},
                {**healthy, "workspace_id": "acme", "subject": "C1"},
            ],
        )
    source = SqlStateSource(case_insensitive, CI_STATES)
    request = StateRequest(
        kind="provider_connection", workspace_id="acme", environment_id="prod", subject="c1"
    )
    assert source.current_states([request]) == {}
    assert ci_resolver(case_insensitive).evaluate(failure, as_of=AS_OF).status is (
        Actionability.ACTIONABLE
    )


def test_a_state_fact_carries_the_stored_row(case_insensitive: sa.Engine) -> None:
    _, states = ci_tables(case_insensitive.dialect.name)
    with case_insensitive.begin() as connection:
        connection.execute(
            states.insert(),
            {
                "workspace_id": "acme",
                "environment_id": "prod",
                "subject": "c1",
                "status": "healthy",
                "proven_at": at(30),
            },
        )
    request = StateRequest(
        kind="provider_connection", workspace_id="acme", environment_id="prod", subject="c1"
    )
    found = SqlStateSource(case_insensitive, CI_STATES).current_states([request])[request]
    assert (found.workspace_id, found.environment_id, found.subject) == ("acme", "prod", "c1")


def test_runs_of_another_case_are_not_listed(case_insensitive: sa.Engine) -> None:
    store_runs(
        case_insensitive,
        "ci_runs",
        [check(1, "failed", 0), check(2, "failed", 1, workspace_id="ACME")],
    )
    source = SqlRunSource(case_insensitive, CI_RUNS)
    listed = source.list_runs(RunQuery(workspace_ids=frozenset({"acme"}))).runs
    assert [item.id for item in listed] == [1]
    query = RunQuery(workspace_ids=frozenset({"acme"}), environment_ids=frozenset({"PROD"}))
    assert source.list_runs(query).runs == []


def test_an_id_holding_nul_is_no_usable_id(load: Loader, request: pytest.FixtureRequest) -> None:
    # SQLite's JSON functions end a text at U+0000, so 'w1\0x' once read as 'w1' and took its
    # evidence; PostgreSQL cannot store such a text at all, so that leg stores none.
    failure = check(1, "failed", 0, workspace_id="w1\x00x")
    success = check(2, "succeeded", 5, workspace_id="w1")
    postgresql = "postgresql" in request.node.callspec.params["load"]
    ports = load([success] if postgresql else [failure, success], [])
    result = ports.resolver().evaluate(failure, as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason is Reason.INVALID_SCOPE


def test_a_request_naming_nul_gets_no_evidence(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    insert_runs(sql_engine, [check(2, "succeeded", 5, workspace_id="w1")], catalog=CATALOG)
    request = LaterSuccessRequest(
        operation_types=(CHECK,),
        workspace_id="w1\x00x",
        environment_id="prod",
        subject_key=KEY,
        subject="c1",
    )
    assert SqlRunHistory(sql_engine).latest_successes([request], as_of=AS_OF) == {}
    state = StateRequest(
        kind="provider_connection", workspace_id="w1\x00x", environment_id="prod", subject="c1"
    )
    mapping = StateTableMapping(kind="provider_connection", table="provider_connection_states")
    assert SqlStateSource(sql_engine, mapping).current_states([state]) == {}


def test_an_empty_subject_and_no_subject_are_two_objects_of_the_reference_tables(
    sql_engine: sa.Engine,
) -> None:
    # The unique index folded NULL into '', so recording both (the memory source keeps both)
    # failed with an IntegrityError; the change feed's differential test found it.
    create_schema(sql_engine)
    facts = [
        StateFact(
            kind="provider_connection",
            workspace_id="w1",
            environment_id="prod",
            subject=subject,
            status=status,
            proven_at=at(3),
        )
        for subject, status in ((None, "healthy"), ("", "failing"))
    ]
    assert insert_states(sql_engine, facts) == insert_states(sql_engine, facts) == 2
    mapping = StateTableMapping(kind="provider_connection", table="provider_connection_states")
    scope_wide = StateRequest(
        kind="provider_connection", workspace_id="w1", environment_id="prod", subject=None
    )
    found = SqlStateSource(sql_engine, mapping).current_states([scope_wide])
    assert found[scope_wide].status == "healthy"
    assert MemoryStateSource("provider_connection", facts).current_states([scope_wide]) == found
    with sql_engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT subject, status FROM provider_connection_states ORDER BY status")
        ).all()
    assert [tuple(row) for row in rows] == [("", "failing"), (None, "healthy")]


# -- finding 2: corrupt evidence is never proof; one validity rule ------------------------------

CORRUPT = {
    "completed before it started": {"started_at": at(6), "completed_at": at(5)},
    "completed before it was created": {"created_at": at(7), "completed_at": at(6)},
    "started after as_of": {"started_at": AS_OF + timedelta(hours=1), "completed_at": at(6)},
}


@pytest.mark.parametrize("fault", sorted(CORRUPT))
def test_a_corrupt_success_never_supersedes(load: Loader, fault: str) -> None:
    failure = check(1, "failed", 0)
    corrupt = check(2, "succeeded", 5, **CORRUPT[fault])
    ports = load([failure, corrupt], [])
    result = ports.resolver().evaluate(failure, as_of=AS_OF)
    assert result.status is Actionability.ACTIONABLE


@pytest.mark.parametrize("fault", sorted(CORRUPT))
def test_the_same_fault_on_a_failed_run_is_flagged(load: Loader, fault: str) -> None:
    failure = check(1, "failed", 5, **CORRUPT[fault])
    ports = load([failure], [])
    result = ports.resolver().evaluate(failure, as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason in {Reason.COMPLETED_BEFORE_STARTED, Reason.COMPLETED_BEFORE_CREATED}


def set_real(engine: sa.Engine, run_id: int, column: str) -> None:
    """Store ``column`` of a run as a REAL (a value other code could write on SQLite)."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE operation_runs SET {column} = coalesce({column}, created_at) + 0.5 "
            f"WHERE id = {run_id}"
        )


@pytest.mark.parametrize("column", ["created_at", "started_at", "completed_at"])
def test_a_real_timestamp_is_invalid_on_every_sqlite_path(
    sql_engine: sa.Engine, column: str
) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores a REAL in a timestamp column")
    failure = check(1, "failed", 0)
    success = check(2, "succeeded", 5, started_at=at(5))
    ports = sql_ports(sql_engine, [failure, success], [])
    set_real(sql_engine, 2, column)
    read = ports.runs.get_run(2)
    assert read is not None
    assert ports.resolver().evaluate(read, as_of=AS_OF).status is (Actionability.INFORMATIONAL_ONLY)
    assert ports.resolver().evaluate(failure, as_of=AS_OF).status is Actionability.ACTIONABLE
    # The same REAL on the failed run is flagged by the core.
    set_real(sql_engine, 1, column)
    failed = ports.runs.get_run(1)
    assert failed is not None
    assert ports.resolver().evaluate(failed, as_of=AS_OF).status is (
        Actionability.REQUIRES_MANUAL_REVIEW
    )


@pytest.mark.parametrize("bad", [True, 4.5], ids=["bool", "float"])
def test_a_bad_scope_id_stays_bad_in_sql(load: Loader, bad: object) -> None:
    failure = check(1, "failed", 0, workspace_id=bad)
    success = check(2, "succeeded", 5, workspace_id=bad)
    named = check(3, "failed", 0, workspace_id=str(bad))
    ports = load([failure, success, named], [])
    resolver = ports.resolver()
    stored = ports.runs.get_run(1)
    assert stored is not None
    flagged = resolver.evaluate(stored, as_of=AS_OF)
    assert flagged.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert flagged.reason is Reason.INVALID_SCOPE
    # Its success is no evidence for a run of the workspace its text would name.
    assert resolver.evaluate(named, as_of=AS_OF).status is Actionability.ACTIONABLE


def test_the_core_refuses_a_corrupt_fact_from_any_port() -> None:
    from runactionability.evidence import RunFact

    request_fact = RunFact(
        run_id=2,
        operation_type=CHECK,
        workspace_id="acme",
        environment_id="prod",
        subject="c1",
        started_at=at(5),
        completed_at=at(6),
        created_at=at(7),
    )

    class Port:
        def latest_successes(self, requests: Any, *, as_of: datetime) -> Any:
            return dict.fromkeys(requests, request_fact)

    resolver = resolver_over(Port())
    result = resolver.evaluate(check(1, "failed", 0), as_of=AS_OF)
    assert result.status is Actionability.ACTIONABLE


# -- finding 3: JSON subjects beyond 64 bits compare as exact text -----------------------------

BIG = 2**64


def big_subject(engine: sa.Engine, failure_subject: int, success_subject: int) -> Resolver:
    create_schema(engine)
    failure = check(1, "failed", 0, context={KEY: failure_subject})
    success = check(2, "succeeded", 5, context={KEY: success_subject})
    insert_runs(engine, [failure, success], catalog=CATALOG)
    return resolver_over(SqlRunHistory(engine, JSON_RUNS))


@pytest.mark.parametrize("subject", [BIG + 1, 2**63, -(2**63) - 1, 10**40])
def test_a_json_subject_beyond_64_bits_compares_exactly(
    sql_engine: sa.Engine, subject: int
) -> None:
    resolver = big_subject(sql_engine, subject, subject + 1)
    failure = SqlRunSource(sql_engine, JSON_RUNS).get_run(1)
    assert failure is not None
    assert resolver.evaluate(failure, as_of=AS_OF).status is Actionability.ACTIONABLE


def test_a_json_subject_beyond_64_bits_finds_its_own_success(sql_engine: sa.Engine) -> None:
    resolver = big_subject(sql_engine, BIG + 1, BIG + 1)
    failure = SqlRunSource(sql_engine, JSON_RUNS).get_run(1)
    assert failure is not None
    result = resolver.evaluate(failure, as_of=AS_OF)
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert result.proof is not None
    assert result.proof.subject == str(BIG + 1)


# -- finding 14: vocabulary values are never SQL text ------------------------------------------

HOSTILE_VOCABULARY = RunTableMapping(
    table="operation_runs",
    statuses={"%(as_of)s": "completed", "run\\": "running", "queued": "queued"},
    outcomes={
        "ok\\": "succeeded",
        "%(x)s": "failed",
        "blocked": "blocked",
        "cancelled": "cancelled",
    },
)


def hostile_vocabulary_rows(engine: sa.Engine) -> None:
    create_schema(engine)
    insert_runs(
        engine,
        [
            check(1, "failed", 0),
            check(2, "succeeded", 5),
            check(3, "failed", 0, context={KEY: "c2"}),
        ],
        catalog=CATALOG,
    )
    with engine.begin() as connection:
        table = operation_runs
        connection.execute(table.update().values(status="%(as_of)s"))
        connection.execute(
            table.update().where(table.c.outcome == "failed").values(outcome="%(x)s")
        )
        connection.execute(
            table.update().where(table.c.outcome == "succeeded").values(outcome="ok\\")
        )


def test_a_hostile_vocabulary_is_read_by_the_ports(sql_engine: sa.Engine) -> None:
    hostile_vocabulary_rows(sql_engine)
    source = SqlRunSource(sql_engine, HOSTILE_VOCABULARY, catalog=CATALOG)
    runs = source.list_runs(RunQuery(workspace_ids=frozenset({"acme"}))).runs
    resolver = resolver_over(SqlRunHistory(sql_engine, HOSTILE_VOCABULARY))
    statuses = {
        r.id: res.status
        for r, res in zip(runs, resolver.evaluate_many(runs, as_of=AS_OF), strict=True)
    }
    assert statuses == {
        1: Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        2: Actionability.INFORMATIONAL_ONLY,
        3: Actionability.ACTIONABLE,
    }


def test_every_workspace_keeps_tenants_apart_under_a_case_insensitive_column(
    case_insensitive: sa.Engine,
) -> None:
    # The operator of the whole database (the CLI's default scope) must see ACME's failure:
    # a DISTINCT under the column's collation folded 'ACME' into 'acme', and it vanished.
    store_runs(
        case_insensitive,
        "ci_runs",
        [check(1, "succeeded", 0), check(2, "failed", 1, workspace_id="ACME")],
    )
    # The host keeps no state tables: the families say they cannot be resolved by state.
    with pytest.warns(MissingStateSourceWarning):
        service = ActionabilityService(case_insensitive, runs=CI_RUNS, states={}, catalog=CATALOG)
    with service.session(scopes=EveryWorkspace(), as_of=AS_OF) as session:
        assert workspace_names(session.backend) == ["ACME", "acme"]
        shown = [item.run.id for item in session.follow_up_page().items]
        assert shown == [2]
        explanation = session.explain(2)
        assert explanation is not None
        assert explanation.assessment.run.workspace_id == "ACME"
