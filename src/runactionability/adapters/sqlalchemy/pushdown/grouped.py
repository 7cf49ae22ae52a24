"""The grouped count: every run of the visible scopes by scope and type, judged by rule 2 in SQL.

Rule 2 decides every run but the problem rows from its stored status and outcome alone, so the
count reads those from the covering index, grouped, and leaves only the problem rows to the
classification (``counts._problems``).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.instant_sql import compare_to
from runactionability.adapters.sqlalchemy.pushdown.common import in_values
from runactionability.adapters.sqlalchemy.types import CollatedText
from runactionability.catalog import OperationCatalog
from runactionability.model import RunOutcome, RunStatus
from runactionability.result import Actionability, ActiveCounts
from runactionability.scopes import VisibleScopes

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown.classify import _Compiled

Row = tuple[Any, Any, Any, Actionability, int]
"""(workspace id, environment id, stored type, status, number of runs)."""


class ActiveTally:
    """The active work of grouped rows, keyed as ``ActiveWork`` keys it: by the canonical type,
    else the stored type as text (what the result's ``operation_type`` falls back to)."""

    def __init__(self, catalog: OperationCatalog) -> None:
        self.catalog = catalog
        self.queued = self.running = 0
        self.by_type: dict[str, int] = {}
        self._names: dict[tuple[type, Any], str] = {}

    def add(self, type_: Any, *, queued: int, running: int) -> None:
        if not queued and not running:
            return
        key = (type_.__class__, type_)
        name = self._names.get(key)
        if name is None:
            op_type = self.catalog.resolve(type_)
            name = self._names[key] = str(type_) if op_type is None else op_type.name
        self.by_type[name] = self.by_type.get(name, 0) + queued + running
        self.queued += queued
        self.running += running

    def counts(self) -> ActiveCounts:
        by_type = MappingProxyType(dict(sorted(self.by_type.items())))
        return ActiveCounts(queued=self.queued, running=self.running, by_type=by_type)


def grouped_statement(compiled: _Compiled, scopes: VisibleScopes) -> Any:
    """The statement counting every run by scope and type as rule 2 judges it.

    A row per scope and type: the runs rule 2 makes informational, the active ones (with those
    that completed after as_of, active then), the problem rows (left to ``_problems``), and the
    active runs queued and running at as_of (as ``run_as_of`` reads them).
    """
    c = compiled.c
    keys = (
        c["workspace_id"].label("workspace_id"),
        c["environment_id"].label("environment_id"),
        c["type"].label("type"),
    )
    # Per group: every row, the rows created after as_of (which did not exist yet), and the
    # rows that completed after as_of (active then); the rest are judged by status and
    # outcome. Summed rather than filtered and grouped on, so that the statement still walks
    # the covering index in group order (measured: a replay column in the GROUP BY took a
    # temporary B-tree, 3x the statement; these sums cost about 1.5x at 4,000 rows).
    future = sa.func.sum(sa.case((sa.not_(compiled.existed), 1), else_=0))
    later = sa.func.sum(
        sa.case(
            (
                sa.and_(
                    compiled.completed_after,
                    compare_to(c["created_at"], "<=", compiled.as_of, compiled.dialect),
                ),
                1,
            ),
            else_=0,
        )
    )
    grouped = (
        sa.select(
            *keys,
            _rule_two(compiled).label("judged"),
            sa.func.count().label("n"),
            future.label("future"),
            later.label("later"),
            _queued_then(compiled).label("queued"),
        )
        .select_from(compiled.table)
        .where(*compiled.scope_filter(scopes, replayed=False))
        .group_by(*keys, c["status"], c["outcome"], *_collated_columns(compiled))
        .subquery("grouped")
    )
    return _by_scope_and_type(grouped)


def _collated_columns(compiled: _Compiled) -> list[Any]:
    """A collated status or outcome column as stored, beside its byte-exact form: PostgreSQL
    does not match ``(status COLLATE "C") IN (...)`` in the select list to the same expression
    in the GROUP BY (a GroupingError on every count), and the finer exact groups stay as they
    are. Nothing for any other column, whose statements stay as they were."""
    mapping = compiled.pushdown.mapping
    columns = {compiled.table.c[mapping.column_name(name)] for name in ("status", "outcome")}
    return sorted(
        (column for column in columns if isinstance(column.type, CollatedText)),
        key=lambda column: column.name,
    )


def _by_scope_and_type(grouped: Any) -> Any:
    """The groups of ``grouped_statement``'s subquery, summed by scope and type."""
    # Those groups (one per stored status and outcome) summed into one row per scope and type
    # in SQL, not in Python: 1,116 rows become 262 on the benchmark's 1M-run workspace, 196
    # become 70 on the demo.
    g = grouped.c
    settled = g.n - g.future - g.later
    active = g.judged.in_([_QUEUED, _RUNNING])
    # Only a group of completed runs has runs that completed after as_of (``later``), and its
    # ``queued`` counts those that had not started then; a running group's counts its runs
    # that had not started; any other group's is none of the active work.
    return (
        sa.select(
            g.workspace_id,
            g.environment_id,
            g.type,
            _total((g.judged == _DONE, settled)),
            _total((active, settled + g.later), else_=g.later),
            _total((g.judged == _PROBLEM, settled)),
            _total(
                (g.judged == _QUEUED, settled),
                (sa.or_(g.judged == _RUNNING, g.later > 0), g.queued),
            ),
            _total(
                (g.judged == _RUNNING, settled - g.queued),
                (g.later > 0, g.later - g.queued),
            ),
        )
        .select_from(grouped)
        .group_by(g.workspace_id, g.environment_id, g.type)
    )


_DONE, _QUEUED, _RUNNING, _PROBLEM = "done", "queued", "running", "problem"
"""How rule 2 judges a stored (status, outcome): a success (informational), active work
(not terminal) queued or running, or a problem row that the classification judges."""


def _total(*whens: Any, else_: Any = 0) -> Any:
    # A PostgreSQL sum of bigints is numeric: cast back, so that every count reads as an int.
    return sa.cast(sa.func.sum(sa.case(*whens, else_=else_)), sa.BigInteger())


def _rule_two(compiled: _Compiled) -> Any:
    """Rule 2 of a stored (status, outcome), as the mapping reads them (``read_status``,
    ``read_outcome``): ``_PROBLEM`` exactly where ``problem_predicate.problem_rows`` holds."""
    mapping = compiled.pushdown.mapping
    status, outcome = compiled.c["status"], compiled.c["outcome"]
    succeeded = mapping.stored_outcomes(RunOutcome.SUCCEEDED)
    if mapping.lifecycle is not None:
        # One column says both: the values that mean a success.
        done = sa.and_(status.is_not(None), in_values(status, succeeded))
    else:
        done = sa.and_(
            status.is_not(None),
            in_values(status, mapping.stored_statuses(RunStatus.COMPLETED)),
            outcome.is_not(None),
            in_values(outcome, succeeded),
        )

    def working(state: RunStatus) -> Any:
        stored = mapping.stored_statuses(state)
        return sa.and_(status.is_not(None), in_values(status, stored), mapping.no_outcome(outcome))

    return sa.case(
        (done, _DONE),
        (working(RunStatus.RUNNING), _RUNNING),
        (working(RunStatus.QUEUED), _QUEUED),
        else_=_PROBLEM,
    )


def _queued_then(compiled: _Compiled) -> Any:
    """Per group, the active runs that ``run_as_of`` makes queued at as_of: running, or
    completed after as_of, with a start after as_of (created by then, both placeable)."""
    c, as_of, dialect = compiled.c, compiled.as_of, compiled.dialect
    created, started = c["created_at"], c["started_at"]
    running = compiled.pushdown.mapping.stored_statuses(RunStatus.RUNNING)
    placed = [compiled._valid_instant(started), compiled._valid_instant(created)]
    compared = [
        compare_to(started, ">", as_of, dialect),
        compare_to(created, "<=", as_of, dialect),
    ]
    # As in ``_replay``: a native instant compares first (most rows started by as_of), any
    # other storage is tested for a placeable value before its comparison.
    terms = (
        [*compared, *placed]
        if compiled.pushdown.mapping.timestamps.is_native
        else [placed[0], compared[0], placed[1], compared[1]]
    )
    then = sa.and_(*terms, sa.or_(in_values(c["status"], running), compiled.completed_after))
    return sa.func.sum(sa.case((then, 1), else_=0))


def read_grouped(grouped: Any, rows: list[Row], active: ActiveTally) -> bool:
    """Add the runs rule 2 decides to ``rows`` and the active ones to ``active`` (a row of
    ``grouped_statement`` per scope and type); whether any scope and type holds problem runs."""
    any_problem = False
    informational, not_terminal = Actionability.INFORMATIONAL_ONLY, Actionability.NOT_TERMINAL
    for workspace_id, environment_id, type_, done, working, problems, queued, running in grouped:
        if done:
            rows.append((workspace_id, environment_id, type_, informational, done))
        if working:
            rows.append((workspace_id, environment_id, type_, not_terminal, working))
            active.add(type_, queued=queued, running=running)
        if problems:
            any_problem = True
    return any_problem
