"""Integer and uuid scope ids, compared in the column's own type, answer exactly as memory does.

A copy of the reference schema whose workspace and environment ids (and the state tables'
subjects) are ``bigint`` (both engines) or ``uuid`` (PostgreSQL) is read by the ports and the
pushdown, and every answer equals the memory adapters' over the same history: ``usable_id``
compares ids as text, so ``42`` is ``"42"`` while ``" 42"``, ``"042"`` and
``"9999999999999999999999"`` name no integer id and a uuid is named only by its lowercase text.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import CATALOG, REGISTRY, at, executed_statements, follow_up_ids, query_plan

from runactionability import (
    LaterSuccessRequest,
    OperationRun,
    Resolver,
    RunQuery,
    StateFact,
    StateRequest,
    run_as_of,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource, MemoryStateSource
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    JsonDocument,
    RunTableMapping,
    SqlPushdown,
    SqlRunHistory,
    SqlRunSource,
    SqlStateSource,
    StateTableMapping,
    SupersedeForm,
    UtcTimestamp,
)
from runactionability.adapters.sqlalchemy.ids import IdType
from runactionability.consumers import VisibleScopes
from runactionability.model import usable_id

# Letters in every uuid, so that its upper-case text is another text.
U = [str(uuid.UUID(hex=digit * 32)) for digit in "0abc"]
HOSTILE = ["042", " 42", "42abc", "9999999999999999999999", "-0", U[1].upper(), "not-a-uuid"]
# A caller's scope that spells a uuid otherwise is refused (tests/sql/test_uuid_spellings.py);
# a run's context may still hold one, which matches nothing.
HOSTILE_SCOPES = [hostile for hostile in HOSTILE if hostile != U[1].upper()]


@attrs.frozen
class Kind:
    """One id type of the typed copy: the ids a history uses, as the core and memory see them."""

    name: IdType
    workspaces: tuple[Any, ...]
    environments: tuple[Any, ...]
    subjects: tuple[Any, ...]
    """Subjects a run's context may hold (hostile ones included)."""
    state_subjects: tuple[str, ...]

    def stored(self, value: Any) -> Any:
        """A fact's id as the column stores it."""
        return int(value) if self.name == "integer" and value is not None else value


INTEGER = Kind(
    name="integer",
    workspaces=(42, 7),
    environments=(1, 2),
    subjects=(5, "5", "05", " 5", "s1", 6, 9999999999999999999999),
    state_subjects=("5", "6"),
)
UUID = Kind(
    name="uuid",
    workspaces=(U[1], U[2]),
    environments=(U[3], U[0]),
    subjects=(U[1], U[1].upper(), "x", U[2]),
    state_subjects=(U[1], U[2]),
)


def _tables(
    kind: Kind, *, typed_subject: bool = False
) -> tuple[sa.MetaData, sa.Table, dict[str, sa.Table]]:
    """The reference tables with the ids of ``kind``, and the indexes their seeks need.

    The runs table's subject column is text unless ``typed_subject``.
    """
    metadata = sa.MetaData()
    # SQLAlchemy's Uuid: native on PostgreSQL, 32 hex digits in a CHAR(32) on SQLite.
    id_type: Any = sa.BigInteger() if kind.name == "integer" else sa.Uuid(as_uuid=False)
    runs = sa.Table(
        "typed_runs",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("type", sa.String(200)),
        sa.Column("workspace_id", id_type),
        sa.Column("environment_id", id_type),
        sa.Column("status", sa.String(50)),
        sa.Column("outcome", sa.String(50)),
        sa.Column("created_at", UtcTimestamp()),
        sa.Column("started_at", UtcTimestamp()),
        sa.Column("completed_at", UtcTimestamp()),
        sa.Column("subject", id_type if typed_subject else sa.String(200)),
        sa.Column("context", JsonDocument()),
    )
    sa.Index("ix_typed_runs_scope", runs.c.workspace_id, runs.c.environment_id, runs.c.type)
    states = {}
    for state_kind in STATE_KINDS:
        table = sa.Table(
            f"typed_{state_kind}",
            metadata,
            sa.Column("workspace_id", id_type),
            sa.Column("environment_id", id_type),
            sa.Column("subject", id_type),
            sa.Column("status", sa.String(50)),
            sa.Column("proven_at", UtcTimestamp()),
        )
        sa.Index(f"ix_typed_{state_kind}", table.c.workspace_id, table.c.subject)
        states[state_kind] = table
    return metadata, runs, states


