"""The SQL of the evidence the rules test: a later success, and a current state proven later.

Each is a correlated test on the classified row ``r``, the same question ``SqlRunHistory`` and
``SqlStateSource`` answer for the Python resolver.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.ids import IdType, id_equal, id_exact, id_match
from runactionability.adapters.sqlalchemy.instant_sql import (
    compare,
    compare_to,
    evidence_times,
    order_key,
    valid_timestamp,
)
from runactionability.adapters.sqlalchemy.instants import instants_of
from runactionability.adapters.sqlalchemy.mapping import StateTableMapping
from runactionability.adapters.sqlalchemy.pushdown.common import SupersedeForm, exists, in_values
from runactionability.adapters.sqlalchemy.pushdown.validity import subject_of
from runactionability.adapters.sqlalchemy.types import (
    CollatedText,
    exact_equal,
    exact_in,
    exact_text,
    vocabulary_equal,
    vocabulary_in,
)
from runactionability.catalog import OperationType
from runactionability.model import RunOutcome, RunStatus

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown.classify import _Compiled


def _bare(compiled: _Compiled, column: Any) -> Any:
    if compiled.dialect != "sqlite":
        return column
    # An expression index column has no affinity, and SQLite seeks it with a comparison only
    # when the other side has none either: ``+ 0`` drops the column's INTEGER affinity
    # (measured: the seek then uses both bounds instead of scanning the whole subject).
    return sa.type_coerce(column, sa.BigInteger()) + 0


def _event_start(compiled: _Compiled, table: Any) -> Any:
    mapping = compiled.pushdown.mapping
    created = table.c[mapping.created_at]
    return sa.func.coalesce(table.c[mapping.started_at], created, type_=created.type)


def started_since_completed(compiled: _Compiled, s: Any) -> Any:
    """The success ``s`` started (or was created) no earlier than the row ``r`` completed."""
    completed = compiled.c["completed_at"]
    if compiled.pushdown.mapping.timestamps.is_native:
        return _event_start(compiled, s) >= _bare(compiled, completed)
    return compare(_event_start(compiled, s), ">=", completed, compiled.dialect)


def _success_conditions(
    compiled: _Compiled, s: Any, op_type: OperationType, *, seek: bool = False
) -> list[Any]:
    mapping = compiled.pushdown.mapping
    names = compiled.pushdown.catalog.superseding_names(op_type.name)
    return [_in_exact(compiled, s.c[mapping.type], names), *_succeeded(compiled, s, seek=seek)]


def _succeeded(compiled: _Compiled, s: Any, *, seek: bool = False) -> list[Any]:
    """``s`` is a success that counts as evidence at as_of, whatever its type."""
    mapping = compiled.pushdown.mapping
    status, outcome = s.c[mapping.column_name("status")], s.c[mapping.column_name("outcome")]
    succeeded = mapping.stored_outcomes(RunOutcome.SUCCEEDED)
    # A lifecycle column is the status column too: the values that mean a success say both.
    values = (
        [_in_exact(compiled, status, succeeded)]
        if mapping.lifecycle is not None
        else [
            _in_exact(compiled, status, mapping.stored_statuses(RunStatus.COMPLETED)),
            _in_exact(compiled, outcome, succeeded),
        ]
    )
    return [
        *values,
        # As ``SqlRunHistory`` reads it: a success with no id cannot be cited as proof.
        s.c[mapping.id].is_not(None),
        # The very test ``SqlRunHistory`` seeks with: a success whose times the run source
        # cannot read, or that completed before it was created or started, is no evidence.
        *evidence_times(
            s.c[mapping.created_at],
            s.c[mapping.started_at],
            s.c[mapping.completed_at],
            compiled.as_of,
            compiled.dialect,
            # A seek starts at the failed run's end (``started_since_completed``).
            seek_start=not seek,
        ),
    ]


def _in_exact(compiled: _Compiled, column: Any, values: Collection[str]) -> Any:
    """``in_values``, byte for byte whatever the column's collation (the plain IN for the seek)."""
    return exact_in(column, values, compiled.dialect)


def later_success(compiled: _Compiled, op_type: OperationType, subject: Any) -> Any:
    if compiled.form is SupersedeForm.GROUPED:
        return _later_success_grouped(compiled, op_type, subject)
    if compiled.shared is not None:
        return compiled.shared.test(op_type, subject)
    mapping = compiled.pushdown.mapping
    s = mapping.table_clause().alias(compiled.alias("s", op_type.name))
    names = compiled.pushdown.catalog.superseding_names(op_type.name)
    return exists(
        *seek_conditions(
            compiled, s, op_type, subject, _in_exact(compiled, s.c[mapping.type], names)
        )
    )


