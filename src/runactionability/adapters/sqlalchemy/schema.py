"""The reference schema: ``operation_runs`` and one current-state table per built-in state kind.

A host with its own tables maps them instead (``RunTableMapping``/``StateTableMapping``); this
schema is what the demo, the tests and the benchmark use, and what a new host can adopt as is.

Every evidence lookup reads one index and nothing else. A later-success lookup is an equality seek
on (workspace, type, status, outcome, subject, environment) or, for scope-wide types, on
(workspace, type, status, outcome, environment), ordered by event start
(``coalesce(started_at, created_at)``), then ``completed_at``, then id, so the newest success is
the first entry the seek meets. The indexes are not partial: SQLite uses a partial index only when
the query repeats its predicate as literals, and the status values are bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from runactionability.adapters.sqlalchemy.mapping import (
    STATE_KINDS,
)
from runactionability.adapters.sqlalchemy.problem_predicate import problem_rows
from runactionability.adapters.sqlalchemy.types import JsonDocument, UtcTimestamp
from runactionability.catalog import OperationCatalog
from runactionability.errors import UsageError
from runactionability.evidence import StateFact
from runactionability.model import OperationRun, usable_id

BATCH_SIZE = 5_000
"""Rows per ``executemany`` when loading runs or states."""

metadata = sa.MetaData()
"""The reference schema's tables and indexes: what ``create_schema`` creates."""

operation_runs = sa.Table(
    "operation_runs",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("workspace_id", sa.String(200), nullable=False),
    sa.Column("environment_id", sa.String(200)),
    sa.Column("status", sa.String(50), nullable=False),
    sa.Column("outcome", sa.String(50)),
    sa.Column("created_at", UtcTimestamp()),
    sa.Column("started_at", UtcTimestamp()),
    sa.Column("completed_at", UtcTimestamp()),
    sa.Column("subject", sa.String(200)),
    sa.Column("context", JsonDocument(), nullable=False),
)
"""The reference runs table; a host with its own table maps it with ``RunTableMapping`` instead."""

_event_start = sa.func.coalesce(operation_runs.c.started_at, operation_runs.c.created_at)
# SQLite < 3.41 reads the table row on every seek unless the expression's columns are indexed too.
_event_start_columns = (operation_runs.c.started_at, operation_runs.c.created_at)

sa.Index(
    "ix_operation_runs_success_subject",
    operation_runs.c.workspace_id,
    operation_runs.c.type,
    operation_runs.c.status,
    operation_runs.c.outcome,
    operation_runs.c.subject,
    operation_runs.c.environment_id,
    _event_start,
    operation_runs.c.completed_at,
    operation_runs.c.id,
    *_event_start_columns,
)
sa.Index(
    "ix_operation_runs_success_scope",
    operation_runs.c.workspace_id,
    operation_runs.c.type,
    operation_runs.c.status,
    operation_runs.c.outcome,
    operation_runs.c.environment_id,
    _event_start,
    operation_runs.c.completed_at,
    operation_runs.c.id,
    *_event_start_columns,
)
# Listing walks runs newest first, NULLs last: SQLite's DESC does so, PostgreSQL needs nulls_last.


def _not_postgresql(
    ddl: Any,
    target: Any,
    bind: Any,
    tables: Any = None,
    state: Any = None,
    *,
    dialect: Dialect,
    compiler: Any = None,
    checkfirst: bool = False,
) -> bool:
    return dialect.name != "postgresql"


sa.Index("ix_operation_runs_created", operation_runs.c.created_at, operation_runs.c.id).ddl_if(
    callable_=_not_postgresql
)
sa.Index(
    "ix_operation_runs_created_desc",
    operation_runs.c.created_at.desc().nulls_last(),
    operation_runs.c.id.desc(),
).ddl_if(dialect="postgresql")


