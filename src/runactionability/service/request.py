"""``RequestSession``: one request's reading, on one snapshot, for one actor's scopes."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import attrs

from runactionability.adapters.sqlalchemy import SqlBackend, SqlRunSource
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.changes import ChangePage
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
)
from runactionability.consumers.active_runs import KeyedActiveRuns
from runactionability.consumers.assess import KnownResults
from runactionability.consumers.dashboard import active_work
from runactionability.consumers.explain import ShownAssessments
from runactionability.consumers.shared import IdKey, shared_ids, visible_at
from runactionability.errors import InvalidCursorError, UsageError
from runactionability.i18n import Renderer
from runactionability.jsonforms import to_json
from runactionability.limits import check_limit
from runactionability.messages import Message
from runactionability.model import OperationRun, RunId, run_as_of, usable_id
from runactionability.ports import RunsById
from runactionability.resolver import Resolver
from runactionability.result import PrimaryAction
from runactionability.scopes import VisibleScopes
from runactionability.service import every
from runactionability.service.changes import read_page
from runactionability.service.every import explain_unscoped
from runactionability.telemetry import CHANGES, DASHBOARD, PAGE, traced

# The follow-up page a request usually shows after its dashboard: the default page. When every
# run needing attention fits in it, the dashboard's batch evaluates them all (docs/performance.md,
# "Seventh round").
_PAGE_AHEAD = 50


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
    # Once per request, from its one snapshot: the active runs at as_of, read only as far as the
    # views ask (all took 10-90 ms on a 20,000-run workspace), and the assessments explain reuses.
    _active: list[ActiveRuns] = attrs.field(factory=list, init=False, eq=False, repr=False)
    _shown: ShownAssessments = attrs.field(factory=ShownAssessments, init=False, eq=False)
    _shares_ids: list[bool] = attrs.field(factory=list, init=False, eq=False, repr=False)
    _distinct: list[SqlRunSource] = attrs.field(factory=list, init=False, eq=False, repr=False)
    # The results this session evaluated: the page a request shows after its dashboard is
    # evaluated in the dashboard's batch (one evidence read for both), and not again.
    _known: list[KnownResults] = attrs.field(factory=list, init=False, eq=False, repr=False)
    # Set when the ``with`` block ends: the snapshot's connection is gone (or, the host's own,
    # no longer this request's snapshot), so an answer after it would be no answer of it.
    _ended: list[bool] = attrs.field(factory=list, init=False, eq=False, repr=False)

    def _end(self) -> None:
        # ``ActionabilityService.session`` calls it as its block ends.
        self._ended.append(True)

    def _check_open(self) -> None:
        if self._ended:
            raise UsageError(
                "this RequestSession has ended: read through it only inside its "
                "`with service.session(...)` block"
            )

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
        self._check_open()
        check_limit(top, name="top", least=0)
        store = self._store()  # first: it may prove that the reads by id can be spared
        summary = dashboard(
            self._runs(),
            self.resolver,
            scopes=self.scopes,
            as_of=self.as_of,
            top=top,
            on_page=on_page,
            store=store,
            active=self._active_runs(),
            known=self._known_results(),
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
        self._check_open()
        check_limit(limit)
        if cursor is not None:
            # Every view reads the session's active work before its own reader would see the
            # cursor, so it is checked here, before any statement.
            if view is View.CURRENT_FOLLOW_UP:
                try:
                    self.pushdown.check_cursor(cursor)
                except InvalidCursorError:
                    # The runs' own cursor: a table whose ids are shared lists follow-up runs
                    # without the pushdown (``_store``).
                    self.backend.runs.check_cursor(cursor)
            else:
                self.backend.runs.check_cursor(cursor)
        store = self._store()  # first: it may prove that the reads by id can be spared
        page = list_assessed(
            self._runs(),
            self.resolver,
            scopes=self.scopes,
            as_of=self.as_of,
            view=view,
            limit=limit,
            cursor=cursor,
            active=self._active_runs(),
            on_scan=on_scan,
            store=store,
            known=self._known_results(),
        )
        return self._shown.page(page)

    def _store(self) -> SqlPushdown | None:
        """The pushdown, unless two rows of the session's scopes share an id: its counts and
        follow-up list judge each row alone, so every run is then judged here, and an id two
        visible runs share reads ``duplicate_run_id`` everywhere alike (asked once per session,
        of the actor's rows only: an id shared inside hidden scopes changes no path)."""
        if not self._shares_ids:
            runs = self.backend.runs
            shares = isinstance(runs, RunsById) and runs.shares_ids(self._readable())
            self._shares_ids.append(shares)
        return None if self._shares_ids[0] else self.pushdown

    def _runs(self) -> SqlRunSource:
        """The run source the consumers read: once ``_store`` has found that no two rows of the
        session's scopes share an id, on its one snapshot, one that takes its ids as unique, so
        that no answer reads rows by id to find one (review F2: a request on a table without a
        unique id sent a read by id for each batch). Until then, or when two do, the session's."""
        if self._shares_ids and not self._shares_ids[0]:
            if not self._distinct:
                self._distinct.append(self.backend.runs.proven_unique())
            return self._distinct[0]
        return self.backend.runs

    def _readable(self) -> VisibleScopes | None:
        return every.readable_scopes(self.scopes, whole_database=self.whole_database)

    def _known_results(self) -> KnownResults:
        if not self._known:
            known = KnownResults(scopes=self.scopes, as_of=self.as_of, ahead=_PAGE_AHEAD)
            self._known.append(known)
        return self._known[0]

    def _active_runs(self) -> ActiveRuns:
        # ActiveRuns.from_source's query, read only for the work shown (active_work: all, once).
        if not self._active:
            self._active.append(
                KeyedActiveRuns(
                    self._runs(),
                    catalog=self.resolver.catalog,
                    scopes=self.scopes,
                    as_of=self.as_of,
                )
            )
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
        self._check_open()
        check_limit(newest, name="newest", least=0)
        active, source = self._active_runs(), self._runs()
        work = active_work(
            self.resolver,
            active,
            scopes=self.scopes,
            as_of=self.as_of,
            newest=newest,
            source=source,
        )
        return self._shown.work(work)

    def explain(self, run_id: RunId) -> Explanation | None:
        """Why ``run_id`` has its status, and what would change it; None when missing or unseen."""
        self._check_open()
        kinds, resolver = self.backend.states, self.resolver
        if (shown := self._shown.explanation(run_id, resolver, kinds)) is not None:
            return shown
        run, shared = self._run_named(run_id)
        if run is not None and run_as_of(run, self.as_of) is None:
            # Created after as_of: at that instant it did not exist, so it is missing (a 404),
            # never an error that confirms it exists.
            return None
        if run is not None and self.whole_database and usable_id(run.workspace_id) is None:
            # Nothing is hidden from the whole database: a run in no workspace's scope, asked
            # for by id, is shown, flagged as the invalid record it is.
            return explain_unscoped(resolver, run, self.as_of, kinds)
        if run is None or not self.scopes.admits_run(run):
            return None
        active, scopes, as_of = self._active_runs(), self.scopes, self.as_of
        return explain(
            resolver,
            run,
            scopes=scopes,
            as_of=as_of,
            active=active,
            state_kinds=kinds,
            shared=shared,
            source=self._runs(),
        )

    def _run_named(self, run_id: RunId) -> tuple[OperationRun | None, frozenset[IdKey]]:
        """The run ``run_id`` names for this session, and its id key when it names two.

        A table without a unique id may hold several rows with it: the one of these scopes
        that existed at ``as_of`` is the run, and when two are, the id is shared and the
        explanation says so rather than picking one. Only rows of the scopes are read (every
        row for the whole database); when none of them is the run, the first is returned for
        ``explain`` to judge (None for a run created after ``as_of``, a run in no workspace
        shown to the whole database).
        """
        source = self.backend.runs
        if not isinstance(source, RunsById):
            return source.get_run(run_id), frozenset()
        rows = source.runs_by_ids([run_id], self._readable())
        seen = visible_at(rows, self.scopes, self.as_of)
        if not seen:
            return (rows[0] if rows else None), frozenset()
        return seen[0], shared_ids(seen)

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
        self._check_open()
        key = self.backend.runs.cursor_key
        return read_page(self, since=since, until=until, limit=limit, cursor=cursor, key=key)

    def primary_action(self, run_id: RunId) -> PrimaryAction | None:
        """The one action a screen offers for ``run_id``; None when it has none, or is missing
        or unseen (``explain`` tells those apart)."""
        told = self.explain(run_id)
        return None if told is None else told.assessment.primary_action

    def environments_with_runs(self, environment_ids: Collection[str]) -> frozenset[str]:
        """Of ``environment_ids``, those holding a run in a workspace this session shows (one
        statement): a typed environment name checked before an empty answer hides a typo.

        An environment outside the session's scopes is never among them.
        """
        self._check_open()
        return every.environments_with_runs(self.backend, self.scopes, environment_ids)

    def unattributed(self) -> every.UnattributedRuns:
        """The runs with no usable workspace id, which no scope shows (one statement); only a
        session of the whole database may ask (``UsageError`` otherwise)."""
        self._check_open()
        return every.count_unattributed(self.backend, whole_database=self.whole_database)
