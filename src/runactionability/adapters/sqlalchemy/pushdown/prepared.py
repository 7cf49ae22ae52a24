"""The statement cache: classifications compiled once to driver SQL, and the values they bind."""

from __future__ import annotations

import copy
import functools
import json
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.driver_sql import (
    _PSYCOPG,
    _native,
    _raw_cursor,
)
from runactionability.adapters.sqlalchemy.ids import (
    IdType,
    IdTypes,
    check_scope_ids,
    id_value,
    stored_typed_id,
)
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.pushdown.common import usual_workspaces
from runactionability.adapters.sqlalchemy.types import JsonDocument, UtcTimestamp
from runactionability.scopes import VisibleScopes

_RUNTIME = (
    "as_of",
    "chunk",
    "after_id",
    "after_created",
    "workspace_ids",
    "workspace_id",
    "environment_ids",
    "environment_id",
)
_PREPARED_LIMIT = 256
"""Statements kept compiled per pushdown (one per scope shape and purpose)."""


def _prepare(connection: sa.Connection, scopes: VisibleScopes | None = None) -> None:
    """Set the PostgreSQL session options the pushdown's statements need, once a transaction.

    The classification is one large expression: PostgreSQL's cost estimate triggers JIT
    compilation, which costs more than the query itself (measured: ~0.6 s per statement).
    Parallel workers would each run the correlated lookups from a cold start; launching them
    cost more than the statement on the benchmark machine (2 cores). A list of ids is one array
    parameter, and a plan made for a prepared statement without its values (psycopg prepares
    after five executions) would walk every workspace's rows, so with a list (or unknown
    ``scopes``) each execution is planned for its own ids. One workspace (and at most one
    environment) is an equality a generic plan seeks as well: its statements may then be
    planned once per connection and reused. The options are local to the transaction, and a
    request's later calls in the same transaction skip the round trip.
    """
    if connection.dialect.name != "postgresql":
        return
    custom = scopes is None or not _single(scopes)
    transaction = connection.get_transaction()
    done = connection.info.get(_OPTIONS_SET)
    same = transaction is not None and done is not None and done[0]() is transaction
    if same and done is not None and (done[1] or not custom):
        return
    options = [
        "set_config('jit', 'off', true)",
        "set_config('max_parallel_workers_per_gather', '0', true)",
    ]
    if custom:
        options.append("set_config('plan_cache_mode', 'force_custom_plan', true)")
    connection.exec_driver_sql("SELECT " + ", ".join(options))
    if transaction is not None:
        connection.info[_OPTIONS_SET] = (weakref.ref(transaction), custom)


_OPTIONS_SET = "runactionability.pushdown.options"
"""Key of ``Connection.info`` (the DBAPI connection's): the transaction whose options are set
(a weak reference) and whether it plans each execution for its values."""


def _single(scopes: VisibleScopes) -> bool:
    environments, workspaces = scopes.environment_ids, scopes.workspace_ids
    if workspaces is None:
        return False
    return len(workspaces) == 1 and (environments is None or len(environments) == 1)


def _scope_key_of(scopes: VisibleScopes) -> tuple[Any, ...]:
    # The ids are parameters, so one statement serves every scope of the same shape; whether
    # the workspace ids are all usual picks the classification (``SqlPushdown.compiled``).
    environments = None if scopes.environment_ids is None else len(scopes.environment_ids) == 1
    workspaces = scopes.workspace_ids
    single = None if workspaces is None else len(workspaces) == 1
    usual = usual_workspaces(workspaces)
    return (single, environments, scopes.include_workspace_runs, usual)


@functools.lru_cache(maxsize=256)
def _scope_values(scopes: VisibleScopes, dialect: str, ids: IdTypes) -> Mapping[str, Any]:
    """The visible ids as the one parameter each list is bound as (see ``_Compiled.one_of``).

    Each id in its column's type (``ids``); one that type cannot hold is left out of the list,
    and bound alone as NULL, so it matches nothing. Kept per scopes (read-only): a session
    binds the same ids in every statement, and checking and converting 50 of them cost
    ~0.1 ms a statement. Ids refused (``UsageError``) are refused again on every call.
    """
    check_scope_ids(scopes.workspace_ids, scopes.environment_ids, ids)
    lists: dict[str, tuple[list[str], IdType]] = {}
    if scopes.workspace_ids is not None:
        lists["workspace"] = (sorted(scopes.workspace_ids), ids.workspace)
    if scopes.environment_ids is not None:
        lists["environment"] = (sorted(scopes.environment_ids), ids.environment)
    values: dict[str, Any] = {}
    for name, (given, id_type) in lists.items():
        typed = [id_value(value, id_type, dialect) for value in given]
        kept = [value for value in typed if value is not None]
        if dialect == "postgresql":
            values[f"{name}_ids"] = kept
        else:
            # SQLite stores a uuid as its text, so every kept value is JSON already.
            values[f"{name}_ids"] = json.dumps(kept)
        if len(typed) == 1:
            values[f"{name}_id"] = typed[0]
    return MappingProxyType(values)


def _params(scopes: VisibleScopes, as_of: datetime, dialect: str, ids: IdTypes) -> dict[str, Any]:
    return {"as_of": as_of, **_scope_values(scopes, dialect, ids)}


