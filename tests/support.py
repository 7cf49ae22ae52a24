"""What the tests share: the one clock, the engines, and the builders of runs, facts and ports.

Import it as ``from tests.support import ...`` (``pythonpath = ["."]`` in pyproject makes that
work under plain ``pytest``, ``python -m pytest`` and IDE runners alike). Fixtures stay in the
``conftest.py`` files; everything here is a plain value or function.

The clock: every instant a test makes is ``T0`` plus something, and results are asked for
``AS_OF`` (ten days later) unless a module says otherwise. A module that needs ``as_of`` close to
its runs names its own instant from ``T0`` (``AS_OF = T0 + timedelta(hours=1)``).

Three builders make runs, each with the defaults its kind of test was written for:

- ``run`` -- the core's: a failed ``provider.connection.check`` of connection 7 in (acme, prod),
  created at ``T0`` and done a minute later; every field is a keyword, any value (typed or not)
  goes through, so record checks can be fed hostile values. ``state`` is its state fact.
- ``stored_run`` -- the stores': a failed ``inventory.sync`` in (w1, e1) whose ``start`` and
  ``end`` are minutes after ``T0``; what the SQL, contract and pushdown tests load into tables.
  ``stored_fact`` is its state fact, proven ``proven`` minutes after ``T0``. SQL tests import
  them as ``stored_run as run, stored_fact as fact``.
- ``scoped_run`` -- the consumers': scope as ``ws``/``env``, creation as a ``timedelta`` after
  ``T0``, context as keywords.

``raw_row`` and ``insert_raw`` write a run row past the adapter, for values it would refuse.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import cache_key, compiler

from runactionability import (
    Actionability,
    ActionabilityResult,
    ActionabilityService,
    ActiveWork,
    AsyncActionabilityService,
    ChangePage,
    DashboardSummary,
    Explanation,
    LaterSuccessRequest,
    OperationCatalog,
    OperationRun,
    Registry,
    Resolver,
    RunFact,
    RunHistory,
    RunSource,
    StateFact,
    StateRequest,
    StateSource,
    VisibleScopes,
    hookimpl,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource, MemoryStateSource
from runactionability.adapters.sqlalchemy import STATE_KINDS as TABLE_STATE_KINDS
from runactionability.adapters.sqlalchemy import (
    Instants,
    JsonDocument,
    RunTableMapping,
    StateTableMapping,
    UtcTimestamp,
    create_schema,
    insert_runs,
    insert_states,
    metadata,
    open_backend,
    operation_runs,
)
from runactionability.adapters.sqlalchemy.mapping import UnmappedValue
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.adapters.sqlalchemy.schema import _run_row
from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.consumers import AssessedPage
from runactionability.i18n import DOMAIN, SHIPPED_LOCALES
from runactionability.i18n.extract import Entry, extract_messages, update_catalog
from runactionability.jsonforms import json_schema
from runactionability.policies import BUILTIN_PLUGINS
from runactionability.policies.base import Family
from runactionability.registry import DISABLE_AUTOLOAD_VARIABLE

# The suite is hermetic: a runactionability plugin installed in the same environment (a host's,
# a developer's) must not add families, types or warnings to what these tests expect. Tests of
# entry points opt back in with ``Registry.default(entry_points=True)``; subprocesses inherit it.
# It is switched off here, before ``REGISTRY`` below is built; the root conftest imports this.
os.environ[DISABLE_AUTOLOAD_VARIABLE] = "1"

# -- the clock ---------------------------------------------------------------------------------

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
"""The origin of every instant the tests make."""

AS_OF = T0 + timedelta(days=10)
"""The instant results are asked for: 2026-11-20 12:00 UTC, also the demo's own."""

MINUTE = timedelta(minutes=1)