def seek_conditions(
    compiled: _Compiled, s: Any, op_type: OperationType, subject: Any, types: Any
) -> list[Any]:
    """The terms of a later success ``s`` of the row ``r`` of ``op_type``, ``types`` its type test.

    Every term but ``types`` depends on ``op_type`` only through its ownership and whether it
    has a subject (``subject``, the row's subject expression, or None).
    """
    mapping = compiled.pushdown.mapping
    dialect = compiled.dialect
    c = compiled.c
    ids = mapping.ids
    # The same table on both sides, so each id compares in its one type.
    conditions = [id_equal(s.c[mapping.workspace_id], c["workspace_id"], ids.workspace, dialect)]
    conditions += [types, *_succeeded(compiled, s, seek=True)]
    if subject is not None:
        assert op_type.subject_key is not None
        if mapping.subject is not None:
            conditions.append(id_equal(s.c[mapping.subject], subject, ids.subject, dialect))
        else:
            # The repeat is tested only of a success whose subject (read as if once) matches.
            theirs = subject_of(compiled, s, op_type.subject_key)
            conditions.append(exact_equal(theirs, subject, dialect))
            repeated = compiled.repeated_subject(s, op_type.subject_key)
            if repeated is not None:
                conditions.append(sa.not_(repeated))
    if not op_type.workspace_owned:
        env = id_equal(s.c[mapping.environment_id], c["environment_id"], ids.environment, dialect)
        conditions.append(env)
    else:
        visible = compiled.visible_environment(s.c[mapping.environment_id])
        if visible is not None:
            conditions.append(visible)
    conditions.append(started_since_completed(compiled, s))
    return conditions


def _later_success_grouped(compiled: _Compiled, op_type: OperationType, subject: Any) -> Any:
    mapping = compiled.pushdown.mapping
    s = mapping.table_clause().alias(compiled.alias("g", op_type.name))
    dialect = compiled.dialect
    c = compiled.c
    # Grouped and joined by exact value: under a case-insensitive collation 'ACME' and
    # 'acme' would share one group, and one's success would settle the other's failure.
    ids = mapping.ids
    ws = id_exact(s.c[mapping.workspace_id], ids.workspace, dialect)
    env: Any = (
        sa.null()
        if op_type.workspace_owned
        else id_exact(s.c[mapping.environment_id], ids.environment, dialect)
    )
    subj: Any = sa.null()
    if op_type.subject_key is not None:
        theirs = compiled.subject_of(s, op_type.subject_key)
        subj = id_exact(theirs, compiled.subject_type, dialect)
    visible = compiled.visible_environment(s.c[mapping.environment_id])
    hidden_excluded = [visible] if op_type.workspace_owned and visible is not None else []
    # Only successes of the visible workspaces can prove anything about their runs; when every
    # workspace is visible, the join on the row's own workspace is the whole condition.
    workspaces = (
        []
        if compiled.every_workspace
        else [compiled.one_of(s.c[mapping.workspace_id], "workspace")]
    )
    latest = (
        sa.select(
            ws.label("ws"),
            env.label("env"),
            subj.label("subject"),
            sa.func.max(order_key(_event_start(compiled, s), dialect)).label("latest"),
        )
        .where(
            *workspaces,
            *_success_conditions(compiled, s, op_type),
            *hidden_excluded,
        )
        .group_by(ws, *(key for key in (env, subj) if not isinstance(key, sa.Null)))
        .subquery(compiled.alias("l", op_type.name))
    )
    on = [latest.c.ws == id_exact(c["workspace_id"], ids.workspace, dialect)]
    if not op_type.workspace_owned:
        on.append(latest.c.env == id_exact(c["environment_id"], ids.environment, dialect))
    if subject is not None:
        on.append(latest.c.subject == id_exact(subject, compiled.subject_type, dialect))
    on.append(in_values(c["type"], compiled.pushdown.catalog.stored_names(op_type.name)))
    compiled.joins.append((latest, sa.and_(*on)))
    return latest.c.latest >= order_key(c["completed_at"], dialect)


def resolved(
    compiled: _Compiled,
    state: StateTableMapping,
    healthy: Collection[str],
    op_type: OperationType,
    subject: Any,
) -> Any:
    """A healthy state of the row's object proven after the row completed, by ``as_of``."""
    s = state.table_clause().alias(compiled.alias("st", state.kind, op_type.name))
    status, proven = s.c[state.status], s.c[state.proven_at]
    if state.statuses is None:
        stored = set(healthy)
    else:
        stored = {value for value, word in state.statuses.items() if word in healthy}
    dialect = compiled.dialect
    c = compiled.c
    theirs, ours = state.ids, compiled.pushdown.mapping.ids
    # The run's ids converted to the state table's types (never the state columns, which the
    # seek reads by index): a run id no state id can equal matches nothing.
    return exists(
        id_match(
            s.c[state.workspace_id], theirs.workspace, c["workspace_id"], ours.workspace, dialect
        ),
        s.c[state.environment_id].is_(None)
        if op_type.workspace_owned
        else id_match(
            s.c[state.environment_id],
            theirs.environment,
            c["environment_id"],
            ours.environment,
            dialect,
        ),
        _same_subject(state, s, subject, compiled.subject_type, dialect),
        *state.filters(s, dialect),
        vocabulary_in(status, stored, dialect),
        _readable_state(compiled, proven),
        compare(proven, ">", c["completed_at"], dialect),
        compare_to(proven, "<=", compiled.as_of, dialect),
        sa.not_(_unjoined(compiled, _spoiled(compiled, state, s, op_type, subject))),
    )


