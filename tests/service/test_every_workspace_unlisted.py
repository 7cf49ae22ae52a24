"""An actor who sees every workspace (``EveryWorkspace``) reads the whole database without
listing its tenants: no statement of its request carries a tenant id, and every screen answers
as for an actor who names each usable workspace."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import AS_OF, T0, executed_statements, form_validator, run

from runactionability import ActionabilityService, EveryWorkspace, VisibleScopes
from runactionability.adapters.memory import MemoryRunSource
from runactionability.adapters.sqlalchemy import create_schema, insert_runs
from runactionability.errors import UsageError
from runactionability.jsonforms import to_json
from runactionability.model import RunQuery
from runactionability.service import RequestSession

TENANTS = ("tenant-alpha", "tenant-beta", "tenant-gamma", "tenant-caf\u00e9")
"""Usable workspace ids, one of them outside printable ASCII."""

UNUSABLE = ("", "   ", "\u3000\u2003")
"""Stored workspace ids no scope holds: blank, to SQL's trim or only to ``str.strip()``."""


def _store(engine: sa.Engine) -> None:
    create_schema(engine)
    runs = []
    for i, tenant in enumerate(TENANTS):
        runs += [
            run(10 * i + 1, workspace_id=tenant, created_at=T0 + timedelta(minutes=i)),
            run(10 * i + 2, workspace_id=tenant, environment_id="dev", created_at=T0),
            run(
                10 * i + 3,
                workspace_id=tenant,
                status="running",
                outcome=None,
                created_at=T0 - timedelta(hours=2),
            ),
            run(
                10 * i + 4,
                "directory.sync",
                outcome="succeeded",
                workspace_id=tenant,
                created_at=T0 - timedelta(days=1),
                context={},
            ),
        ]
    runs += [run(100 + i, workspace_id=blank) for i, blank in enumerate(UNUSABLE)]
    insert_runs(engine, runs)


def _screens(s: RequestSession) -> tuple[Any, ...]:
    """What every reader of a request answers, run ids where an item names its scopes."""
    summary = s.dashboard(top=20)
    explained = [s.explain(run_id) for run_id in (1, 12, 33)]
    return (
        summary.counts,
        summary.by_family,
        summary.by_environment,
        [a.run.id for a in summary.top],
        [a.run.id for a in s.follow_up_page(limit=3).items],
        [a.run.id for a in s.history_page(limit=50).items],
        [a.run.id for a in s.page(limit=50).items],
        [a.run.id for a in s.active_work(newest=20).newest],
        [None if e is None else e.assessment.result.status for e in explained],
        sorted(c.run.id for c in s.changes(since=T0 - timedelta(hours=3), until=AS_OF).changes),
        s.environments_with_runs(["prod", "dev", "staging"]),
    )


def _listed(value: object) -> set[str]:
    """The tenants a parameter lists: alone, or in a flat list (a PostgreSQL array, an expanded
    IN, a JSON text), never nested as one field of an evidence key."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {str(value)} & set(TENANTS)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return {str(item) for item in value} & set(TENANTS)
    return {value} & set(TENANTS) if isinstance(value, str) else set()


def _tenant_lists(statements: Iterable[tuple[str, Any]]) -> list[set[str]]:
    """The tenants of each statement that binds or writes more than one as a list.

    A statement may read the evidence of runs by their keys, each naming its run's workspace
    (a join condition); a list of tenants bounds a read by an actor's scopes.
    """
    found = []
    for statement, parameters in statements:
        values = parameters.values() if isinstance(parameters, Mapping) else parameters
        tenants = {t for t in TENANTS if t in statement}.union(*map(_listed, values))
        found.append(tenants)
    return [tenants for tenants in found if len(tenants) > 1]


@pytest.mark.parametrize("environments", [None, ["prod"]], ids=["every", "prod"])
def test_every_workspace_binds_no_tenant_and_answers_as_naming_each(
    sql_engine: sa.Engine, environments: list[str] | None
) -> None:
    _store(sql_engine)
    service = ActionabilityService(sql_engine)
    named = VisibleScopes(TENANTS, environment_ids=environments)
    with service.session(scopes=named, as_of=AS_OF) as s:
        expected = _screens(s)
    with (
        executed_statements(sql_engine) as statements,
        service.session(scopes=EveryWorkspace(environment_ids=environments), as_of=AS_OF) as s,
    ):
        answered = _screens(s)
    assert statements
    assert _tenant_lists(statements) == []
    assert answered == expected
    # The blank workspaces are in no scope: none of their runs is counted or listed.
    assert expected[0].total == len(TENANTS) * (3 if environments else 4)


def test_every_workspace_shows_no_run_without_a_usable_workspace(sql_engine: sa.Engine) -> None:
    _store(sql_engine)
    service = ActionabilityService(sql_engine)
    with service.session(scopes=EveryWorkspace(), as_of=AS_OF) as s:
        listed = {a.run.id for a in s.page(limit=100).items}
        assert listed == {10 * i + n for i in range(len(TENANTS)) for n in (1, 2, 3, 4)}
        # Nothing is hidden from the whole database: asked by id, such a run is shown, flagged.
        assert s.explain(100) is not None
        assert s.unattributed().count == len(UNUSABLE)


def test_every_workspace_is_no_none_a_caller_passes() -> None:
    # A careless None (a user whose workspaces were never looked up) sees nothing.
    with pytest.raises(UsageError):
        VisibleScopes(None)  # type: ignore[arg-type]
    every = VisibleScopes.every_workspace()
    assert every.workspace_ids is None
    assert every.admits("tenant-alpha", "prod")
    assert not any(every.admits(blank, "prod") for blank in UNUSABLE)
    assert every.query() == attrs.evolve(VisibleScopes(TENANTS).query(), workspace_ids=None)
    # Its JSON form names no workspace: null, valid against the shipped schema.
    document = to_json(every)
    form_validator("scopes").validate(document)
    assert document == {"workspace_ids": None, "environment_ids": None}
    # attrs.evolve passes the None back as a caller would: refused, with the way to narrow.
    with pytest.raises(UsageError, match=r"every_workspace\(\) for all of them"):
        attrs.evolve(every, include_workspace_runs=False)
    narrowed = VisibleScopes.every_workspace(environment_ids={"prod"}, include_workspace_runs=False)
    assert (narrowed.workspace_ids, narrowed.environment_ids) == (None, frozenset({"prod"}))


def test_the_memory_source_lists_every_usable_workspace_for_none() -> None:
    runs = [run(i, workspace_id=w) for i, w in enumerate((*TENANTS, *UNUSABLE, None))]
    source = MemoryRunSource(runs)
    listed = source.list_runs(RunQuery(workspace_ids=None), limit=100).runs
    assert sorted(str(r.workspace_id) for r in listed) == sorted(TENANTS)