_problem = problem_rows(operation_runs.c.status, operation_runs.c.outcome)
# The follow-up list and the problem-row counts walk only problem runs (about a fifth of a
# history), newest first, within a workspace or across all of them. On SQLite each index holds
# every column they read, so a problem run costs no table row (a record too large for a page
# overflows to further pages). A PostgreSQL B-tree entry is limited to 2,704 bytes, and a failed
# run's context (an error log) may be larger: holding it made such a run impossible to insert.
# There the index holds the bounded columns and the context is read from the table row.
_c = operation_runs.c
_reads: tuple[Any, ...] = (_c.type, _c.status, _c.outcome, _c.environment_id, _c.started_at)
_reads += (_c.completed_at, _c.subject)
for _name, _scope in (("scope", (_c.workspace_id,)), ("created", ())):
    _held = _reads if _scope else (_c.workspace_id, *_reads)
    sa.Index(
        f"ix_operation_runs_problem_{_name}",
        *_scope,
        *(_c.created_at, _c.id, *_held, _c.context),
        sqlite_where=_problem,
    ).ddl_if(callable_=_not_postgresql)
    sa.Index(
        f"ix_operation_runs_problem_{_name}_desc",
        *(*_scope, _c.created_at.desc().nulls_last(), _c.id.desc()),
        postgresql_where=_problem,
        postgresql_include=[column.name for column in _held],
    ).ddl_if(dialect="postgresql")


def _state_table(kind: str) -> sa.Table:
    table = sa.Table(
        f"{kind}_states",
        metadata,
        sa.Column("workspace_id", sa.String(200), nullable=False),
        sa.Column("environment_id", sa.String(200)),
        sa.Column("subject", sa.String(200)),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("proven_at", UtcTimestamp(), nullable=False),
        sa.Column("attributes", JsonDocument(), nullable=False),
    )
    # One current row per object. NULL ids are folded into '' so that two workspace-owned rows
    # still collide (both databases treat NULLs as distinct in a plain unique index), and each
    # column's IS NULL is kept beside it, so that a NULL and an empty (unusable, but stored) id
    # stay two objects, as insert_states and the state sources read them.
    sa.Index(
        f"ux_{kind}_states_current",
        table.c.workspace_id,
        sa.func.coalesce(table.c.environment_id, sa.literal_column("''")),
        table.c.environment_id.is_(None),
        sa.func.coalesce(table.c.subject, sa.literal_column("''")),
        table.c.subject.is_(None),
        unique=True,
    )
    sa.Index(
        f"ix_{kind}_states_lookup",
        table.c.workspace_id,
        table.c.environment_id,
        table.c.subject,
        table.c.proven_at,
        # Last, so that the pushdown's state tests read this index alone.
        table.c.status,
    )
    return table


state_tables: dict[str, sa.Table] = {kind: _state_table(kind) for kind in STATE_KINDS}
"""The reference state tables by state kind (named ``<kind>_states``)."""


def create_schema(bind: sa.Engine | sa.Connection) -> None:
    """Create the reference tables and indexes that do not exist yet."""
    if isinstance(bind, sa.Engine):
        with bind.begin() as connection:
            metadata.create_all(connection)
    else:
        metadata.create_all(bind)


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _run_row(run: OperationRun, catalog: OperationCatalog) -> dict[str, Any]:
    op_type = catalog.resolve(run.type)
    context = run.context
    subject = None
    if op_type is not None and op_type.subject_key is not None and isinstance(context, Mapping):
        subject = usable_id(context.get(op_type.subject_key))
    return {
        "id": run.id,
        "type": run.type,
        "workspace_id": _stored_id(run.workspace_id),
        "environment_id": _stored_id(run.environment_id),
        "status": str(run.status),
        "outcome": None if run.outcome is None else str(run.outcome),
        "created_at": run.created_at,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "subject": subject,
        "context": dict(context) if isinstance(context, Mapping) else context,
    }


def _stored_id(value: object) -> str | None:
    """A scope id as the text column stores it, judged as the core judges it.

    A str is stored as it is (a blank one stays blank) and an int as its digits; any other
    value (``True``, ``4.2``) is no usable id, so it is stored blank, which every reader flags
    as the core flags the value itself: its text (``'True'``) would be a good id.
    """
    if value is None or isinstance(value, str):
        return value
    usable = usable_id(value)
    return "" if usable is None else usable


