"""The ports: what the resolver and the consumers need from the host's storage.

Each port is a ``typing.Protocol``, documented here in full; adapters (``adapters.memory``,
``adapters.sqlalchemy``) document only how they differ. A port is called once per batch with
every request of its kind, so its cost grows with the number of distinct requests, never with the
number of round trips.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import attrs

from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.model import OperationRun, RunId, RunStatus, as_names, as_optional_names


@runtime_checkable
class RunHistory(Protocol):
    """Answers later-success requests from the host's history of runs."""

    def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Mapping[LaterSuccessRequest, RunFact]:
        """For each request, the latest successful run that may supersede a problem run.

        The answer for a request is the run whose status is completed and outcome succeeded,
        whose stored type is one of ``request.operation_types``, whose workspace equals
        ``request.workspace_id`` and, unless ``request.environment_id`` is None (a workspace-owned
        type), whose environment equals it, whose context value under ``request.subject_key``
        equals ``request.subject`` as a string (when the request has a subject), and whose
        ``completed_at`` is at or before ``as_of``; among those, the one with the greatest event
        start (``started_at``, else ``created_at``), ties broken by the greater ``completed_at``,
        then the greater run id. A request with no such run is left out of the mapping. Runs with
        a missing or naive timestamp are never returned.

        Called once per batch with every request; an adapter may split a very large collection
        into chunks. A failure raises ``EvidenceFetchError`` naming the evidence kind; it never
        returns a partial answer.
        """
        ...


@runtime_checkable
class StateSource(Protocol):
    """Answers current-state requests for one state kind (e.g. ``provider_connection``)."""

    kind: str

    def current_states(
        self, requests: Collection[StateRequest]
    ) -> Mapping[StateRequest, StateFact]:
        """For each request, the current state of the object it names, if the source knows it.

        At most one fact per (kind, scope, subject): the current one, with the instant it was
        proven (``proven_at``, timezone-aware). The current state of an object is its fact with
        the greatest ``proven_at``; there is none when that fact has no status, when any fact of
        the object has a ``proven_at`` that cannot be placed in time, or when facts sharing the
        greatest ``proven_at`` disagree on the status; agreeing ties are resolved
        deterministically. An older fact never stands in for an unusable newer one. The core
        ignores a fact proven after ``as_of`` and checks that its scope and subject match the
        request. Called once per batch with every
        request of this kind; failures raise ``EvidenceFetchError``.
        """
        ...


def _as_statuses(values: Iterable[RunStatus | str] | None) -> frozenset[RunStatus] | None:
    return None if values is None else frozenset(RunStatus(value) for value in values)


@attrs.frozen(kw_only=True)
class RunQuery:
    """Which runs to list: every given filter must hold; None means no filter on that field.

    ``workspace_ids`` is required: a listing never spans scopes the caller did not name.
    ``environment_ids`` narrows within them (workspace-owned runs, with no environment, are
    kept only when ``include_workspace_runs`` is true). ``created_from`` is inclusive,
    ``created_before`` exclusive.

    ``as_of`` lists the runs as they were at that instant (see ``run_as_of``): a run created
    after it is left out, and a run that completed after it is listed as the active run it was
    then. ``statuses`` then filters on the status at ``as_of``.
    """

    workspace_ids: frozenset[str] = attrs.field(converter=as_names)
    environment_ids: frozenset[str] | None = attrs.field(default=None, converter=as_optional_names)
    include_workspace_runs: bool = True
    operation_types: frozenset[str] | None = attrs.field(default=None, converter=as_optional_names)
    statuses: frozenset[RunStatus] | None = attrs.field(default=None, converter=_as_statuses)
    created_from: datetime | None = None
    created_before: datetime | None = None
    as_of: datetime | None = None


def _aware(value: object) -> datetime | None:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return None


def run_as_of(run: OperationRun, as_of: datetime) -> OperationRun | None:
    """The run as it was at ``as_of``: None when it did not exist yet.

    - created after ``as_of``: it did not exist (None);
    - completed after ``as_of``: it was still active, so it has no outcome and no
      ``completed_at``; it was running when it had started by then (its ``started_at``, when
      recorded, is at or before ``as_of``; with none recorded its event start is its
      ``created_at``), else queued (and its ``started_at`` is dropped);
    - running, but started after ``as_of``: it was queued.

    Every other run is returned unchanged (the same object). A timestamp that cannot be placed
    in time (missing, naive, not a datetime) changes nothing: the run is returned as stored, for
    the core to flag, never dropped. A run whose ``created_at`` cannot be placed is such a run:
    whether it existed at ``as_of`` is unknown.
    """
    created = _aware(run.created_at)
    if created is None:
        return run
    if created > as_of:
        return None
    status = run.status
    if status is RunStatus.COMPLETED:
        completed = _aware(run.completed_at)
        if completed is None or completed <= as_of:
            return run
        started = _aware(run.started_at)
        if started is not None and started > as_of:
            return attrs.evolve(
                run, status=RunStatus.QUEUED, outcome=None, started_at=None, completed_at=None
            )
        return attrs.evolve(run, status=RunStatus.RUNNING, outcome=None, completed_at=None)
    if status is RunStatus.RUNNING:
        started = _aware(run.started_at)
        if started is not None and started > as_of:
            return attrs.evolve(run, status=RunStatus.QUEUED, started_at=None)
    return run


@attrs.frozen(kw_only=True)
class RunPage:
    """One page of runs, newest first, and the cursor for the next page (None on the last)."""

    runs: Sequence[OperationRun]
    next_cursor: str | None


@runtime_checkable
class RunSource(Protocol):
    """Lists runs of visible scopes, newest first, for the consumer helpers and the CLI."""

    def list_runs(self, query: RunQuery, *, limit: int = 100, cursor: str | None = None) -> RunPage:
        """Runs matching ``query`` ordered by ``created_at`` then id, both descending.

        ``cursor`` is the opaque ``next_cursor`` of the previous page (keyset pagination: a run
        inserted meanwhile never shifts a page). Rows that cannot be read cleanly are still
        returned, as ``OperationRun`` values whose bad fields the core will flag.
        """
        ...

    def get_run(self, run_id: RunId) -> OperationRun | None:
        """The run with this id, or None."""
        ...