@attrs.frozen
class Store:
    engine: sa.Engine
    kind: Kind
    runs_table: sa.Table
    state_tables: dict[str, sa.Table]

    def mapping(self, json_subject: bool) -> RunTableMapping:
        ids = {"workspace": self.kind.name, "environment": self.kind.name}
        return RunTableMapping(
            table="typed_runs", subject=None if json_subject else "subject", ids=ids
        )

    def state_mappings(self) -> dict[str, StateTableMapping]:
        name = self.kind.name
        ids = {"workspace": name, "environment": name, "subject": name}
        return {
            kind: StateTableMapping(kind=kind, table=f"typed_{kind}", attributes=None, ids=ids)
            for kind in STATE_KINDS
        }

    def load(self, runs: Sequence[OperationRun], facts: Sequence[StateFact]) -> None:
        with self.engine.begin() as db:
            for table in [self.runs_table, *self.state_tables.values()]:
                db.execute(table.delete())
            if runs:
                db.execute(self.runs_table.insert(), [_run_row(run) for run in runs])
            for fact in facts:
                db.execute(
                    self.state_tables[fact.kind].insert(),
                    {
                        "workspace_id": self.kind.stored(fact.workspace_id),
                        "environment_id": self.kind.stored(fact.environment_id),
                        "subject": self.kind.stored(fact.subject),
                        "status": fact.status,
                        "proven_at": fact.proven_at,
                    },
                )


def _run_row(run: OperationRun) -> dict[str, Any]:
    op_type = CATALOG.resolve(run.type)
    subject = None
    context = dict(run.context) if isinstance(run.context, Mapping) else run.context
    if op_type is not None and op_type.subject_key is not None and isinstance(context, dict):
        subject = usable_id(context.get(op_type.subject_key))
    return {
        "id": run.id,
        "type": run.type,
        "workspace_id": run.workspace_id,
        "environment_id": run.environment_id,
        "status": run.status,
        "outcome": run.outcome,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "subject": subject,
        "context": context,
    }


@pytest.fixture(params=[INTEGER, UUID], ids=lambda kind: kind.name)
def store(request: pytest.FixtureRequest, sql_engine: sa.Engine) -> Store:
    kind: Kind = request.param
    metadata, runs, states = _tables(kind)
    metadata.create_all(sql_engine)
    return Store(engine=sql_engine, kind=kind, runs_table=runs, state_tables=states)


STORED_NAMES = sorted(name for t in CATALOG for name in CATALOG.stored_names(t.name))
HEALTHY = ("healthy", "complete", "published", "failing")


@st.composite
def histories(draw: st.DrawFn, kind: Kind) -> tuple[list[OperationRun], list[StateFact]]:
    runs = []
    for run_id in range(1, draw(st.integers(1, 24)) + 1):
        type_ = draw(st.sampled_from(STORED_NAMES))
        op_type = CATALOG.resolve(type_)
        context: dict[str, Any] = {}
        if op_type is not None and op_type.subject_key is not None:
            context = {op_type.subject_key: draw(st.sampled_from(kind.subjects))}
        created = draw(st.integers(0, 12))
        outcome = draw(st.sampled_from(["failed", "failed", "succeeded", "blocked", None]))
        runs.append(
            OperationRun(
                id=run_id,
                type=type_,
                workspace_id=draw(st.sampled_from(kind.workspaces)),
                environment_id=draw(st.sampled_from([*kind.environments, None])),
                status="completed" if outcome else draw(st.sampled_from(["queued", "running"])),
                outcome=outcome,
                created_at=at(created),
                started_at=draw(st.sampled_from([None, at(created)])),
                completed_at=at(created + draw(st.integers(0, 3))) if outcome else None,
                context=context,
            )
        )
    facts = draw(
        st.lists(
            st.builds(
                StateFact,
                kind=st.sampled_from(STATE_KINDS),
                workspace_id=st.sampled_from([str(w) for w in kind.workspaces]),
                environment_id=st.sampled_from([*(str(e) for e in kind.environments), None]),
                subject=st.sampled_from([*kind.state_subjects, None]),
                status=st.sampled_from(HEALTHY),
                proven_at=st.integers(0, 16).map(at),
            ),
            max_size=8,
        )
    )
    return runs, facts