def _execute(
    bind: sa.Engine | sa.Connection, statement: sa.Executable, rows: Iterable[dict[str, Any]]
) -> int:
    count = 0
    if isinstance(bind, sa.Engine):
        with bind.begin() as connection:
            return _execute(connection, statement, rows)
    for batch in _batches(rows):
        bind.execute(statement, batch)
        count += len(batch)
    return count


def insert_runs(
    bind: sa.Engine | sa.Connection,
    runs: Iterable[OperationRun],
    *,
    catalog: OperationCatalog | None = None,
) -> int:
    """Insert runs into ``operation_runs`` in ``executemany`` batches; returns how many.

    The ``subject`` column is derived from each run's context with its type's ``subject_key``
    in ``catalog`` (the reference catalog by default): the value the host would write beside
    the run. Run ids must be integers (the reference table's key). With an ``Engine`` the load is
    one transaction; with a ``Connection`` it joins the caller's.
    """
    catalog = OperationCatalog.reference() if catalog is None else catalog
    rows = (_run_row(run, catalog) for run in runs)
    return _execute(bind, operation_runs.insert(), rows)


def _state_key(table: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(
        table.c.workspace_id == sa.bindparam("b_workspace_id"),
        table.c.environment_id.is_not_distinct_from(sa.bindparam("b_environment_id")),
        table.c.subject.is_not_distinct_from(sa.bindparam("b_subject")),
    )


def insert_states(bind: sa.Engine | sa.Connection, facts: Iterable[StateFact]) -> int:
    """Record states in the reference state tables; returns how many facts were given.

    Like the in-memory source, a fact replaces the current row of its (kind, scope, subject)
    unless that row was proven later. Every kind must be one of the reference state kinds.
    """
    by_kind: dict[str, dict[tuple[str, str | None, str | None], StateFact]] = {}
    count = 0
    for fact in facts:
        count += 1
        if fact.kind not in state_tables:
            raise UsageError(f"no reference state table for kind {fact.kind!r}")
        current = by_kind.setdefault(fact.kind, {})
        key = (fact.workspace_id, fact.environment_id, fact.subject)
        known = current.get(key)
        if known is None or fact.proven_at >= known.proven_at:
            current[key] = fact
    if isinstance(bind, sa.Engine):
        with bind.begin() as connection:
            _write_states(connection, by_kind)
    else:
        _write_states(bind, by_kind)
    return count


def _write_states(
    connection: sa.Connection,
    by_kind: dict[str, dict[tuple[str, str | None, str | None], StateFact]],
) -> None:
    for kind, facts in by_kind.items():
        table = state_tables[kind]
        rows = [
            {
                "b_workspace_id": fact.workspace_id,
                "b_environment_id": fact.environment_id,
                "b_subject": fact.subject,
                "b_status": fact.status,
                "b_proven_at": fact.proven_at,
                "b_attributes": dict(fact.attributes),
            }
            for fact in facts.values()
        ]
        delete = table.delete().where(
            _state_key(table), table.c.proven_at <= sa.bindparam("b_proven_at")
        )
        values = sa.select(
            sa.bindparam("b_workspace_id", type_=sa.String()),
            sa.bindparam("b_environment_id", type_=sa.String()),
            sa.bindparam("b_subject", type_=sa.String()),
            sa.bindparam("b_status", type_=sa.String()),
            sa.bindparam("b_proven_at", type_=UtcTimestamp()),
            sa.bindparam("b_attributes", type_=JsonDocument()),
        ).where(~sa.exists().where(_state_key(table)))
        insert = table.insert().from_select(
            ["workspace_id", "environment_id", "subject", "status", "proven_at", "attributes"],
            values,
        )
        for batch in _batches(rows):
            connection.execute(delete, batch)
            connection.execute(insert, batch)
