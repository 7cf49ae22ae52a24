"""The counts a pushdown returns: by status, by family and by scope."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import read_transaction
from runactionability.adapters.sqlalchemy.ids import stored_id
from runactionability.adapters.sqlalchemy.instant_sql import compare_to
from runactionability.adapters.sqlalchemy.pushdown.common import EVALUATE
from runactionability.adapters.sqlalchemy.pushdown.prepared import _params, _prepare, _scope_key_of
from runactionability.catalog import OperationCatalog
from runactionability.model import usable_id
from runactionability.result import Actionability, StatusCounts
from runactionability.scopes import VisibleScopes
from runactionability.telemetry import COUNT, traced

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
    from runactionability.adapters.sqlalchemy.pushdown.classify import _Compiled


Row = tuple[Any, Any, Any, Actionability, int]
"""(workspace id, environment id, stored type, status, number of runs)."""


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


def _counts(by_status: Mapping[Actionability, int]) -> StatusCounts:
    full = dict.fromkeys(Actionability, 0)
    full.update(by_status)
    return StatusCounts(
        total=sum(full.values()),
        needs_attention=sum(n for status, n in full.items() if status.needs_attention),
        by_status=MappingProxyType(full),
    )


def tally(catalog: OperationCatalog, rows: Sequence[Row]) -> PushdownCounts:
    """The counts of (workspace id, environment id, stored type, status, number) rows."""
    total: dict[Actionability, int] = {}
    by_family: dict[str | None, dict[Actionability, int]] = {}
    by_environment: dict[tuple[str, str | None], dict[Actionability, int]] = {}
    for workspace_id, environment_id, type_, status, n in rows:
        total[status] = total.get(status, 0) + n
        op_type = catalog.resolve(type_)
        family = None if op_type is None else op_type.family
        group = by_family.setdefault(family, {})
        group[status] = group.get(status, 0) + n
        # A uuid comes back from the driver as an object; the core names it by its text.
        workspace = usable_id(stored_id(workspace_id))
        if workspace is not None:
            environment = usable_id(stored_id(environment_id))
            env_group = by_environment.setdefault((workspace, environment), {})
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


@traced(COUNT, "runactionability.SqlPushdown.count", runs=lambda counts: counts.counts.total)
def count(pushdown: SqlPushdown, scopes: VisibleScopes, *, as_of: datetime) -> PushdownCounts:
    """The counts ``SqlPushdown.count`` returns, ``as_of`` checked."""
    compiled = pushdown.compiled(scopes=scopes)
    params = _params(scopes, as_of, pushdown.dialect, pushdown.mapping.ids)
    key = _scope_key_of(scopes)
    rows: list[Row] = []
    with read_transaction(pushdown.bind, statements=3) as connection:
        _prepare(connection, scopes)
        grouped = pushdown._prepare(("plain", *key), lambda: _plain(compiled, scopes)).execute(
            connection, params
        )
        any_problem = _by_status(compiled, grouped, rows)
        evaluate = False
        if any_problem:
            for workspace_id, environment_id, type_, value, n in pushdown._prepare(
                ("problems", compiled.form, *key), lambda: _problems(compiled, scopes)
            ).execute(connection, params):
                if value == EVALUATE:
                    evaluate = True
                else:
                    rows.append((workspace_id, environment_id, type_, Actionability(value), n))
        if evaluate:
            runs = pushdown._evaluated_runs(connection, compiled, scopes, params)
            for run, result in zip(
                runs,
                pushdown._resolver_on(connection).evaluate_many(runs, as_of=as_of, scopes=scopes),
                strict=True,
            ):
                rows.append((run.workspace_id, run.environment_id, run.type, result.status, 1))
    return tally(pushdown.catalog, rows)


def _plain(compiled: _Compiled, scopes: VisibleScopes) -> Any:
    """The statement grouping every run by scope, type, status and outcome."""
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
    return (
        sa.select(*keys, c["status"], c["outcome"], sa.func.count(), future, later)
        .select_from(compiled.table)
        .where(*compiled.scope_filter(scopes, replayed=False))
        .group_by(*keys, c["status"], c["outcome"])
    )


def _problems(compiled: _Compiled, scopes: VisibleScopes) -> Any:
    """The statement classifying the problem rows, grouped by scope, type and status."""
    c = compiled.c
    keys = (c["workspace_id"], c["environment_id"], c["type"])
    status = compiled.problem_status.label("status")
    return (
        compiled.select(*keys, status, sa.func.count().label("n"))
        .where(
            *compiled.scope_filter(scopes),
            compiled.problem,
            sa.not_(compiled.completed_after),
        )
        .group_by(*keys, status)
    )


def _by_status(compiled: _Compiled, grouped: Any, rows: list[Row]) -> bool:
    """Add the runs rule 2 decides to ``rows``; whether any group holds problem runs."""
    any_problem = False
    for workspace_id, environment_id, type_, stored, outcome, n, future, later in grouped:
        n -= future + later
        if later:
            rows.append((workspace_id, environment_id, type_, Actionability.NOT_TERMINAL, later))
        if not n:
            continue
        decided = compiled.decided_by_status(stored, outcome)
        if decided is None:
            any_problem = True
        else:
            rows.append((workspace_id, environment_id, type_, decided, n))
    return any_problem