def _scopes(kind: Kind, environments: bool) -> VisibleScopes:
    workspaces = {*(str(w) for w in kind.workspaces), *HOSTILE_SCOPES}
    if not environments:
        return VisibleScopes(workspaces)
    return VisibleScopes(workspaces, environment_ids={str(kind.environments[0]), *HOSTILE_SCOPES})


def _memory_resolver(runs: list[OperationRun], facts: list[StateFact]) -> Resolver:
    return Resolver(
        history=MemoryRunHistory(runs),
        states={k: MemoryStateSource(k, [f for f in facts if f.kind == k]) for k in STATE_KINDS},
        registry=REGISTRY,
        catalog=CATALOG,
    )


def _all_runs(source: Any, query: RunQuery) -> list[OperationRun]:
    listed: list[OperationRun] = []
    cursor = None
    while True:
        page = source.list_runs(query, limit=5, cursor=cursor)
        listed += page.runs
        cursor = page.next_cursor
        if cursor is None:
            return listed


# Each example loads a history and runs a dozen statements per engine: the profile's count, capped.
EXAMPLES = min(settings().max_examples, 40)

_PUSHDOWNS: dict[tuple[sa.Engine, str, bool], SqlPushdown] = {}


def _pushdown(store: Store, json_subject: bool) -> SqlPushdown:
    # One per engine and mapping, so the classification compiles once, not per example.
    key = (store.engine, store.kind.name, json_subject)
    if key not in _PUSHDOWNS:
        _PUSHDOWNS[key] = SqlPushdown(
            store.engine,
            runs=store.mapping(json_subject),
            states=store.state_mappings(),
            registry=REGISTRY,
            catalog=CATALOG,
        )
    return _PUSHDOWNS[key]


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), as_of=st.integers(0, 16).map(at), json_subject=st.booleans())
def test_typed_ids_answer_as_memory_does(
    store: Store, data: st.DataObject, as_of: datetime, json_subject: bool
) -> None:
    runs, facts = data.draw(histories(store.kind))
    environments = data.draw(st.booleans())
    store.load(runs, facts)
    scopes = _scopes(store.kind, environments)
    mapping = store.mapping(json_subject)
    sql_source = SqlRunSource(store.engine, mapping, catalog=CATALOG)

    # The port contract: the same runs listed, page by page, and the same statuses.
    query = scopes.query()
    memory_listed = _all_runs(MemoryRunSource(runs), query)
    sql_listed = _all_runs(sql_source, query)
    assert sql_listed == memory_listed
    listed = [then for run in memory_listed if (then := run_as_of(run, as_of)) is not None]
    expected = {
        run.id: result.status
        for run, result in zip(
            listed,
            # Evidence only from the actor's scopes: a success in an environment the actor does
            # not see settles nothing, a workspace-owned failure's included.
            _memory_resolver(runs, facts).evaluate_many(listed, as_of=as_of, scopes=scopes),
            strict=True,
        )
    }
    sql_resolver = Resolver(
        history=SqlRunHistory(store.engine, mapping),
        states={k: SqlStateSource(store.engine, m) for k, m in store.state_mappings().items()},
        registry=REGISTRY,
        catalog=CATALOG,
    )
    assert [
        r.status for r in sql_resolver.evaluate_many(listed, as_of=as_of, scopes=scopes)
    ] == list(expected.values())

    # The pushdown: classification, counts by scope, and the follow-up list.
    pushdown = _pushdown(store, json_subject)
    assert pushdown.classify(scopes, as_of=as_of) == expected
    counts = pushdown.count(scopes, as_of=as_of)
    by_scope: Counter[tuple[Any, ...]] = Counter()
    for run in listed:
        scope = (usable_id(run.workspace_id), usable_id(run.environment_id))
        by_scope[(*scope, expected[run.id])] += 1
    assert {
        (*scope, status): n
        for scope, group in counts.by_environment.items()
        for status, n in group.by_status.items()
        if n
    } == dict(by_scope)
    follow_up = [run.id for run in listed if expected[run.id].needs_attention]
    assert follow_up_ids(pushdown, scopes, as_of, expected, limit=3) == follow_up


