"""The classification ``CASE``: rule 2, the record checks, then each type's rules, in order."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy.ids import (
    IdColumn,
    IdType,
    id_equal,
    sql_type,
    storage,
    usable_stored_id,
)
from runactionability.adapters.sqlalchemy.instant_sql import (
    canonical_parameter,
    compare_to,
    valid_timestamp,
)
from runactionability.adapters.sqlalchemy.json_members import repeated_member
from runactionability.adapters.sqlalchemy.mapping import RUN_FIELDS
from runactionability.adapters.sqlalchemy.problem_predicate import problem_rows
from runactionability.adapters.sqlalchemy.pushdown import validity
from runactionability.adapters.sqlalchemy.pushdown.common import (
    _ACTIONABLE,
    _REVIEW,
    EVALUATE,
    SupersedeForm,
    in_values,
)
from runactionability.adapters.sqlalchemy.pushdown.lateral import SharedSuccesses
from runactionability.adapters.sqlalchemy.pushdown.rules import is_compilable, rule_whens
from runactionability.adapters.sqlalchemy.run_statements import addressable
from runactionability.adapters.sqlalchemy.types import CollatedText, exact_text, vocabulary_in
from runactionability.catalog import OperationType
from runactionability.model import RunOutcome, RunStatus
from runactionability.policies.base import Family
from runactionability.result import Actionability
from runactionability.scopes import VisibleScopes

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown

Visibility = tuple[bool, bool] | None
"""(one environment id, workspace runs visible) for scopes that name environments, else None."""


def _visibility_of(scopes: VisibleScopes | None) -> Visibility:
    # Evidence of an environment-owned run is in the run's own scope, which is visible; only a
    # workspace-owned run's evidence may lie in an environment the actor cannot see.
    if scopes is None or scopes.environment_ids is None:
        return None
    return (len(scopes.environment_ids) == 1, scopes.include_workspace_runs)


class _Compiled:
    """The classification ``CASE`` for one pushdown, dialect, form and ``as_of``."""

    def __init__(
        self,
        pushdown: SqlPushdown,
        dialect: str,
        form: SupersedeForm,
        visibility: Visibility = None,
        usual_workspaces: bool = False,
        walk: bool = False,
        every_workspace: bool = False,
    ) -> None:
        self.pushdown = pushdown
        self.dialect = dialect
        self.form = form
        self.visibility = visibility
        # Every statement of this classification reads only the rows of visible workspaces
        # whose ids are all usual (``common.usual_ids``): their workspace tests are left out.
        self.usual_workspaces = usual_workspaces
        # Its statements read every workspace (``VisibleScopes.every_workspace``): no list of
        # workspace ids is bound, and every workspace's successes are evidence.
        self.every_workspace = every_workspace
        self.as_of = canonical_parameter("as_of")
        mapping = pushdown.mapping
        self.table = mapping.table_clause().alias("r")
        self.c: dict[str, Any] = {
            name: self.table.c[mapping.column_name(name)] for name in RUN_FIELDS
        }
        for name in ("status", "outcome"):
            # Read, grouped and matched byte for byte, as the readers match it: under a
            # collation 'Running' and 'running' are one group, yet only one is a status.
            if isinstance(self.c[name].type, CollatedText):
                self.c[name] = exact_text(self.c[name], self.dialect)
        self.subject = self.table.c[mapping.subject] if mapping.subject is not None else None
        # The type of the subject expression the rules correlate on: the subject column's, or
        # text read from the JSON context.
        self.subject_type: IdType = mapping.ids.subject if mapping.subject is not None else "text"
        self.has_evaluated = False
        self.joins: list[tuple[sa.FromClause, Any]] = []
        self._aliases = 0
        self.problem = problem_rows(self.c["status"], self.c["outcome"], mapping, self.dialect)
        self.existed, self.completed_after = self._replay()
        # The follow-up walk's statement on PostgreSQL: few rows, planned on every execution.
        shared = walk and dialect == "postgresql" and form is SupersedeForm.EXISTS
        self.shared = SharedSuccesses(self) if shared else None
        by_status, by_rules = self._classification()
        lateral = None if self.shared is None else self.shared.lateral()
        if lateral is not None:
            self.joins.append((lateral, sa.true()))
        self.status = sa.case(*by_status, *by_rules, else_=_REVIEW)
        self.problem_status = sa.case(*by_rules, else_=_REVIEW)
        # For a statement that reads only rows completed by as_of (``not completed_after`` in
        # its WHERE), the first branch can never hold: without it no row pays its nine tests.
        self.settled_status = sa.case(*by_rules[1:], else_=_REVIEW)

    # -- helpers ------------------------------------------------------------------------------

    def _replay(self) -> tuple[Any, Any]:
        """Whether a row existed at as_of, and whether it completed after as_of.

        Replay at as_of (``run_as_of``): a row created after as_of does not exist yet, and a row
        that completed after as_of was still active then. Only timestamps the run source reads
        as instants move a row in time; any other row is judged as stored.
        """
        mapping = self.pushdown.mapping
        completed = set(mapping.stored_statuses(RunStatus.COMPLETED))
        created, ended = self.c["created_at"], self.c["completed_at"]
        existed = [
            sa.not_(self._valid_instant(created)),
            compare_to(created, "<=", self.as_of, self.dialect),
        ]
        completed_after = [
            self._valid_instant(created),
            self.c["status"].is_not(None),
            vocabulary_in(self.c["status"], completed, self.dialect),
            self._valid_instant(ended),
            compare_to(ended, ">", self.as_of, self.dialect),
        ]
        if mapping.timestamps.is_native:
            # A native instant compares with as_of without a cast that could fail, so that
            # comparison goes first: it settles almost every row (created and completed by
            # as_of) before the validity tests, a ``typeof`` call each on SQLite (which evaluates
            # the terms in order and stops at the first that decides; measured: 7% of the
            # needs-attention statement's instructions).
            existed.reverse()
            completed_after.reverse()
        return sa.or_(*existed), sa.and_(*completed_after)

    def _valid_instant(self, column: Any) -> Any:
        return valid_timestamp(column, self.dialect)

    def subject_of(self, table: Any, key: str) -> Any:
        """The usable subject of a row as text (NULL when missing or unusable, or when the
        context repeats ``key`` with different values: ``json_members``)."""
        subject = validity.subject_of(self, table, key)
        repeated = self.repeated_subject(table, key)
        return subject if repeated is None else sa.case((repeated, sa.null()), else_=subject)

    def repeated_subject(self, table: Any, key: str) -> Any:
        """Whether a row's context repeats ``key`` with different values; None where it cannot
        (a subject column, or a context column known to be jsonb: its statements stay as they
        were). Tested once per problem row, in its subject's check (``validity``): the rules
        then read the row's subject without it, and a success's only where it is the row's."""
        mapping = self.pushdown.mapping
        if mapping.subject is not None:
            return None
        if self.dialect == "postgresql" and self.pushdown.context_kind.jsonb():
            return None
        return repeated_member(table.c[mapping.context], sa.literal(key, sa.Text()), self.dialect)

    def one_of(self, column: Any, name: str, ids: Collection[str] = ()) -> Any:
        """``column`` is one of the visible ids of ``name`` (see ``_scope_values``).

        The ids are bound as one parameter however many there are, so the statement text
        (compiled once) never holds a caller's value: a text array on PostgreSQL, a JSON array on
        SQLite. One id is bound alone as an equality, which SQLite needs to walk the problem
        index of the workspace in page order (measured: with ``IN (SELECT ...)`` it walked every
        workspace's problem rows newest first, 2.5x slower for a page).
        """
        # In the column's own type (``_scope_values`` converts the ids), and text byte for byte
        # as well, whatever the column's collation: under a case-insensitive one 'ACME' is not a
        # visible 'acme'. The plain comparison stays for the index to seek on.
        ids_of = self.pushdown.mapping.ids
        id_type = ids_of.workspace if name == "workspace" else ids_of.environment
        text = storage(id_type, self.dialect) == "text"
        exact = exact_text(column, self.dialect)
        if len(ids) == 1:
            one = sa.bindparam(f"{name}_id", type_=IdColumn(id_type))
            if self.dialect == "postgresql" and text:
                return sa.and_(column == one, _unestimated(exact == one))
            return id_equal(column, one, id_type, self.dialect)
        if self.dialect == "postgresql":
            array_type = postgresql.ARRAY(sql_type(id_type, self.dialect))
            array = sa.bindparam(f"{name}_ids", type_=array_type)
            if not text:
                return sa.and_(column == sa.any_(array))
            return sa.and_(column == sa.any_(array), _unestimated(exact == sa.any_(array)))
        each = sa.func.json_each(sa.bindparam(f"{name}_ids", type_=sa.Text())).table_valued("value")
        if not text:
            return sa.and_(column.in_(sa.select(each.c.value)))
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
        workspace = (
            # Every workspace: no list of ids, the row's own id is tested for usability.
            usable_stored_id(c["workspace_id"], self.pushdown.mapping.ids.workspace, self.dialect)
            if scopes.workspace_ids is None
            else self.one_of(c["workspace_id"], "workspace", scopes.workspace_ids)
        )
        filters: list[Any] = [workspace, addressable(c)]
        if replayed:
            filters.append(self.existed)
        if scopes.environment_ids is not None:
            within = self.one_of(c["environment_id"], "environment", scopes.environment_ids)
            if scopes.include_workspace_runs:
                within = sa.or_(within, c["environment_id"].is_(None))
            filters.append(within)
        return filters

    def alias(self, role: str, *names: str) -> str:
        """A name for one more table reference of this classification, unique by construction.

        The number makes it unique (type names such as ``meta.sync`` and ``meta-sync`` sanitise
        alike, and PostgreSQL keeps only 63 bytes of an identifier); the ASCII hint of the names,
        cut short, only helps a reader of ``EXPLAIN``.
        """
        self._aliases += 1
        hint = "_".join(_slug(name) for name in names)[:_ALIAS_HINT]
        return f"{role}{self._aliases}_{hint}"

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
        by_status: list[tuple[Any, Any]] = [
            (self.completed_after, Actionability.NOT_TERMINAL.value),
            (
                sa.and_(
                    vocabulary_in(status, completed, self.dialect),
                    vocabulary_in(outcome, succeeded, self.dialect),
                ),
                Actionability.INFORMATIONAL_ONLY.value,
            ),
            (
                sa.and_(
                    vocabulary_in(status, active, self.dialect),
                    mapping.no_outcome(outcome, dialect=self.dialect),
                ),
                Actionability.NOT_TERMINAL.value,
            ),
        ]
        whens: list[tuple[Any, Any]] = [
            (self.completed_after, Actionability.NOT_TERMINAL.value),
            *validity.record_checks(self),
        ]
        families = self.pushdown.families
        for op_type in self.pushdown.catalog.inventory():
            family = families.get(op_type.family)
            if family is None:
                continue
            names = self.pushdown.catalog.stored_names(op_type.name)
            whens.append((in_values(c["type"], names), self._type_case(op_type, family)))
        return by_status, whens

    def _type_case(self, op_type: OperationType, family: Family) -> Any:
        whens, subject = validity.type_checks(self, op_type)
        if not is_compilable(family):
            self.has_evaluated = True
            return sa.case(*whens, else_=EVALUATE) if whens else sa.literal(EVALUATE)
        whens += rule_whens(self, op_type, family, subject)
        if not whens:
            return sa.literal(_ACTIONABLE)
        return sa.case(*whens, else_=_ACTIONABLE)


def _unestimated(test: Any) -> Any:
    """``test``, hidden from PostgreSQL's row estimate (which it then takes as a half).

    The byte-exact repeat of an id equality is estimated as a second, independent equality:
    with 50 workspaces the planner expected 91 of a workspace's 3,389 problem rows, so the
    follow-up walk read them all (bitmap scan and sort, 23.7 ms) instead of walking the partial
    index newest first (1.7 ms). ``coalesce`` keeps its meaning in a filter (NULL is false).
    """
    return sa.func.coalesce(test, sa.false())


_ALIAS_HINT = 40
"""Characters of a name an alias keeps as a hint, well within PostgreSQL's 63 bytes."""


def _slug(name: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in name)
