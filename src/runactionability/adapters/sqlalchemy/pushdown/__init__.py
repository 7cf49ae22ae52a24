"""SQL pushdown: the built-in rules compiled into one classification the database evaluates.

A family whose policy is a ``FirstDecisive`` of built-in rules (``InformationalWhen``,
``SupersededByLaterSuccess``, ``ResolvedByState``, ``AlwaysManualReview``,
``AlwaysInformational``) becomes a ``CASE`` that yields each row's actionability status, in the
core's order: succeeded and active runs first, then every invalid record (unknown status or
outcome, unknown type, bad timestamps, blank scope ids, a context that is not an object, a missing
environment or subject), then the family's rules in order, then ``actionable``; a high-risk family
never leaves manual review. Rows of any other family read ``evaluate`` and are judged by the
Python ``Resolver`` in one batch, so the two merge into one answer.

Only the status is computed in SQL (a follow-up page is small enough to explain in Python); the
differential tests prove both give the same status for every run. Two forms of the later-success
test are compiled, and each dialect gets the faster one by measurement (``docs/performance.md``):
a correlated ``EXISTS`` seek on the success index, and a grouped ``LEFT JOIN`` to the latest
success per (superseded type, scope, subject).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import Bind, check_bind, read_transaction
from runactionability.adapters.sqlalchemy.backend import _rebound
from runactionability.adapters.sqlalchemy.context_check import ContextKind
from runactionability.adapters.sqlalchemy.cursors import check_cursor_key
from runactionability.adapters.sqlalchemy.history import SqlRunHistory
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown.classify import (
    Visibility,
    _Compiled,
    _visibility_of,
)
from runactionability.adapters.sqlalchemy.pushdown.common import (
    EVALUATE,
    SupersedeForm,
    usual_workspaces,
)
from runactionability.adapters.sqlalchemy.pushdown.counts import (
    PushdownCounts,
    count,
    evaluated_runs,
    needs_attention,
)
from runactionability.adapters.sqlalchemy.pushdown.failing import KIND, _check_as_of, _fetching
from runactionability.adapters.sqlalchemy.pushdown.paging import (
    FollowUpItem,
    FollowUpPage,
    _decode,
    follow_up_page,
)
from runactionability.adapters.sqlalchemy.pushdown.paging import (
    _encode as _encode,  # re-exported, as before the split
)
from runactionability.adapters.sqlalchemy.pushdown.prepared import (
    _PREPARED_LIMIT,
    _params,
    _prepare,
    _Prepared,
)
from runactionability.adapters.sqlalchemy.pushdown.prepared import (
    _scope_values as _scope_values,  # re-exported for the benchmark
)
from runactionability.adapters.sqlalchemy.pushdown.rules import is_compilable
from runactionability.adapters.sqlalchemy.pushdown.walk import Head
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.adapters.sqlalchemy.states import SqlStateSource
from runactionability.catalog import OperationCatalog
from runactionability.limits import check_limit
from runactionability.registry import Registry
from runactionability.resolver import Resolver
from runactionability.result import Actionability
from runactionability.scopes import VisibleScopes

__all__ = [
    "DEFAULT_FORMS",
    "EVALUATE",
    "KIND",
    "FollowUpItem",
    "FollowUpPage",
    "PushdownCounts",
    "SqlPushdown",
    "SupersedeForm",
    "count_by_status",
    "current_follow_up_page",
    "is_compilable",
]

DEFAULT_FORMS: Mapping[str, SupersedeForm] = MappingProxyType(
    {"sqlite": SupersedeForm.EXISTS, "postgresql": SupersedeForm.GROUPED}
)
"""The form each dialect counts with unless told otherwise, chosen by ``bench/pushdown_bench.py``.