def test_hostile_ids_match_nothing_and_never_raise(store: Store) -> None:
    kind = store.kind
    workspace, environment = kind.workspaces[0], kind.environments[0]
    success = OperationRun(
        id=1,
        type="provider.connection.check",
        workspace_id=workspace,
        environment_id=environment,
        status="completed",
        outcome="succeeded",
        created_at=at(1),
        completed_at=at(2),
        context={"provider_connection_id": kind.state_subjects[0]},
    )
    fact = StateFact(
        kind="provider_connection",
        workspace_id=str(workspace),
        environment_id=str(environment),
        subject=kind.state_subjects[0],
        status="healthy",
        proven_at=at(3),
    )
    store.load([success], [fact])
    history = SqlRunHistory(store.engine, store.mapping(json_subject=False))
    states = SqlStateSource(store.engine, store.state_mappings()["provider_connection"])
    memory_history = MemoryRunHistory([success])
    memory_states = MemoryStateSource("provider_connection", [fact])

    def success_request(ws: str, env: str | None, subject: str | None) -> LaterSuccessRequest:
        return LaterSuccessRequest(
            operation_types=("provider.connection.check",),
            workspace_id=ws,
            environment_id=env,
            subject_key="provider_connection_id",
            subject=subject,
        )

    good = (str(workspace), str(environment), kind.state_subjects[0])
    requests = [success_request(*good)]
    state_requests = [_state_request(*good)]
    for hostile in HOSTILE:
        for position in range(3):
            ids = list(good)
            ids[position] = hostile
            requests.append(success_request(*ids))
            state_requests.append(_state_request(*ids))
    found = history.latest_successes(requests, as_of=at(5))
    assert found == memory_history.latest_successes(requests, as_of=at(5))
    assert list(found) == [requests[0]]
    facts = states.current_states(state_requests)
    assert facts == memory_states.current_states(state_requests)
    assert list(facts) == [state_requests[0]]
    listed = SqlRunSource(store.engine, store.mapping(json_subject=False)).list_runs(
        VisibleScopes(set(HOSTILE_SCOPES)).query()
    )
    assert listed.runs == []


def test_a_run_id_is_its_integer_decimal_text(sql_engine: sa.Engine) -> None:
    metadata, runs, _ = _tables(INTEGER)
    metadata.create_all(sql_engine)
    run = OperationRun(
        id=42,
        type="inventory.sync",
        workspace_id=7,
        environment_id=1,
        status="queued",
        outcome=None,
        created_at=at(0),
    )
    with sql_engine.begin() as db:
        db.execute(runs.insert(), [_run_row(run)])
    source = SqlRunSource(sql_engine, INTEGER_RUNS)
    assert source.get_run(42) == run
    assert source.get_run("42") == run
    for text in ("042", " 42", "42 ", "+42", "42abc", "4_2", "²", "9999999999999999999999"):
        assert source.get_run(text) is None
    assert source.get_run(2**70) is None


INTEGER_RUNS = RunTableMapping(
    table="typed_runs", ids={"workspace": "integer", "environment": "integer"}
)


def _state_request(ws: str, env: str | None, subject: str | None) -> StateRequest:
    return StateRequest(
        kind="provider_connection", workspace_id=ws, environment_id=env, subject=subject
    )


def _plans(engine: sa.Engine, run: Any) -> list[str]:
    """The query plans of the statements ``run`` executes on ``engine``."""
    with executed_statements(engine) as seen:
        run()
    return [
        query_plan(engine, statement, parameters)
        for statement, parameters in seen
        if statement.lstrip().upper().startswith(("SELECT", "WITH"))
        and "set_config" not in statement
    ]


