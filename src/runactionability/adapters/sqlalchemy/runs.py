"""``SqlRunSource``: runs of visible scopes, newest first, with keyset pagination."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import Bind, check_bind, read_transaction
from runactionability.adapters.sqlalchemy.cursors import (
    check_cursor_key,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from runactionability.adapters.sqlalchemy.ids import (
    IdType,
    id_value,
    storage,
    stored_id,
)
from runactionability.adapters.sqlalchemy.instant_rows import (
    cursor_value,
    readable_columns,
    stored_instant,
    stored_parameter,
)
from runactionability.adapters.sqlalchemy.instant_sql import compare_to, valid_timestamp
from runactionability.adapters.sqlalchemy.mapping import REFERENCE_RUNS, RUN_FIELDS, RunTableMapping
from runactionability.adapters.sqlalchemy.types import (
    UtcTimestamp,
    as_run_id,
    exact_text,
    to_micros,
)
from runactionability.catalog import OperationCatalog
from runactionability.errors import UsageError
from runactionability.model import OperationRun, RunId, RunOutcome, RunStatus
from runactionability.ports import RunPage, RunQuery, run_as_of

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
        self.mapping = mapping
        self.catalog = catalog
        self.cursor_key = check_cursor_key(cursor_key)
        table = mapping.table_clause()
        self._c: dict[str, Any] = {name: table.c[mapping.column_name(name)] for name in RUN_FIELDS}
        self._subject = table.c[mapping.subject] if mapping.subject is not None else None
        columns = self.columns(self._c, self.bind.dialect.name)
        if self._subject is not None:
            columns.append(self._subject.label("subject"))
        self._select = sa.select(*columns).select_from(table)

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

    def get_run(self, run_id: RunId) -> OperationRun | None:
        if isinstance(run_id, bool) or not isinstance(run_id, str | int):
            raise UsageError(f"a run id is a str or an int, not {run_id!r}")
        # In the id column's own type: text that names no id of that type (not the integer's
        # own decimal form, not a uuid) and an integer beyond 64 bits are no run.
        value = id_value(run_id, self.mapping.ids.run, self.bind.dialect.name)
        if value is None:
            return None
        statement = self._select.where(self._c["id"] == value)
        with read_transaction(self.bind) as connection:
            row = connection.execute(statement).first()
        return None if row is None else self._run(row._mapping)

    def list_runs(
        self,
        query: RunQuery,
        *,
        limit: int = 100,
        cursor: str | None = None,
        outcomes: Collection[RunOutcome] | None = None,
    ) -> RunPage:
        if limit < 1:
            raise UsageError(f"limit must be at least 1, not {limit!r}")
        dialect = self.bind.dialect.name
        statement = self._select.where(*self._filters(query, outcomes, dialect))
        if cursor:
            statement = statement.where(self._after(cursor, dialect))
        created, run_id = self._c["created_at"], self._c["id"]
        order = created.desc().nulls_last() if dialect == "postgresql" else created.desc()
        statement = statement.order_by(order, run_id.desc()).limit(limit + 1)
        with read_transaction(self.bind) as connection:
            rows = [row._mapping for row in connection.execute(statement)]
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

    def _filters(
        self, query: RunQuery, outcomes: Collection[RunOutcome] | None, dialect: str
    ) -> list[Any]:
        c = self._c
        mapping = self.mapping
        filters: list[Any] = [
            _one_of(c["workspace_id"], query.workspace_ids, mapping.ids.workspace, dialect)
        ]
        if query.environment_ids is not None:
            within = _one_of(
                c["environment_id"], query.environment_ids, mapping.ids.environment, dialect
            )
            if query.include_workspace_runs:
                within = sa.or_(within, c["environment_id"].is_(None))
            filters.append(within)
        if query.operation_types is not None:
            filters.append(c["type"].in_(sorted(query.operation_types)))
        replay = None if query.as_of is None else _Replay(c, mapping, dialect, query.as_of)
        if replay is not None:
            filters.append(replay.existed)
        if query.statuses is not None:
            if replay is not None:
                filters.append(replay.status_in(query.statuses))
            else:
                stored = [
                    value for status in query.statuses for value in mapping.stored_statuses(status)
                ]
                filters.append(c["status"].in_(sorted(stored)))
        if outcomes is not None:
            stored = [value for outcome in outcomes for value in mapping.stored_outcomes(outcome)]
            filters.append(c["outcome"].in_(sorted(stored)))
            if replay is not None:
                # A run that completed after as_of had no outcome yet.
                filters.append(sa.not_(replay.completed_after))
        if query.created_from is not None or query.created_before is not None:
            filters.append(valid_timestamp(c["created_at"], dialect))
        if query.created_from is not None:
            filters.append(compare_to(c["created_at"], ">=", query.created_from, dialect))
        if query.created_before is not None:
            filters.append(compare_to(c["created_at"], "<", query.created_before, dialect))
        return filters

    def check_cursor(self, cursor: str) -> tuple[str, Any, Any]:
        """(tag, created_at, id) of a cursor this source issued; ``InvalidCursorError`` else.

        ``list_runs`` checks its cursor so; a caller that reads something else first (a page's
        active work) checks it up front, so that no statement runs for a refused cursor.
        """
        decoded = decode_cursor(cursor, id_type=self.mapping.ids.run, key=self.cursor_key)
        if decoded[0] == "naive" and self.bind.dialect.name != "postgresql":
            raise invalid_cursor(cursor, "this run source")
        return decoded

    def _after(self, cursor: str, dialect: str) -> Any:
        tag, created, cursor_id = self.check_cursor(cursor)
        c = self._c
        run_id = sa.bindparam("cursor_id", cursor_id, type_=c["id"].type)
        column = c["created_at"]
        if tag == "null":
            return sa.and_(column.is_(None), c["id"] < run_id)
        if tag in {"instant", "naive"}:
            value: Any = created
            if created.utcoffset() is None:
                # A host's naive column (PostgreSQL only): compared as the naive values it holds.
                column = sa.type_coerce(column, sa.DateTime())
            elif not self.mapping.timestamps.is_native:
                value = sa.bindparam("cursor_created", created, type_=column.type)
            elif dialect != "postgresql":
                column = sa.type_coerce(column, sa.BigInteger())
                value = to_micros(created)
        elif dialect == "postgresql":
            # An unreadable stored value ('infinity', a year after 9999) or, in a storage other
            # than native, the stored value itself, as its text, which the server reads back as
            # the very value it ordered by.
            value = stored_parameter(column, "cursor_created", created)
        else:
            # Stray stored text or an out-of-range number: compare the stored values as SQLite
            # orders them.
            column = sa.type_coerce(column, sa.String())
            value = created
        return sa.or_(
            column < value, sa.and_(column == value, c["id"] < run_id), c["created_at"].is_(None)
        )

    def _run(self, row: Mapping[Any, Any]) -> OperationRun:
        mapping = self.mapping
        context = row["context"]
        if context is None:
            context = {}
        if self._subject is not None and self.catalog is not None and isinstance(context, dict):
            op_type = self.catalog.resolve(row["type"])
            subject = stored_id(row["subject"])
            if (
                op_type is not None
                and op_type.subject_key is not None
                and op_type.subject_key not in context
                and subject is not None
            ):
                context = {**context, op_type.subject_key: subject}
        return OperationRun(
            id=as_run_id(row["id"]),
            type=row["type"],
            workspace_id=stored_id(row["workspace_id"]),
            environment_id=stored_id(row["environment_id"]),
            status=mapping.read_status(row["status"]),
            outcome=mapping.read_outcome(row["outcome"]),
            created_at=stored_instant(row, "created_at"),
            started_at=stored_instant(row, "started_at"),
            completed_at=stored_instant(row, "completed_at"),
            context=context,
        )


class _Replay:
    """The SQL form of ``run_as_of``: which rows existed at ``as_of``, and their status then.

    Only a timestamp the run source reads as an instant moves a run in time, as in
    ``run_as_of``: a row whose ``created_at`` cannot be read is listed as stored, one whose
    ``completed_at`` cannot be read keeps its stored status.
    """

    def __init__(
        self, c: Mapping[str, Any], mapping: RunTableMapping, dialect: str, as_of: datetime
    ) -> None:
        self.c = c
        self.mapping = mapping
        bound = sa.bindparam("replay_as_of", as_of, type_=UtcTimestamp())
        created, started, ended = c["created_at"], c["started_at"], c["completed_at"]
        status = c["status"]
        self.existed = sa.or_(
            sa.not_(valid_timestamp(created, dialect)), compare_to(created, "<=", bound, dialect)
        )
        self.completed_after = sa.and_(
            valid_timestamp(created, dialect),
            status.is_not(None),
            status.in_(sorted(mapping.stored_statuses(RunStatus.COMPLETED))),
            valid_timestamp(ended, dialect),
            compare_to(ended, ">", bound, dialect),
        )
        self.started_after = sa.and_(
            valid_timestamp(started, dialect), compare_to(started, ">", bound, dialect)
        )

    def _stored(self, status: RunStatus) -> Any:
        return self.c["status"].in_(sorted(self.mapping.stored_statuses(status)))

    def status_in(self, statuses: Collection[RunStatus]) -> Any:
        """The rows whose status at ``as_of`` is one of ``statuses``."""
        active = sa.or_(self._stored(RunStatus.RUNNING), self.completed_after)
        parts = []
        if RunStatus.COMPLETED in statuses:
            parts.append(sa.and_(self._stored(RunStatus.COMPLETED), sa.not_(self.completed_after)))
        if RunStatus.QUEUED in statuses:
            parts.append(
                sa.or_(self._stored(RunStatus.QUEUED), sa.and_(active, self.started_after))
            )
        if RunStatus.RUNNING in statuses:
            parts.append(sa.and_(active, sa.not_(self.started_after)))
        return sa.or_(*parts) if parts else sa.false()


def _one_of(column: Any, ids: Collection[str], id_type: IdType, dialect: str) -> Any:
    """``column`` is one of ``ids``, each in the column's type and, for text, byte for byte.

    Under a case-insensitive collation 'ACME' is not a visible 'acme'; the plain IN stays for an
    index to seek on. An id the column's type cannot hold matches nothing.
    """
    values = sorted({v for v in (id_value(i, id_type, dialect) for i in ids) if v is not None})
    if storage(id_type, dialect) != "text":
        return column.in_(values)
    return sa.and_(column.in_(values), exact_text(column, dialect).in_(values))