class _Prepared:
    """A statement compiled once to the driver's SQL text, run with ``exec_driver_sql``.

    Executing the classification through SQLAlchemy walks its whole expression tree to build a
    cache key every time (measured: 5-12 ms a statement, more than a page's query costs). The
    constants (type names, statuses) keep the parameter values they were compiled with; the scope
    ids, ``as_of``, the cursor and the chunk size are passed as already-processed driver values.
    """

    def __init__(
        self,
        statement: Any,
        dialect: sa.Dialect,
        instants: Instants | None = None,
        ids: IdTypes | None = None,
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        runtime = {name: None for name in _RUNTIME if name in compiled.binds}
        expanded = compiled.construct_expanded_state(runtime)
        self.dialect = dialect
        self.sql = expanded.statement
        self.constants = dict(expanded.parameters)
        self.positional = expanded.positiontup
        # A positional paramstyle (a host's create_engine(paramstyle=...)) already has no names.
        pyformat = dialect.driver in _PSYCOPG and self.positional is None
        self._native = _native(self.sql) if pyformat else None
        order = self._native[1] if self._native is not None else self.positional or ()
        self._template = [self.constants[name] for name in order]
        self._places: dict[str, list[int]] = {}
        for place, name in enumerate(order):
            if name in runtime:
                self._places.setdefault(name, []).append(place)
        # ``as_of`` is bound canonically (``instant_sql.compare_to``); rows are read in the
        # table's own storage.
        self._timestamp = UtcTimestamp()
        self._stored = (instants or Instants.native()).column_type()
        self._json = JsonDocument()
        # The driver's values skip the columns' types: each id is read as its IdColumn would.
        ids = IdTypes() if ids is None else ids
        self._ids: dict[str, IdType] = {
            "id": ids.run,
            "workspace_id": ids.workspace,
            "environment_id": ids.environment,
            "subject": ids.subject,
        }
        # Each result column's position, known from the first execution (``rows``).
        self._positions: dict[str, int] = {}

    def prefixed(self, prefix: str) -> _Prepared:
        """This statement with ``prefix`` before it (``EXPLAIN ...``), in each form it runs in."""
        explained = copy.copy(self)
        explained.sql = prefix + self.sql
        explained._positions = {}  # its own result columns, not the statement's
        if self._native is not None:
            explained._native = (prefix + self._native[0], self._native[1])
        return explained

    def execute(self, connection: sa.Connection, values: Mapping[str, Any]) -> Any:
        if self._native is not None:
            with _raw_cursor(connection) as raw:
                if raw:
                    return connection.exec_driver_sql(self._native[0], self._arguments(values))
        elif self.positional is not None:
            return connection.exec_driver_sql(self.sql, self._arguments(values))
        params = {**self.constants, **values}
        if "as_of" in params:
            params["as_of"] = self._timestamp.process_bind_param(params["as_of"], self.dialect)
        return connection.exec_driver_sql(self.sql, params)

    def _arguments(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional values (``$n`` or the driver's own order): the constants' places are
        filled once (``_template``), so a call sets only the few values it binds, not every one
        of the statement's hundreds (measured: ~0.05-0.1 ms a statement of 600)."""
        arguments = self._template.copy()
        for name, value in values.items():
            places = self._places.get(name)
            if places is None:
                continue
            if name == "as_of":
                value = self._timestamp.process_bind_param(value, self.dialect)
            for place in places:
                arguments[place] = value
        return tuple(arguments)

    def rows(self, connection: sa.Connection, values: Mapping[str, Any]) -> Sequence[Any]:
        """The result rows as tuples of the driver's values (``position`` says where a column
        is); ``read`` reads one as a run's.

        A follow-up walk reads many rows and keeps few, so only the rows it keeps, judges in
        Python or continues after become mappings and have their timestamps and context read
        (the context arrives as its JSON text on either engine, decoded only then).
        """
        result = self.execute(connection, values)
        if not self._positions:
            self._positions = {name: index for index, name in enumerate(result.keys())}
        rows: Sequence[Any] = result.fetchall()
        return rows

    def position(self, name: str) -> int:
        """Where column ``name`` is in a row of ``rows``."""
        return self._positions[name]

    def fetch_all(self, connection: sa.Connection, values: Mapping[str, Any]) -> Sequence[Any]:
        """Every result row, fetched by one driver call: iterating a result fetches one row at a
        time through SQLAlchemy's and psycopg's Python layers (measured: ~1 µs more a row)."""
        rows: Sequence[Any] = self.execute(connection, values).fetchall()
        return rows

    def read(self, raw: Sequence[Any]) -> dict[str, Any]:
        """A row of ``rows`` as a mapping, its timestamps, context and ids read as the run source
        does."""
        row = dict(zip(self._positions, raw, strict=True))
        read_instant = self._stored.process_result_value
        for name in ("created_at", "started_at", "completed_at"):
            row[name] = read_instant(row[name], self.dialect)
        row["context"] = self._json.process_result_value(row["context"], self.dialect)
        for name, id_type in self._ids.items():
            if name in row:
                row[name] = stored_typed_id(row[name], id_type)
        return row