def test_typed_id_seeks_use_the_index(store: Store) -> None:
    kind = store.kind
    ws, env, subject = str(kind.workspaces[0]), str(kind.environments[0]), kind.state_subjects[0]
    store.load([], [])
    mapping = store.mapping(json_subject=False)
    index = "ix_typed_runs_scope"
    history = SqlRunHistory(store.engine, mapping)
    request = LaterSuccessRequest(
        operation_types=("inventory.sync",),
        workspace_id=ws,
        environment_id=env,
        subject_key=None,
        subject=None,
    )
    states = SqlStateSource(store.engine, store.state_mappings()["provider_connection"])
    source = SqlRunSource(store.engine, mapping)
    plans = _plans(store.engine, lambda: history.latest_successes([request], as_of=at(5)))
    plans += _plans(store.engine, lambda: source.list_runs(VisibleScopes({ws}).query(), limit=5))
    assert plans
    assert all(index in plan for plan in plans), plans
    state_plans = _plans(
        store.engine,
        lambda: states.current_states([_state_request(ws, env, subject)]),
    )
    assert state_plans
    assert all("ix_typed_provider_connection" in plan for plan in state_plans), state_plans


@pytest.mark.parametrize("form", list(SupersedeForm))
def test_a_typed_subject_column_answers_as_memory_does(
    sql_engine: sa.Engine, form: SupersedeForm
) -> None:
    metadata, runs_table, states = _tables(INTEGER, typed_subject=True)
    metadata.create_all(sql_engine)
    store = Store(engine=sql_engine, kind=INTEGER, runs_table=runs_table, state_tables=states)

    def check(run_id: int, subject: Any, outcome: str, start: int) -> OperationRun:
        return OperationRun(
            id=run_id,
            type="provider.connection.check",
            workspace_id=42,
            environment_id=1,
            status="completed",
            outcome=outcome,
            created_at=at(start),
            completed_at=at(start + 1),
            context={"provider_connection_id": subject},
        )

    history = [
        check(1, 5, "failed", 0),
        check(2, "5", "succeeded", 3),
        check(3, 6, "failed", 0),
        # The context names "06", which is no integer: the column (6) disagrees with it, and the
        # core correlates on the context, so nothing of subject 6 settles this run.
        check(4, "06", "failed", 0),
        check(5, 7, "failed", 0),
    ]
    facts = [
        StateFact(
            kind="provider_connection",
            workspace_id="42",
            environment_id="1",
            subject=subject,
            status="healthy",
            proven_at=at(4),
        )
        for subject in ("6", "7")
    ]
    rows = [_run_row(run) for run in history]
    rows[3]["subject"] = 6
    store.load([], facts)
    with sql_engine.begin() as db:
        db.execute(runs_table.insert(), rows)
    mapping = RunTableMapping(
        table="typed_runs",
        ids={"workspace": "integer", "environment": "integer", "subject": "integer"},
    )
    expected = {
        run.id: result.status
        for run, result in zip(
            history,
            _memory_resolver(history, facts).evaluate_many(history, as_of=at(9)),
            strict=True,
        )
    }
    assert expected[4] is not expected[3]
    pushdown = SqlPushdown(
        sql_engine,
        runs=mapping,
        states=store.state_mappings(),
        registry=REGISTRY,
        catalog=CATALOG,
        form=form,
    )
    scopes = VisibleScopes({"42"})
    assert pushdown.classify(scopes, as_of=at(9)) == expected
    sql_resolver = Resolver(
        history=SqlRunHistory(sql_engine, mapping),
        states={k: SqlStateSource(sql_engine, m) for k, m in store.state_mappings().items()},
        registry=REGISTRY,
        catalog=CATALOG,
    )
    listed = SqlRunSource(sql_engine, mapping, catalog=CATALOG).list_runs(scopes.query()).runs
    assert {
        run.id: result.status
        for run, result in zip(listed, sql_resolver.evaluate_many(listed, as_of=at(9)), strict=True)
    } == expected
