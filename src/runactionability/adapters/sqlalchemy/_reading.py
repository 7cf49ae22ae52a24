"""What the SQL ports share: one read transaction per call, and the chunking of large batches."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

Bind = sa.Engine | sa.Connection
"""What the adapters read through: an ``Engine`` (a connection per call) or a ``Connection``."""

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

CHUNK_SIZE = 5_000
"""Requests per statement. Larger batches are split so that no single parameter grows without
bound; every chunk is read in the same transaction."""


def check_bind(bind: object) -> Bind:
    if not isinstance(bind, sa.Engine | sa.Connection):
        raise TypeError(f"bind must be a SQLAlchemy Engine or Connection, not {bind!r}")
    return bind


def chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[start : start + CHUNK_SIZE] for start in range(0, len(items), CHUNK_SIZE)]


@contextmanager
def read_transaction(bind: Bind, *, statements: int = 1) -> Iterator[sa.Connection]:
    """A connection inside a transaction, so that every statement of one call sees one snapshot.

    A ``Connection`` already in a transaction is used as is: its owner decides the snapshot (a
    whole resolver batch reads in one when the ports share such a connection). A call that may
    issue several statements reads them in one ``snapshot_transaction`` (REPEATABLE READ on
    PostgreSQL, whose default READ COMMITTED takes a new snapshot per statement; an explicit
    ``BEGIN`` on SQLite, whose pysqlite driver starts no transaction for a SELECT).
    """
    if statements > 1:
        with snapshot_transaction(bind) as connection:
            yield connection
    elif isinstance(bind, sa.Engine) and bind.dialect.name != "sqlite":
        # One statement is one snapshot by itself; autocommit spares the BEGIN and ROLLBACK
        # round trips that would otherwise cost PostgreSQL more than a small lookup does.
        # (pysqlite starts no transaction for a SELECT anyway.)
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection
    elif isinstance(bind, sa.Engine):
        with bind.connect() as connection, connection.begin():
            yield connection
    elif bind.in_transaction():
        yield bind
    else:
        with bind.begin():
            yield bind


@contextmanager
def as_found(bind: Bind) -> Iterator[Bind]:
    """``bind``, inside a transaction of the caller's own when it is a host's idle Connection.

    For build-time reads (reflection, checks). Read as is, SQLAlchemy 2 would autobegin a
    transaction on the Connection and leave it open: the host's ``begin()`` would then fail,
    and on PostgreSQL its later snapshots would read at the connection's READ COMMITTED. A
    Connection already in a transaction is read in it and left in it; an Engine lends a
    connection per read.
    """
    if isinstance(bind, sa.Connection) and not bind.in_transaction():
        with bind.begin():
            yield bind
    else:
        yield bind


def build_read(read: Callable[Concatenate[Bind, P], R]) -> Callable[Concatenate[Bind, P], R]:
    """``read`` (whose first argument is its bind) run ``as_found``: a build-time read that
    leaves a host's idle Connection idle, and one in a transaction in it."""

    @functools.wraps(read)
    def wrapped(bind: Bind, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with as_found(check_bind(bind)) as bound:
            return read(bound, *args, **kwargs)

    return wrapped


def _begin_sqlite(connection: sa.Connection, statements: int) -> None:
    if statements <= 1 or connection.dialect.name != "sqlite":
        return
    driver: Any = connection.connection.driver_connection
    if not getattr(driver, "in_transaction", True):
        connection.exec_driver_sql("BEGIN")


_REPEATABLE_READ = "REPEATABLE READ"


@contextmanager
def snapshot_transaction(bind: Bind) -> Iterator[sa.Connection]:
    """One connection inside one transaction in which every statement sees one snapshot.

    PostgreSQL's default READ COMMITTED takes a new snapshot per statement, so the transaction
    is REPEATABLE READ: its snapshot is taken by its first statement and kept to the end. On
    SQLite a deferred ``BEGIN`` (sent explicitly, since pysqlite opens no transaction for a
    ``SELECT``) does the same once it first reads; a writer on another connection then waits
    (rollback journal) or writes a newer version this transaction does not see (WAL). A
    ``Connection`` already in a transaction is used as is: its owner chose the snapshot.
    """
    if isinstance(bind, sa.Engine):
        with bind.connect() as connection:
            if bind.dialect.name == "postgresql":
                # Also overrides an engine created in AUTOCOMMIT; reset when the connection
                # goes back to the pool.
                connection.execution_options(isolation_level=_REPEATABLE_READ)
            with connection.begin():
                _begin_sqlite(connection, statements=2)
                yield connection
    elif bind.in_transaction():
        yield bind
    else:
        with bind.begin():
            if bind.dialect.name == "postgresql":
                # The first statement of the transaction, so it still may set its isolation;
                # the caller's connection keeps its own level for later transactions.
                bind.exec_driver_sql(f"SET TRANSACTION ISOLATION LEVEL {_REPEATABLE_READ}")
            _begin_sqlite(bind, statements=2)
            yield bind


Shape = tuple[bool, bool]
"""(has an environment, has a subject): which columns a request constrains. Each shape gets its
own branch of a statement so that every branch is a pure equality seek."""
SHAPES: tuple[Shape, ...] = ((True, True), (True, False), (False, True), (False, False))
AnyShape = tuple[bool | None, bool]
"""A ``Shape`` whose environment may also be None: runs that have no environment (the history
seeks those alone for an actor who sees only some environments)."""
S = TypeVar("S", Shape, AnyShape)


def shape_name(shape: AnyShape, prefix: str = "") -> str:
    """The key-list parameter of a shape; ``prefix`` tells apart the ports of one joint read."""
    has_env, has_subject = shape
    env = "e" if has_env else ("w" if has_env is False else "n")
    return f"{prefix}keys_{env}{'s' if has_subject else 'n'}"


def keyed_statement(
    dialect: str,
    fields: Sequence[str],
    groups: Mapping[S, list[tuple[Any, ...]]],
    branches: Mapping[S, sa.Select[Any]],
    composed: dict[tuple[S, ...], sa.Executable],
    shapes: Sequence[S] = SHAPES,
    prefix: str = "",
) -> tuple[sa.Executable, dict[str, Any]]:
    """The statement for the request shapes present, and its key-list parameters.

    Only the branches of shapes present are sent (at most fifteen texts per port, each compiled
    once), so the database plans no branch that has nothing to look up. The keys of a branch
    travel as one JSON text parameter, read by ``json_each`` (SQLite) or ``jsonb_to_recordset``
    (PostgreSQL): arrays for ``unnest`` cost more to encode, element by element, than the query
    costs to run.
    """
    present = tuple(shape for shape in shapes if groups.get(shape))
    statement = composed.get(present)
    if statement is None:
        selects = [branches[shape] for shape in present]
        statement = selects[0] if len(selects) == 1 else sa.union_all(*selects)
        composed[present] = statement
    params: dict[str, Any] = {}
    for shape in present:
        rows = groups[shape]
        if dialect == "postgresql":
            document: Any = [dict(zip(fields, row, strict=True)) for row in rows]
        else:
            document = rows
        params[shape_name(shape, prefix)] = json.dumps(document, separators=(",", ":"))
    return statement, params


def postgresql_keys(
    name: str, fields: Sequence[str], types: Mapping[str, Any] | None = None
) -> Any:
    """The rows of the JSON key-list parameter ``name``, as a typed derived table.

    A field is text unless ``types`` gives its SQL type (an id field of an integer or uuid
    column), so that it compares with its column in the column's own type.
    """
    types = types or {}
    columns = [
        sa.column(field, sa.Integer() if field == "idx" else types.get(field, sa.Text()))
        for field in fields
    ]
    document = sa.cast(sa.bindparam(name, type_=sa.Text()), postgresql.JSONB)
    return (
        sa.func.jsonb_to_recordset(document)
        .table_valued(*columns)
        .render_derived(name=f"k_{name}", with_types=True)
    )


def sqlite_keys(name: str, fields: Sequence[str]) -> tuple[Any, Callable[[str], Any]]:
    """The rows of the JSON key-list parameter ``name`` on SQLite, and a reader of their fields.

    Each row is a JSON array in ``fields`` order; the reader extracts one field by position.
    """
    keys = sa.func.json_each(sa.bindparam(name, type_=sa.Text())).table_valued("value")
    rows = keys.alias(f"k_{name}")
    return rows, sqlite_field_reader(rows.c.value, fields)


def sqlite_field_reader(value: Any, fields: Sequence[str]) -> Callable[[str], Any]:
    """A reader of one field, by its position in ``fields``, of the JSON array ``value``."""

    def field_of(field: str) -> Any:
        path: Any = sa.literal_column(f"'$[{fields.index(field)}]'")
        return sa.func.json_extract(value, path)

    return field_of
