"""The refusal of a PostgreSQL run table whose context column is not JSON, for every port.

``reflect``, the configuration file and the service refuse such a table from the columns they
reflect anyway; a mapping built by hand and handed straight to ``SqlPushdown``, ``open_backend``
or a SQL port reflected nothing, so a text context read as unparsed text in Python (every run
``invalid_context``) and, cast to ``jsonb`` in SQL, one row of text that is not JSON failed every
statement of its workspace. Each of those builders calls ``refuse_text_context``: one reflection
of the run table per engine and table, at build (an asyncio port's first call), never per
request. SQLite reads any context as JSON text, so nothing is asked of it.
"""

from __future__ import annotations

import threading
import weakref

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy._reading import Bind, read_transaction
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping
from runactionability.adapters.sqlalchemy.reflect import json_context, text_context_refusal
from runactionability.errors import ConfigurationError

_Column = tuple[str | None, str, str]
"""(schema, table, context column) of a run table found to hold JSON."""

# Each checked column, and whether it is jsonb (the statements then need no guard of the cast).
_CHECKED: weakref.WeakKeyDictionary[sa.Engine, dict[_Column, bool]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def refuse_text_context(bind: Bind, runs: RunTableMapping) -> None:
    """Raise ``ConfigurationError`` (naming ``ALTER TABLE ... TYPE jsonb``) when ``runs``' context
    column is declared as anything but json/jsonb on PostgreSQL.

    Checked once per engine and table: a column found to be JSON is remembered. A table that is
    not there yet (a port built before the host's migrations) or a database that cannot be
    reached is not judged, and the next port built over it checks again; an asyncio engine's
    sync facade cannot be read outside its event loop, so its port checks on its first call.
    """
    if bind.dialect.name != "postgresql" or (isinstance(bind, sa.Engine) and bind.dialect.is_async):
        return
    column: _Column = (runs.schema, runs.table, runs.context)
    engine = bind.engine
    with _LOCK:
        if column in _CHECKED.get(engine, ()):
            return
    try:
        if isinstance(bind, sa.Engine):
            # A connection of its own in a transaction (not read_transaction's autocommit: an
            # engine whose driver declares server-side cursors needs a transaction block).
            columns = sa.inspect(bind).get_columns(runs.table, schema=runs.schema)
        else:
            # Reflected on a host's idle Connection as is, SQLAlchemy would autobegin a
            # transaction and leave it open (the host's begin() would then fail, and every
            # later snapshot would read at the connection's READ COMMITTED).
            with read_transaction(bind) as connection:
                columns = sa.inspect(connection).get_columns(runs.table, schema=runs.schema)
        declared = {found["name"]: found["type"] for found in columns}
    except (sa.exc.NoSuchTableError, sa.exc.OperationalError):
        return
    reflected = declared.get(runs.context)
    if reflected is None:
        # A missing column fails every statement by name; nothing to misread.
        return
    if not json_context(reflected, bind.dialect.name):
        raise ConfigurationError(text_context_refusal(runs.table, runs.context, reflected))
    while isinstance(reflected, postgresql.DOMAIN):
        reflected = reflected.data_type
    with _LOCK:
        _CHECKED.setdefault(engine, {})[column] = isinstance(reflected, postgresql.JSONB)


def known_jsonb(bind: Bind, runs: RunTableMapping) -> bool:
    """Whether ``refuse_text_context`` found ``runs``' context column to be ``jsonb`` (or a
    domain over it) on ``bind``'s engine; False for ``json`` and for a column not checked yet.

    Read from the check's record, never reflected here. A ``json`` column may hold text that
    ``jsonb`` cannot (``json_depth.pg_readable``), and the statements reading it guard the cast.
    """
    column: _Column = (runs.schema, runs.table, runs.context)
    with _LOCK:
        return _CHECKED.get(bind.engine, {}).get(column, False)


class ContextKind:
    """Whether a pushdown's statements read ``runs``' context as known ``jsonb``, whose cast
    needs no guard; built with ``refuse_text_context``'s check.

    Decided once, at the first statement built, from the check's record: the copies a pushdown
    makes (``bound_to``) share this, so each of its statements reads the column one way. An
    asyncio engine's column is checked by the ports its first session binds, before any
    statement of the pushdown is built; a column not checked by then is guarded.
    """

    def __init__(self, bind: Bind, runs: RunTableMapping) -> None:
        refuse_text_context(bind, runs)
        self._bind, self._runs = bind, runs
        self._jsonb: bool | None = None
        self._lock = threading.Lock()

    def jsonb(self) -> bool:
        with self._lock:
            if self._jsonb is None:
                self._jsonb = known_jsonb(self._bind, self._runs)
            return self._jsonb
