"""``SqlRunSource``: runs of visible scopes, newest first, with keyset pagination."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy import run_statements
from runactionability.adapters.sqlalchemy._reading import Bind, check_bind, read_transaction
from runactionability.adapters.sqlalchemy.context_check import refuse_text_context
from runactionability.adapters.sqlalchemy.cursors import (
    check_cursor_key,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from runactionability.adapters.sqlalchemy.ids import (
    check_caller_ids,
    id_value,
    stored_typed_id,
)
from runactionability.adapters.sqlalchemy.instant_rows import (
    cursor_value,
    readable_columns,
)
from runactionability.adapters.sqlalchemy.instant_sql import valid_timestamp
from runactionability.adapters.sqlalchemy.mapping import REFERENCE_RUNS, RUN_FIELDS, RunTableMapping
from runactionability.adapters.sqlalchemy.types import (
    as_run_id,
)
from runactionability.adapters.sqlalchemy.unique_ids import proven_unique_ids
from runactionability.catalog import OperationCatalog
from runactionability.errors import DuplicateRunError, UsageError
from runactionability.limits import check_limit
from runactionability.model import OperationRun, RunId, RunOutcome, new_run
from runactionability.ports import RunPage, RunQuery, run_as_of
from runactionability.scopes import VisibleScopes

_INSTANTS = frozenset({"created_at", "started_at", "completed_at"})


class SqlRunSource:
    """``RunSource`` over a runs table.

    Differences from the port contract and the in-memory source: the order is the database's
    order of the stored ``created_at`` values, so a run whose ``created_at`` is NULL comes last
    (as in memory) but an unreadable one (``types.READABLE_FROM``) sorts where the database
    orders it: on SQLite stray text and out-of-range numbers before or after every valid
    instant, on PostgreSQL ``'infinity'`` and years after 9999 first, ``'-infinity'`` last
    before NULL. Such a value is read back as stored (as its text on PostgreSQL), so the core
    flags the run, and a cursor past it carries that stored value. ``list_runs`` also takes
    ``outcomes`` (host pages such as "failed runs").
    Status and outcome values are read through the mapping's vocabulary: with a host vocabulary
    a value it does not list comes back as an ``UnmappedValue`` (flagged by the core), never as
    the library word it may happen to spell. An id the driver returns as neither str nor int
    (a ``uuid``, a ``numeric``) comes back as its text, which ``get_run`` accepts.
    With a subject column and a ``catalog``, a run whose context lacks its type's ``subject_key``
    gets the column's value under that key, so the core can correlate it.
    """

    def __init__(
        self,
        bind: Bind,
        mapping: RunTableMapping = REFERENCE_RUNS,
        *,
        catalog: OperationCatalog | None = None,
        cursor_key: bytes | None = None,
    ) -> None:
        self.bind = check_bind(bind)
        refuse_text_context(self.bind, mapping)
        self.mapping = mapping
        self.catalog = catalog
        self.cursor_key = check_cursor_key(cursor_key)
        table = mapping.table_clause()
        self._c: dict[str, Any] = {name: table.c[mapping.column_name(name)] for name in RUN_FIELDS}
        self._subject = table.c[mapping.subject] if mapping.subject is not None else None
        columns = self.columns(self._c, self.bind.dialect.name)
        if self._subject is not None:
            columns.append(self._subject.label("subject"))
        # Every row ``_run`` reads comes from these columns (the pushdown's walk and counts
        # select them too), so whether an instant may come back as text beside it is known
        # here: a SQLAlchemy row's ``get`` of a missing key raises and catches an exception
        # inside (measured: about 10x a plain lookup, three times a run on SQLite).
        labels = {column.name for column in columns}
        self._raw = {name: f"{name}_raw" if f"{name}_raw" in labels else None for name in _INSTANTS}
        self._select = sa.select(*columns).select_from(table)
        self._table = table
        self._by_id = self._select.where(
            self._c["id"] == sa.bindparam("run_id", type_=self._c["id"].type)
        )
        id_column = self._c["id"]
        self._by_ids_all = self._select.where(
            id_column.in_(sa.bindparam("run_ids", expanding=True, type_=id_column.type))
        )
        # The shared-id reads (``RunsById``), one statement per shape of scopes, each built
        # once, so that no row outside an actor's scopes is read and none is built per request.
        self._by_ids: dict[run_statements.ScopeShape, Any] = {}
        self._shared: dict[run_statements.ScopeShape, Any] = {}
        # Whether the table proves its ids unique, once known (shared by the request copies).
        self._unique: list[bool] = []
        # Shared by the copies a request binds to its connection, so each shape is built once.
        self._statements: dict[run_statements.Shape, Any] = {}
        # Whether created_at is declared without a time zone, reflected once if ever asked.
        self._wall_times: dict[str, bool] = {}

    @staticmethod
    def columns(c: Mapping[str, Any], dialect: str) -> list[Any]:
        """The run columns labelled by field, as ``_run`` reads them (unreadable instants too)."""
        columns: list[Any] = []
        for name in RUN_FIELDS:
            if name in _INSTANTS:
                columns.extend(readable_columns(c[name], name, dialect))
            else:
                columns.append(c[name].label(name))
        return columns

    @property
    def orders_by_instant(self) -> bool:
        """Whether the database's order of the stored ``created_at`` values is their instants'
        order for every readable value: not for ISO text (a ``' '`` and a ``'T'`` separator sort
        apart) nor wall-clock storages (a zone's clocks go back), so a reader that stops early
        on this order (``KeyedActiveRuns.newest``) reads on instead."""
        return self.mapping.timestamps.form in {"native", "timestamptz", "epoch"}

    def get_run(self, run_id: RunId) -> OperationRun | None:
        if isinstance(run_id, bool) or not isinstance(run_id, str | int):
            raise UsageError(f"a run id is a str or an int, not {run_id!r}")
        # In the id column's own type: text that names no id of that type (not the integer's
        # own decimal form, not a uuid) and an integer beyond 64 bits are no run; a uuid in
        # another spelling is refused rather than silently matching nothing.
        check_caller_ids([run_id], self.mapping.ids.run, "run id")
        value = id_value(run_id, self.mapping.ids.run, self.bind.dialect.name)
        if value is None:
            return None
        with read_transaction(self.bind) as connection:
            rows = connection.execute(self._by_id, {"run_id": value}).fetchmany(2)
        if len(rows) > 1:
            # A table without a unique id: the database's first row is no answer (see the port).
            raise DuplicateRunError([run_id], where="in the run table")
        return self._run(rows[0]._mapping) if rows else None

    def unique_ids(self) -> bool:
        """See ``RunsById``: the table's primary key or a unique constraint or index is exactly
        the id column. Read from the catalog once per source (its request copies share it)."""
        if not self._unique:
            with read_transaction(self.bind) as connection:
                proven = proven_unique_ids(connection, self.mapping)
            if proven is None:
                # No such table yet: asked again once it may exist, never remembered.
                return False
            self._unique.append(proven)
        return self._unique[0]

    def proven_unique(self) -> SqlRunSource:
        """This source, its ids taken as unique (``unique_ids``), so that no consumer reads rows
        by id to find one two rows share: for a reader that has proved it of every row it will
        read, such as a request session whose ``shares_ids`` found none in its scopes, on the
        one snapshot it reads."""
        clone = copy.copy(self)
        clone._unique = [True]
        return clone

    def shares_ids(self, scopes: VisibleScopes | None) -> bool:
        """See ``RunsById``: one grouped statement over the rows of ``scopes``, none when the
        ids are proven unique."""
        if self.unique_ids():
            return False
        statement, values = self._scoped("shared", scopes)
        with read_transaction(self.bind) as connection:
            return connection.execute(statement, values).first() is not None

    def runs_by_ids(
        self, run_ids: Collection[RunId], scopes: VisibleScopes | None
    ) -> list[OperationRun]:
        """See ``RunsById``: every row of ``scopes`` with one of these ids, as ``get_run``
        matches one (a table without a primary key may hold two), in one statement."""
        ids = list(run_ids)
        for run_id in ids:
            if isinstance(run_id, bool) or not isinstance(run_id, str | int):
                raise UsageError(f"a run id is a str or an int, not {run_id!r}")
        check_caller_ids(ids, self.mapping.ids.run, "run id")
        dialect = self.bind.dialect.name
        stored = (id_value(run_id, self.mapping.ids.run, dialect) for run_id in ids)
        values = [value for value in stored if value is not None]
        if not values:
            return []
        statement, scoped = self._scoped("by_ids", scopes)
        with read_transaction(self.bind) as connection:
            rows = connection.execute(statement, {"run_ids": values, **scoped})
            return [self._run(row._mapping) for row in rows]

    def _scoped(self, kind: str, scopes: VisibleScopes | None) -> tuple[Any, dict[str, Any]]:
        """The ``kind`` statement (``by_ids`` or ``shared``) of ``scopes``' shape, with the
        scopes' ids."""
        shape = run_statements.scope_shape(scopes, self.bind.dialect.name)
        statements = self._by_ids if kind == "by_ids" else self._shared
        statement = statements.get(shape)
        if statement is None:
            statement = self._scoped_statement(kind, shape)
            statements[shape] = statement
        if scopes is None:
            return statement, {}
        values = run_statements.scope_values(
            scopes.workspace_ids, scopes.environment_ids, self.mapping, self.bind.dialect.name
        )
        return statement, values

    def _scoped_statement(self, kind: str, shape: run_statements.ScopeShape) -> Any:
        scoped = run_statements.scope_filters(self._c, self.mapping, self.bind.dialect.name, shape)
        if kind == "by_ids":
            return self._by_ids_all.where(*scoped)
        id_column = self._c["id"]
        shared = sa.select(id_column).select_from(self._table)
        shared = shared.where(id_column.is_not(None), *scoped)
        return shared.group_by(id_column).having(sa.func.count() > 1).limit(1)

    def list_runs(
        self,
        query: RunQuery,
        *,
        limit: int = 100,
        cursor: str | None = None,
        outcomes: Collection[RunOutcome] | None = None,
    ) -> RunPage:
        check_limit(limit)
        dialect = self.bind.dialect.name
        tag = None
        values = run_statements.values_of(query, self.mapping, dialect, limit)
        if cursor is not None:
            tag, created, cursor_id = self.check_cursor(cursor)
            values.update(
                run_statements.cursor_values(tag, created, cursor_id, self.mapping, dialect)
            )
        statement = self._statement(run_statements.shape_of(query, outcomes, tag, dialect))
        with read_transaction(self.bind) as connection:
            rows = [row._mapping for row in connection.execute(statement, values).fetchall()]
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = (
            encode_cursor(
                cursor_value(rows[-1], "created_at"),
                as_run_id(rows[-1]["id"]),
                key=self.cursor_key,
            )
            if more
            else None
        )
        runs = [self._run(row) for row in rows]
        if query.as_of is not None:
            # The filters above already left out the runs created after as_of (and chose by the
            # status at as_of); what is left is each run as it was then.
            as_of = query.as_of
            runs = [then for run in runs if (then := run_as_of(run, as_of)) is not None]
        return RunPage(runs=runs, next_cursor=next_cursor)

    def newest(self, limit: int, *, readable: bool = False) -> list[OperationRun]:
        """The ``limit`` newest runs of the whole table, in ``list_runs`` order, read alike.

        Every scope at once, rows with unusable scope ids included: it is what ``check``
        samples to judge a mapping, never a page to show an actor. ``readable``: only runs
        whose ``created_at`` the mapping reads as an instant, so that unreadable values the
        database sorts above every date (``'legacy'`` after ISO text) do not stand for the
        newest history.
        """
        if limit < 1:
            raise UsageError(f"limit must be at least 1, not {limit!r}")
        created, run_id = self._c["created_at"], self._c["id"]
        dialect = self.bind.dialect.name
        order = created.desc().nulls_last() if dialect == "postgresql" else created.desc()
        statement = self._select.where(run_statements.addressable(self._c))
        statement = statement.order_by(order, run_id.desc()).limit(limit)
        if readable:
            statement = statement.where(valid_timestamp(created, dialect))
        with read_transaction(self.bind) as connection:
            return [self._run(row._mapping) for row in connection.execute(statement)]

    def count_undated(self) -> int:
        """How many addressable runs of the whole table have a ``created_at`` the mapping cannot
        read as an instant (NULL included): the runs ``newest(readable=True)`` leaves out."""
        created = self._c["created_at"]
        undated = sa.not_(valid_timestamp(created, self.bind.dialect.name))
        statement = sa.select(sa.func.count()).select_from(created.table)
        statement = statement.where(run_statements.addressable(self._c), undated)
        with read_transaction(self.bind) as connection:
            return int(connection.execute(statement).scalar_one())

    def count_misdated(self, limit: int) -> tuple[int, int]:
        """(misdated, looked at) among the ``limit`` newest addressable runs as stored: the
        runs whose ``created_at`` holds a digit yet is no instant the mapping reads.

        One bounded statement. A digit tells a date the mapping misreads (ISO text with an
        offset read as ``iso_text``) from a marker no mapping could read (``'legacy'``, NULL),
        which ``newest(readable=True)`` rightly leaves out of recent history.
        """
        created, run_id = self._c["created_at"], self._c["id"]
        dialect = self.bind.dialect.name
        text = sa.cast(created, sa.Text())
        digit = text.op("~")("[0-9]") if dialect == "postgresql" else text.op("GLOB")("*[0-9]*")
        misread = sa.and_(sa.not_(valid_timestamp(created, dialect)), digit)
        order = created.desc().nulls_last() if dialect == "postgresql" else created.desc()
        newest = (
            sa.select(sa.case((misread, 1), else_=0).label("misdated"))
            .select_from(created.table)
            .where(run_statements.addressable(self._c))
            .order_by(order, run_id.desc())
            .limit(limit)
            .subquery()
        )
        statement = sa.select(sa.func.coalesce(sa.func.sum(newest.c.misdated), 0), sa.func.count())
        with read_transaction(self.bind) as connection:
            misdated, looked = connection.execute(statement.select_from(newest)).one()
        return int(misdated), int(looked)

    def check_cursor(self, cursor: str) -> tuple[str, Any, Any]:
        """(tag, created_at, id) of a cursor this source issued; ``InvalidCursorError`` else.

        ``list_runs`` checks its cursor so; a caller that reads something else first (a page's
        active work) checks it up front, so that no statement runs for a refused cursor.
        """
        tag, created, run_id = decode_cursor(
            cursor,
            id_type=self.mapping.ids.run,
            key=self.cursor_key,
            instants=self.mapping.timestamps,
            dialect=self.bind.dialect.name,
        )
        if tag == "naive" and self.mapping.timestamps.form != "naive" and not self._walls():
            # A listing writes a naive position only from a column without a time zone. Bound
            # against a timestamptz column, PostgreSQL would place the wall time in the
            # session's TimeZone, so the page would depend on the server's setting.
            raise invalid_cursor(cursor, "this run source")
        return tag, created, run_id

    def _walls(self) -> bool:
        """Whether ``created_at`` is declared ``timestamp without time zone`` (reflected once,
        only for a naive cursor under a mapping of instants, which only such a column issues)."""
        known = self._wall_times.get("created_at")
        if known is None:
            mapping = self.mapping
            with read_transaction(self.bind) as connection:
                columns = sa.inspect(connection).get_columns(mapping.table, schema=mapping.schema)
            declared = [col["type"] for col in columns if col["name"] == mapping.created_at]
            known = any(isinstance(d, sa.DateTime) and not d.timezone for d in declared)
            self._wall_times["created_at"] = known
        return known

    def _statement(self, shape: run_statements.Shape) -> Any:
        statement = self._statements.get(shape)
        if statement is None:
            if len(self._statements) >= run_statements.STATEMENTS_LIMIT:
                self._statements.clear()
            statement = run_statements.build(self._select, self._c, self.mapping, shape)
            self._statements[shape] = statement
        return statement

    def _run(self, row: Mapping[Any, Any]) -> OperationRun:
        mapping = self.mapping
        context = row["context"]
        if context is None:
            context = {}
        if self._subject is not None and self.catalog is not None and isinstance(context, dict):
            op_type = self.catalog.resolve(row["type"])
            subject = stored_typed_id(row["subject"], mapping.ids.subject)
            if (
                op_type is not None
                and op_type.subject_key is not None
                and op_type.subject_key not in context
                and subject is not None
            ):
                context = {**context, op_type.subject_key: subject}
        return new_run(
            as_run_id(stored_typed_id(row["id"], mapping.ids.run)),
            row["type"],
            stored_typed_id(row["workspace_id"], mapping.ids.workspace),
            stored_typed_id(row["environment_id"], mapping.ids.environment),
            mapping.read_status(row["status"]),
            mapping.read_outcome(row["outcome"]),
            self._instant(row, "created_at"),
            self._instant(row, "started_at"),
            self._instant(row, "completed_at"),
            context,
        )

    def _instant(self, row: Mapping[Any, Any], name: str) -> Any:
        # ``instant_rows.stored_instant``, with the text column looked up only where it exists.
        raw_name = self._raw[name]
        if raw_name is not None:
            raw = row[raw_name]
            if raw is not None:
                return raw
        return row[name]
