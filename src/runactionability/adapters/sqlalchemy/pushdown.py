"""SQL pushdown: the built-in rules compiled into one classification the database evaluates.

A family whose policy is a ``FirstDecisive`` of built-in rules (``InformationalWhen``,
``SupersededByLaterSuccess``, ``ResolvedByState``, ``AlwaysManualReview``,
``AlwaysInformational``) becomes a ``CASE`` that yields each row's actionability status, in the
core's order: succeeded and active runs first, then every invalid record (unknown status or
outcome, unknown type, bad timestamps, blank scope ids, a context that is not an object, a missing
environment or subject), then the family's rules in order, then ``actionable``; a high-risk family
never leaves manual review. Rows of any other family read ``evaluate`` and are judged by the
Python ``Resolver`` in one batch, so the two merge into one answer.

Only the status is computed in SQL: a page of follow-up runs is small enough to explain in
Python, and the differential tests prove both give the same status for every run.

Two forms of the later-success test are compiled, and each dialect gets the faster one by
measurement (``docs/performance.md``): a correlated ``EXISTS`` seek on the success index, and a
grouped ``LEFT JOIN`` to the latest success per (superseded type, scope, subject).
"""

from __future__ import annotations

import base64
import binascii
import copy
import enum
import functools
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy._reading import Bind, check_bind, read_transaction
from runactionability.adapters.sqlalchemy.backend import _rebound
from runactionability.adapters.sqlalchemy.history import SqlRunHistory
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    RUN_FIELDS,
    RunTableMapping,
    StateTableMapping,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.runs import (
    SqlRunSource,
    cursor_id_is_valid,
    stored_cursor_value_is_valid,
)
from runactionability.adapters.sqlalchemy.schema import problem_rows
from runactionability.adapters.sqlalchemy.states import SqlStateSource
from runactionability.adapters.sqlalchemy.types import (
    JsonDocument,
    UtcTimestamp,
    exact_equal,
    exact_text,
    instant_bound,
    json_subject,
    sound_run_times,
    stored_instant,
    to_micros,
    valid_timestamp,
)
from runactionability.catalog import OperationCatalog, OperationType
from runactionability.errors import EvidenceFetchError, InvalidCursorError, UsageError
from runactionability.model import OperationRun, RunOutcome, RunStatus, usable_id
from runactionability.policies.base import Family, Risk
from runactionability.policies.rules import (
    AlwaysInformational,
    AlwaysManualReview,
    FirstDecisive,
    InformationalWhen,
    ResolvedByState,
    SupersededByLaterSuccess,
)
from runactionability.registry import Registry
from runactionability.resolver import Resolver
from runactionability.result import Actionability, StatusCounts
from runactionability.scopes import VisibleScopes

EVALUATE = "evaluate"
"""The classification of a row that the Python resolver judges (a family with custom rules)."""

_ACTIONABLE = Actionability.ACTIONABLE.value
_REVIEW = Actionability.REQUIRES_MANUAL_REVIEW.value
_FOLLOW_UP = (_ACTIONABLE, _REVIEW)
_CLAMPED = frozenset(
    {
        Actionability.SUPERSEDED_BY_LATER_SUCCESS.value,
        Actionability.RESOLVED_BY_CURRENT_STATE.value,
        Actionability.INFORMATIONAL_ONLY.value,
    }
)
_BUILTIN_RULES = (
    InformationalWhen,
    SupersededByLaterSuccess,
    ResolvedByState,
    AlwaysManualReview,
    AlwaysInformational,
)
# ASCII whitespace: what ``str.strip()`` removes from any id a host realistically stores.
_BLANKS = " \t\n\r\x0b\x0c"


class SupersedeForm(enum.StrEnum):
    """How the later-success test is written (both give the same statuses)."""

    EXISTS = "exists"
    """A correlated ``EXISTS`` per problem row: one seek on the success index each."""
    GROUPED = "grouped"
    """A ``LEFT JOIN`` to the latest success per (superseded type, scope, subject)."""


DEFAULT_FORMS: Mapping[str, SupersedeForm] = MappingProxyType(
    {"sqlite": SupersedeForm.EXISTS, "postgresql": SupersedeForm.GROUPED}
)
"""The form each dialect counts with unless told otherwise, chosen by ``bench/pushdown_bench.py``.

A follow-up page classifies only the few rows it shows, so it always seeks (``EXISTS``) unless
told otherwise: aggregating every success of the scope would cost more than the page.
"""


def is_compilable(family: Family) -> bool:
    """Whether the family's policy is a ``FirstDecisive`` made only of the built-in rules.

    Its ``ResolvedByState`` rules must also resolve only by statuses the family declares: the
    core refuses any other (a policy violation), which the compiled rules do not express.
    """
    policy = family.policy
    return (
        type(policy) is FirstDecisive
        and all(type(rule) in _BUILTIN_RULES for rule in policy.rules)
        and all(
            _declared(family, rule) for rule in policy.rules if isinstance(rule, ResolvedByState)
        )
    )


def _declared(family: Family, rule: ResolvedByState) -> bool:
    # A rule for every type needs a declaration for every type; per-type ones are checked per type.
    if rule.types is None:
        return rule.healthy <= frozenset().union(
            *(
                d.statuses
                for d in family.resolving_states
                if d.kind == rule.kind and d.types is None
            )
        )
    return all(rule.healthy <= family.resolving_statuses(rule.kind, name) for name in rule.types)


@attrs.frozen(kw_only=True)
class PushdownCounts:
    """Counts of the runs of the visible scopes, by status, family and scope.

    ``by_family`` is keyed by family name (None for unknown types) and ``by_environment`` by
    (workspace id, environment id or None), as the dashboard summary keys them.
    """

    counts: StatusCounts
    by_family: Mapping[str | None, StatusCounts]
    by_environment: Mapping[tuple[str, str | None], StatusCounts]

    @property
    def needs_attention(self) -> int:
        return self.counts.needs_attention


@attrs.frozen(kw_only=True)
class FollowUpItem:
    """A run on the current follow-up list and its status (actionable or manual review)."""

    run: OperationRun
    status: Actionability


@attrs.frozen(kw_only=True)
class FollowUpPage:
    """One page of the current follow-up list, newest first, and the cursor of the next one.

    ``scanned`` counts the problem runs read and classified to fill the page.
    """

    items: tuple[FollowUpItem, ...]
    next_cursor: str | None
    scanned: int

    @property
    def runs(self) -> tuple[OperationRun, ...]:
        return tuple(item.run for item in self.items)


