"""``open_backend``: every SQL port over one database, wired the way the CLI and the demo use it."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import TypeVar

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import (
    Bind,
    read_transaction,
    snapshot_transaction,
)
from runactionability.adapters.sqlalchemy.history import SqlRunHistory
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.adapters.sqlalchemy.states import SqlStateSource
from runactionability.catalog import OperationCatalog
from runactionability.errors import ConfigurationError


@attrs.frozen(kw_only=True)
class SqlBackend:
    """The history, the state sources by kind, and the run source over one database.

    ``engine`` is set only when ``open_backend`` created it from a URL; ``close`` (or leaving a
    ``with`` block) disposes that engine and nothing else.
    """

    history: SqlRunHistory
    states: dict[str, SqlStateSource]
    runs: SqlRunSource
    engine: sa.Engine | None = None

    @contextmanager
    def snapshot(self, connection: sa.Connection | None = None) -> Iterator[SqlBackend]:
        """The same ports, all reading through one connection in one transaction.

        Evaluate a batch inside it (list the page, then resolve it), so that the history and
        every state kind are read in one snapshot: a row another connection commits meanwhile
        is seen by none of them, or, after the block, by all. On PostgreSQL the transaction is
        REPEATABLE READ; on SQLite a deferred ``BEGIN``. Over a ``Connection`` already in a
        transaction, the ports read through it and its owner's snapshot holds. The transaction
        only reads, and ends with the block; the yielded backend disposes nothing when closed.

        ``connection`` reads through that connection instead of the ports' own bind (an asyncio
        connection's ``sync_connection``, inside ``AsyncConnection.run_sync``).
        """
        bind = self.history.bind if connection is None else connection
        with snapshot_transaction(bind) as reading:
            yield attrs.evolve(
                self,
                history=_rebound(self.history, reading),
                states={kind: _rebound(source, reading) for kind, source in self.states.items()},
                runs=_rebound(self.runs, reading),
                engine=None,
            )

    def close(self) -> None:
        """Dispose the engine this backend created, if any."""
        if self.engine is not None:
            self.engine.dispose()

    def __enter__(self) -> SqlBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


Port = TypeVar("Port", SqlRunHistory, SqlStateSource, SqlRunSource)


def _rebound(port: Port, connection: sa.Connection) -> Port:
    # A shallow copy shares the port's compiled statements; only the bind differs.
    clone = copy.copy(port)
    clone.bind = connection
    return clone


def open_backend(
    bind_or_url: Bind | str,
    *,
    runs: RunTableMapping = REFERENCE_RUNS,
    states: Mapping[str, StateTableMapping] | None = None,
    catalog: OperationCatalog | None = None,
    cursor_key: bytes | None = None,
) -> SqlBackend:
    """The SQL ports over ``bind_or_url`` (an ``Engine``, a ``Connection`` or a database URL).

    The reference schema's mappings are used unless ``runs``/``states`` name the host's tables
    (without ``states``, the reference state tables the database has: ``present_reference_states``);
    with ``cursor_key`` the run source signs its cursors and refuses any it did not sign.
    Each port call reads one snapshot by itself; to read a whole batch in one, evaluate it
    inside ``SqlBackend.snapshot()``.
    """
    engine: sa.Engine | None = None
    bind: Bind
    if isinstance(bind_or_url, str):
        url = database_url(bind_or_url)
        try:
            engine = bind = sa.create_engine(url)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
            raise ConfigurationError(
                f"bad database URL {redacted_url(bind_or_url)}: {exc}"
            ) from exc
    else:
        bind = bind_or_url
    state_mappings = present_reference_states(bind) if states is None else dict(states)
    return SqlBackend(
        history=SqlRunHistory(bind, runs),
        states={kind: SqlStateSource(bind, mapping) for kind, mapping in state_mappings.items()},
        runs=SqlRunSource(bind, runs, catalog=catalog, cursor_key=cursor_key),
        engine=engine,
    )


def present_reference_states(bind: Bind) -> dict[str, StateTableMapping]:
    """The reference state mappings whose tables (or views) the database has.

    A missing one would fail every request (no such table); a kind left without a table is
    named once instead (``MissingStateSourceWarning``), as a configuration file's are. All six
    when the tables cannot be read here: over an asyncio engine's sync facade (read on its
    event loop instead, through a connection, by ``AsyncActionabilityService``'s first
    session) or a database not up yet (the service's check refuses any still missing once it
    is).
    """
    mappings = reference_state_mappings()
    if isinstance(bind, sa.Engine) and bind.dialect.is_async:
        return mappings
    try:
        with read_transaction(bind) as connection:
            inspector = sa.inspect(connection)
            return {
                kind: mapping
                for kind, mapping in mappings.items()
                if inspector.has_table(mapping.table, schema=mapping.schema)
            }
    except sa.exc.OperationalError:
        return mappings


def database_url(text: str) -> sa.URL:
    """Parse a database URL, refusing a malformed one before any driver sees it.

    Raises ``ConfigurationError`` (with any password masked) for text that is not a URL and for
    a port outside 1-65535, which drivers would otherwise report as an unexpected ``ValueError``
    or a failed connection.
    """
    try:
        url = sa.make_url(text)
    except (ValueError, sa.exc.ArgumentError) as exc:
        raise ConfigurationError(f"bad database URL {redacted_url(text)}: {exc}") from None
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ConfigurationError(
            f"bad database URL {redacted_url(text)}: port {url.port} is not between 1 and 65535"
        )
    return url


def async_database_url(url: sa.URL) -> sa.URL:
    """The asyncio driver's URL for ``url``: aiosqlite for SQLite, psycopg's async driver for
    PostgreSQL; a URL that already names an async driver is kept.

    Raises ``ConfigurationError`` for another database, or another sync driver, whose async
    twin this library does not know.
    """
    if url.get_dialect().is_async:
        return url
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if backend == "sqlite" and driver == "pysqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql" and driver in ("psycopg", "psycopg2"):
        return url.set(drivername="postgresql+psycopg_async")
    raise ConfigurationError(
        f"no async driver known for {url.drivername}; name one in the URL "
        "(sqlite+aiosqlite:///…, postgresql+psycopg_async://…)"
    )


def redacted_url(text: str) -> str:
    """``masked_url(text)`` quoted for a message."""
    return repr(masked_url(text))


def masked_url(text: str) -> str:
    """``text`` with any password in it shown as ``***``, as SQLAlchemy hides it: whatever the
    library prints or logs (an error line, the demo's hint and JSON) lands in logs and
    terminals that the database's password must not. A password is what ``make_url`` reads
    (so one holding ``/`` is masked whole); from text it cannot parse, or one with an unencoded
    ``@``, everything between ``user:`` and the last ``@`` is masked."""
    try:
        url = sa.make_url(text)
    except (ValueError, TypeError, sa.exc.ArgumentError):
        url = None
    ats = max(text.partition("?")[0].count("@"), text.rpartition("/")[0].count("@"))
    if url is None or ats > 1:
        # An unencoded '@' in a password leaves its rest in the host or the database that
        # make_url reads: mask up to the last '@'. Counted before the path too, since a '?'
        # in the password ('pa?s@s') would hide its '@' from a count before the query.
        return _PASSWORD.sub(r"\1***@", text)
    return text if url.password is None else url.render_as_string(hide_password=True)


_PASSWORD = re.compile(r"(://[^:/@]*:).*@", re.DOTALL)
