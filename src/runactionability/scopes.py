"""The scopes an actor may see: every consumer helper is bounded by them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from runactionability.errors import UsageError
from runactionability.model import OperationRun, RunQuery, RunStatus, usable_id
from runactionability.result import Proof


def as_ids(values: Iterable[str | int]) -> frozenset[str]:
    """Freeze ids given as any iterable of strs or ints (one string counts as one id)."""
    items: Iterable[object] = (values,) if isinstance(values, str | int) else values
    ids = set()
    for value in items:
        converted = usable_id(value)
        if converted is None:
            raise UsageError(f"{value!r} is not a usable scope id")
        ids.add(converted)
    return frozenset(ids)


def _as_optional_ids(values: Iterable[str | int] | None) -> frozenset[str] | None:
    return None if values is None else as_ids(values)


class _EveryWorkspace:
    """What ``VisibleScopes.every_workspace`` passes for its workspace ids (read as None)."""


_EVERY_WORKSPACE = _EveryWorkspace()


def _workspace_ids(values: Iterable[str | int] | _EveryWorkspace) -> frozenset[str] | None:
    # None reaches the field only through every_workspace: a careless caller's None (a user
    # with no workspaces looked up) must not read as every workspace.
    if values is _EVERY_WORKSPACE:
        return None
    if values is None:
        raise UsageError("VisibleScopes needs workspace ids (every_workspace() for all of them)")
    assert not isinstance(values, _EveryWorkspace)
    return as_ids(values)


def _not_empty(
    instance: object, attribute: attrs.Attribute[Any], value: frozenset[str] | None
) -> None:
    # An empty set would read as "no restriction" to a careless caller; it must mean nothing.
    if value is not None and not value:
        raise UsageError("VisibleScopes needs at least one workspace id")


@attrs.frozen
class VisibleScopes:
    """The workspaces, and optionally the environments within them, that an actor may see.

    A run is visible when its workspace is one of ``workspace_ids`` and, when ``environment_ids``
    is given, its environment is one of them; a run with no environment (a workspace-owned
    operation) is visible only when ``include_workspace_runs`` is true. The same test applies to
    a proof: a superseding run or a state outside these scopes is never shown. Ids compare as
    strings, as the core compares them.

    ``every_workspace`` builds the scopes of an actor from whom no workspace is hidden: its
    ``workspace_ids`` is None, which admits every usable workspace id (``usable_id``), and its
    readers bound their statements by no list of ids (docs/decisions.md).
    """

    workspace_ids: frozenset[str] | None = attrs.field(
        converter=_workspace_ids, validator=_not_empty
    )
    environment_ids: frozenset[str] | None = attrs.field(default=None, converter=_as_optional_ids)
    include_workspace_runs: bool = True

    @classmethod
    def every_workspace(
        cls,
        *,
        environment_ids: Iterable[str | int] | None = None,
        include_workspace_runs: bool = True,
    ) -> VisibleScopes:
        """The scopes of every workspace, optionally narrowed to ``environment_ids``."""
        return cls(
            _EVERY_WORKSPACE,
            environment_ids=environment_ids,
            include_workspace_runs=include_workspace_runs,
        )

    def admits(self, workspace_id: object, environment_id: object) -> bool:
        """Whether something in this workspace and environment is visible."""
        workspace = usable_id(workspace_id)
        if workspace is None:
            return False
        if self.workspace_ids is not None and workspace not in self.workspace_ids:
            return False
        if self.environment_ids is None:
            return True
        if environment_id is None:
            return self.include_workspace_runs
        return usable_id(environment_id) in self.environment_ids

    def admits_run(self, run: OperationRun) -> bool:
        """Whether the run is visible."""
        return self.admits(run.workspace_id, run.environment_id)

    def admits_proof(self, proof: Proof) -> bool:
        """Whether the run or state a result rests on is visible."""
        return self.admits(proof.workspace_id, proof.environment_id)

    def query(
        self,
        *,
        operation_types: Iterable[str] | None = None,
        statuses: Iterable[RunStatus] | None = None,
        created_from: datetime | None = None,
        created_before: datetime | None = None,
        as_of: datetime | None = None,
    ) -> RunQuery:
        """A run-source query for exactly these scopes, with optional further filters.

        With ``as_of`` the source lists the runs as they were at that instant (``run_as_of``).
        """
        return RunQuery(
            workspace_ids=self.workspace_ids,
            environment_ids=self.environment_ids,
            include_workspace_runs=self.include_workspace_runs,
            operation_types=operation_types,
            statuses=statuses,
            created_from=created_from,
            created_before=created_before,
            as_of=as_of,
        )


EnvironmentKey = tuple[str, str | None]
"""(workspace id, environment id); the environment is None for workspace-owned runs."""
