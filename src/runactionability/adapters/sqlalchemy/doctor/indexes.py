"""The seeks the library's statements make on a host's tables, and the indexes that serve them.

``schema.py`` documents what each statement seeks on; here each seek is a ``Seek``: groups of
leading columns (any order within a group: equality columns; the groups in order: then the range
or order column) and the index to create when none serves it, in the host's own column names.
Expression keys (the reference's ``coalesce(started_at, created_at)``) count as no column, so an
index serves a seek through its plain leading columns only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.mapping import RunTableMapping, StateTableMapping
from runactionability.findings import Finding, FindingCode, Severity

IndexKeys = tuple[str | None, ...]
"""An index's key columns in order; None for an expression."""


@attrs.frozen
class Seek:
    """What one statement seeks on, and the index that serves it."""

    purpose: str
    name: str
    leading: tuple[frozenset[str], ...]
    columns: tuple[str, ...]
    """Every column the new index names."""
    keys: Callable[[sa.Table, str], list[Any]]
    """The new index's keys over a table of those columns, for the dialect named."""
    severity: Severity = Severity.WARNING
    """An error where every read without the index scans the whole table once per run read."""

    def served_by(self, index: IndexKeys) -> bool:
        position = 0
        for group in self.leading:
            if set(index[position : position + len(group)]) != group:
                return False
            position += len(group)
        return True


def _newest_first(created: Any, run_id: Any, dialect: str) -> list[Any]:
    # As the reference indexes: SQLite walks an ascending index backwards; PostgreSQL puts NULLs
    # first in a descending index unless told, and the statements want them last.
    if dialect == "postgresql":
        return [created.desc().nulls_last(), run_id.desc()]
    return [created, run_id]


def _name(table: str, purpose: str) -> str:
    return f"ix_{table}_{purpose}"[:63]


def _vocabulary_columns(mapping: RunTableMapping) -> tuple[str, ...]:
    return tuple(mapping.column_name(field) for field in ("status", "outcome"))


def run_seeks(mapping: RunTableMapping) -> list[Seek]:
    """The seeks on a runs table: the listing, the later-success lookup, the follow-up walk."""
    ws, created, run_id = mapping.workspace_id, mapping.created_at, mapping.id
    # With a lifecycle column it is both status and outcome: one equality column.
    equal = tuple(dict.fromkeys((ws, mapping.type, *_vocabulary_columns(mapping))))

    def listing(t: sa.Table, dialect: str) -> list[Any]:
        return _newest_first(t.c[created], t.c[run_id], dialect)

    def success(t: sa.Table, dialect: str) -> list[Any]:
        c = t.c
        subject = [] if mapping.subject is None else [c[mapping.subject]]
        event_start = sa.func.coalesce(c[mapping.started_at], c[created])
        return [
            *(c[name] for name in equal),
            *subject,
            c[mapping.environment_id],
            event_start,
            c[mapping.completed_at],
            c[run_id],
        ]

    def follow_up(t: sa.Table, dialect: str) -> list[Any]:
        return [t.c[ws], *listing(t, dialect)]

    table = mapping.table
    columns = (
        *equal,
        *(() if mapping.subject is None else (mapping.subject,)),
        mapping.environment_id,
        mapping.started_at,
        created,
        mapping.completed_at,
        run_id,
    )
    return [
        Seek(
            "listing runs newest first",
            _name(table, "created"),
            (frozenset({created}),),
            columns,
            listing,
        ),
        Seek(
            "finding a later success",
            _name(table, "success"),
            (frozenset(equal),),
            columns,
            success,
        ),
        Seek(
            "walking a workspace's runs newest first",
            _name(table, "scope_created"),
            (frozenset({ws}), frozenset({created})),
            columns,
            follow_up,
        ),
        # Pages, explanations and the history read runs back by id: without an index each such
        # read scans the table (docs/performance.md, "Indexes a host must add").
        Seek(
            "reading runs by id",
            _name(table, "id"),
            (frozenset({run_id}),),
            (run_id,),
            lambda t, dialect: [t.c[run_id]],
            Severity.ERROR,
        ),
    ]


def state_seeks(mapping: StateTableMapping) -> list[Seek]:
    """The seek on a state table: one object's rows by scope and subject (and ``where``)."""
    subject = () if mapping.subject is None else (mapping.subject,)
    equal = (*sorted(mapping.where), mapping.workspace_id, mapping.environment_id, *subject)
    columns = (*equal, mapping.proven_at, mapping.status)

    def lookup(t: sa.Table, dialect: str) -> list[Any]:
        return [t.c[name] for name in columns]

    return [
        Seek(
            f"reading the current {mapping.kind} state",
            _name(mapping.table, "lookup"),
            (frozenset(equal),),
            columns,
            lookup,
        )
    ]


def _quoted(connection: sa.Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


def table_indexes(connection: sa.Connection, table: str, schema: str | None) -> list[IndexKeys]:
    """The key columns of every index on the table, the primary key's included."""
    inspector = sa.inspect(connection)
    found: list[IndexKeys] = []
    primary = inspector.get_pk_constraint(table, schema).get("constrained_columns") or []
    if primary:
        found.append(tuple(primary))
    if connection.dialect.name != "sqlite":
        found += [tuple(index["column_names"]) for index in inspector.get_indexes(table, schema)]
        return found
    # SQLAlchemy skips SQLite's expression indexes (with a warning); the pragmas list them all.
    prefix = "" if schema is None else _quoted(connection, schema) + "."
    listed = connection.exec_driver_sql(f"PRAGMA {prefix}index_list({_quoted(connection, table)})")
    for index in [row[1] for row in listed]:
        quoted = _quoted(connection, index)
        info = connection.exec_driver_sql(f"PRAGMA {prefix}index_info({quoted})")
        found.append(tuple(row[2] for row in sorted(info)))
    return found


def create_index(seek: Seek, table: str, schema: str | None, dialect: sa.Dialect) -> str:
    """The ``CREATE INDEX`` statement that serves ``seek``, in the dialect's SQL."""
    columns: list[sa.Column[Any]] = [sa.Column(name) for name in dict.fromkeys(seek.columns)]
    probe = sa.Table(table, sa.MetaData(), *columns, schema=schema)
    index = sa.Index(seek.name, *seek.keys(probe, dialect.name))
    return str(sa.schema.CreateIndex(index).compile(dialect=dialect))


def index_findings(
    connection: sa.Connection,
    seeks: Sequence[Seek],
    *,
    table: str,
    schema: str | None,
) -> list[Finding]:
    """A finding, with its ``CREATE INDEX``, per seek that no index on the table serves.

    On a view, whose indexes are its tables' and not seen here, each is a warning only.
    """
    indexes = table_indexes(connection, table, schema)
    view = table in sa.inspect(connection).get_view_names(schema=schema)
    return [
        Finding(
            code=FindingCode.MISSING_INDEX,
            severity=Severity.WARNING if view else seek.severity,
            message=(
                f"{table}: no index serves {seek.purpose} (on "
                f"{', then '.join('/'.join(sorted(group)) for group in seek.leading)}); "
                "each such read scans the table"
            ),
            fix=create_index(seek, table, schema, connection.dialect),
            table=table,
        )
        for seek in seeks
        if not any(seek.served_by(index) for index in indexes)
    ]
