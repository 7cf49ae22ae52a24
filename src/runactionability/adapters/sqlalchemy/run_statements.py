"""The run source's listing statements: built once per query shape, bound per call.

Building a ``SELECT`` with its filters (the ``as_of`` replay, the byte-exact id checks, the
instant checks) and letting SQLAlchemy walk it for its cache key cost more Python time than
many of the statements themselves, on every call. A statement here holds no caller's value:
the ids are expanding parameters, ``as_of``, the creation bounds, the cursor and the limit are
named parameters, so one statement serves every query of its shape.

A long scope id list is bound as one value however many ids it holds (``one_of``): two
parameters an id ran out of the drivers' limits (65,535 on PostgreSQL, 250,000 or 32,766 on
SQLite, as it was built) at a few ten thousand tenants, and an operator's whole-database view
lists every one of them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy.ids import (
    IdColumn,
    IdType,
    check_scope_ids,
    id_equal,
    id_value,
    sql_type,
    storage,
    text_fits,
    usable_stored_id,
)
from runactionability.adapters.sqlalchemy.instant_rows import stored_parameter
from runactionability.adapters.sqlalchemy.instant_sql import compare_to, valid_timestamp
from runactionability.adapters.sqlalchemy.instants import instants_of
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping
from runactionability.adapters.sqlalchemy.types import (
    UtcTimestamp,
    exact_text,
    to_micros,
    vocabulary_in,
)
from runactionability.model import RunOutcome, RunStatus
from runactionability.ports import RunQuery
from runactionability.scopes import VisibleScopes

Shape = tuple[Any, ...]
"""What a listing statement's text depends on (see ``shape_of``)."""

STATEMENTS_LIMIT = 256
"""Listing statements kept per run source (one per query shape)."""


def shape_of(
    query: RunQuery, outcomes: Collection[RunOutcome] | None, tag: str | None, dialect: str
) -> Shape:
    """The shape of a listing: which filters it has, its statuses and outcomes, its cursor's kind.

    The statuses and outcomes are few and read through the mapping's vocabulary into the
    statement's constants, so they are part of the shape; every other value is a parameter.
    """
    return (
        dialect,
        None if query.environment_ids is None else query.include_workspace_runs,
        id_forms(query.workspace_ids, query.environment_ids, dialect),
        query.operation_types is not None,
        query.as_of is not None,
        None if query.statuses is None else frozenset(query.statuses),
        None if outcomes is None else frozenset(outcomes),
        query.created_from is not None,
        query.created_before is not None,
        tag,
    )


def id_values(ids: Collection[str], id_type: IdType, dialect: str) -> list[Any]:
    """The ids in the column's type, sorted; one the type cannot hold matches nothing."""
    return sorted({v for v in (id_value(i, id_type, dialect) for i in ids) if v is not None})


def values_of(
    query: RunQuery, mapping: RunTableMapping, dialect: str, limit: int
) -> dict[str, Any]:
    """The parameters of a listing of ``query`` (the cursor's are added by the caller)."""
    values = scope_values(query.workspace_ids, query.environment_ids, mapping, dialect)
    values["run_limit"] = limit + 1
    if query.operation_types is not None:
        # A type no text column can hold is no stored type: it matches nothing, never bound.
        fit = [name for name in query.operation_types if text_fits(name, dialect)]
        values["operation_types"] = sorted(fit)
    if query.as_of is not None:
        values["replay_as_of"] = query.as_of
    if query.created_from is not None:
        values["created_from"] = query.created_from
    if query.created_before is not None:
        values["created_before"] = query.created_before
    return values


def scope_values(
    workspace_ids: Collection[str] | None,
    environment_ids: Collection[str] | None,
    mapping: RunTableMapping,
    dialect: str,
) -> dict[str, Any]:
    """The parameters of ``scope_filters``: the scopes' ids checked, in their columns' types
    (none for every workspace: ``workspace_ids`` None)."""
    check_scope_ids(workspace_ids, environment_ids, mapping.ids)
    values = bound_ids("workspace", workspace_ids, mapping.ids.workspace, dialect)
    if environment_ids is not None:
        environments = bound_ids("environment", environment_ids, mapping.ids.environment, dialect)
        values.update(environments)
    return values