def at(minutes: float) -> datetime:
    """An instant ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


POLICY_STATUSES = ("healthy", "complete", "published", "failing", "partial")
"""State statuses the built-in families read, healthy or not."""


def state_facts(max_size: int) -> st.SearchStrategy[list[StateFact]]:
    """Random current states of the reference tables' kinds, over workspaces ``w1``/``w2``,
    environments ``e1``/``e2`` or none and subjects ``s1``/``"1"`` or none (the differential
    tests' world)."""
    return st.lists(
        st.builds(
            StateFact,
            kind=st.sampled_from(TABLE_STATE_KINDS),
            workspace_id=st.sampled_from(["w1", "w2"]),
            environment_id=st.sampled_from(["e1", "e2", None]),
            subject=st.sampled_from(["s1", "1", None]),
            status=st.sampled_from(POLICY_STATUSES),
            proven_at=st.integers(-1, 16).map(at),
        ),
        max_size=max_size,
    )


# -- the engines -------------------------------------------------------------------------------

POSTGRES_URL = os.environ.get("RUNACTIONABILITY_TEST_DATABASE_URL")
"""The PostgreSQL server of the SQL legs, when one is configured."""

BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
"""The database engines every SQL test runs on."""

# -- the registry ------------------------------------------------------------------------------

REGISTRY = Registry.default()
"""One shared default registry, for tests that register nothing of their own."""

CATALOG = OperationCatalog.reference()

STATE_KINDS = (
    "backup_set",
    "baseline_snapshot",
    "environment_review",
    "evidence_snapshot",
    "provider_connection",
    "review_pack",
)
"""Every state kind a built-in family may ask for (the core tests' order)."""

# -- the core's builders -----------------------------------------------------------------------

_UNSET: Any = object()


def run(
    run_id: str | int,
    type: str = "provider.connection.check",
    *,
    outcome: Any = "failed",
    status: Any = "completed",
    workspace_id: Any = "acme",
    environment_id: Any = "prod",
    created_at: Any = T0,
    started_at: Any = None,
    completed_at: Any = _UNSET,
    context: Any = _UNSET,
) -> OperationRun:
    """A run with sensible defaults: a failed provider check of connection 7, done in a minute.

    Fields are typed ``Any`` on purpose: record checks are tested with values of the wrong type.
    """
    if completed_at is _UNSET:
        start = started_at or created_at
        start = start if isinstance(start, datetime) else T0
        completed_at = start + MINUTE if status == "completed" else None
    if context is _UNSET:
        context = {"provider_connection_id": 7}
    return OperationRun(
        id=run_id,
        type=type,
        workspace_id=workspace_id,
        environment_id=environment_id,
        status=status,
        outcome=outcome,
        created_at=created_at,
        started_at=started_at,
        completed_at=completed_at,
        context=context,
    )


def state(
    kind: str = "provider_connection",
    *,
    subject: str | None = "7",
    status: str = "healthy",
    proven_at: datetime = T0 + timedelta(hours=1),
    workspace_id: str = "acme",
    environment_id: str | None = "prod",
) -> StateFact:
    """A state fact of connection 7 in (acme, prod): healthy, proven an hour after T0."""
    return StateFact(
        kind=kind,
        workspace_id=workspace_id,
        environment_id=environment_id,
        subject=subject,
        status=status,
        proven_at=proven_at,
    )


def resolver(
    history: Iterable[OperationRun] = (),
    states: Iterable[StateFact] = (),
    *,
    registry: Registry | None = None,
    catalog: OperationCatalog | None = None,
    kinds: Iterable[str] = STATE_KINDS,
    strict: bool = True,
) -> Resolver:
    """A strict resolver over memory ports, with a source for each of ``kinds``."""
    facts = list(states)
    sources = {
        kind: MemoryStateSource(kind, [fact for fact in facts if fact.kind == kind])
        for kind in kinds
    }
    return Resolver(
        registry=REGISTRY if registry is None else registry,
        catalog=catalog,
        history=MemoryRunHistory(history),
        states=sources,
        strict=strict,
    )


def evaluate(
    target: OperationRun,
    history: Iterable[OperationRun] = (),
    states: Iterable[StateFact] = (),
    *,
    as_of: datetime = AS_OF,
    **options: Any,
) -> ActionabilityResult:
    """Evaluate one run against a history that holds it and ``history``."""
    return resolver([target, *history], states, **options).evaluate(target, as_of=as_of)


class Recorder:
    """A plugin that records what the observer hooks see."""

    def __init__(self) -> None:
        self.batches: list[tuple[tuple[ActionabilityResult, ...], datetime]] = []
        self.violations: list[Any] = []

    @hookimpl
    def runactionability_results_evaluated(
        self, results: Iterable[ActionabilityResult], as_of: datetime
    ) -> None:
        self.batches.append((tuple(results), as_of))

    @hookimpl
    def runactionability_policy_violation(self, violation: Any) -> None:
        self.violations.append(violation)


# -- the consumers' builder -------------------------------------------------------------------


def scoped_run(
    run_id: int,
    type_: str,
    *,
    ws: str = "acme",
    env: str | None = "prod",
    outcome: str | None = "failed",
    status: str = "completed",
    at: timedelta = timedelta(0),
    **context: Any,
) -> OperationRun:
    """A run in (``ws``, ``env``) created ``at`` after T0 and started then, done five minutes
    later when completed (its outcome is dropped otherwise); keywords left over are its context.
    """
    created = T0 + at
    done = status == "completed"
    return OperationRun(
        id=run_id,
        type=type_,
        workspace_id=ws,
        environment_id=env,
        status=status,
        outcome=outcome if done else None,
        created_at=created,
        started_at=created,
        completed_at=created + timedelta(minutes=5) if done else None,
        context=context,
    )


# -- the stores' builders ----------------------------------------------------------------------


def stored_run(run_id: int, type_: str = "inventory.sync", **fields: Any) -> OperationRun:
    """A completed run in scope (w1, e1) that ended ``outcome`` (failed by default).

    ``start`` and ``end`` are minutes after T0; ``created_at`` defaults to the start.
    """
    start = fields.pop("start", 0)
    end = fields.pop("end", start + 1)
    values: dict[str, Any] = {
        "id": run_id,
        "type": type_,
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": "completed",
        "outcome": "failed",
        "created_at": at(start),
        "started_at": None,
        "completed_at": at(end),
        "context": {},
    }
    values.update(fields)
    return OperationRun(**values)


def stored_fact(
    kind: str, subject: str | None, status: str, proven: float, **fields: Any
) -> StateFact:
    """A state fact in scope (w1, e1), proven ``proven`` minutes after T0."""
    values: dict[str, Any] = {
        "kind": kind,
        "workspace_id": "w1",
        "environment_id": "e1",
        "subject": subject,
        "status": status,
        "proven_at": at(proven),
    }
    values.update(fields)
    return StateFact(**values)


@attrs.frozen
class Ports:
    """The three ports over one store, and a resolver wired to them."""

    name: str
    history: RunHistory
    states: dict[str, StateSource]
    runs: RunSource

    def resolver(self) -> Resolver:
        return Resolver(
            history=self.history,
            states=self.states,
            registry=REGISTRY,
            catalog=CATALOG,
            strict=True,
        )


Loader = Callable[[Iterable[OperationRun], Iterable[StateFact]], Ports]
"""What the ``load`` fixture yields: load runs and facts into a fresh store, return its ports."""


def memory_ports(runs: Iterable[OperationRun], facts: Iterable[StateFact]) -> Ports:
    """The memory adapters over ``runs`` and ``facts``."""
    runs = list(runs)
    facts = list(facts)
    return Ports(
        name="memory",
        history=MemoryRunHistory(runs),
        states={
            kind: MemoryStateSource(kind, [f for f in facts if f.kind == kind])
            for kind in TABLE_STATE_KINDS
        },
        runs=MemoryRunSource(runs),
    )


def sql_ports(engine: sa.Engine, runs: Iterable[OperationRun], facts: Iterable[StateFact]) -> Ports:
    """The reference schema on ``engine``, loaded with ``runs`` and ``facts``."""
    create_schema(engine)
    insert_runs(engine, runs, catalog=CATALOG)
    insert_states(engine, facts)
    return open_ports(engine)


def open_ports(engine: sa.Engine) -> Ports:
    """The ports of the reference schema already on ``engine``."""
    backend = open_backend(engine, catalog=CATALOG)
    return Ports(
        name=engine.dialect.name,
        history=backend.history,
        states=dict(backend.states),
        runs=backend.runs,
    )


def clear(engine: sa.Engine) -> None:
    """Delete every row of the reference tables (cheaper than recreating them)."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


# -- a host's own layout: one lifecycle column, every state kind in one table -------------------

LIFECYCLES: dict[str, tuple[str, str | None]] = {
    "pending": ("queued", None),
    "running": ("running", None),
    "done": ("completed", "succeeded"),
    "partial": ("completed", "partially_succeeded"),
    "error": ("completed", "failed"),
    "refused": ("completed", "blocked"),
    "stopped": ("completed", "cancelled"),
}
"""What each value of the host layout's ``state`` column means."""

HOST_LAYOUT = sa.MetaData()
HOST_JOBS = sa.Table(
    "m3_jobs",
    HOST_LAYOUT,
    sa.Column("job_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(200)),
    sa.Column("tenant", sa.String(200)),
    sa.Column("env", sa.String(200)),
    sa.Column("state", sa.String(50)),
    sa.Column("queued", UtcTimestamp()),
    sa.Column("began", UtcTimestamp()),
    sa.Column("ended", UtcTimestamp()),
    sa.Column("ref", sa.String(200)),
    sa.Column("payload", JsonDocument()),
)
# The reference success index with the host's names: the lifecycle column in place of status
# and outcome.
sa.Index(
    "ix_m3_jobs_success",
    HOST_JOBS.c.tenant,
    HOST_JOBS.c.kind,
    HOST_JOBS.c.state,
    HOST_JOBS.c.ref,
    HOST_JOBS.c.env,
    sa.func.coalesce(HOST_JOBS.c.began, HOST_JOBS.c.queued),
    HOST_JOBS.c.ended,
    HOST_JOBS.c.job_id,
)
HOST_STATES = sa.Table(
    "m3_job_states",
    HOST_LAYOUT,
    sa.Column("row_id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(50)),
    sa.Column("tenant", sa.String(200)),
    sa.Column("env", sa.String(200)),
    sa.Column("ref", sa.String(200)),
    sa.Column("state", sa.String(50)),
    sa.Column("checked", UtcTimestamp()),
    sa.Column("attrs", JsonDocument()),
)
sa.Index(
    "ix_m3_job_states_object",
    HOST_STATES.c.kind,
    HOST_STATES.c.tenant,
    HOST_STATES.c.env,
    HOST_STATES.c.ref,
    HOST_STATES.c.checked,
)

HOST_RUNS = RunTableMapping(
    table="m3_jobs",
    id="job_id",
    type="kind",
    workspace_id="tenant",
    environment_id="env",
    lifecycle="state",
    lifecycles=LIFECYCLES,
    created_at="queued",
    started_at="began",
    completed_at="ended",
    context="payload",
    subject="ref",
)
"""The host layout's runs: one lifecycle column, a subject column."""

HOST_STATE_MAPPINGS = {
    kind: StateTableMapping(
        kind=kind,
        table="m3_job_states",
        workspace_id="tenant",
        environment_id="env",
        subject="ref",
        status="state",
        proven_at="checked",
        attributes="attrs",
        where={"kind": kind},
    )
    for kind in TABLE_STATE_KINDS
}
"""Every state kind of the host layout, read from the one ``m3_job_states`` table."""


def lifecycle_value(run: OperationRun) -> str | None:
    """The host layout's ``state`` value of ``run``; the test is skipped when it has none.

    An ``UnmappedValue`` status (with no outcome) is stored as its text, which the mapping does
    not list, so the run reads back as it is.
    """
    if isinstance(run.status, UnmappedValue) and run.outcome is None:
        stored: str = run.status.stored
        return stored
    if run.status is None and run.outcome is None:
        return None
    for value, meaning in LIFECYCLES.items():
        if (run.status, run.outcome) == meaning:
            return value
    pytest.skip(f"({run.status!r}, {run.outcome!r}) has no lifecycle value")


def host_ports(
    engine: sa.Engine, runs: Iterable[OperationRun], facts: Iterable[StateFact]
) -> Ports:
    """The host layout on ``engine`` (``HOST_LAYOUT``), loaded with ``runs`` and ``facts``.

    Runs are stored as ``insert_runs`` stores them, their status and outcome as one lifecycle
    value; every fact is a row of the one state table (the source picks the newest).
    """
    HOST_LAYOUT.create_all(engine)
    jobs = []
    for run in runs:
        row = _run_row(run, CATALOG)
        jobs.append(
            {
                "job_id": row["id"],
                "kind": row["type"],
                "tenant": row["workspace_id"],
                "env": row["environment_id"],
                "state": lifecycle_value(run),
                "queued": row["created_at"],
                "began": row["started_at"],
                "ended": row["completed_at"],
                "ref": row["subject"],
                "payload": row["context"],
            }
        )
    states = [
        {
            "kind": fact.kind,
            "tenant": fact.workspace_id,
            "env": fact.environment_id,
            "ref": fact.subject,
            "state": fact.status,
            "checked": fact.proven_at,
            "attrs": dict(fact.attributes),
        }
        for fact in facts
    ]
    with engine.begin() as connection:
        if jobs:
            connection.execute(HOST_JOBS.insert(), jobs)
        if states:
            connection.execute(HOST_STATES.insert(), states)
    backend = open_backend(engine, runs=HOST_RUNS, states=HOST_STATE_MAPPINGS, catalog=CATALOG)
    return Ports(
        name=f"{engine.dialect.name}-lifecycle",
        history=backend.history,
        states=dict(backend.states),
        runs=backend.runs,
    )


# -- raw rows: values the adapter would never write -------------------------------------------

# The reference table without its column types, so raw values reach the database unconverted.
RAW_RUNS = sa.table(
    "operation_runs",
    *(
        sa.column(name)
        for name in (
            "id",
            "type",
            "workspace_id",
            "environment_id",
            "status",
            "outcome",
            "created_at",
            "started_at",
            "completed_at",
            "subject",
            "context",
        )
    ),
)


def raw_row(engine: sa.Engine, run_id: int, **fields: Any) -> dict[str, Any]:
    """A failed inventory sync in (w1, e1) as stored values, with ``fields`` overriding them."""

    def stored(minutes: float) -> Any:
        instant = at(minutes)
        return instant if engine.dialect.name == "postgresql" else to_micros(instant)

    row: dict[str, Any] = {
        "id": run_id,
        "type": "inventory.sync",
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": "completed",
        "outcome": "failed",
        "created_at": stored(run_id),
        "started_at": None,
        "completed_at": stored(run_id + 1),
        "subject": None,
        "context": "{}",
    }
    row.update(fields)
    return row


def keyless_runs(engine: sa.Engine) -> None:
    """The reference schema, its runs table copied without a primary key or index: a host
    table that may hold two rows with one run id."""
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE operation_runs RENAME TO keyed_runs"))
        connection.execute(
            sa.text("CREATE TABLE operation_runs AS SELECT * FROM keyed_runs WHERE 1 = 0")
        )
        connection.execute(sa.text("DROP TABLE keyed_runs"))


def analyze(engine: sa.Engine, *tables: str) -> None:
    """``ANALYZE`` ``tables`` (default: every table of the schema) on PostgreSQL, as a live
    database's autovacuum would have; without it the doctor warns ``missing_statistics``."""
    if engine.dialect.name != "postgresql":
        return
    names = ", ".join(tables or sa.inspect(engine).get_table_names())
    with engine.begin() as connection:
        connection.exec_driver_sql(f"ANALYZE {names}")


def insert_raw(engine: sa.Engine, rows: list[dict[str, Any]]) -> None:
    """Insert rows made by ``raw_row`` as they are, past the adapter's types and checks."""
    context: Any = sa.bindparam("context")
    if engine.dialect.name == "postgresql":
        context = sa.cast(context, JSONB)
    with engine.begin() as connection:
        for row in rows:
            values: dict[str, Any] = {name: sa.bindparam(name) for name in row if name != "context"}
            values["context"] = context
            connection.execute(RAW_RUNS.insert().values(values), row)


def store_contexts(
    engine: sa.Engine,
    runs: Sequence[tuple[str, str]],
    *,
    column: str = "json",
    subjects: Sequence[str] | None = None,
) -> None:
    """The reference schema holding, per (outcome, context as stored) of ``runs``, a
    ``provider.connection.check`` of (w1, e1), ids from 1, created ``5 * id`` minutes after ``T0``
    and done a minute later. SQLite keeps any text; on PostgreSQL the context column becomes
    ``column`` (``json`` keeps the text as written). ``subjects``, one per run, fill the subject
    column, made text on PostgreSQL: the reference schema's varchar(200) holds no long digits."""
    create_schema(engine)
    postgres = engine.dialect.name == "postgresql"
    if postgres and subjects is not None:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE operation_runs ALTER COLUMN subject TYPE text")
    rows = [
        raw_row(
            engine,
            run_id,
            type="provider.connection.check",
            outcome=outcome,
            context="{}" if postgres else context,
            created_at=at(5 * run_id) if postgres else to_micros(at(5 * run_id)),
            completed_at=at(5 * run_id + 1) if postgres else to_micros(at(5 * run_id + 1)),
            subject=None if subjects is None else subjects[run_id - 1],
        )
        for run_id, (outcome, context) in enumerate(runs, start=1)
    ]
    insert_raw(engine, rows)
    if not postgres:
        return
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"ALTER TABLE operation_runs ALTER COLUMN context TYPE {column} USING context::{column}"
        )
        for run_id, (_, context) in enumerate(runs, start=1):
            connection.execute(
                sa.text(f"UPDATE operation_runs SET context = CAST(:c AS {column}) WHERE id = :i"),
                {"c": context, "i": run_id},
            )


def fresh_engine(engine: sa.Engine) -> sa.Engine:
    """A new engine on what ``engine`` sees (``engine`` itself on SQLite), whose context check
    starts unread: a SQL store reads a table's context type once per engine and table, and the
    suite's PostgreSQL engine has seen ``operation_runs`` as jsonb in other tests (a host that
    alters jsonb to json under a running engine rebuilds it, docs/decisions.md)."""
    if engine.dialect.name != "postgresql":
        return engine
    with engine.connect() as connection:
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    return sa.create_engine(engine.url, connect_args={"options": f"-csearch_path={schema}"})


@attrs.frozen
class SessionViews:
    """What one request session shows a workspace as of ``AS_OF``: the dashboard (top 20), the
    first follow-up and ``View.ALL`` pages, each run explained, the changes since ``at(0)``, and
    the active work."""

    board: DashboardSummary
    follow_up: AssessedPage
    page: AssessedPage
    explained: list[Explanation | None]
    changes: ChangePage
    active_work: ActiveWork


def session_views(
    engine: sa.Engine,
    runs: RunTableMapping,
    run_ids: Sequence[int],
    *,
    api: str,
    scopes: VisibleScopes,
) -> SessionViews:
    """``SessionViews`` of ``engine``'s ``runs`` (no state table mapped), explaining ``run_ids``,
    through the request API (``api="sync"``) or its asyncio twin (``"async"``, on
    ``async_engine_of(engine)``)."""
    if api == "sync":
        service = ActionabilityService(engine, runs=runs, states={})
        with service.session(scopes=scopes, as_of=AS_OF) as s:
            return SessionViews(
                s.dashboard(top=20),
                s.follow_up_page(),
                s.page(),
                [s.explain(run_id) for run_id in run_ids],
                s.changes(since=at(0), until=AS_OF),
                s.active_work(),
            )

    async def read() -> SessionViews:
        async_engine = async_engine_of(engine)
        try:
            service = AsyncActionabilityService(async_engine, runs=runs, states={})
            async with service.session(scopes=scopes, as_of=AS_OF) as s:
                return SessionViews(
                    await s.dashboard(top=20),
                    await s.follow_up_page(),
                    await s.page(),
                    [await s.explain(run_id) for run_id in run_ids],
                    await s.changes(since=at(0), until=AS_OF),
                    await s.active_work(),
                )
        finally:
            await async_engine.dispose()

    return asyncio.run(read())


def form_validator(form: str) -> Draft202012Validator:
    """A draft 2020-12 validator for one ``$defs`` entry of the shipped JSON schema."""
    schema = json_schema()
    return Draft202012Validator(
        {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{form}"},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def registry_replacing(family: Family) -> Registry:
    """The built-in families, with ``family`` in place of the built-in family of its name."""

    class Replacement:
        @hookimpl
        def runactionability_families(self) -> Sequence[Family]:
            return (family,)

    built = Registry()
    for name, plugin in BUILTIN_PLUGINS:
        if name != f"runactionability.{family.name}":
            built.register(plugin, name=name)
    built.register(Replacement(), name="replacement")
    return built


def case_insensitive_text(engine: sa.Engine) -> sa.types.TypeEngine[Any]:
    """Text under a collation that calls distinct texts equal: SQLite's ``NOCASE``, or a
    nondeterministic ICU collation on PostgreSQL (created in the engine's schema)."""
    if engine.dialect.name == "sqlite":
        return sa.Text(collation="NOCASE")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE COLLATION IF NOT EXISTS ra_nocase "
                "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
            )
        )
    return sa.Text(collation="ra_nocase")


def database_option(engine: sa.Engine) -> str:
    """The CLI's ``--database`` value that reaches what ``engine`` sees.

    The SQLite file; on PostgreSQL the suite's URL with the engine's own schema on the search path.
    """
    if engine.dialect.name == "sqlite":
        return str(engine.url.database)
    with engine.connect() as connection:
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    assert POSTGRES_URL is not None
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


def async_engine_of(engine: sa.Engine) -> AsyncEngine:
    """An asyncio engine on what ``engine`` sees: aiosqlite on its SQLite file, psycopg's async
    driver on its PostgreSQL schema; read-only where ``engine`` is. Create it inside the event
    loop that disposes it."""
    if engine.dialect.name == "sqlite":
        return create_async_engine(engine.url.set(drivername="sqlite+aiosqlite"))
    with engine.connect() as connection:
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
        read_only = connection.execute(sa.text("SHOW default_transaction_read_only")).scalar_one()
    options = f"-csearch_path={schema} -cdefault_transaction_read_only={read_only}"
    return create_async_engine(
        engine.url.set(drivername="postgresql+psycopg_async"), connect_args={"options": options}
    )


@contextmanager
def executed_statements(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement ``engine`` sends inside the block, with its parameters.

    ``runactionability.testing.count_statements`` keeps the text alone; a query plan of the
    statement (``query_plan``) needs the values it ran with too.
    """
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def query_plan(engine: sa.Engine, statement: str, parameters: Any) -> str:
    """The plan of one executed statement, a line a step; PostgreSQL is told to avoid scans,
    which it rightly prefers on the handful of rows a test stores, so the plan says whether
    the statement can seek with an index at all."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        else:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(str(row[-1]) for row in rows)


@contextmanager
def compilations() -> Iterator[list[str]]:
    """Every SQL compilation (SQLAlchemy's cache misses and explicit ``compile`` calls alike)."""
    seen: list[str] = []
    original = compiler.SQLCompiler.__init__

    def counting(self: compiler.SQLCompiler, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        # Savepoints (the PostgreSQL state reads' guard) are transaction control that
        # SQLAlchemy renders afresh each time, by design: no statement of the library.
        if "SAVEPOINT" not in self.string:
            seen.append(self.string)

    compiler.SQLCompiler.__init__ = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        compiler.SQLCompiler.__init__ = original  # type: ignore[method-assign]


@contextmanager
def statements_built() -> Iterator[list[str]]:
    """Every ``SELECT`` constructed and every SQLAlchemy cache key built.

    A statement kept and executed again as the same object is neither constructed nor keyed
    again (SQLAlchemy memoizes its key); one built afresh per call is both, even when it
    compiles to a cached string, and this counter sees it.
    """
    seen: list[str] = []
    original_key = cache_key.HasCacheKey._generate_cache_key
    original_init = sa.Select.__init__

    def keying(self: cache_key.HasCacheKey) -> cache_key.CacheKey | None:
        seen.append(f"key of {type(self).__name__}")
        return original_key(self)

    def constructing(self: sa.Select[Any], *args: Any, **kwargs: Any) -> None:
        seen.append("select")
        original_init(self, *args, **kwargs)

    cache_key.HasCacheKey._generate_cache_key = keying  # type: ignore[method-assign]
    sa.Select.__init__ = constructing  # type: ignore[method-assign, assignment]
    try:
        yield seen
    finally:
        cache_key.HasCacheKey._generate_cache_key = original_key  # type: ignore[method-assign]
        sa.Select.__init__ = original_init  # type: ignore[method-assign]


# -- instants stored as a host stores them (Instants) -----------------------------------------

STORAGES: dict[str, tuple[str, ...]] = {
    "sqlite": ("iso_text", "epoch_ms"),
    "postgresql": ("naive:America/New_York", "iso_text:Europe/Berlin", "epoch_us"),
}
"""The non-native storages each engine's storage legs use (``Instants.parse`` names)."""

STORAGE_LEGS = [f"{engine}/{storage}" for engine in BACKENDS for storage in STORAGES[engine]]
"""``engine/storage`` leg names, for fixtures parametrised over storages."""


def stored_copy(
    engine: sa.Engine, storage: str
) -> tuple[RunTableMapping, dict[str, StateTableMapping]]:
    """Copies of the loaded reference tables whose instants are stored as ``storage``.

    Every table, index and row is copied (names suffixed by the storage), the instants written
    by the storage's own column type; returns the mappings that read the copies. Copies made by
    an earlier call are emptied and refilled rather than recreated: their definition is this
    function's alone, and DDL per hypothesis example dominated the PostgreSQL legs' time.
    """
    instants = Instants.parse(storage)
    tag = "".join(char if char.isalnum() else "_" for char in storage.lower())
    copies = sa.MetaData()
    tables = {}
    for table in metadata.sorted_tables:
        copy = table.to_metadata(copies, name=f"{table.name}_{tag}")
        for column in copy.c:
            if isinstance(column.type, UtcTimestamp):
                column.type = instants.column_type()
        # Conditional DDL (an index for one dialect) is not copied with the index.
        conditions = {index.name: index._ddl_if for index in table.indexes}
        for index in copy.indexes:
            index._ddl_if = conditions[index.name]
            index.name = sa.sql.quoted_name(f"{index.name}_{tag}", None)
        tables[table.name] = copy
    with engine.begin() as connection:
        copies.create_all(connection)
        for copy in reversed(copies.sorted_tables):
            connection.execute(copy.delete())
        for table in metadata.sorted_tables:
            rows = [dict(row._mapping) for row in connection.execute(sa.select(table))]
            if rows:
                connection.execute(tables[table.name].insert(), rows)
    runs = RunTableMapping(table=f"operation_runs_{tag}", timestamps=instants)
    states = {
        kind: StateTableMapping(kind=kind, table=f"{kind}_states_{tag}", timestamps=instants)
        for kind in TABLE_STATE_KINDS
    }
    return runs, states


def stored_ports(
    engine: sa.Engine, storage: str, runs: Iterable[OperationRun], facts: Iterable[StateFact]
) -> Ports:
    """``sql_ports`` over copies of the reference tables in ``storage`` (see ``stored_copy``)."""
    sql_ports(engine, runs, facts)
    run_mapping, state_mappings = stored_copy(engine, storage)
    backend = open_backend(engine, runs=run_mapping, states=state_mappings, catalog=CATALOG)
    return Ports(
        name=f"{engine.dialect.name}/{storage}",
        history=backend.history,
        states=dict(backend.states),
        runs=backend.runs,
    )


# A host's runs table partitioned by PostgreSQL (issue 13): by ranges of created_at, as a host
# partitions by month (the generated histories span minutes, so the ranges are minutes wide), and
# by workspace, as a list or a hash. A partitioned table's primary key must hold the partition
# key: (id, workspace_id) by workspace; none by created_at, which may be NULL (a NULL instant is a
# bad row the library reports, so the table must store it: it lands in the default partition).
PARTITIONED_LAYOUTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "by_created_at": (
        "RANGE (created_at)",
        (),
        (
            f"FOR VALUES FROM (MINVALUE) TO ('{at(4).isoformat()}')",
            f"FOR VALUES FROM ('{at(4).isoformat()}') TO ('{at(8).isoformat()}')",
            f"FOR VALUES FROM ('{at(8).isoformat()}') TO (MAXVALUE)",
            "DEFAULT",
        ),
    ),
    "by_workspace_list": (
        "LIST (workspace_id)",
        ("id", "workspace_id"),
        ("FOR VALUES IN ('w1')", "FOR VALUES IN ('w2')", "DEFAULT"),
    ),
    "by_workspace_hash": (
        "HASH (workspace_id)",
        ("id", "workspace_id"),
        tuple(f"FOR VALUES WITH (MODULUS 3, REMAINDER {n})" for n in range(3)),
    ),
}
"""Layout name: (PARTITION BY clause, primary key, the bounds of each partition, in order)."""


def follow_up_ids(
    pushdown: SqlPushdown,
    scopes: VisibleScopes,
    as_of: datetime,
    expected: Mapping[Any, Actionability],
    *,
    limit: int,
) -> list[Any]:
    """The run ids of every follow-up page of ``pushdown``, in order: each item has its
    ``expected`` status, and each page but the last is full."""
    paged: list[Any] = []
    cursor = None
    while True:
        page = pushdown.follow_up_page(scopes, as_of=as_of, limit=limit, cursor=cursor)
        assert all(item.status is expected[item.run.id] for item in page.items)
        paged += [item.run.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return paged
        assert len(page.items) == limit


def create_partitioned_schema(engine: sa.Engine, layout: str) -> None:
    """The reference tables with ``operation_runs`` partitioned as ``PARTITIONED_LAYOUTS`` says.

    PostgreSQL only. Partitions are ``operation_runs_p0``, ``_p1``, ... in the layout's order; the
    reference indexes are created on the parent, so every partition has them.
    """
    partition_by, key, bounds = PARTITIONED_LAYOUTS[layout]
    runs = operation_runs
    partitioned = sa.Table(
        runs.name,
        sa.MetaData(),
        *(
            sa.Column(
                column.name,
                column.type,
                primary_key=column.name in key,
                nullable=column.nullable and column.name not in key and column.name != "id",
                autoincrement=False,
            )
            for column in runs.columns
        ),
        postgresql_partition_by=partition_by,
    )
    with engine.begin() as connection:
        metadata.drop_all(connection)
        for table in metadata.sorted_tables:
            if table is not runs:
                table.create(connection)
        partitioned.create(connection)
        for number, bound in enumerate(bounds):
            connection.exec_driver_sql(
                f"CREATE TABLE {runs.name}_p{number} PARTITION OF {runs.name} {bound}"
            )
        for index in runs.indexes:
            index.create(connection)


# -- message catalogs ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "src" / "runactionability"
LOCALE_DIR = PACKAGE_DIR / "i18n" / "locale"


def library_messages() -> set[Entry]:
    """Every message the library's catalogs must hold: the code's ``msg``/``msgn`` calls and the
    display names of the built-in plugins' types, families and states."""
    registry = Registry.default(entry_points=False)
    return extract_messages(PACKAGE_DIR, extra=registry.display_names())


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update_message_catalogs() -> None:
    """``make messages``: the shipped ``.po`` files brought in line with the code."""
    entries = library_messages()
    for locale in SHIPPED_LOCALES:
        update_catalog(catalog_path(locale), entries, locale, DOMAIN)


class AsyncSource:
    """A sync state source as an async one that yields to the event loop once per call."""

    def __init__(self, source: StateSource) -> None:
        self.kind = source.kind
        self.source = source

    async def current_states(
        self, requests: Collection[StateRequest]
    ) -> Mapping[StateRequest, StateFact]:
        await asyncio.sleep(0)
        return self.source.current_states(requests)


class AsyncHistory:
    """A sync run history as an async one that yields to the event loop once per call."""

    def __init__(self, history: RunHistory) -> None:
        self.history = history

    async def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Mapping[LaterSuccessRequest, RunFact]:
        await asyncio.sleep(0)
        return self.history.latest_successes(requests, as_of=as_of)


UUID_WORKSPACE = "00000000-00ab-cdef-0000-000000000000"
UUID_RUN = "000aaaa0-0000-0000-0000-000000000000"
UUID_RUNS_CONFIG = """[runs]
table = "uuid_runs"
subject = false
reflect = false
ids = {run = "uuid", workspace = "uuid", environment = "uuid"}
"""
"""The ``[runs]`` table of ``uuid_runs``, for a configuration file."""


def uuid_runs(engine: sa.Engine) -> None:
    """Creates ``uuid_runs``, a runs table whose ids are SQLAlchemy's ``Uuid`` (native on
    PostgreSQL, 32 hex digits on SQLite), holding ``UUID_RUN``: a failed run of
    ``UUID_WORKSPACE``, completed at ``T0``."""
    table = sa.Table(
        "uuid_runs",
        sa.MetaData(),
        sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
        sa.Column("workspace_id", sa.Uuid(as_uuid=False)),
        sa.Column("environment_id", sa.Uuid(as_uuid=False)),
        *(sa.Column(name, sa.Text()) for name in ("type", "status", "outcome")),
        *(sa.Column(name, UtcTimestamp()) for name in ("created_at", "started_at", "completed_at")),
        sa.Column("context", JsonDocument()),
    )
    table.create(engine)
    row: dict[str, Any] = {"id": UUID_RUN, "workspace_id": UUID_WORKSPACE, "environment_id": None}
    row |= {"type": "inventory.sync", "status": "completed", "outcome": "failed", "context": {}}
    row |= {"created_at": T0 - MINUTE, "started_at": T0 - MINUTE, "completed_at": T0}
    with engine.begin() as db:
        db.execute(table.insert(), [row])
