"""The request API for asyncio hosts: ``AsyncActionabilityService`` and ``AsyncRequestSession``.

The twin runs the sync request API itself inside ``AsyncConnection.run_sync``: SQLAlchemy calls
the function in a greenlet, and each statement it executes awaits the async driver (aiosqlite,
psycopg's async driver) on the event loop, which serves other tasks meanwhile. So both APIs share
every line from the session down (the statements compiled once, the resolver, the core, the
consumers) and cannot disagree; only the database driver differs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from datetime import datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from runactionability.adapters.sqlalchemy import async_database_url, database_url
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
)
from runactionability.adapters.sqlalchemy.pushdown import SupersedeForm
from runactionability.catalog import OperationCatalog
from runactionability.changes import ChangePage
from runactionability.config import Config
from runactionability.consumers import (
    ActiveWork,
    AssessedPage,
    DashboardSummary,
    Explanation,
    View,
)
from runactionability.core_inputs import check_as_of
from runactionability.errors import ConfigurationError, UsageError
from runactionability.i18n import MessageCatalogs, Renderer
from runactionability.messages import Message
from runactionability.model import RunId
from runactionability.registry import Registry
from runactionability.result import PrimaryAction
from runactionability.scopes import VisibleScopes
from runactionability.service.changes import page_from
from runactionability.service.configured import configured
from runactionability.service.every import EveryWorkspace, UnattributedRuns
from runactionability.service.polling import DEFAULT_CHANGE_MARGIN, notify_changes, poll_window
from runactionability.service.request import RequestSession
from runactionability.service.session import ActionabilityService
from runactionability.telemetry import CHANGES, traced

T = TypeVar("T")


class AsyncActionabilityService:
    """``ActionabilityService`` for asyncio hosts, over an ``AsyncEngine``.

    Create one per engine and configuration (at start-up) and share it across tasks and threads:
    it holds the same compiled statements, registry, catalog and resolver as the sync service it
    wraps (``sync``, one object for the service's life), which reads through the engine's
    ``sync_engine``. Without ``states``, the first session (of either) maps the reference state
    tables the database has. ``bind_or_url`` is an ``AsyncEngine`` or an async database URL
    (``sqlite+aiosqlite:///…``, ``postgresql+psycopg_async://…``), whose engine ``close``
    disposes; the other arguments are ``ActionabilityService``'s (``cursor_key`` signs every
    page's cursor there and here).
    """

    def __init__(
        self,
        bind_or_url: AsyncEngine | str,
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
        self._owned: AsyncEngine | None = None
        if isinstance(bind_or_url, str):
            try:
                self._owned = create_async_engine(database_url(bind_or_url))
            except (sa.exc.ArgumentError, sa.exc.InvalidRequestError) as exc:
                # A sync driver's URL (sqlite:///…) names no async driver: say which to use.
                raise ConfigurationError(
                    f"not an async database URL ({exc}); use sqlite+aiosqlite:///… or "
                    "postgresql+psycopg_async://…"
                ) from None
            engine = self._owned
        elif isinstance(bind_or_url, AsyncEngine):
            engine = bind_or_url
        else:
            raise UsageError(
                f"bind_or_url must be an AsyncEngine or a URL, not {type(bind_or_url).__name__}"
            )
        self.engine = engine
        # Without states, ``sync`` maps the reference state tables the database has at its first
        # session (an asyncio engine is read on its event loop only), in place: it stays the one
        # object for the service's life, whenever a host takes it.
        self.sync = ActionabilityService(
            engine.sync_engine,
            runs=runs,
            states=states,
            registry=registry,
            catalog=catalog,
            form=form,
            cursor_key=cursor_key,
            locale=locale,
            time_zone=time_zone,
            message_catalogs=message_catalogs,
            change_margin=change_margin,
        )
        self.registry = self.sync.registry
        self.catalog = self.sync.catalog

    @classmethod
    async def from_config(
        cls,
        config: Config,
        *,
        bind: AsyncEngine | None = None,
        registry: Registry | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> AsyncActionabilityService:
        """The service a configuration describes, as ``ActionabilityService.from_config``.

        Without ``bind``, an engine on the file's ``database`` through its async driver
        (``async_database_url``: aiosqlite for a SQLite file, psycopg's for PostgreSQL),
        disposed by ``close``. Tables the file asks to reflect are read through the async
        engine here, once; the cursor key comes from the variable the file names.
        """
        # Checked before any connection: a missing cursor key is the host's to fix first.
        options = configured(config, Registry.default() if registry is None else registry, environ)
        owned = None
        if bind is None:
            owned = bind = create_async_engine(async_database_url(config.database_url()))
        try:
            async with bind.connect() as connection:
                runs, states = await connection.run_sync(
                    lambda sync: (config.run_mapping(sync), config.state_mappings(sync))
                )
            service = cls(bind, runs=runs, states=states, **options)
            async with bind.connect() as connection:
                await connection.run_sync(service.sync._wiring.mapping_check.run)
        except BaseException:
            if owned is not None:
                await owned.dispose()
            raise
        service._owned = owned
        return service

    @asynccontextmanager
    async def session(
        self,
        *,
        scopes: VisibleScopes | EveryWorkspace,
        as_of: datetime | None = None,
        connection: AsyncConnection | None = None,
        locale: str | None = None,
        time_zone: str | None = None,
    ) -> AsyncIterator[AsyncRequestSession]:
        """One request's reading: every answer from one snapshot, for ``scopes`` at ``as_of``.

        As ``ActionabilityService.session``: ``as_of`` defaults to now, ``EveryWorkspace`` with
        no usable workspace id raises ``NoWorkspacesError``, and ``connection`` reads through
        the host's own ``AsyncConnection`` (in its transaction, if it has begun one);
        ``locale`` and ``time_zone`` choose how the session renders its answers' texts.
        """
        if as_of is not None:
            check_as_of(as_of)
        async with AsyncExitStack() as owned:
            if connection is None:
                connection = await owned.enter_async_context(self.engine.connect())
            if self.sync._states_pending:
                await connection.run_sync(self.sync._map_present_states)
            if (check := self.sync._wiring.mapping_check).pending:
                await connection.run_sync(check.run)
            reading = ExitStack()
            opened = await connection.run_sync(
                lambda sync: reading.enter_context(
                    self.sync.session(
                        scopes=scopes,
                        as_of=as_of,
                        connection=sync,
                        locale=locale,
                        time_zone=time_zone,
                    )
                )
            )
            try:
                yield AsyncRequestSession(connection=connection, session=opened)
            except BaseException:
                # The snapshot's transaction ends as the sync one would on this exception.
                failure = sys.exc_info()
                await connection.run_sync(lambda _: reading.__exit__(*failure))
                raise
            await connection.run_sync(lambda _: reading.close())

    @traced(
        CHANGES,
        "runactionability.AsyncActionabilityService.poll_changes",
        runs=lambda p: len(p.changes),
    )
    async def poll_changes(
        self,
        scopes: VisibleScopes | EveryWorkspace,
        *,
        cursor: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        now: datetime | None = None,
        notify: bool = True,
    ) -> ChangePage:
        """As ``ActionabilityService.poll_changes``: the changes since the previous poll's
        ``poll_cursor``, each handed to the observers once the snapshot is closed (unless
        ``notify`` is False)."""
        window, key = poll_window(self.sync, cursor=cursor, since=since, limit=limit, now=now)
        async with self.session(scopes=scopes, as_of=window.until) as session:
            page = await session._run(partial(page_from, session.session, window, limit, key))
        if notify:
            notify_changes(self.registry, page)
        return page

    def renderer(self, locale: str | None = None, time_zone: str | None = None) -> Renderer:
        """As ``ActionabilityService.renderer``: one shared renderer per locale and zone, for
        text a host renders after its session has closed (a template, say)."""
        return self.sync.renderer(locale, time_zone)

    async def close(self) -> None:
        """Dispose the engine the service created from a URL (a given engine is the host's)."""
        if self._owned is not None:
            await self._owned.dispose()


@attrs.frozen(kw_only=True)
class AsyncRequestSession:
    """One request for an asyncio host: ``RequestSession``'s methods, awaited.

    Every method answers exactly what the sync session's does on the same snapshot. A session
    reads through one connection, so calls gathered on one session run one after the other;
    concurrent requests each open their own session.
    """

    connection: AsyncConnection
    session: RequestSession
    _turn: asyncio.Lock = attrs.field(factory=asyncio.Lock, init=False, eq=False, repr=False)

    @property
    def scopes(self) -> VisibleScopes:
        """The actor's visible scopes (``EveryWorkspace``: ``VisibleScopes.every_workspace``)."""
        return self.session.scopes

    @property
    def as_of(self) -> datetime:
        return self.session.as_of

    def render(self, message: Message) -> str:
        """A message of an answer in the session's locale and time zone (no I/O: not awaited)."""
        return self.session.render(message)

    def to_json(self, value: object) -> Any:
        """An answer's JSON form, its texts in the session's locale (no I/O: not awaited)."""
        return self.session.to_json(value)

    async def _run(self, call: Callable[[], T]) -> T:
        async with self._turn:
            return await self.connection.run_sync(lambda _: call())

    async def dashboard(
        self, *, top: int = 10, on_page: Callable[[int], None] | None = None
    ) -> DashboardSummary:
        """Counts by status, family and environment, the ``top`` runs needing attention, work."""
        return await self._run(partial(self.session.dashboard, top=top, on_page=on_page))

    async def page(
        self,
        view: View = View.ALL,
        *,
        limit: int = 50,
        cursor: str | None = None,
        on_scan: Callable[[int], None] | None = None,
    ) -> AssessedPage:
        """A page of runs, newest first, kept to ``view``; pass ``next_cursor`` for the next."""
        return await self._run(
            partial(self.session.page, view, limit=limit, cursor=cursor, on_scan=on_scan)
        )

    async def follow_up_page(self, limit: int = 50, cursor: str | None = None) -> AssessedPage:
        """The runs needing attention now (actionable, manual review), newest first."""
        return await self._run(partial(self.session.follow_up_page, limit, cursor))

    async def history_page(self, limit: int = 50, cursor: str | None = None) -> AssessedPage:
        """The runs that call for nothing now (superseded, resolved, informational)."""
        return await self._run(partial(self.session.history_page, limit, cursor))

    async def active_work(self, *, newest: int = 10) -> ActiveWork:
        """Queued and running work of the scopes at ``as_of``, with the ``newest`` runs."""
        return await self._run(partial(self.session.active_work, newest=newest))

    async def explain(self, run_id: RunId) -> Explanation | None:
        """Why ``run_id`` has its status, and what would change it; None when missing or unseen."""
        return await self._run(partial(self.session.explain, run_id))

    async def changes(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ChangePage:
        """The runs whose status changed between ``since`` and ``until`` (see the sync session)."""
        call = partial(self.session.changes, since=since, until=until, limit=limit, cursor=cursor)
        return await self._run(call)

    async def primary_action(self, run_id: RunId) -> PrimaryAction | None:
        """The one action a screen offers for ``run_id``; None when it has none, or is missing
        or unseen (``explain`` tells those apart)."""
        return await self._run(partial(self.session.primary_action, run_id))

    async def environments_with_runs(self, environment_ids: Collection[str]) -> frozenset[str]:
        """Of ``environment_ids``, those holding a run this session shows (see the sync session)."""
        return await self._run(partial(self.session.environments_with_runs, environment_ids))

    async def unattributed(self) -> UnattributedRuns:
        """The runs no scope shows (see the sync session); a whole-database session only."""
        return await self._run(self.session.unattributed)