LISTED_IDS = 1000
"""The most ids SQLite is given as a list of parameters (``id_form``), eight lists of them
(two parameters an id) well within its smallest limit of 32,766."""


def id_form(ids: Collection[str] | None, dialect: str) -> str:
    """How ``one_of`` compares with ``ids``: ``one`` id alone, as an equality; a ``listed`` IN
    of a parameter each (SQLite, up to ``LISTED_IDS``), or the list ``bound`` as one value;
    ``usable``, every usable id, for None (``VisibleScopes.every_workspace``): no list at all.

    SQLite's planner cannot tell how many ids a JSON text holds: for two workspaces it walked
    every run newest first rather than seeking the workspace index (EXPLAIN QUERY PLAN), so
    a list short enough to bind as parameters is; PostgreSQL seeks on an array as on a list.
    """
    if ids is None:
        return "usable"
    if len(ids) == 1:
        return "one"
    return "listed" if dialect != "postgresql" and len(ids) <= LISTED_IDS else "bound"


def bound_ids(
    name: str, ids: Collection[str] | None, id_type: IdType, dialect: str
) -> dict[str, Any]:
    """The parameters ``one_of(..., name, ...)`` compares with, in the ``id_form`` of ``ids``:
    ``{name}_id``; ``{name}_ids`` and ``{name}_texts`` (expanding); ``{name}_ids``, one
    PostgreSQL array or SQLite JSON text; none for every usable id."""
    form = id_form(ids, dialect)
    if ids is None:
        return {}
    if form == "one":
        (only,) = ids
        return {f"{name}_id": id_value(only, id_type, dialect)}
    listed = id_values(ids, id_type, dialect)
    if form == "listed":
        return {f"{name}_ids": listed, f"{name}_texts": listed}
    # SQLite stores a uuid as its text, so every kept value is JSON already.
    return {f"{name}_ids": listed if dialect == "postgresql" else json.dumps(listed)}


def id_forms(
    workspace_ids: Collection[str] | None, environment_ids: Collection[str] | None, dialect: str
) -> tuple[str, str | None]:
    """The ``id_form`` of each list (None: no environment list)."""
    environments = None if environment_ids is None else id_form(environment_ids, dialect)
    return id_form(workspace_ids, dialect), environments


ScopeShape = tuple[str, tuple[str, str | None]]
"""How a read is bounded by an actor's scopes (``scope_shape``)."""


def scope_shape(scopes: VisibleScopes | None, dialect: str) -> ScopeShape:
    """``every`` row (``scopes`` None: the whole database), the rows of the ``workspaces``, or
    of their ``environments`` with the workspace-owned rows, or ``environments_only``; with
    the form each id list is bound in (``id_forms``)."""
    if scopes is None:
        return "every", ("bound", None)
    forms = id_forms(scopes.workspace_ids, scopes.environment_ids, dialect)
    if scopes.environment_ids is None:
        return "workspaces", forms
    return ("environments" if scopes.include_workspace_runs else "environments_only"), forms


def scope_filters(
    c: Mapping[str, Any], mapping: RunTableMapping, dialect: str, shape: ScopeShape
) -> list[Any]:
    """The rows of scopes of ``shape``, as ``VisibleScopes.admits`` admits them, their ids
    bound by ``scope_values`` (none for ``every``)."""
    kind, (workspaces, environments) = shape
    if kind == "every":
        return []
    ids = mapping.ids
    filters = [one_of(c["workspace_id"], "workspace", ids.workspace, dialect, workspaces)]
    if kind != "workspaces":
        form = environments or "bound"
        within = one_of(c["environment_id"], "environment", ids.environment, dialect, form)
        if kind == "environments":
            within = sa.or_(within, c["environment_id"].is_(None))
        filters.append(within)
    return filters


def cursor_values(
    tag: str, created: Any, cursor_id: Any, mapping: RunTableMapping, dialect: str
) -> dict[str, Any]:
    """The parameters of a cursor (decoded, checked) in the form ``_after`` compares them."""
    values: dict[str, Any] = {"cursor_id": cursor_id}
    if tag == "instant" and mapping.timestamps.is_native and dialect != "postgresql":
        values["cursor_micros"] = to_micros(created)
    elif tag != "null":
        values["cursor_created"] = created
    return values


