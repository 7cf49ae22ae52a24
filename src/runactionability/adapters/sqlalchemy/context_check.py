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

from runactionability.adapters.sqlalchemy._reading import Bind, read_transaction
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping
from runactionability.adapters.sqlalchemy.reflect import json_context, text_context_refusal
from runactionability.errors import ConfigurationError

_Column = tuple[str | None, str, str]
"""(schema, table, context column) of a run table found to hold JSON."""

_CHECKED: weakref.WeakKeyDictionary[sa.Engine, set[_Column]] = weakref.WeakKeyDictionary()
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
    with _LOCK:
        _CHECKED.setdefault(engine, set()).add(column)