A follow-up page classifies only the few rows it shows, so it always seeks (``EXISTS``) unless
told otherwise: aggregating every success of the scope would cost more than the page.
"""


class SqlPushdown:
    """Classifies the runs of a runs table inside the database, for counts and follow-up pages.

    ``states`` maps each state kind to its table; a ``ResolvedByState`` rule applies only when its
    kind has a table, exactly as a ``Resolver`` without that state source behaves. ``form``
    overrides the per-dialect choice of ``DEFAULT_FORMS``; with ``cursor_key`` the follow-up
    list's cursors are signed (``cursors.seal``). ``resolver`` judges the rows of families that
    are not compiled (by default, one built over the same tables). The reference schema's
    indexes serve every statement; a host table needs the equivalent ones
    (``docs/performance.md``).
    """

    def __init__(
        self,
        bind: Bind,
        *,
        runs: RunTableMapping = REFERENCE_RUNS,
        states: Mapping[str, StateTableMapping] | None = None,
        registry: Registry | None = None,
        catalog: OperationCatalog | None = None,
        form: SupersedeForm | str | None = None,
        resolver: Resolver | None = None,
        cursor_key: bytes | None = None,
    ) -> None:
        self.bind = check_bind(bind)
        self.context_kind = ContextKind(self.bind, runs)
        self.mapping = runs
        self.cursor_key = check_cursor_key(cursor_key)
        self.states = reference_state_mappings() if states is None else dict(states)
        self.registry = Registry.default() if registry is None else registry
        self.catalog = self.registry.catalog() if catalog is None else catalog
        self.registry.check_coverage(self.catalog)
        self.families = dict(self.registry.families())
        self.form = None if form is None else SupersedeForm(form)
        self._resolver: Resolver | None = resolver  # a host's, over the same tables
        self._source: SqlRunSource | None = None
        self._compiled: dict[tuple[str, SupersedeForm, Visibility, bool, bool, bool], _Compiled]
        self._compiled = {}
        self._prepared: dict[tuple[Any, ...], _Prepared] = {}
        # The follow-up walk's rows from the newest, kept by a session's copy only (``bound_to``).
        self._heads: dict[tuple[Any, ...], Head] | None = None
        # Copies made by ``bound_to`` share the caches and this lock, so threads serving
        # requests from one pushdown compile each statement once and never see a half-filled one.
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.bind.dialect.name

    @property
    def evaluated_families(self) -> tuple[str, ...]:
        """The families judged in Python because their policies are not built-in rules only."""
        judged = {name for name, family in self.families.items() if not is_compilable(family)}
        return tuple(sorted(judged & self.catalog.families()))

    def resolver(self) -> Resolver:
        """The Python resolver over the same tables, for rows of families that are not compiled."""
        if self._resolver is None:
            self._resolver = Resolver(
                history=SqlRunHistory(self.bind, self.mapping),
                states={kind: SqlStateSource(self.bind, m) for kind, m in self.states.items()},
                registry=self.registry,
                catalog=self.catalog,
            )
        return self._resolver

    def _resolver_on(self, connection: sa.Connection) -> Resolver:
        # The rows a call judges in Python take their evidence through the call's own
        # connection, so they are read in the same snapshot as the rows the database classified.
        resolver = copy.copy(self.resolver())
        history = resolver.history
        assert isinstance(history, SqlRunHistory)
        resolver.history = _rebound(history, connection)
        resolver._states = {
            kind: _rebound(source, connection)  # type: ignore[type-var]
            for kind, source in resolver._states.items()
        }
        return resolver

    def _run_source(self) -> SqlRunSource:
        if self._source is None:
            self._source = SqlRunSource(self.bind, self.mapping, catalog=self.catalog)
        return self._source

    # -- the statements -------------------------------------------------------------------------

    def compiled(
        self,
        form: SupersedeForm | None = None,
        scopes: VisibleScopes | None = None,
        *,
        walk: bool = False,
    ) -> _Compiled:
        """The classification of every row for this dialect (for tests and ``EXPLAIN``).

        Its statements take the bound parameters ``as_of``, ``workspace_ids`` and
        ``environment_ids`` (each the whole id list as one value, see ``_scope_values``;
        workspace ids, which the grouped form reads successes of). For ``scopes`` that name
        environments, evidence outside them is not read: the classification is the one for
        that shape of scopes (see ``_visibility_of``), and for scopes whose workspace ids are
        all usual (``usual_ids``) it leaves out the tests of the row's workspace id, which its
        statements' scope filter then decides: such a classification is only for rows of
        ``scopes``. ``walk`` is the follow-up walk's (``lateral.SharedSuccesses``).
        """
        chosen = form or self.form or DEFAULT_FORMS.get(self.dialect, SupersedeForm.EXISTS)
        visibility = _visibility_of(scopes)
        usual = scopes is not None and usual_workspaces(scopes.workspace_ids)
        every = scopes is not None and scopes.workspace_ids is None
        key = (self.dialect, chosen, visibility, usual, walk, every)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key)
                if compiled is None:
                    compiled = _Compiled(self, self.dialect, chosen, visibility, usual, walk, every)
                    self._compiled[key] = compiled
        return compiled

    @_fetching
    def classify(self, scopes: VisibleScopes, *, as_of: datetime) -> dict[Any, Actionability]:
        """The status of every run of ``scopes`` by run id (custom families judged in Python)."""
        _check_as_of(as_of)
        compiled = self.compiled(scopes=scopes)
        params = _params(scopes, as_of, self.dialect, self.mapping.ids)
        statement = compiled.select(compiled.c["id"], compiled.status.label("status")).where(
            *compiled.scope_filter(scopes)
        )
        statuses: dict[Any, Actionability] = {}
        pending: list[Any] = []
        with read_transaction(self.bind, statements=2) as connection:
            _prepare(connection, scopes)
            for run_id, status in connection.execute(statement, params):
                if status == EVALUATE:
                    pending.append(run_id)
                else:
                    statuses[run_id] = Actionability(status)
            if pending:
                runs = evaluated_runs(self, connection, compiled, scopes, params)
                for run, result in zip(
                    runs,
                    self._resolver_on(connection).evaluate_many(runs, as_of=as_of, scopes=scopes),
                    strict=True,
                ):
                    statuses[run.id] = result.status
        return statuses

    @_fetching
    def count(self, scopes: VisibleScopes, *, as_of: datetime) -> PushdownCounts:
        """Counts by status, family and scope of the runs of ``scopes``, in two statements.

        Status and outcome alone decide succeeded and active runs (rule 2), so the first statement
        groups every run by (scope, type, status, outcome) from an index, without the
        classification; the second classifies only the problem rows. Rows of families with custom
        rules add one statement that reads them, judged in one resolver batch.
        """
        _check_as_of(as_of)
        return count(self, scopes, as_of=as_of)

    @_fetching
    def needs_attention(self, scopes: VisibleScopes, *, as_of: datetime) -> int:
        """``count(...).needs_attention`` alone, from the problem rows only (one statement)."""
        _check_as_of(as_of)
        return needs_attention(self, scopes, as_of=as_of)

    @_fetching
    def follow_up_page(
        self,
        scopes: VisibleScopes,
        *,
        as_of: datetime,
        limit: int = 50,
        cursor: str | None = None,
    ) -> FollowUpPage:
        """The runs needing attention now (actionable, manual review), newest first.

        Keyset pagination on (created_at, id), both descending: ``next_cursor`` is None at the
        end; a page is never short before it (the page after a full one may be empty).
        """
        _check_as_of(as_of)
        check_limit(limit)
        if cursor is not None:
            # A cursor the caller passes is refused before any statement; the walk's own are not.
            self.check_cursor(cursor)
        return follow_up_page(self, scopes, as_of=as_of, limit=limit, cursor=cursor)

    def check_cursor(self, cursor: str) -> None:
        """Refuse a cursor the follow-up list did not issue (``InvalidCursorError``).

        ``current_follow_up_page`` checks its cursor so; a caller that reads something else
        first checks it up front, so that no statement runs for a refused cursor.
        """
        _decode(
            cursor,
            id_type=self.mapping.ids.run,
            instants=self.mapping.timestamps,
            dialect=self.dialect,
            key=self.cursor_key,
        )

    def _prepare(self, key: tuple[Any, ...], build: Callable[[], Any]) -> _Prepared:
        """The statement prepared under ``key``; ``build`` makes it on the first use only.

        Building the expression is most of a request's Python time when every statement is a
        cache hit, so a request whose shape was seen before builds nothing.
        """
        prepared = self._prepared.get(key)
        if prepared is None:
            with self._lock:
                prepared = self._prepared.get(key)
                if prepared is None:
                    if len(self._prepared) >= _PREPARED_LIMIT:
                        self._prepared.clear()
                    prepared = self._prepared[key] = _Prepared(
                        build(), self.bind.dialect, self.mapping.timestamps, self.mapping.ids
                    )
        return prepared

    def bound_to(self, connection: sa.Connection) -> SqlPushdown:
        """This pushdown reading through ``connection`` (one request's snapshot).

        The copy shares the compiled classifications and prepared statements, so a long-lived
        pushdown compiles each statement once however many requests it serves; the follow-up
        walk's rows it reads are its own (``walk.session_head``).
        """
        self.resolver()
        self._run_source()
        clone = copy.copy(self)
        clone.bind = check_bind(connection)
        clone._heads = {}
        return clone


def count_by_status(
    bind: Bind,
    scopes: VisibleScopes,
    *,
    as_of: datetime,
    runs: RunTableMapping = REFERENCE_RUNS,
    states: Mapping[str, StateTableMapping] | None = None,
    registry: Registry | None = None,
    catalog: OperationCatalog | None = None,
) -> PushdownCounts:
    """Counts by status, family and scope of the runs of ``scopes``, computed in the database."""
    pushdown = SqlPushdown(bind, runs=runs, states=states, registry=registry, catalog=catalog)
    return pushdown.count(scopes, as_of=as_of)


def current_follow_up_page(
    bind: Bind,
    scopes: VisibleScopes,
    *,
    as_of: datetime,
    limit: int = 50,
    cursor: str | None = None,
    runs: RunTableMapping = REFERENCE_RUNS,
    states: Mapping[str, StateTableMapping] | None = None,
    registry: Registry | None = None,
    catalog: OperationCatalog | None = None,
) -> FollowUpPage:
    """One page of the runs of ``scopes`` needing attention now, newest first."""
    pushdown = SqlPushdown(bind, runs=runs, states=states, registry=registry, catalog=catalog)
    return pushdown.follow_up_page(scopes, as_of=as_of, limit=limit, cursor=cursor)