def _unjoined(compiled: _Compiled, test: Any) -> Any:
    """``test`` (an ``EXISTS``), kept a subplan of its own in PostgreSQL's follow-up walk.

    A ``NOT EXISTS`` at the top of a ``WHERE`` becomes an anti join, whose join search PostgreSQL
    pays each time it plans the walk, for each state test; inside ``coalesce`` (which never
    changes an ``EXISTS``) it is a subplan run for the few state rows found (measured: ~0.1 ms
    of planning a state test, ``docs/performance.md``, "Fifth round"). Every other statement
    (``compiled.shared`` is None) keeps the plans it was measured with.
    """
    if compiled.shared is None:
        return test
    return sa.func.coalesce(test, sa.false())


def _spoiled(
    compiled: _Compiled, state: StateTableMapping, s: Any, op_type: OperationType, subject: Any
) -> Any:
    """Whether another row of ``s``'s object leaves the source without a fact from ``s``.

    The state source reads an object as its rows at the greatest proven_at, and has no fact
    when any row cannot be placed in time or the rows there disagree (after translation) or
    lack a readable status: a row ``s`` proves a healthy state only when no row of the same
    object is unreadable, newer, or tied with it and not saying the same thing.
    """
    vocabulary = state.statuses
    other = state.table_clause().alias(compiled.alias("so", state.kind, op_type.name))
    status, proven = s.c[state.status], s.c[state.proven_at]
    other_status, other_proven = other.c[state.status], other.c[state.proven_at]

    def meaning(column: Any) -> Any:
        # The policies' word for a stored status; NULL for one the vocabulary does not list.
        # Stored words are compared byte for byte, as the state source compares them: under a
        # collation 'HEALTHY' equals 'healthy', which the source reads as a disagreement.
        if vocabulary is None:
            return exact_text(column, dialect) if isinstance(column.type, CollatedText) else column
        if not vocabulary:
            return sa.null()
        return sa.case(
            *(
                (vocabulary_equal(column, stored, dialect), word)
                for stored, word in sorted(vocabulary.items())
            )
        )

    dialect = compiled.dialect
    ids = state.ids

    def same(name: str, id_type: Any) -> Any:
        column = getattr(state, name)
        return id_equal(other.c[column], s.c[column], id_type, dialect)

    return exists(
        same("workspace_id", ids.workspace),
        other.c[state.environment_id].is_(None)
        if op_type.workspace_owned
        else same("environment_id", ids.environment),
        _same_subject(
            state, other, None if subject is None else state.subject_of(s), ids.subject, dialect
        ),
        *state.filters(other, dialect),
        sa.or_(
            sa.not_(_readable_state(compiled, other_proven)),
            compare(other_proven, ">", proven, dialect),
            sa.and_(
                compare(other_proven, "==", proven, dialect),
                sa.or_(
                    other_status.is_(None),
                    meaning(other_status).is_(None),
                    meaning(other_status) != meaning(status),
                ),
            ),
        ),
    )


def _same_subject(
    state: StateTableMapping, table: Any, subject: Any, subject_type: IdType, dialect: str
) -> Any:
    """``table``'s row is of the object of ``subject`` (of ``subject_type``; None: a scope-wide
    object), compared in the state's subject column type.

    A kind mapped without a subject column holds scope-wide objects only, so no row of it is
    about a subject.
    """
    if state.subject is None:
        return sa.true() if subject is None else sa.false()
    column = table.c[state.subject]
    if subject is None:
        return column.is_(None)
    return id_match(column, state.ids.subject, subject, subject_type, dialect)


def _readable_state(compiled: _Compiled, column: Any) -> Any:
    """A proven_at the state source can place in time (``SqlStateSource`` reads the same)."""
    if compiled.dialect != "postgresql" or not instants_of(column).is_native:
        return valid_timestamp(column, compiled.dialect)
    # psycopg reads a ``timestamp`` column as naive datetimes, which the source rejects, and
    # 'infinity' is no instant; ``pg_typeof`` is constant per column, so this folds early.
    return sa.and_(
        sa.func.pg_typeof(column) == sa.literal_column("'timestamp with time zone'::regtype"),
        valid_timestamp(column, compiled.dialect),
    )
