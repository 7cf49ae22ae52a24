"""Long statements compiled once and run as the driver's own SQL.

SQLAlchemy builds a cache key by walking a statement's whole expression tree on every
execution, and psycopg converts ``%(name)s`` placeholders afresh for every statement longer
than 4 KB. Both cost more than the statement itself for the pushdown's walk and for a page's
joint evidence read. The helpers here compile such a statement once to driver SQL (in
PostgreSQL's ``$n`` form on psycopg's raw cursor) and run it with ``exec_driver_sql``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

_PSYCOPG = frozenset({"psycopg", "psycopg_async"})
_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%")


def _native(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` (SQLAlchemy's ``%(name)s`` form for psycopg) in PostgreSQL's own ``$n`` form,
    and the parameter names in their order.

    psycopg converts a query's placeholders to ``$n`` itself, but caches the conversion only
    for queries up to 4 KB and 50 parameters; the classification (~100 KB, ~340 parameters
    on the demo) and the follow-up walk (~60 KB) were re-parsed with a regular expression on
    every execution (measured: 0.6-1.2 ms each, ~3 ms a request). Converted here once, they
    run on psycopg's raw cursor, which sends them as they are.
    """
    order: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return order.setdefault(name, f"${len(order) + 1}")

    return _PYFORMAT.sub(placeholder, sql), tuple(order)


@contextmanager
def _raw_cursor(connection: sa.Connection) -> Iterator[bool]:
    """Let the next cursor ``connection`` opens be psycopg's raw one; whether it will be.

    Only in place of psycopg's default cursor: a host that chose another cursor class (a
    ``ClientCursor`` for client-side binding, its own subclass) or server-side cursors keeps
    them, and the statement runs in its ``%(name)s`` form. SQLAlchemy opens the cursor inside
    ``exec_driver_sql``, before the engine's ``before_cursor_execute`` event (which therefore
    still sees every statement), and the default is back as soon as that one cursor exists.
    """
    import psycopg

    driver: Any = connection.connection.driver_connection
    kept = driver.cursor_factory
    # psycopg 3.1 has no raw cursor: its statements keep the %(name)s form.
    native = {
        psycopg.Cursor: getattr(psycopg, "RawCursor", None),
        psycopg.AsyncCursor: getattr(psycopg, "AsyncRawCursor", None),
    }
    raw = native.get(kept)
    options = connection.get_execution_options()
    # SQLAlchemy turns yield_per into a server-side cursor only inside the execution, where the
    # options above no longer show it: a server cursor would get the $n text and fail.
    streamed = (
        connection.dialect.server_side_cursors
        or options.get("stream_results", False)
        or options.get("yield_per") is not None
    )
    if raw is None or streamed:
        yield False
        return
    owner = threading.get_ident()

    def once(*args: Any, **kwargs: Any) -> Any:
        # psycopg connections may be shared by threads (a StaticPool): a cursor another thread
        # opens meanwhile is its own default one, and only ours puts the default back.
        if threading.get_ident() != owner:
            return kept(*args, **kwargs)
        driver.cursor_factory = kept
        return raw(*args, **kwargs)

    driver.cursor_factory = once
    try:
        yield True
    finally:
        driver.cursor_factory = kept


class DriverStatement:
    """A statement compiled once to driver SQL, whose rows read as SQLAlchemy's would.

    ``runtime`` names the parameters each execution binds; every other parameter keeps the
    value it was compiled with, processed once. Each execution's values go through their
    types' bind processors and each result column through its type's result processor, as
    ``Connection.execute`` would do (so a host's id and instant types read the same), without
    the cache key SQLAlchemy builds from the whole expression on every call.
    """

    def __init__(self, statement: Any, dialect: sa.Dialect, runtime: Collection[str]) -> None:
        compiled = statement.compile(dialect=dialect)
        expanded = compiled.construct_expanded_state(dict.fromkeys(runtime))
        self.sql: str = expanded.statement
        self.positional = expanded.positiontup
        # Each parameter's bind processor by its name (an expanded list's by its members'), as
        # SQLAlchemy applies them: ``as_of`` becomes the stored instant.
        self._processors: dict[str, Any] = dict(expanded.processors)
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors.setdefault(name, processor)
        self.constants = {
            name: self._bound(name, value)
            for name, value in expanded.parameters.items()
            if name not in runtime
        }
        pyformat = dialect.driver in _PSYCOPG and self.positional is None
        self._native = _native(self.sql) if pyformat else None
        self._types = [column.type for column in statement.selected_columns]
        # Each column's result processor, known from the first execution's cursor (the driver's
        # type codes, as SQLAlchemy reads them).
        self._readers: list[tuple[int, Any]] | None = None

    def _bound(self, name: str, value: Any) -> Any:
        processor = self._processors.get(name)
        return value if processor is None else processor(value)

    def rows(self, connection: sa.Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every result row, each column read by its type."""
        params = dict(self.constants)
        for name, value in values.items():
            params[name] = self._bound(name, value)
        result = self._execute(connection, params)
        if self._readers is None:
            self._readers = self._result_readers(connection.dialect, result)
        readers = self._readers
        rows = result.fetchall()
        if not readers:
            return [tuple(row) for row in rows]
        read: list[tuple[Any, ...]] = []
        for row in rows:
            values_of = list(row)
            for index, reader in readers:
                values_of[index] = reader(values_of[index])
            read.append(tuple(values_of))
        return read

    def _execute(self, connection: sa.Connection, params: dict[str, Any]) -> Any:
        if self._native is not None:
            native, order = self._native
            with _raw_cursor(connection) as raw:
                if raw:
                    return connection.exec_driver_sql(native, tuple(params[n] for n in order))
        if self.positional is not None:
            return connection.exec_driver_sql(
                self.sql, tuple(params[name] for name in self.positional)
            )
        return connection.exec_driver_sql(self.sql, params)

    def _result_readers(self, dialect: sa.Dialect, result: Any) -> list[tuple[Any, Any]]:
        description: Sequence[Any] = result.cursor.description
        readers = []
        for index, type_ in enumerate(self._types):
            reader = type_.dialect_impl(dialect).result_processor(dialect, description[index][1])
            if reader is not None:
                readers.append((index, reader))
        return readers
