"""``EveryWorkspace``: the scopes of an operator who sees every workspace with runs.

Its session reads ``VisibleScopes.every_workspace``: no statement lists the tenants, each tests
the row's own workspace id for usability instead (docs/decisions.md). Only the command line's
documents (``report``, ``list --json``, ``changes --json``), which name every workspace they
show, read the names (``workspace_names``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy import SqlBackend
from runactionability.adapters.sqlalchemy.doctor.id_columns import (
    UnattributedRuns,
    unattributed_runs,
)
from runactionability.adapters.sqlalchemy.ids import (
    check_scope_ids,
    id_exact,
    stored_typed_id,
    usable_stored_id,
)
from runactionability.adapters.sqlalchemy.run_statements import bound_ids, id_form, one_of
from runactionability.consumers import Assessment, Explanation, would_change
from runactionability.errors import NoWorkspacesError, UsageError
from runactionability.model import OperationRun, usable_id
from runactionability.resolver import Resolver
from runactionability.scopes import VisibleScopes, as_ids

__all__ = [
    "EveryWorkspace",
    "UnattributedRuns",
    "count_unattributed",
    "environments_with_runs",
    "every_workspace",
    "explain_unscoped",
    "readable_scopes",
    "workspace_names",
    "workspaces_with_runs",
]


@attrs.frozen
class EveryWorkspace:
    """The scopes of an operator who sees every workspace that has runs (the CLI's default).

    The session reads them as ``VisibleScopes.every_workspace``, after one statement of its
    snapshot has found a usable workspace id. With no ``environment_ids`` the operator sees
    the whole database, so ``explain`` also shows a run with no usable workspace id (flagged as
    the invalid record it is, without an action). ``environment_ids`` reads as
    ``VisibleScopes`` reads it: an empty collection means no environment (workspace-owned runs
    only), never every environment, and one string is one id.
    """

    environment_ids: frozenset[str] | None = attrs.field(
        default=None, converter=attrs.converters.optional(as_ids)
    )


def every_workspace(backend: SqlBackend, every: EveryWorkspace) -> VisibleScopes:
    mapping = backend.runs.mapping
    column = mapping.table_clause().c[mapping.workspace_id]
    connection = backend.runs.bind
    assert isinstance(connection, sa.Connection), "a snapshot reads through one connection"
    usable = usable_stored_id(column, mapping.ids.workspace, connection.dialect.name)
    if connection.execute(sa.select(sa.literal(1)).where(usable).limit(1)).first() is None:
        raise NoWorkspacesError("the runs table holds no runs with a usable workspace id")
    return VisibleScopes.every_workspace(environment_ids=every.environment_ids)


def workspace_names(backend: SqlBackend) -> list[str]:
    """Every usable workspace id of the runs table, sorted (one statement): what a screen that
    names each workspace it shows prints, never a bound of any read."""
    mapping = backend.runs.mapping
    column = mapping.table_clause().c[mapping.workspace_id]
    connection = backend.runs.bind
    assert isinstance(connection, sa.Connection), "a snapshot reads through one connection"
    # Listed by exact value: under a case-insensitive collation DISTINCT would fold 'ACME' into
    # 'acme', and the tenant it dropped would go unnamed.
    exact = id_exact(column, mapping.ids.workspace, connection.dialect.name)
    rows = connection.execute(sa.select(exact).distinct()).scalars()
    return sorted({usable for value in rows if (usable := usable_id(value)) is not None})


def workspaces_with_runs(backend: SqlBackend, workspace_ids: Collection[str]) -> frozenset[str]:
    """Of ``workspace_ids``, those holding a run (one statement), for a reader of every
    workspace to tell a typed name from a workspace with no runs."""
    asked = as_ids(workspace_ids)
    mapping = backend.runs.mapping
    check_scope_ids(asked, None, mapping.ids)
    column = mapping.table_clause().c[mapping.workspace_id]
    connection = backend.runs.bind
    assert isinstance(connection, sa.Connection), "a snapshot reads through one connection"
    dialect, ids = connection.dialect.name, mapping.ids
    exact = id_exact(column, ids.workspace, dialect)
    within = one_of(column, "workspace", ids.workspace, dialect, id_form(asked, dialect))
    values = bound_ids("workspace", asked, ids.workspace, dialect)
    rows = connection.execute(sa.select(exact).distinct().where(within), values).scalars()
    found = {usable_id(stored_typed_id(value, ids.workspace)) for value in rows}
    return frozenset(name for name in asked if name in found)


def environments_with_runs(
    backend: SqlBackend, scopes: VisibleScopes, environment_ids: Collection[str]
) -> frozenset[str]:
    """Of ``environment_ids``, those holding a run of a workspace ``scopes`` show (one statement).

    An environment the scopes leave out is not looked for, so the answer names nothing hidden.
    """
    asked = as_ids(environment_ids)
    mapping = backend.runs.mapping
    # A uuid misspelled is refused before the scopes narrow it away, as with no narrowing.
    check_scope_ids(scopes.workspace_ids, asked, mapping.ids)
    if scopes.environment_ids is not None:
        asked &= scopes.environment_ids
    if not asked:
        return frozenset()
    c = mapping.table_clause().c
    connection = backend.runs.bind
    assert isinstance(connection, sa.Connection), "a snapshot reads through one connection"
    dialect, ids = connection.dialect.name, mapping.ids
    environment = c[mapping.environment_id]
    exact = id_exact(environment, ids.environment, dialect)
    workspaces = id_form(scopes.workspace_ids, dialect)
    statement = (
        sa.select(exact)
        .distinct()
        .where(
            one_of(c[mapping.workspace_id], "workspace", ids.workspace, dialect, workspaces),
            one_of(environment, "environment", ids.environment, dialect, id_form(asked, dialect)),
        )
    )
    values = bound_ids("workspace", scopes.workspace_ids, ids.workspace, dialect)
    values.update(bound_ids("environment", asked, ids.environment, dialect))
    rows = connection.execute(statement, values).scalars()
    found = {usable_id(stored_typed_id(value, ids.environment)) for value in rows}
    return frozenset(name for name in asked if name in found)


def count_unattributed(backend: SqlBackend, *, whole_database: bool) -> UnattributedRuns:
    """The runs no workspace's scope holds, counted in one statement of the snapshot.

    Only a reader of the whole database may ask: for any other actor they are hidden runs.
    """
    if not whole_database:
        raise UsageError(
            "only a session of the whole database (EveryWorkspace without environment_ids) "
            "counts the runs in no workspace: every other actor's scopes leave them hidden"
        )
    connection = backend.runs.bind
    assert isinstance(connection, sa.Connection), "a snapshot reads through one connection"
    return unattributed_runs(connection, backend.runs.mapping)


def readable_scopes(scopes: VisibleScopes, *, whole_database: bool) -> VisibleScopes | None:
    """The scopes a session's ``RunsById`` reads are bounded by: None (every row, those in no
    workspace too) for the whole database, from which nothing is hidden."""
    return None if whole_database else scopes


def explain_unscoped(
    resolver: Resolver, run: OperationRun, as_of: datetime, state_kinds: Collection[str]
) -> Explanation:
    """The explanation of a run in no workspace's scope, for a reader of the whole database."""
    result = resolver.evaluate(run, as_of=as_of)
    # No action: every action targets something in the run's scope, and it has none.
    assessment = Assessment(
        run=run, result=result, primary_action=None, eligible_actions=frozenset()
    )
    registry = resolver.registry
    family = registry.families().get(result.family) if result.family else None
    return Explanation(
        assessment=assessment,
        risk=None if family is None else family.risk,
        plugin=None if family is None else registry.plugin_of(family.name),
        would_change=would_change(
            run,
            assessment,
            registry=registry,
            catalog=resolver.catalog,
            state_kinds=state_kinds,
        ),
    )
