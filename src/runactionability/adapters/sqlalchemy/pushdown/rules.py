"""The SQL of each built-in rule: the branches a compilable policy adds to its type's case."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.mapping import StateTableMapping
from runactionability.adapters.sqlalchemy.pushdown.common import (
    _CLAMPED,
    _REVIEW,
    SupersedeForm,
    exists,
    in_values,
)
from runactionability.adapters.sqlalchemy.types import (
    exact_equal,
    exact_text,
    instant_bound,
    sound_run_times,
    valid_timestamp,
)
from runactionability.catalog import OperationType
from runactionability.model import RunOutcome, RunStatus
from runactionability.policies.base import Family, Risk
from runactionability.policies.rules import (
    AlwaysInformational,
    AlwaysManualReview,
    FirstDecisive,
    InformationalWhen,
    ResolvedByState,
    SupersededByLaterSuccess,
)
from runactionability.result import Actionability

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown.classify import _Compiled

_BUILTIN_RULES = (
    InformationalWhen,
    SupersededByLaterSuccess,
    ResolvedByState,
    AlwaysManualReview,
    AlwaysInformational,
)


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


def rule_whens(
    compiled: _Compiled, op_type: OperationType, family: Family, subject: Any
) -> list[tuple[Any, Any]]:
    """The branches of a compilable family's rules, in order, for a valid row of ``op_type``."""
    policy = family.policy
    assert isinstance(policy, FirstDecisive)
    high = family.risk is Risk.HIGH
    mapping = compiled.pushdown.mapping
    whens: list[tuple[Any, Any]] = []

    def clamp(value: str) -> str:
        return _REVIEW if high and value in _CLAMPED else value

    for rule in policy.rules:
        if isinstance(rule, InformationalWhen):
            stored = [v for outcome in rule.outcomes for v in mapping.stored_outcomes(outcome)]
            whens.append(
                (
                    in_values(compiled.c["outcome"], stored),
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
                    later_success(compiled, op_type, subject),
                    clamp(Actionability.SUPERSEDED_BY_LATER_SUCCESS.value),
                )
            )
        elif isinstance(rule, ResolvedByState):
            state = compiled.pushdown.states.get(rule.kind)
            applies = rule.types is None or op_type.name in rule.types
            if state is None or rule.kind not in family.state_kinds or not applies:
                continue
            if (
                op_type.workspace_owned
                and compiled.visibility is not None
                and not compiled.visibility[1]
            ):
                # A workspace-owned type's state has no environment, which these scopes do
                # not show: for the actor it does not exist.
                continue
            whens.append(
                (
                    resolved(compiled, state, rule.healthy, op_type, subject),
                    clamp(Actionability.RESOLVED_BY_CURRENT_STATE.value),
                )
            )
    return whens


def _bare(compiled: _Compiled, column: Any) -> Any:
    if compiled.dialect != "sqlite":
        return column
    # An expression index column has no affinity, and SQLite seeks it with a comparison only
    # when the other side has none either: ``+ 0`` drops the column's INTEGER affinity
    # (measured: the seek then uses both bounds instead of scanning the whole subject).
    return sa.type_coerce(column, sa.BigInteger()) + 0


def _event_start(compiled: _Compiled, table: Any) -> Any:
    mapping = compiled.pushdown.mapping
    return sa.func.coalesce(table.c[mapping.started_at], table.c[mapping.created_at])


def _success_conditions(compiled: _Compiled, s: Any, op_type: OperationType) -> list[Any]:
    mapping = compiled.pushdown.mapping
    dialect = compiled.dialect
    start = _event_start(compiled, s)
    return [
        _in_exact(
            compiled,
            s.c[mapping.type],
            compiled.pushdown.catalog.superseding_names(op_type.name),
        ),
        _in_exact(compiled, s.c[mapping.status], mapping.stored_statuses(RunStatus.COMPLETED)),
        _in_exact(compiled, s.c[mapping.outcome], mapping.stored_outcomes(RunOutcome.SUCCEEDED)),
        # Ranges the index seek applies: NULL, stray text and unreadable instants fall
        # outside them, so such a success is no evidence (as in ``SqlRunHistory``).
        instant_bound(start, dialect),
        instant_bound(s.c[mapping.completed_at], dialect),
        s.c[mapping.completed_at] <= compiled.as_of,
        # The one validity rule (core.sound_run_times): a run that completed before it was
        # created or started, or whose timestamps the run source cannot read, is no evidence.
        *sound_run_times(
            s.c[mapping.created_at],
            s.c[mapping.started_at],
            s.c[mapping.completed_at],
            dialect,
        ),
    ]


def _in_exact(compiled: _Compiled, column: Any, values: Collection[str]) -> Any:
    """``in_values``, byte for byte whatever the column's collation (the plain IN for the seek)."""
    if not values:
        return sa.false()
    # Typed literals, so that the collation is not repeated on every value.
    exact = [sa.literal(value, sa.String()) for value in sorted(values)]
    return sa.and_(column.in_(sorted(values)), exact_text(column, compiled.dialect).in_(exact))


