"""``ActionabilityService`` and the per-request ``RequestSession`` it opens."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy import SqlBackend, open_backend
from runactionability.adapters.sqlalchemy.cursors import check_cursor_key
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.catalog import OperationCatalog
from runactionability.changes import ChangePage
from runactionability.config import Config
from runactionability.consumers import (
    ActiveRuns,
    ActiveWork,
    AssessedPage,
    DashboardSummary,
    Explanation,
    View,
    dashboard,
    explain,
    list_assessed,
    read_runs,
)
from runactionability.consumers.dashboard import active_work
from runactionability.consumers.explain import ShownAssessments
from runactionability.i18n import MessageCatalogs, Renderer
from runactionability.i18n.catalogs import check_directory
from runactionability.jsonforms import to_json
from runactionability.messages import Message
from runactionability.model import RunId, RunStatus, usable_id
from runactionability.registry import Registry
from runactionability.resolver import Resolver
from runactionability.result import PrimaryAction
from runactionability.scopes import VisibleScopes
from runactionability.service import every
from runactionability.service.changes import read_page
from runactionability.service.configured import configured
from runactionability.service.every import EveryWorkspace, every_workspace, explain_unscoped
from runactionability.service.limits import check_limit
from runactionability.service.mapping_check import MappingCheck
from runactionability.service.polling import DEFAULT_CHANGE_MARGIN, check_margin, poll
from runactionability.service.renderers import Renderers
from runactionability.telemetry import CHANGES, DASHBOARD, PAGE, traced

_ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})


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
    transaction of the host may stay open.
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
        self.change_margin = check_margin(change_margin)
        self._owned: sa.Engine | None = None
        self.registry = Registry.default() if registry is None else registry
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
        self._backend = open_backend(
            bind_or_url, runs=runs, states=states, catalog=self.catalog, cursor_key=cursor_key
        )
        self.bind = self._backend.history.bind
        # Built once: it checks the configuration (and warns about a missing state kind) here,
        # not on every request; each session gets a copy reading through its snapshot.
        self._resolver = Resolver(
            history=self._backend.history,
            states=self._backend.states,
            registry=self.registry,
            catalog=self.catalog,
        )
        self._pushdown = SqlPushdown(
            self.bind,
            runs=runs,
            states={kind: source.mapping for kind, source in self._backend.states.items()},
            registry=self.registry,
            catalog=self.catalog,
            form=form,
            resolver=self._resolver,
            cursor_key=cursor_key,
        )
        self._mapping_check = MappingCheck(runs, self._pushdown.states)
        self._mapping_check.run(self.bind, stacklevel=2, deferrable=True)

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
        renderer = self.renderer(locale, time_zone)
        instant = datetime.now(UTC) if as_of is None else as_of
        with self._backend.snapshot(connection) as backend:
            reading = backend.history.bind
            assert isinstance(reading, sa.Connection), "a snapshot reads through one connection"
            if self._mapping_check.pending:
                self._mapping_check.run(reading, stacklevel=4)
            whole_database = False
            if isinstance(scopes, EveryWorkspace):
                whole_database = scopes.environment_ids is None
                scopes = every_workspace(backend, scopes)
            yield RequestSession(
                backend=backend,
                resolver=self._resolver.with_ports(history=backend.history, states=backend.states),
                pushdown=self._pushdown.bound_to(reading),
                scopes=scopes,
                as_of=instant,
                whole_database=whole_database,
                renderer=renderer,
            )

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
        self._backend.close()
        if self._owned is not None:
            self._owned.dispose()


@attrs.frozen(kw_only=True)
class RequestSession:
    """One request: one snapshot, one actor's ``scopes``, one ``as_of``.

    A run outside the scopes is reported exactly like a missing one: ``explain`` and
    ``primary_action`` answer None for both, so an actor learns nothing about runs it may not see.
    """

    backend: SqlBackend
    resolver: Resolver
    pushdown: SqlPushdown
    scopes: VisibleScopes
    as_of: datetime
    whole_database: bool = False
    renderer: Renderer = attrs.field(factory=Renderer)
    # Once per request, from its one snapshot: the scopes' queued and running runs at as_of,
    # which the dashboard, every page and explanation and the active work need (10-90 ms a read
    # on a 20,000-run workspace), and the assessments shown, which ``explain`` then reuses.
    _active: list[ActiveRuns] = attrs.field(factory=list, init=False, eq=False, repr=False)
    _shown: ShownAssessments = attrs.field(factory=ShownAssessments, init=False, eq=False)

    def render(self, message: Message) -> str:
        """A message of an answer (an explanation, a label, a ``would_change`` line) in the
        session's locale and time zone."""
        return self.renderer.render(message)

    def to_json(self, value: object) -> Any:
        """An answer's JSON form (``runactionability.jsonforms``), its texts in the session's
        locale, each beside its message id and parameters."""
        return to_json(value, renderer=self.renderer)

    @traced(DASHBOARD, "runactionability.RequestSession.dashboard", runs=lambda d: d.counts.total)
    def dashboard(
        self, *, top: int = 10, on_page: Callable[[int], None] | None = None
    ) -> DashboardSummary:
        """Counts by status, family and environment, the ``top`` (0 to ``MAX_LIMIT``) runs
        needing attention, work."""
        check_limit(top, name="top", least=0)
        summary = dashboard(
            self.backend.runs,
            self.resolver,
            scopes=self.scopes,
            as_of=self.as_of,
            top=top,
            on_page=on_page,
            store=self.pushdown,
            active=self._active_runs(),
        )
        return self._shown.summary(summary)

    @traced(PAGE, "runactionability.RequestSession.page")
    def page(
        self,
        view: View = View.ALL,
        *,
        limit: int = 50,
        cursor: str | None = None,
        on_scan: Callable[[int], None] | None = None,
    ) -> AssessedPage:
        """A page of runs, newest first, kept to ``view``; pass ``next_cursor`` for the next.

        A ``limit`` that is no int from 1 to ``MAX_LIMIT`` (``UsageError``) and a ``cursor`` this
        service did not issue (``InvalidCursorError``) are refused before any statement runs.
        """
        check_limit(limit)
        if cursor:
            # Every view reads the session's active work before its own reader would see the
            # cursor, so it is checked here, before any statement.
            if view is View.CURRENT_FOLLOW_UP:
                self.pushdown.check_cursor(cursor)
            else:
                self.backend.runs.check_cursor(cursor)
        page = list_assessed(
            self.backend.runs,
            self.resolver,
            scopes=self.scopes,
            as_of=self.as_of,
            view=view,
            limit=limit,
            cursor=cursor,
            active=self._active_runs(),
            on_scan=on_scan,
            store=self.pushdown,
        )
        return self._shown.page(page)

    def _active_runs(self) -> ActiveRuns:
        # What ActiveRuns.from_source would read (the same query), read and indexed once.
        if not self._active:
            query = self.scopes.query(statuses=_ACTIVE, as_of=self.as_of)
            runs = read_runs(self.backend.runs, query)
            self._active.append(ActiveRuns(runs, catalog=self.resolver.catalog, scopes=self.scopes))
        return self._active[0]

    def follow_up_page(self, limit: int = 50, cursor: str | None = None) -> AssessedPage:
        """The runs needing attention now (actionable, manual review), newest first."""
        return self.page(View.CURRENT_FOLLOW_UP, limit=limit, cursor=cursor)

    def history_page(self, limit: int = 50, cursor: str | None = None) -> AssessedPage:
        """The runs that call for nothing now (superseded, resolved, informational)."""
        return self.page(View.HISTORY, limit=limit, cursor=cursor)

    def active_work(self, *, newest: int = 10) -> ActiveWork:
        """Queued and running work of the scopes at ``as_of``, with the ``newest`` runs (0 to
        ``MAX_LIMIT``)."""
        check_limit(newest, name="newest", least=0)
        active = self._active_runs()
        return self._shown.work(
            active_work(self.resolver, active, scopes=self.scopes, as_of=self.as_of, newest=newest)
        )

    def explain(self, run_id: RunId) -> Explanation | None:
        """Why ``run_id`` has its status, and what would change it; None when missing or unseen."""
        kinds, resolver = self.backend.states, self.resolver
        if (shown := self._shown.explanation(run_id, resolver, kinds)) is not None:
            return shown
        run = self.backend.runs.get_run(run_id)
        if run is not None and self.whole_database and usable_id(run.workspace_id) is None:
            # Nothing is hidden from the whole database: a run in no workspace's scope, asked
            # for by id, is shown, flagged as the invalid record it is.
            return explain_unscoped(resolver, run, self.as_of, kinds)
        if run is None or not self.scopes.admits_run(run):
            return None
        active, scopes, as_of = self._active_runs(), self.scopes, self.as_of
        return explain(resolver, run, scopes=scopes, as_of=as_of, active=active, state_kinds=kinds)

    @traced(CHANGES, "runactionability.RequestSession.changes", runs=lambda p: len(p.changes))
    def changes(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ChangePage:
        """The visible runs whose status at ``until`` (default: the session's ``as_of``) differs
        from their status at ``since``, ordered by (``changed_at``, run id) (docs/changes.md).

        Pass a page's ``next_cursor`` alone for the next page of the same window. A cursor
        this service did not issue, or a ``limit`` that is no int from 1 to ``MAX_LIMIT``, is
        refused (``InvalidCursorError``, ``UsageError``) before any statement runs.
        """
        key = self.backend.runs.cursor_key
        return read_page(self, since=since, until=until, limit=limit, cursor=cursor, key=key)

    def primary_action(self, run_id: RunId) -> PrimaryAction | None:
        """The one action a screen offers for ``run_id``; None when it has none, or is missing
        or unseen (``explain`` tells those apart)."""
        told = self.explain(run_id)
        return None if told is None else told.assessment.primary_action

    def unattributed(self) -> every.UnattributedRuns:
        """The runs with no usable workspace id, which no scope shows (one statement); only a
        session of the whole database may ask (``UsageError`` otherwise)."""
        return every.count_unattributed(self.backend, whole_database=self.whole_database)