def build(
    select: Any,
    c: Mapping[str, Any],
    mapping: RunTableMapping,
    shape: Shape,
) -> Any:
    """The listing statement of ``shape`` over ``select`` (the run columns)."""
    dialect, environments, forms, types, replayed, statuses, outcomes, since, before, tag = shape
    kind = {None: "workspaces", True: "environments", False: "environments_only"}[environments]
    filters = [*scope_filters(c, mapping, dialect, (kind, forms)), addressable(c)]
    if types:
        filters.append(c["type"].in_(sa.bindparam("operation_types", expanding=True)))
    replay = _Replay(c, mapping, dialect) if replayed else None
    if replay is not None:
        filters.append(replay.existed)
    if statuses is not None:
        if replay is not None:
            filters.append(replay.status_in(statuses))
        else:
            stored = [value for status in statuses for value in mapping.stored_statuses(status)]
            filters.append(vocabulary_in(c["status"], stored, dialect))
    if outcomes is not None:
        stored = [value for outcome in outcomes for value in mapping.stored_outcomes(outcome)]
        filters.append(vocabulary_in(c["outcome"], stored, dialect))
        if replay is not None:
            # A run that completed after as_of had no outcome yet.
            filters.append(sa.not_(replay.completed_after))
    created = c["created_at"]
    if since or before:
        filters.append(valid_timestamp(created, dialect))
    if since:
        bound = _instant_parameter(created, "created_from")
        filters.append(compare_to(created, ">=", bound, dialect))
    if before:
        bound = _instant_parameter(created, "created_before")
        filters.append(compare_to(created, "<", bound, dialect))
    if tag is not None:
        filters.append(_after(c, mapping, tag, dialect))
    order = created.desc().nulls_last() if dialect == "postgresql" else created.desc()
    return (
        select.where(*filters)
        .order_by(order, c["id"].desc())
        .limit(sa.bindparam("run_limit", type_=sa.Integer()))
    )


def _instant_parameter(column: Any, name: str) -> Any:
    # As a datetime compared with the column would bind: in the column's own type when it is
    # native, else as the canonical instant ``compare_to`` converts in SQL.
    if instants_of(column).is_native:
        return sa.bindparam(name, type_=column.type)
    return sa.bindparam(name, type_=UtcTimestamp())


def _after(c: Mapping[str, Any], mapping: RunTableMapping, tag: str, dialect: str) -> Any:
    """The rows after a cursor of kind ``tag`` in the listing's order."""
    run_id = sa.bindparam("cursor_id", type_=c["id"].type)
    column = c["created_at"]
    if tag == "null":
        return sa.and_(column.is_(None), c["id"] < run_id)
    value: Any
    if tag == "naive":
        # A host's naive column (PostgreSQL only): compared as the naive values it holds.
        column = sa.type_coerce(column, sa.DateTime())
        value = sa.bindparam("cursor_created", type_=sa.DateTime())
    elif tag == "instant" and dialect != "postgresql":
        column = sa.type_coerce(column, sa.BigInteger())
        value = sa.bindparam("cursor_micros", type_=sa.BigInteger())
    elif tag == "instant":
        value = sa.bindparam("cursor_created", type_=column.type)
    elif dialect == "postgresql":
        # An unreadable stored value ('infinity', a year after 9999) or, in a storage other
        # than native, the stored value itself, as its text, which the server reads back as
        # the very value it ordered by.
        value = stored_parameter(column, "cursor_created", None)
    else:
        # Stray stored text or an out-of-range number: compare the stored values as SQLite
        # orders them.
        column = sa.type_coerce(column, sa.String())
        value = sa.bindparam("cursor_created", type_=sa.types.NullType())
    return sa.or_(
        column < value, sa.and_(column == value, c["id"] < run_id), c["created_at"].is_(None)
    )


