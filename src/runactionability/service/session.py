"""``ActionabilityService`` and the per-request ``RequestSession`` it opens."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.backend import present_reference_states
from runactionability.adapters.sqlalchemy.cursors import check_cursor_key
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
)
from runactionability.adapters.sqlalchemy.pushdown import SupersedeForm
from runactionability.catalog import OperationCatalog
from runactionability.changes import ChangePage
from runactionability.config import Config
from runactionability.core_inputs import check_as_of
from runactionability.errors import UsageError
from runactionability.i18n import MessageCatalogs, Renderer, locale_asked, time_zone_of
from runactionability.i18n.catalogs import check_directory
from runactionability.registry import Registry
from runactionability.scopes import VisibleScopes
from runactionability.service.configured import configured
from runactionability.service.every import EveryWorkspace, every_workspace
from runactionability.service.polling import DEFAULT_CHANGE_MARGIN, check_margin, poll
from runactionability.service.renderers import Renderers
from runactionability.service.request import RequestSession
from runactionability.service.wiring import Wire
from runactionability.telemetry import CHANGES, traced


class ActionabilityService:
    """What every request shares: the engine, the mappings, the registry, the catalog and the
    pushdown's compiled statements. Create one per engine and configuration and share it across
    threads: it holds no per-request state, and its statement caches fill under a lock.

    ``bind_or_url``, ``runs``, ``states`` and ``catalog`` are what ``open_backend`` takes; a URL's
    engine is disposed by ``close``. ``form`` overrides the pushdown's per-dialect choice. With
    ``cursor_key`` (at least 16 bytes, the host's secret) every page's cursor is signed with
    HMAC-SHA256, and a cursor it did not sign (altered, cut short, unsigned, or signed by another
    key) is an ``InvalidCursorError`` before any statement runs. ``from_config`` builds one from
    a configuration file (``runactionability.config``).

    ``locale`` and ``time_zone`` are the defaults of every session (English and UTC when None).
    ``message_catalogs`` are the host's own gettext catalogs (``MessageCatalogs`` or directory
    paths), asked before the plugins' (``runactionability_message_catalogs``) and the library's,
    so a host can re-word any message. ``change_margin`` is how far behind the clock a poll of
    the change feed ends (``poll_changes``; docs/changes.md): the longest a writing
    transaction of the host may stay open, at most a day (``MAX_CHANGE_MARGIN``); it may be set
    again later, checked alike.
    """

    def __init__(
        self,
        bind_or_url: sa.Engine | sa.Connection | str,
        *,
        runs: RunTableMapping = REFERENCE_RUNS,
        states: Mapping[str, StateTableMapping] | None = None,
        registry: Registry | None = None,
        catalog: OperationCatalog | None = None,
        form: SupersedeForm | str | None = None,
        cursor_key: bytes | None = None,
        locale: str | None = None,
        time_zone: str | tzinfo | None = None,
        message_catalogs: Sequence[MessageCatalogs | str | Path] = (),
        change_margin: timedelta = DEFAULT_CHANGE_MARGIN,
    ) -> None:
        cursor_key = check_cursor_key(cursor_key)
        self.change_margin = change_margin
        self._owned: sa.Engine | None = None
        self.registry = Registry.default() if registry is None else registry
        # Refused here, not at the first session: a service serving requests it cannot answer.
        locale_asked(locale)
        time_zone_of(time_zone)
        self.locale = locale
        self.time_zone = time_zone
        self._renderers = Renderers(
            (
                *(
                    check_directory(c if isinstance(c, MessageCatalogs) else MessageCatalogs(c))
                    for c in message_catalogs
                ),
                *self.registry.message_catalogs(),
            )
        )
        self.catalog = self.registry.catalog() if catalog is None else catalog
        self._wire = Wire(
            runs=runs,
            registry=self.registry,
            catalog=self.catalog,
            form=form,
            cursor_key=cursor_key,
        )
        self._wiring = self._wire(bind_or_url, states)
        self.bind = self._wiring.backend.history.bind
        # Over an asyncio engine's sync facade no table can be read here, so without ``states``
        # every reference state table is mapped until the first session, given a connection,
        # maps those the database has (``_map_present_states``).
        self._states_pending = states is None and self.bind.dialect.is_async
        self._mapping = threading.Lock()
        self._wiring.mapping_check.run(self.bind, stacklevel=2, deferrable=True)
        if not self.bind.dialect.is_async:
            # Whether the runs table proves its ids unique, read here once rather than inside
            # the first request (``RequestSession._store``); a database not up yet is read then.
            with suppress(sa.exc.OperationalError):
                self._wiring.backend.runs.unique_ids()

    def _map_present_states(self, connection: sa.Connection) -> None:
        """Map the reference state tables ``connection``'s database has, once, in place: every
        holder of this service then reads through them, whenever it took the service."""
        present = present_reference_states(connection)
        # Nothing under the lock awaits the database (the tables were read above), so an async
        # session on the event loop's thread never holds it while another task waits for it.
        with self._mapping:
            if not self._states_pending:
                return
            wiring = self._wiring
            if present.keys() != wiring.pushdown.states.keys():
                rebuilt = self._wire(self.bind, present)
                # The engine a URL made stays the service's to dispose (``close``).
                backend = attrs.evolve(rebuilt.backend, engine=wiring.backend.engine)
                self._wiring = attrs.evolve(rebuilt, backend=backend)
            self._states_pending = False

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        bind: sa.Engine | sa.Connection | None = None,
        registry: Registry | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ActionabilityService:
        """The service a configuration describes (``load_config``), on ``bind`` if given.

        Without ``bind``, an engine on the file's ``database``, disposed by ``close``. Tables the
        file asks to reflect are read through it here, once. The cursor key comes from the
        variable the file names (``environ``, default ``os.environ``).
        """
        # Checked before any connection: a missing cursor key is the host's to fix first.
        options = configured(config, Registry.default() if registry is None else registry, environ)
        owned = None
        if bind is None:
            owned = bind = sa.create_engine(config.database_url())
        try:
            service = cls(
                bind,
                runs=config.run_mapping(bind),
                states=config.state_mappings(bind),
                **options,
            )
        except BaseException:
            if owned is not None:
                owned.dispose()
            raise
        service._owned = owned
        return service

    @property
    def change_margin(self) -> timedelta:
        """How far behind the clock a poll of the change feed ends."""
        return self._change_margin

    @change_margin.setter
    def change_margin(self, margin: timedelta) -> None:
        # Checked when set, not only when built: the CLI and the web example set it from a
        # command-line option or a configuration file after the service exists.
        self._change_margin = check_margin(margin)

    @contextmanager
    def session(
        self,
        *,
        scopes: VisibleScopes | EveryWorkspace,
        as_of: datetime | None = None,
        connection: sa.Connection | None = None,
        locale: str | None = None,
        time_zone: str | None = None,
    ) -> Iterator[RequestSession]:
        """One request's reading: every answer from one snapshot, for ``scopes`` at ``as_of``.

        ``as_of`` defaults to now. With ``EveryWorkspace`` and no usable workspace id in the
        runs table, raises ``NoWorkspacesError``. ``connection`` reads through the host's own
        connection (of this service's database) instead of one from the engine; one already in
        a transaction is read in that transaction, whose owner chose its snapshot.

        ``locale`` (``"de"``, ``"de_DE"``; default the service's, else English) and
        ``time_zone`` (an IANA name; default the service's, else UTC) choose how the session
        renders: ``RequestSession.render`` and ``RequestSession.to_json`` give every text of its
        answers in that locale. A locale with no catalog is English, with one
        ``UnknownLocaleWarning`` per service and locale.
        """
        # Before any connection: else a driver error quoting the whole SQL, at the first statement.
        if not isinstance(scopes, VisibleScopes | EveryWorkspace):
            raise UsageError(
                f"scopes must be a VisibleScopes or an EveryWorkspace, not {type(scopes).__name__} "
                "(e.g. scopes=VisibleScopes({'acme'}))"
            )
        if as_of is not None:
            check_as_of(as_of)
        renderer = self.renderer(locale, time_zone)
        instant = datetime.now(UTC) if as_of is None else as_of
        if self._states_pending and connection is not None:
            self._map_present_states(connection)
        # Taken once: a session reads through one wiring even if another thread maps meanwhile.
        wiring = self._wiring
        with wiring.backend.snapshot(connection) as backend:
            reading = backend.history.bind
            assert isinstance(reading, sa.Connection), "a snapshot reads through one connection"
            if wiring.mapping_check.pending:
                wiring.mapping_check.run(reading, stacklevel=4)
            whole_database = False
            if isinstance(scopes, EveryWorkspace):
                whole_database = scopes.environment_ids is None
                scopes = every_workspace(backend, scopes)
            request = RequestSession(
                backend=backend,
                resolver=wiring.resolver.with_ports(history=backend.history, states=backend.states),
                pushdown=wiring.pushdown.bound_to(reading),
                scopes=scopes,
                as_of=instant,
                whole_database=whole_database,
                renderer=renderer,
            )
            try:
                yield request
            finally:
                request._end()

    @traced(
        CHANGES, "runactionability.ActionabilityService.poll_changes", runs=lambda p: len(p.changes)
    )
    def poll_changes(
        self,
        scopes: VisibleScopes | EveryWorkspace,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        now: datetime | None = None,
        notify: bool = True,
    ) -> ChangePage:
        """The changes since the previous poll: pass the ``poll_cursor`` it returned (the
        first poll starts at ``since``, else now). The window ends ``change_margin`` before
        ``now`` (default: the clock); each change then goes to the observers of
        ``runactionability_actionability_changed``, outside the snapshot (docs/changes.md),
        unless ``notify`` is False (a watcher that must not page anyone, such as the CLI)."""
        return poll(self, scopes, cursor=cursor, since=since, limit=limit, now=now, notify=notify)

    def renderer(self, locale: str | None = None, time_zone: str | None = None) -> Renderer:
        """The shared renderer of ``locale`` and ``time_zone`` (defaults: the service's)."""
        return self._renderers.get(locale or self.locale, time_zone or self.time_zone)

    def close(self) -> None:
        """Dispose the engine the service created from a URL (a given engine is the host's)."""
        self._wiring.backend.close()
        if self._owned is not None:
            self._owned.dispose()