def _counts(by_status: Mapping[Actionability, int]) -> StatusCounts:
    full = dict.fromkeys(Actionability, 0)
    full.update(by_status)
    return StatusCounts(
        total=sum(full.values()),
        needs_attention=sum(n for status, n in full.items() if status.needs_attention),
        by_status=MappingProxyType(full),
    )


KIND = "pushdown"
"""The evidence kind an ``EvidenceFetchError`` from the pushdown's own statements names."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _fetching(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Report a database failure of the pushdown's statements as the ports do.

    A host catches ``EvidenceFetchError`` around a resolver batch; a count or a page from the
    store must fail the same way, not with the driver's own exception.
    """

    @functools.wraps(method)
    def fetching(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sa.exc.SQLAlchemyError as exc:
            raise EvidenceFetchError(KIND, f"{type(exc).__name__}: {exc}") from exc

    return fetching


class SqlPushdown:
    """Classifies the runs of a runs table inside the database, for counts and follow-up pages.

    ``states`` maps each state kind to its table; a ``ResolvedByState`` rule applies only when its
    kind has a table, exactly as a ``Resolver`` without that state source behaves. ``form``
    overrides the per-dialect choice of ``DEFAULT_FORMS``. The reference schema's indexes serve
    every statement; a host table needs the equivalent ones (``docs/performance.md``).
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
    ) -> None:
        self.bind = check_bind(bind)
        self.mapping = runs
        self.states = reference_state_mappings() if states is None else dict(states)
        self.registry = Registry.default() if registry is None else registry
        self.catalog = self.registry.catalog() if catalog is None else catalog
        self.registry.check_coverage(self.catalog)
        self.families = dict(self.registry.families())
        self.form = None if form is None else SupersedeForm(form)
        self._resolver: Resolver | None = None
        self._source: SqlRunSource | None = None
        self._compiled: dict[tuple[str, SupersedeForm, Visibility], _Compiled] = {}
        self._prepared: dict[tuple[Any, ...], _Prepared] = {}

    @property
    def dialect(self) -> str:
        return self.bind.dialect.name

    @property
    def evaluated_families(self) -> tuple[str, ...]:
        """The families judged in Python because their policies are not built-in rules only."""
        return tuple(
            sorted(
                name
                for name, family in self.families.items()
                if name in self.catalog.families() and not is_compilable(family)
            )
        )

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
        self, form: SupersedeForm | None = None, scopes: VisibleScopes | None = None
    ) -> _Compiled:
        """The classification of every row for this dialect (for tests and ``EXPLAIN``).

        Its statements take the bound parameters ``as_of``, ``workspace_ids`` and
        ``environment_ids`` (each the whole id list as one value, see ``_scope_values``;
        workspace ids, which the grouped form reads successes of). For ``scopes`` that name
        environments, evidence outside them is not read: the classification is the one for
        that shape of scopes (see ``_visibility_of``).
        """
        chosen = form or self.form or DEFAULT_FORMS.get(self.dialect, SupersedeForm.EXISTS)
        visibility = _visibility_of(scopes)
        key = (self.dialect, chosen, visibility)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self, self.dialect, chosen, visibility)
        return compiled

    @_fetching
    def classify(self, scopes: VisibleScopes, *, as_of: datetime) -> dict[Any, Actionability]:
        """The status of every run of ``scopes`` by run id (custom families judged in Python)."""
        _check_as_of(as_of)
        compiled = self.compiled(scopes=scopes)
        params = _params(scopes, as_of, self.dialect)
        statement = compiled.select(compiled.c["id"], compiled.status.label("status")).where(
            *compiled.scope_filter(scopes)
        )
        statuses: dict[Any, Actionability] = {}
        pending: list[Any] = []
        with read_transaction(self.bind, statements=2) as connection:
            _prepare(connection)
            for run_id, status in connection.execute(statement, params):
                if status == EVALUATE:
                    pending.append(run_id)
                else:
                    statuses[run_id] = Actionability(status)
            if pending:
                runs = self._evaluated_runs(connection, compiled, scopes, params)
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
        compiled = self.compiled(scopes=scopes)
        params = _params(scopes, as_of, self.dialect)
        c = compiled.c
        keys = (c["workspace_id"], c["environment_id"], c["type"])
        # Per group: every row, the rows created after as_of (which did not exist yet), and the
        # rows that completed after as_of (active then); the rest are judged by status and
        # outcome. Summed rather than filtered and grouped on, so that the statement still walks
        # the covering index in group order (measured: a replay column in the GROUP BY took a
        # temporary B-tree, 3x the statement; these sums cost about 1.5x at 4,000 rows).
        future = sa.func.sum(sa.case((sa.not_(compiled.existed), 1), else_=0))
        later = sa.func.sum(
            sa.case(
                (sa.and_(compiled.completed_after, c["created_at"] <= compiled.as_of), 1),
                else_=0,
            )
        )
        plain = (
            sa.select(*keys, c["status"], c["outcome"], sa.func.count(), future, later)
            .select_from(compiled.table)
            .where(*compiled.scope_filter(scopes, replayed=False))
            .group_by(*keys, c["status"], c["outcome"])
        )
        status = compiled.problem_status.label("status")
        problems = (
            compiled.select(*keys, status, sa.func.count().label("n"))
            .where(
                *compiled.scope_filter(scopes),
                compiled.problem,
                sa.not_(compiled.completed_after),
            )
            .group_by(*keys, status)
        )
        key = _scope_key_of(scopes)
        rows: list[tuple[Any, Any, Any, Actionability, int]] = []
        with read_transaction(self.bind, statements=3) as connection:
            _prepare(connection)
            any_problem = False
            for (
                workspace_id,
                environment_id,
                type_,
                stored,
                outcome,
                n,
                future,
                later,
            ) in self._prepare(("plain", *key), plain, scopes).execute(connection, params):
                n -= future + later
                if later:
                    rows.append(
                        (workspace_id, environment_id, type_, Actionability.NOT_TERMINAL, later)
                    )
                if not n:
                    continue
                decided = compiled.decided_by_status(stored, outcome)
                if decided is None:
                    any_problem = True
                else:
                    rows.append((workspace_id, environment_id, type_, decided, n))
            evaluate = False
            if any_problem:
                for workspace_id, environment_id, type_, value, n in self._prepare(
                    ("problems", compiled.form, *key), problems, scopes
                ).execute(connection, params):
                    if value == EVALUATE:
                        evaluate = True
                    else:
                        rows.append((workspace_id, environment_id, type_, Actionability(value), n))
            if evaluate:
                runs = self._evaluated_runs(connection, compiled, scopes, params)
                for run, result in zip(
                    runs,
                    self._resolver_on(connection).evaluate_many(runs, as_of=as_of, scopes=scopes),
                    strict=True,
                ):
                    rows.append((run.workspace_id, run.environment_id, run.type, result.status, 1))
        return self._tally(rows)

    def _tally(self, rows: Sequence[tuple[Any, Any, Any, Actionability, int]]) -> PushdownCounts:
        total: dict[Actionability, int] = {}
        by_family: dict[str | None, dict[Actionability, int]] = {}
        by_environment: dict[tuple[str, str | None], dict[Actionability, int]] = {}
        for workspace_id, environment_id, type_, status, n in rows:
            total[status] = total.get(status, 0) + n
            op_type = self.catalog.resolve(type_)
            family = None if op_type is None else op_type.family
            group = by_family.setdefault(family, {})
            group[status] = group.get(status, 0) + n
            workspace = usable_id(workspace_id)
            if workspace is not None:
                env_group = by_environment.setdefault((workspace, usable_id(environment_id)), {})
                env_group[status] = env_group.get(status, 0) + n
        return PushdownCounts(
            counts=_counts(total),
            by_family=MappingProxyType(
                {
                    name: _counts(group)
                    for name, group in sorted(
                        by_family.items(), key=lambda kv: (kv[0] is None, kv[0] or "")
                    )
                }
            ),
            by_environment=MappingProxyType(
                {
                    key: _counts(group)
                    for key, group in sorted(
                        by_environment.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
                    )
                }
            ),
        )

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
        end, and a page is never short before the end (the page after a full one may be empty).
        """
        _check_as_of(as_of)
        if limit < 1:
            raise UsageError(f"limit must be at least 1, not {limit!r}")
        if cursor:
            # A cursor the caller passes is refused before any statement; the walk's own are not.
            _decode(cursor, integer_ids=self.mapping.integer_ids)
        compiled = self.compiled(self.form or SupersedeForm.EXISTS, scopes)
        c = compiled.c
        created = c["created_at"]
        order = created.desc().nulls_last() if self.dialect == "postgresql" else created.desc()
        base = compiled.select(
            *SqlRunSource.columns(c, self.dialect),
            compiled.problem_status.label("actionability"),
        )
        if compiled.subject is not None:
            base = base.add_columns(compiled.subject.label("subject"))
        # Only problem rows can need attention: the walk reads them alone, newest first, on the
        # partial problem index, and classifies each row it reads once (in the select list; a
        # filter on the classification would evaluate it twice).
        base = base.where(*compiled.scope_filter(scopes), compiled.problem).order_by(
            order, c["id"].desc()
        )
        items: list[FollowUpItem] = []
        source = self._run_source()
        scanned = 0
        # Room for as many runs again that turn out not to need attention (about half of the
        # problem runs in the benchmark's history), so that one statement usually fills the page.
        chunk = min(2 * limit + 1, _MAX_CHUNK)
        key = (compiled.form, *_scope_key_of(scopes))
        scope_values = _scope_values(scopes, self.dialect)
        with read_transaction(self.bind, statements=2) as connection:
            _prepare(connection)
            while True:
                values: dict[str, Any] = {**scope_values, "as_of": as_of, "chunk": chunk}
                statement = base
                tag = None
                if cursor:
                    tag, created, run_id = _decode(cursor)
                    statement = statement.where(self._after(compiled, tag))
                    values["after_id"] = run_id
                    if tag == "instant":
                        values["after_created"] = (
                            created if self.dialect == "postgresql" else to_micros(created)
                        )
                    elif tag == "stored":
                        values["after_created"] = created
                prepared = self._prepare(
                    ("page", tag, *key), statement.limit(sa.bindparam("chunk")), scopes
                )
                rows = prepared.rows(connection, values)
                kept = len(items)
                # Runs are built only for what the page keeps or Python must judge.
                pending = {
                    index: source._run(row)
                    for index, row in enumerate(rows)
                    if row["actionability"] == EVALUATE
                }
                judged: dict[int, Actionability] = {}
                if pending:
                    results = self._resolver_on(connection).evaluate_many(
                        list(pending.values()), as_of=as_of, scopes=scopes
                    )
                    judged = {
                        index: result.status for index, result in zip(pending, results, strict=True)
                    }
                for index, row in enumerate(rows):
                    scanned += 1
                    value = judged.get(index) or Actionability(row["actionability"])
                    if not value.needs_attention:
                        continue
                    if len(items) == limit:
                        # One more run needs attention: the page ends at the last one kept.
                        last = items[-1].run
                        return FollowUpPage(
                            items=tuple(items),
                            next_cursor=_encode(last.created_at, last.id),
                            scanned=scanned - 1,
                        )
                    run = pending.get(index) or source._run(row)
                    items.append(FollowUpItem(run=run, status=value))
                if len(rows) < chunk:
                    return FollowUpPage(items=tuple(items), next_cursor=None, scanned=scanned)
                if len(items) == limit:
                    # Full, and whether another run needs attention is unknown: proving it would
                    # cost a statement, so the next page may be empty (with no cursor).
                    last = items[-1].run
                    return FollowUpPage(
                        items=tuple(items),
                        next_cursor=_encode(last.created_at, last.id),
                        scanned=scanned,
                    )
                cursor = _encode(stored_instant(rows[-1], "created_at"), rows[-1]["id"])
                # Size the next read by the share of runs that needed attention so far, so one
                # more statement usually fills the page; a read that found none doubles.
                if len(items) > kept:
                    share = len(items) / scanned
                    chunk = int((limit - len(items) + 1) / share * 1.25) + 1
                else:
                    chunk *= 2
                chunk = min(chunk, _MAX_CHUNK)

    def _after(self, compiled: _Compiled, tag: str) -> Any:
        c = compiled.c
        column = c["created_at"]
        run_id = sa.bindparam("after_id", type_=c["id"].type)
        if tag == "null":
            return sa.and_(column.is_(None), c["id"] < run_id)
        value: Any = sa.bindparam("after_created", type_=sa.BigInteger())
        if tag == "stored" and self.dialect == "postgresql":
            # An unreadable stored value as its text, which the server reads back as the very
            # value it ordered by ('infinity', a year after 9999).
            value = sa.cast(
                sa.bindparam("after_created", type_=sa.Text()), sa.DateTime(timezone=True)
            )
        elif tag == "stored":
            # Stray text or an out-of-range number, compared as SQLite orders stored values.
            value = sa.bindparam("after_created", type_=sa.types.NullType())
        elif self.dialect != "postgresql":
            column = sa.type_coerce(column, sa.BigInteger())
        else:
            value = sa.bindparam("after_created", type_=sa.DateTime(timezone=True))
        return sa.or_(
            column < value, sa.and_(column == value, c["id"] < run_id), c["created_at"].is_(None)
        )

    def _prepare(self, key: tuple[Any, ...], statement: Any, scopes: VisibleScopes) -> _Prepared:
        prepared = self._prepared.get(key)
        if prepared is None:
            if len(self._prepared) >= _PREPARED_LIMIT:
                self._prepared.clear()
            prepared = self._prepared[key] = _Prepared(statement, self.bind.dialect)
        return prepared

    def _evaluated_runs(
        self,
        connection: sa.Connection,
        compiled: _Compiled,
        scopes: VisibleScopes,
        params: dict[str, Any],
    ) -> list[OperationRun]:
        c = compiled.c
        columns = SqlRunSource.columns(c, self.dialect)
        if compiled.subject is not None:
            columns.append(compiled.subject.label("subject"))
        statement = compiled.select(*columns).where(
            *compiled.scope_filter(scopes), compiled.problem, compiled.problem_status == EVALUATE
        )
        source = self._run_source()
        return [source._run(row._mapping) for row in connection.execute(statement, params)]


def _prepare(connection: sa.Connection) -> None:
    # The classification is one large expression: PostgreSQL's cost estimate triggers JIT
    # compilation, which costs more than the query itself (measured: ~0.6 s per statement).
    if connection.dialect.name == "postgresql":
        # Parallel workers would each run the correlated lookups from a cold start; launching
        # them cost more than the statement on the benchmark machine (2 cores). One round trip.
        # The ids are one array parameter: a plan made for the prepared statement without them
        # (psycopg prepares after five executions) would walk every workspace's rows, so each
        # execution is planned for its own ids.
        connection.exec_driver_sql(
            "SELECT set_config('jit', 'off', true),"
            " set_config('max_parallel_workers_per_gather', '0', true),"
            " set_config('plan_cache_mode', 'force_custom_plan', true)"
        )


_RUNTIME = (
    "as_of",
    "chunk",
    "after_id",
    "after_created",
    "workspace_ids",
    "workspace_id",
    "environment_ids",
    "environment_id",
)
_MAX_CHUNK = 4096
_PREPARED_LIMIT = 256
"""Statements kept compiled per pushdown (one per scope shape and purpose)."""


Visibility = tuple[bool, bool] | None
"""(one environment id, workspace runs visible) for scopes that name environments, else None."""


def _visibility_of(scopes: VisibleScopes | None) -> Visibility:
    # Evidence of an environment-owned run is in the run's own scope, which is visible; only a
    # workspace-owned run's evidence may lie in an environment the actor cannot see.
    if scopes is None or scopes.environment_ids is None:
        return None
    return (len(scopes.environment_ids) == 1, scopes.include_workspace_runs)


def _scope_key_of(scopes: VisibleScopes) -> tuple[Any, ...]:
    # The ids are parameters, so one statement serves every scope of the same shape.
    environments = None if scopes.environment_ids is None else len(scopes.environment_ids) == 1
    return (len(scopes.workspace_ids) == 1, environments, scopes.include_workspace_runs)


def _scope_values(scopes: VisibleScopes, dialect: str) -> dict[str, Any]:
    """The visible ids as the one parameter each list is bound as (see ``_Compiled.one_of``)."""
    lists = {"workspace": sorted(scopes.workspace_ids)}
    if scopes.environment_ids is not None:
        lists["environment"] = sorted(scopes.environment_ids)
    values: dict[str, Any] = {}
    for name, ids in lists.items():
        values[f"{name}_ids"] = ids if dialect == "postgresql" else json.dumps(ids)
        if len(ids) == 1:
            values[f"{name}_id"] = ids[0]
    return values


class _Prepared:
    """A statement compiled once to the driver's SQL text, run with ``exec_driver_sql``.

    Executing the classification through SQLAlchemy walks its whole expression tree to build a
    cache key every time (measured: 5-12 ms a statement, more than a page's query costs). The
    constants (type names, statuses) keep the parameter values they were compiled with; the scope
    ids, ``as_of``, the cursor and the chunk size are passed as already-processed driver values.
    """

    def __init__(self, statement: Any, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        runtime = {name: None for name in _RUNTIME if name in compiled.binds}
        expanded = compiled.construct_expanded_state(runtime)
        self.dialect = dialect
        self.sql = expanded.statement
        self.constants = dict(expanded.parameters)
        self.positional = expanded.positiontup
        self._timestamp = UtcTimestamp()
        self._json = JsonDocument()

    def execute(self, connection: sa.Connection, values: Mapping[str, Any]) -> Any:
        params = {**self.constants, **values}
        if "as_of" in params:
            params["as_of"] = self._timestamp.process_bind_param(params["as_of"], self.dialect)
        if self.positional is not None:
            return connection.exec_driver_sql(
                self.sql, tuple(params[name] for name in self.positional)
            )
        return connection.exec_driver_sql(self.sql, params)

    def rows(self, connection: sa.Connection, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The result rows as mappings, timestamps and the context read as the run source does."""
        result = self.execute(connection, values)
        names = list(result.keys())
        read_instant = self._timestamp.process_result_value
        read_json = self._json.process_result_value
        rows = []
        for raw in result:
            row = dict(zip(names, raw, strict=True))
            for name in ("created_at", "started_at", "completed_at"):
                row[name] = read_instant(row[name], self.dialect)
            row["context"] = read_json(row["context"], self.dialect)
            rows.append(row)
        return rows


def _params(scopes: VisibleScopes, as_of: datetime, dialect: str) -> dict[str, Any]:
    return {"as_of": as_of, **_scope_values(scopes, dialect)}


def _check_as_of(as_of: object) -> None:
    if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
        raise UsageError(f"as_of must be a timezone-aware datetime, not {as_of!r}")


def _encode(created: object, run_id: object) -> str:
    payload: list[Any]
    if created is None:
        payload = ["null", None, run_id]
    elif isinstance(created, datetime):
        payload = ["instant", created.isoformat(), run_id]
    else:
        # An unreadable created_at (flagged for review) as stored: text on PostgreSQL, the
        # stray text or out-of-range number on SQLite, so the next page starts right after it.
        payload = ["stored", created, run_id]
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode(cursor: str, *, integer_ids: bool = False) -> tuple[str, Any, Any]:
    invalid = InvalidCursorError(f"not a cursor of the follow-up list: {cursor!r}")
    try:
        tag, created, run_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if tag == "instant":
            created = datetime.fromisoformat(created)
    except (ValueError, TypeError, binascii.Error):
        raise invalid from None
    # Checked before a statement binds them: a naive instant cannot be placed on the time line,
    # and an id of the wrong kind would reach the driver as a binding or overflow error.
    if tag == "null":
        valid = created is None
    elif tag == "instant":
        valid = created.utcoffset() is not None
    elif tag == "stored":
        valid = stored_cursor_value_is_valid(created)
    else:
        valid = False
    if not (valid and cursor_id_is_valid(run_id, integer_ids=integer_ids)):
        raise invalid
    return tag, created, run_id


class _Compiled:
    """The classification ``CASE`` for one pushdown, dialect, form and ``as_of``."""

    def __init__(
        self,
        pushdown: SqlPushdown,
        dialect: str,
        form: SupersedeForm,
        visibility: Visibility = None,
    ) -> None:
        self.pushdown = pushdown
        self.dialect = dialect
        self.form = form
        self.visibility = visibility
        self.as_of = sa.bindparam("as_of", type_=UtcTimestamp())
        mapping = pushdown.mapping
        self.table = mapping.table_clause().alias("r")
        self.c = {name: self.table.c[getattr(mapping, name)] for name in RUN_FIELDS}
        self.subject = self.table.c[mapping.subject] if mapping.subject is not None else None
        self.has_evaluated = False
        self.joins: list[tuple[sa.FromClause, Any]] = []
        self._aliases = 0
        self.problem = problem_rows(self.c["status"], self.c["outcome"], mapping)
        completed = set(mapping.stored_statuses(RunStatus.COMPLETED))
        self._informational = {
            (status, outcome)
            for status in completed
            for outcome in mapping.stored_outcomes(RunOutcome.SUCCEEDED)
        }
        self._active = set(
            mapping.stored_statuses(RunStatus.QUEUED) + mapping.stored_statuses(RunStatus.RUNNING)
        )
        # Replay at as_of (``run_as_of``): a row created after as_of does not exist yet, and a
        # row that completed after as_of was still active then. Only timestamps the run source
        # reads as instants move a row in time; any other row is judged as stored.
        created, ended = self.c["created_at"], self.c["completed_at"]
        self.existed = sa.or_(sa.not_(self._valid_instant(created)), created <= self.as_of)
        self.completed_after = sa.and_(
            self._valid_instant(created),
            self.c["status"].is_not(None),
            self._in(self.c["status"], completed),
            self._valid_instant(ended),
            ended > self.as_of,
        )
        by_status, by_rules = self._classification()
        self.status = sa.case(*by_status, *by_rules, else_=_REVIEW)
        self.problem_status = sa.case(*by_rules, else_=_REVIEW)

    def decided_by_status(self, status: object, outcome: object) -> Actionability | None:
        """The status rule 2 gives a stored (status, outcome), or None for a problem row."""
        if (status, outcome) in self._informational:
            return Actionability.INFORMATIONAL_ONLY
        if outcome is None and status in self._active:
            return Actionability.NOT_TERMINAL
        return None

    # -- helpers ------------------------------------------------------------------------------

    def _text(self, values: Collection[str]) -> Any:
        return [sa.literal(value, sa.String()) for value in sorted(values)]

    def _in(self, column: Any, values: Collection[str]) -> Any:
        if not values:
            return sa.false()
        return column.in_(sorted(values))

    def _blank(self, column: Any) -> Any:
        trim = sa.func.btrim if self.dialect == "postgresql" else sa.func.trim
        return sa.or_(column.is_(None), trim(column, _BLANKS) == "")

    def _unusual(self, column: Any) -> Any:
        """True for text the SQL blank test may judge differently from ``str.strip()``.

        ``str.strip()`` also removes Unicode spaces and the ASCII separators, which SQL's trim
        keeps: an id with any character outside printable ASCII, or with a space at either end,
        is judged by the Python resolver instead. The patterns are constants of this module.
        PostgreSQL refuses a regular expression on a nondeterministic collation (a host's
        case-insensitive ICU column), so the operand is read in the ``"C"`` collation, which
        also makes the character range a range of code points.
        """
        if self.dialect == "postgresql":
            text = sa.type_coerce(column, sa.Text()).collate("C")
            return text.op("~")(sa.literal_column("'[^ -~]|^ | $'"))
        return sa.or_(
            *(
                column.op("GLOB")(sa.literal_column(pattern))
                for pattern in ("'*[^ -~]*'", "' *'", "'* '")
            )
        )

    def _valid_instant(self, column: Any) -> Any:
        return valid_timestamp(column, self.dialect)

    def _invalid_context(self) -> Any:
        context = self.c["context"]
        if self.dialect == "postgresql":
            kind: Any = sa.func.jsonb_typeof(sa.cast(context, postgresql.JSONB))
            return sa.and_(context.is_not(None), kind.not_in(["object", "null"]))
        raw = sa.type_coerce(context, sa.Text())
        kind = sa.case((sa.func.json_valid(raw) == 1, sa.func.json_type(raw)), else_="invalid")
        return sa.and_(raw.is_not(None), kind.not_in(["object", "null"]))

    def subject_of(self, table: Any, key: str) -> Any:
        """The usable subject of a row as text (NULL when missing or unusable)."""
        mapping = self.pushdown.mapping
        if mapping.subject is not None:
            column = table.c[mapping.subject]
            return sa.case((self._blank(column), sa.null()), else_=column)
        return self._context_subject(table, key)[1]

    def _context_subject(self, table: Any, key: str) -> tuple[Any, Any, Any]:
        """Whether the context holds ``key``, its usable subject as text, and its text if a string.

        The subject is NULL when the value is unusable (as ``core.usable_id`` judges, for text
        the ASCII blank test; ``_unusual`` sends the rest to Python).
        """
        context = table.c[self.pushdown.mapping.context]
        if self.dialect == "postgresql":
            context = sa.cast(context, postgresql.JSONB)
            value: Any = sa.type_coerce(context.op("->>")(sa.literal(key, sa.Text())), sa.Text())
            kind: Any = sa.func.jsonb_typeof(context.op("->")(sa.literal(key, sa.Text())))
            text, number = kind == "string", kind == "number"
            # In the "C" collation: a regular expression works under any collation there.
            integer: Any = sa.and_(
                number, sa.type_coerce(value, sa.Text()).collate("C").op("~")("^-?[0-9]+$")
            )
            digits = value
        else:
            raw = sa.type_coerce(context, sa.Text())
            path = "$." + json.dumps(key)
            valid = sa.func.json_valid(raw) == 1
            kind = sa.case((valid, sa.func.json_type(raw, path)))
            value = sa.cast(sa.case((valid, sa.func.json_extract(raw, path))), sa.String())
            text, integer = kind == "text", kind == "integer"
            # The exact text the core compares: SQLite reads an integer beyond 64 bits as a
            # rounded REAL, which would make two different subjects equal.
            digits = json_subject(raw, sa.literal(path, sa.Text()), self.dialect)[1]
        subject = sa.case((integer, digits), (sa.and_(text, sa.not_(self._blank(value))), value))
        return kind.is_not(None), subject, sa.case((text, value))

    def _unusual_subject(self, key: str) -> Any:
        mapping = self.pushdown.mapping
        if mapping.subject is not None:
            return self._unusual(self.table.c[mapping.subject])
        return self._unusual(self._context_subject(self.table, key)[2])

    def _subject_disagrees(self, key: str) -> Any:
        """True when the context names a subject other than the mapped subject column.

        The run source puts the column into the context only when the context lacks the key, so
        the resolver correlates on the context's value: where it is not the column's, the
        classification (which seeks on the column) leaves the row to Python.
        """
        name = self.pushdown.mapping.subject
        assert name is not None
        column = self.table.c[name]
        present, subject, _ = self._context_subject(self.table, key)
        differs = exact_text(subject, self.dialect) != column
        disagrees = sa.and_(present, sa.or_(subject.is_(None), column.is_(None), differs))
        if self.dialect != "sqlite":
            return disagrees
        # The reference schema writes the context as compact JSON beside the column it derives,
        # so a text comparison settles most rows without parsing the context (measured: the
        # parse cost a third of the one-workspace count).
        written = sa.func.json_object(sa.literal(key, sa.Text()), column)
        return sa.and_(sa.type_coerce(self.c["context"], sa.Text()) != written, disagrees)

    def one_of(self, column: Any, name: str, ids: Collection[str] = ()) -> Any:
        """``column`` is one of the visible ids of ``name`` (see ``_scope_values``).

        The ids are bound as one parameter however many there are, so the statement text
        (compiled once) never holds a caller's value: a text array on PostgreSQL, a JSON array on
        SQLite. One id is bound alone as an equality, which SQLite needs to walk the problem
        index of the workspace in page order (measured: with ``IN (SELECT ...)`` it walked every
        workspace's problem rows newest first, 2.5x slower for a page).
        """
        # Byte for byte as well, whatever the column's collation: under a case-insensitive one
        # 'ACME' is not a visible 'acme'. The plain comparison stays for the index to seek on.
        exact = exact_text(column, self.dialect)
        if len(ids) == 1:
            return exact_equal(column, sa.bindparam(f"{name}_id", type_=sa.Text()), self.dialect)
        if self.dialect == "postgresql":
            array = sa.bindparam(f"{name}_ids", type_=postgresql.ARRAY(sa.Text()))
            return sa.and_(column == sa.any_(array), exact == sa.any_(array))
        each = sa.func.json_each(sa.bindparam(f"{name}_ids", type_=sa.Text())).table_valued("value")
        return sa.and_(column.in_(sa.select(each.c.value)), exact.in_(sa.select(each.c.value)))

    def visible_environment(self, column: Any) -> Any:
        """Whether evidence in ``column``'s environment is visible (None: every one is).

        Hidden evidence does not exist for the actor, so a workspace-owned run keeps the status
        it has without it: an older visible success may still supersede it.
        """
        if self.visibility is None:
            return None
        single, workspace_runs = self.visibility
        within = self.one_of(column, "environment", ("",) if single else ())
        if workspace_runs:
            within = sa.or_(within, column.is_(None))
        return within

    def select(self, *columns: Any) -> sa.Select[Any]:
        frm: Any = self.table
        for target, on in self.joins:
            frm = frm.outerjoin(target, on)
        return sa.select(*columns).select_from(frm)

    def scope_filter(self, scopes: VisibleScopes, *, replayed: bool = True) -> list[Any]:
        """The rows of ``scopes`` (that existed at as_of, unless ``replayed`` is false)."""
        c = self.c
        filters: list[Any] = [self.one_of(c["workspace_id"], "workspace", scopes.workspace_ids)]
        if replayed:
            filters.append(self.existed)
        if scopes.environment_ids is not None:
            within = self.one_of(c["environment_id"], "environment", scopes.environment_ids)
            if scopes.include_workspace_runs:
                within = sa.or_(within, c["environment_id"].is_(None))
            filters.append(within)
        return filters

    # -- the classification -------------------------------------------------------------------

    def _classification(self) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
        """The rule 2 branches, and the branches for problem rows (``problem`` true)."""
        mapping = self.pushdown.mapping
        c = self.c
        status, outcome = c["status"], c["outcome"]
        completed = mapping.stored_statuses(RunStatus.COMPLETED)
        active = mapping.stored_statuses(RunStatus.QUEUED) + mapping.stored_statuses(
            RunStatus.RUNNING
        )
        succeeded = mapping.stored_outcomes(RunOutcome.SUCCEEDED)
        known_outcomes = tuple(mapping.outcomes)
        created, started, ended = c["created_at"], c["started_at"], c["completed_at"]
        by_status: list[tuple[Any, Any]] = [
            (self.completed_after, Actionability.NOT_TERMINAL.value),
            (
                sa.and_(self._in(status, completed), self._in(outcome, succeeded)),
                Actionability.INFORMATIONAL_ONLY.value,
            ),
            (
                sa.and_(self._in(status, active), outcome.is_(None)),
                Actionability.NOT_TERMINAL.value,
            ),
        ]
        whens: list[tuple[Any, Any]] = [
            (self.completed_after, Actionability.NOT_TERMINAL.value),
            (
                sa.or_(self._unusual(c["workspace_id"]), self._unusual(c["environment_id"])),
                EVALUATE,
            ),
            (
                sa.or_(
                    status.is_(None),
                    sa.not_(self._in(status, completed)),
                    outcome.is_(None),
                    sa.not_(self._in(outcome, known_outcomes)),
                    sa.not_(self._valid_instant(created)),
                    sa.not_(self._valid_instant(ended)),
                    sa.and_(started.is_not(None), sa.not_(self._valid_instant(started))),
                    ended < created,
                    ended < started,
                    self._invalid_context(),
                    self._blank(c["workspace_id"]),
                ),
                _REVIEW,
            ),
        ]
        families = self.pushdown.families
        for op_type in self.pushdown.catalog.inventory():
            family = families.get(op_type.family)
            if family is None:
                continue
            names = self.pushdown.catalog.stored_names(op_type.name)
            whens.append((self._in(c["type"], names), self._type_case(op_type, family)))
        return by_status, whens

    def _type_case(self, op_type: OperationType, family: Family) -> Any:
        whens: list[tuple[Any, Any]] = []
        if not op_type.workspace_owned:
            whens.append((self._blank(self.c["environment_id"]), _REVIEW))
        subject = None
        if op_type.subject_key is not None:
            whens.append((self._unusual_subject(op_type.subject_key), EVALUATE))
            if self.pushdown.mapping.subject is not None:
                whens.append((self._subject_disagrees(op_type.subject_key), EVALUATE))
            subject = self.subject_of(self.table, op_type.subject_key)
            whens.append((subject.is_(None), _REVIEW))
            if self.pushdown.mapping.subject is not None:
                # Past the check the subject is usable, so the bare column compares the same
                # and keeps every seek on the subject index an equality.
                subject = self.subject
        if not is_compilable(family):
            self.has_evaluated = True
            return sa.case(*whens, else_=EVALUATE) if whens else sa.literal(EVALUATE)
        policy = family.policy
        assert isinstance(policy, FirstDecisive)
        high = family.risk is Risk.HIGH
        mapping = self.pushdown.mapping

        def clamp(value: str) -> str:
            return _REVIEW if high and value in _CLAMPED else value

        for rule in policy.rules:
            if isinstance(rule, InformationalWhen):
                stored = [v for outcome in rule.outcomes for v in mapping.stored_outcomes(outcome)]
                whens.append(
                    (
                        self._in(self.c["outcome"], stored),
                        clamp(Actionability.INFORMATIONAL_ONLY.value),
                    )
                )
            elif isinstance(rule, AlwaysInformational | AlwaysManualReview):
                value = (
                    Actionability.INFORMATIONAL_ONLY
                    if isinstance(rule, AlwaysInformational)
                    else Actionability.REQUIRES_MANUAL_REVIEW
                )
                whens.append((sa.true(), clamp(value.value)))
                break
            elif isinstance(rule, SupersededByLaterSuccess):
                whens.append(
                    (
                        self._later_success(op_type, subject),
                        clamp(Actionability.SUPERSEDED_BY_LATER_SUCCESS.value),
                    )
                )
            elif isinstance(rule, ResolvedByState):
                state = self.pushdown.states.get(rule.kind)
                applies = rule.types is None or op_type.name in rule.types
                if state is None or rule.kind not in family.state_kinds or not applies:
                    continue
                if (
                    op_type.workspace_owned
                    and self.visibility is not None
                    and not self.visibility[1]
                ):
                    # A workspace-owned type's state has no environment, which these scopes do
                    # not show: for the actor it does not exist.
                    continue
                whens.append(
                    (
                        self._resolved(state, rule.healthy, op_type, subject),
                        clamp(Actionability.RESOLVED_BY_CURRENT_STATE.value),
                    )
                )
        if not whens:
            return sa.literal(_ACTIONABLE)
        return sa.case(*whens, else_=_ACTIONABLE)

    def _alias(self, role: str, *names: str) -> str:
        """A name for one more table reference of this classification, unique by construction.

        The number makes it unique (type names such as ``meta.sync`` and ``meta-sync`` sanitise
        alike, and PostgreSQL keeps only 63 bytes of an identifier); the ASCII hint of the names,
        cut short, only helps a reader of ``EXPLAIN``.
        """
        self._aliases += 1
        hint = "_".join(_slug(name) for name in names)[:_ALIAS_HINT]
        return f"{role}{self._aliases}_{hint}"

    def _bare(self, column: Any) -> Any:
        if self.dialect != "sqlite":
            return column
        # An expression index column has no affinity, and SQLite seeks it with a comparison only
        # when the other side has none either: ``+ 0`` drops the column's INTEGER affinity
        # (measured: the seek then uses both bounds instead of scanning the whole subject).
        return sa.type_coerce(column, sa.BigInteger()) + 0

    def _event_start(self, table: Any) -> Any:
        mapping = self.pushdown.mapping
        return sa.func.coalesce(table.c[mapping.started_at], table.c[mapping.created_at])

    def _success_conditions(self, s: Any, op_type: OperationType) -> list[Any]:
        mapping = self.pushdown.mapping
        start = self._event_start(s)
        return [
            self._in_exact(
                s.c[mapping.type], self.pushdown.catalog.superseding_names(op_type.name)
            ),
            self._in_exact(s.c[mapping.status], mapping.stored_statuses(RunStatus.COMPLETED)),
            self._in_exact(s.c[mapping.outcome], mapping.stored_outcomes(RunOutcome.SUCCEEDED)),
            # Ranges the index seek applies: NULL, stray text and unreadable instants fall
            # outside them, so such a success is no evidence (as in ``SqlRunHistory``).
            instant_bound(start, self.dialect),
            instant_bound(s.c[mapping.completed_at], self.dialect),
            s.c[mapping.completed_at] <= self.as_of,
            # The one validity rule (core.sound_run_times): a run that completed before it was
            # created or started, or whose timestamps the run source cannot read, is no evidence.
            *sound_run_times(
                s.c[mapping.created_at],
                s.c[mapping.started_at],
                s.c[mapping.completed_at],
                self.dialect,
            ),
        ]

    def _in_exact(self, column: Any, values: Collection[str]) -> Any:
        """``_in``, byte for byte whatever the column's collation (the plain IN for the seek)."""
        if not values:
            return sa.false()
        # Typed literals, so that the collation is not repeated on every value.
        exact = [sa.literal(value, sa.String()) for value in sorted(values)]
        return sa.and_(column.in_(sorted(values)), exact_text(column, self.dialect).in_(exact))

    def _later_success(self, op_type: OperationType, subject: Any) -> Any:
        if self.form is SupersedeForm.GROUPED:
            return self._later_success_grouped(op_type, subject)
        mapping = self.pushdown.mapping
        s = mapping.table_clause().alias(self._alias("s", op_type.name))
        dialect = self.dialect
        conditions = [exact_equal(s.c[mapping.workspace_id], self.c["workspace_id"], dialect)]
        conditions += self._success_conditions(s, op_type)
        if subject is not None:
            assert op_type.subject_key is not None
            if mapping.subject is not None:
                conditions.append(exact_equal(s.c[mapping.subject], subject, dialect))
            else:
                theirs = self.subject_of(s, op_type.subject_key)
                conditions.append(exact_equal(theirs, subject, dialect))
        if not op_type.workspace_owned:
            conditions.append(
                exact_equal(s.c[mapping.environment_id], self.c["environment_id"], dialect)
            )
        else:
            visible = self.visible_environment(s.c[mapping.environment_id])
            if visible is not None:
                conditions.append(visible)
        conditions.append(self._event_start(s) >= self._bare(self.c["completed_at"]))
        return _exists(*conditions)

    def _later_success_grouped(self, op_type: OperationType, subject: Any) -> Any:
        mapping = self.pushdown.mapping
        s = mapping.table_clause().alias(self._alias("g", op_type.name))
        dialect = self.dialect
        # Grouped and joined by exact value: under a case-insensitive collation 'ACME' and
        # 'acme' would share one group, and one's success would settle the other's failure.
        ws = exact_text(s.c[mapping.workspace_id], dialect)
        env: Any = (
            sa.null()
            if op_type.workspace_owned
            else exact_text(s.c[mapping.environment_id], dialect)
        )
        subj: Any = sa.null()
        if op_type.subject_key is not None:
            subj = exact_text(self.subject_of(s, op_type.subject_key), dialect)
        visible = self.visible_environment(s.c[mapping.environment_id])
        hidden_excluded = [visible] if op_type.workspace_owned and visible is not None else []
        latest = (
            sa.select(
                ws.label("ws"),
                env.label("env"),
                subj.label("subject"),
                sa.func.max(self._event_start(s)).label("latest"),
            )
            .where(
                # Only successes of the visible workspaces can prove anything about their runs.
                self.one_of(s.c[mapping.workspace_id], "workspace"),
                *self._success_conditions(s, op_type),
                *hidden_excluded,
            )
            .group_by(ws, *(key for key in (env, subj) if not isinstance(key, sa.Null)))
            .subquery(self._alias("l", op_type.name))
        )
        on = [latest.c.ws == exact_text(self.c["workspace_id"], dialect)]
        if not op_type.workspace_owned:
            on.append(latest.c.env == exact_text(self.c["environment_id"], dialect))
        if subject is not None:
            on.append(latest.c.subject == exact_text(subject, dialect))
        on.append(self._in(self.c["type"], self.pushdown.catalog.stored_names(op_type.name)))
        self.joins.append((latest, sa.and_(*on)))
        return latest.c.latest >= self.c["completed_at"]

    def _resolved(
        self,
        state: StateTableMapping,
        healthy: Collection[str],
        op_type: OperationType,
        subject: Any,
    ) -> Any:
        vocabulary = state.statuses
        s = state.table_clause().alias(self._alias("st", state.kind, op_type.name))
        other = state.table_clause().alias(self._alias("so", state.kind, op_type.name))
        status, proven = s.c[state.status], s.c[state.proven_at]
        other_status, other_proven = other.c[state.status], other.c[state.proven_at]

        def meaning(column: Any) -> Any:
            # The policies' word for a stored status; NULL for one the vocabulary does not list.
            if vocabulary is None:
                return column
            if not vocabulary:
                return sa.null()
            return sa.case(
                *((column == stored, word) for stored, word in sorted(vocabulary.items()))
            )

        if vocabulary is None:
            stored = set(healthy)
        else:
            stored = {value for value, word in vocabulary.items() if word in healthy}
        # The state source reads an object as its rows at the greatest proven_at, and has no fact
        # when any row cannot be placed in time or the rows there disagree (after translation) or
        # lack a readable status: a row ``s`` proves a healthy state only when no row of the same
        # object is unreadable, newer, or tied with it and not saying the same thing.
        dialect = self.dialect
        spoils = _exists(
            exact_equal(other.c[state.workspace_id], s.c[state.workspace_id], dialect),
            other.c[state.environment_id].is_(None)
            if op_type.workspace_owned
            else exact_equal(other.c[state.environment_id], s.c[state.environment_id], dialect),
            other.c[state.subject].is_(None)
            if subject is None
            else exact_equal(other.c[state.subject], s.c[state.subject], dialect),
            sa.or_(
                sa.not_(self._readable_state(other_proven)),
                other_proven > proven,
                sa.and_(
                    other_proven == proven,
                    sa.or_(
                        other_status.is_(None),
                        meaning(other_status).is_(None),
                        meaning(other_status) != meaning(status),
                    ),
                ),
            ),
        )
        return _exists(
            exact_equal(s.c[state.workspace_id], self.c["workspace_id"], dialect),
            s.c[state.environment_id].is_(None)
            if op_type.workspace_owned
            else exact_equal(s.c[state.environment_id], self.c["environment_id"], dialect),
            s.c[state.subject].is_(None)
            if subject is None
            else exact_equal(s.c[state.subject], subject, dialect),
            self._in(status, stored),
            self._readable_state(proven),
            proven > self.c["completed_at"],
            proven <= self.as_of,
            sa.not_(spoils),
        )

    def _readable_state(self, column: Any) -> Any:
        """A proven_at the state source can place in time (``SqlStateSource`` reads the same)."""
        if self.dialect != "postgresql":
            return self._valid_instant(column)
        # psycopg reads a ``timestamp`` column as naive datetimes, which the source rejects, and
        # 'infinity' is no instant; ``pg_typeof`` is constant per column, so this folds early.
        return sa.and_(
            sa.func.pg_typeof(column) == sa.literal_column("'timestamp with time zone'::regtype"),
            self._valid_instant(column),
        )


def _exists(*conditions: Any) -> Any:
    # ``SELECT 1``, not ``SELECT *``: SQLite reads the subquery from a covering index only when
    # it names no column outside it.
    return sa.select(sa.literal_column("1")).where(*conditions).exists()


_ALIAS_HINT = 40
"""Characters of a name an alias keeps as a hint, well within PostgreSQL's 63 bytes."""


def _slug(name: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in name)


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