class _Replay:
    """The SQL form of ``run_as_of``: which rows existed at ``as_of``, and their status then.

    Only a timestamp the run source reads as an instant moves a run in time, as in
    ``run_as_of``: a row whose ``created_at`` cannot be read is listed as stored, one whose
    ``completed_at`` cannot be read keeps its stored status.
    """

    def __init__(self, c: Mapping[str, Any], mapping: RunTableMapping, dialect: str) -> None:
        self.c = c
        self.mapping = mapping
        self.dialect = dialect
        bound = sa.bindparam("replay_as_of", type_=UtcTimestamp())
        created, started, ended = c["created_at"], c["started_at"], c["completed_at"]
        status = c["status"]
        self.existed = sa.or_(
            sa.not_(valid_timestamp(created, dialect)), compare_to(created, "<=", bound, dialect)
        )
        self.completed_after = sa.and_(
            valid_timestamp(created, dialect),
            status.is_not(None),
            vocabulary_in(status, mapping.stored_statuses(RunStatus.COMPLETED), dialect),
            valid_timestamp(ended, dialect),
            compare_to(ended, ">", bound, dialect),
        )
        self.started_after = sa.and_(
            valid_timestamp(started, dialect), compare_to(started, ">", bound, dialect)
        )

    def _stored(self, status: RunStatus) -> Any:
        stored = self.mapping.stored_statuses(status)
        return vocabulary_in(self.c["status"], stored, self.dialect)

    def status_in(self, statuses: Collection[RunStatus]) -> Any:
        """The rows whose status at ``as_of`` is one of ``statuses``."""
        active = sa.or_(self._stored(RunStatus.RUNNING), self.completed_after)
        parts = []
        if RunStatus.COMPLETED in statuses:
            parts.append(sa.and_(self._stored(RunStatus.COMPLETED), sa.not_(self.completed_after)))
        if RunStatus.QUEUED in statuses:
            parts.append(
                sa.or_(self._stored(RunStatus.QUEUED), sa.and_(active, self.started_after))
            )
        if RunStatus.RUNNING in statuses:
            parts.append(sa.and_(active, sa.not_(self.started_after)))
        return sa.or_(*parts) if parts else sa.false()


def addressable(c: Mapping[str, Any]) -> Any:
    """The rows with a run id: a row without one (a host table with no primary key) cannot be
    explained, cited as proof or held by a cursor, so every read leaves it out alike, SQL and
    Python, and ``doctor`` counts it (docs/decisions.md)."""
    return c["id"].is_not(None)


def one_of(column: Any, name: str, id_type: IdType, dialect: str, form: str) -> Any:
    """``column`` is one of the ids ``bound_ids`` binds for ``name`` in ``form`` (``id_form``),
    for text byte for byte; in form ``usable``, holds any usable id (``usable_stored_id``).

    A long list is one parameter (``bound``), compared in the column's own type so that an
    index on the column seeks on it: ``= ANY`` of an array on PostgreSQL, ``IN`` a ``json_each``
    of a JSON text on SQLite. Under a case-insensitive collation 'ACME' is not a visible 'acme';
    the plain comparison stays beside the exact one for the index to seek on.
    """
    if form == "usable":
        return usable_stored_id(column, id_type, dialect)
    if form == "one":
        one = sa.bindparam(f"{name}_id", type_=IdColumn(id_type))
        return id_equal(column, one, id_type, dialect)
    text = storage(id_type, dialect) == "text"
    exact = exact_text(column, dialect)
    if form == "listed":
        within = column.in_(sa.bindparam(f"{name}_ids", expanding=True))
        exact_in = exact.in_(sa.bindparam(f"{name}_texts", expanding=True))
        return sa.and_(within, exact_in) if text else within
    if dialect == "postgresql":
        array = sa.bindparam(f"{name}_ids", type_=postgresql.ARRAY(sql_type(id_type, dialect)))
        within = column == sa.any_(array)
        return sa.and_(within, exact == sa.any_(array)) if text else sa.and_(within)
    each = sa.func.json_each(sa.bindparam(f"{name}_ids", type_=sa.Text())).table_valued("value")
    listed = sa.select(each.c.value)
    within = column.in_(listed)
    return sa.and_(within, exact.in_(listed)) if text else sa.and_(within)