def later_success(compiled: _Compiled, op_type: OperationType, subject: Any) -> Any:
    if compiled.form is SupersedeForm.GROUPED:
        return _later_success_grouped(compiled, op_type, subject)
    mapping = compiled.pushdown.mapping
    s = mapping.table_clause().alias(compiled.alias("s", op_type.name))
    dialect = compiled.dialect
    c = compiled.c
    conditions = [exact_equal(s.c[mapping.workspace_id], c["workspace_id"], dialect)]
    conditions += _success_conditions(compiled, s, op_type)
    if subject is not None:
        assert op_type.subject_key is not None
        if mapping.subject is not None:
            conditions.append(exact_equal(s.c[mapping.subject], subject, dialect))
        else:
            theirs = compiled.subject_of(s, op_type.subject_key)
            conditions.append(exact_equal(theirs, subject, dialect))
    if not op_type.workspace_owned:
        conditions.append(exact_equal(s.c[mapping.environment_id], c["environment_id"], dialect))
    else:
        visible = compiled.visible_environment(s.c[mapping.environment_id])
        if visible is not None:
            conditions.append(visible)
    conditions.append(_event_start(compiled, s) >= _bare(compiled, c["completed_at"]))
    return exists(*conditions)


def _later_success_grouped(compiled: _Compiled, op_type: OperationType, subject: Any) -> Any:
    mapping = compiled.pushdown.mapping
    s = mapping.table_clause().alias(compiled.alias("g", op_type.name))
    dialect = compiled.dialect
    c = compiled.c
    # Grouped and joined by exact value: under a case-insensitive collation 'ACME' and
    # 'acme' would share one group, and one's success would settle the other's failure.
    ws = exact_text(s.c[mapping.workspace_id], dialect)
    env: Any = (
        sa.null() if op_type.workspace_owned else exact_text(s.c[mapping.environment_id], dialect)
    )
    subj: Any = sa.null()
    if op_type.subject_key is not None:
        subj = exact_text(compiled.subject_of(s, op_type.subject_key), dialect)
    visible = compiled.visible_environment(s.c[mapping.environment_id])
    hidden_excluded = [visible] if op_type.workspace_owned and visible is not None else []
    latest = (
        sa.select(
            ws.label("ws"),
            env.label("env"),
            subj.label("subject"),
            sa.func.max(_event_start(compiled, s)).label("latest"),
        )
        .where(
            # Only successes of the visible workspaces can prove anything about their runs.
            compiled.one_of(s.c[mapping.workspace_id], "workspace"),
            *_success_conditions(compiled, s, op_type),
            *hidden_excluded,
        )
        .group_by(ws, *(key for key in (env, subj) if not isinstance(key, sa.Null)))
        .subquery(compiled.alias("l", op_type.name))
    )
    on = [latest.c.ws == exact_text(c["workspace_id"], dialect)]
    if not op_type.workspace_owned:
        on.append(latest.c.env == exact_text(c["environment_id"], dialect))
    if subject is not None:
        on.append(latest.c.subject == exact_text(subject, dialect))
    on.append(in_values(c["type"], compiled.pushdown.catalog.stored_names(op_type.name)))
    compiled.joins.append((latest, sa.and_(*on)))
    return latest.c.latest >= c["completed_at"]


def resolved(
    compiled: _Compiled,
    state: StateTableMapping,
    healthy: Collection[str],
    op_type: OperationType,
    subject: Any,
) -> Any:
    vocabulary = state.statuses
    s = state.table_clause().alias(compiled.alias("st", state.kind, op_type.name))
    other = state.table_clause().alias(compiled.alias("so", state.kind, op_type.name))
    status, proven = s.c[state.status], s.c[state.proven_at]
    other_status, other_proven = other.c[state.status], other.c[state.proven_at]

    def meaning(column: Any) -> Any:
        # The policies' word for a stored status; NULL for one the vocabulary does not list.
        if vocabulary is None:
            return column
        if not vocabulary:
            return sa.null()
        return sa.case(*((column == stored, word) for stored, word in sorted(vocabulary.items())))

    if vocabulary is None:
        stored = set(healthy)
    else:
        stored = {value for value, word in vocabulary.items() if word in healthy}
    # The state source reads an object as its rows at the greatest proven_at, and has no fact
    # when any row cannot be placed in time or the rows there disagree (after translation) or
    # lack a readable status: a row ``s`` proves a healthy state only when no row of the same
    # object is unreadable, newer, or tied with it and not saying the same thing.
    dialect = compiled.dialect
    c = compiled.c
    spoils = exists(
        exact_equal(other.c[state.workspace_id], s.c[state.workspace_id], dialect),
        other.c[state.environment_id].is_(None)
        if op_type.workspace_owned
        else exact_equal(other.c[state.environment_id], s.c[state.environment_id], dialect),
        other.c[state.subject].is_(None)
        if subject is None
        else exact_equal(other.c[state.subject], s.c[state.subject], dialect),
        sa.or_(
            sa.not_(_readable_state(compiled, other_proven)),
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
    return exists(
        exact_equal(s.c[state.workspace_id], c["workspace_id"], dialect),
        s.c[state.environment_id].is_(None)
        if op_type.workspace_owned
        else exact_equal(s.c[state.environment_id], c["environment_id"], dialect),
        s.c[state.subject].is_(None)
        if subject is None
        else exact_equal(s.c[state.subject], subject, dialect),
        in_values(status, stored),
        _readable_state(compiled, proven),
        proven > c["completed_at"],
        proven <= compiled.as_of,
        sa.not_(spoils),
    )


def _readable_state(compiled: _Compiled, column: Any) -> Any:
    """A proven_at the state source can place in time (``SqlStateSource`` reads the same)."""
    if compiled.dialect != "postgresql":
        return valid_timestamp(column, compiled.dialect)
    # psycopg reads a ``timestamp`` column as naive datetimes, which the source rejects, and
    # 'infinity' is no instant; ``pg_typeof`` is constant per column, so this folds early.
    return sa.and_(
        sa.func.pg_typeof(column) == sa.literal_column("'timestamp with time zone'::regtype"),
        valid_timestamp(column, compiled.dialect),
    )
