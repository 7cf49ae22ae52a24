"""The ports: what the resolver and the consumers need from the host's storage.

Each port is a ``typing.Protocol``, documented here in full; adapters (``adapters.memory``,
``adapters.sqlalchemy``) document only how they differ. A port is called once per batch with
every request of its kind, so its cost grows with the number of distinct requests, never with the
number of round trips.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.model import OperationRun, RunId
from runactionability.model import RunPage as RunPage
from runactionability.model import RunQuery as RunQuery
from runactionability.model import run_as_of as run_as_of
from runactionability.result import ActiveCounts, StatusCounts
from runactionability.scopes import EnvironmentKey, VisibleScopes


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


@runtime_checkable
class JointEvidence(Protocol):
    """Optional on a ``RunHistory``: a batch's later successes and current states read together.

    A history that can read some state sources' tables itself (an SQL history and state sources
    over one database, say) offers this method, and the resolver, which looks for it on its
    history, then fetches a batch's evidence with one call instead of one per kind. A history
    without it is called as before; nothing else changes.

    ``states`` maps each state kind the batch asks about to its source and its requests, as the
    resolver would pass them to ``source.current_states``. The answer is a pair: what
    ``self.latest_successes(requests, as_of=as_of)`` returns, and, for each kind the history
    read, exactly what ``source.current_states(requests)`` returns for it (same facts, same
    rules, including a request with no fact being left out). A kind it cannot read (a source of
    another class, over another database) is left out of the second mapping, and the resolver
    asks that source itself; a kind it did read is never asked again. Both parts should be read
    in one snapshot. A failure raises ``EvidenceFetchError``; there is never a partial answer.
    """

    def latest_successes_with_states(
        self,
        requests: Collection[LaterSuccessRequest],
        states: Mapping[str, tuple[StateSource, Collection[StateRequest]]],
        *,
        as_of: datetime,
    ) -> tuple[
        Mapping[LaterSuccessRequest, RunFact], Mapping[str, Mapping[StateRequest, StateFact]]
    ]:
        """The later successes and the current states of the kinds it could read (above)."""
        ...


class AsyncRunHistory(Protocol):
    """``RunHistory`` for asyncio hosts: the same contract, awaited."""

    def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Awaitable[Mapping[LaterSuccessRequest, RunFact]]: ...


class AsyncStateSource(Protocol):
    """``StateSource`` for asyncio hosts: the same contract, awaited."""

    kind: str

    def current_states(
        self, requests: Collection[StateRequest]
    ) -> Awaitable[Mapping[StateRequest, StateFact]]: ...


class AsyncJointEvidence(Protocol):
    """``JointEvidence`` for asyncio hosts, on an ``AsyncRunHistory``: the same contract, awaited;
    ``states`` names ``AsyncStateSource`` values."""

    def latest_successes_with_states(
        self,
        requests: Collection[LaterSuccessRequest],
        states: Mapping[str, tuple[AsyncStateSource, Collection[StateRequest]]],
        *,
        as_of: datetime,
    ) -> Awaitable[
        tuple[Mapping[LaterSuccessRequest, RunFact], Mapping[str, Mapping[StateRequest, StateFact]]]
    ]: ...


@runtime_checkable
class RunSource(Protocol):
    """Lists runs of visible scopes, newest first, for the consumer helpers and the CLI."""

    def list_runs(self, query: RunQuery, *, limit: int = 100, cursor: str | None = None) -> RunPage:
        """Runs matching ``query`` ordered by ``created_at`` then id, both descending.

        ``cursor`` is the opaque ``next_cursor`` of the previous page (keyset pagination: a run
        inserted meanwhile never shifts a page). Rows that cannot be read cleanly are still
        returned, as ``OperationRun`` values whose bad fields the core will flag.

        ``query.workspace_ids`` None is every workspace (``VisibleScopes.every_workspace``, an
        actor from whom no workspace is hidden): every run whose workspace id ``usable_id``
        reads, and no other, found without a list of every workspace (the library's SQL source
        tests each row's own id, ``ids.usable_stored_id``). A run with no usable workspace id
        is in no scope, so it is never listed, not even then.

        ``limit`` is an ``int`` (not a ``bool``, nor a text such as ``"5"``) from 1 to
        ``MAX_LIMIT`` (10,000); the library's sources refuse anything else with a
        ``UsageError`` before any statement (``limits.check_limit``), as the request API does.
        """
        ...

    def get_run(self, run_id: RunId) -> OperationRun | None:
        """The run with this id, or None.

        A store that may hold two rows with one id (a host table without a primary key) raises
        ``DuplicateRunError`` for an id that two of its rows hold, of any scope, rather than
        return one of them (which it could only pick arbitrarily): such an id reads
        ``duplicate_run_id`` everywhere else. Its ``RunsById.runs_by_ids`` returns them all.
        It reads every scope, so it is no way to answer an actor: a hidden row sharing the id
        would show as that error. A host serving an actor asks the request session
        (``RequestSession.explain``, ``primary_action``), which reads only the actor's rows.
        """
        ...


@runtime_checkable
class RunsById(Protocol):
    """Optional on a ``RunSource``: every row of an actor's scopes that holds one of some run ids.

    A host table without a primary key may hold two rows with one id; ``get_run`` refuses such
    an id (``DuplicateRunError``). A source offering this port lets the consumers see all of
    them, so that an id naming two visible runs reads as ``requires_manual_review`` (reason
    ``duplicate_run_id``) on every page and in ``explain`` alike, even when the two fall in
    different pages, and a success with such an id is no evidence. A source without it is
    judged one page at a time.

    Both reading methods take the actor's ``scopes`` and read no row outside them: a row of
    another workspace or environment is not read at all, not even to be dropped by the caller,
    so one the store cannot decode fails nothing visible, no error quotes it, and an id shared
    only inside hidden scopes changes nothing an actor can see or time. A row is in ``scopes``
    exactly when ``VisibleScopes.admits`` admits its workspace and environment, as ``list_runs``
    filters the same scopes (ids compared in their column's type, text byte for byte); a row
    without an id is in none. ``scopes`` None is the whole database, for an actor from whom
    nothing is hidden (``EveryWorkspace`` without environments): every row, those in no
    workspace too. No caller passes None for an actor with scopes. ``scopes`` of every
    workspace (``workspace_ids`` None, ``EveryWorkspace`` with environments) are every row
    whose workspace id is usable, within their environments, read without a list of ids.
    """

    def runs_by_ids(
        self, run_ids: Collection[RunId], scopes: VisibleScopes | None
    ) -> Sequence[OperationRun]:
        """Every row of ``scopes`` whose id is one of ``run_ids`` (at most a page's ids, or the
        one id of an explanation), as stored (the caller keeps those that existed at its
        ``as_of``), in any order, in one read. An id that is not a str or an int is a
        ``UsageError``; an id the store cannot hold (a text where ids are integers, U+0000)
        matches no row, quietly, as ``get_run`` answers None for it. The ids of ``scopes``
        are taken as ``list_runs`` takes a query's."""
        ...

    def unique_ids(self) -> bool:
        """Whether the store proves that no two rows share an id (a primary key or a valid
        unique index on the id alone): the consumers then never call ``runs_by_ids`` for a page.
        Asked when a service is built and for each page, so a source reads it once and keeps it
        (a table that does not exist yet is asked again). It reads the store's schema, never a
        row, so it is the same for every actor."""
        ...

    def shares_ids(self, scopes: VisibleScopes | None) -> bool:
        """Whether two rows of ``scopes`` share an id (False at once when ``unique_ids``). The
        store's own counts and follow-up list are then not used for that actor: the consumers
        judge every run of its scopes themselves. Asked at most once per session; it may read
        every row of the scopes, which is why a store that can prove unique ids says so through
        ``unique_ids``."""
        ...


class StoreCounts(Protocol):
    """Counts by status, by family and by environment, as a ``StoreEvaluation`` returns them."""

    @property
    def counts(self) -> StatusCounts: ...

    @property
    def by_family(self) -> Mapping[str | None, StatusCounts]: ...

    @property
    def by_environment(self) -> Mapping[EnvironmentKey, StatusCounts]: ...


@runtime_checkable
class StoreActiveCounts(Protocol):
    """``StoreCounts`` that count the active work too (``ActiveCounts``), exactly as the
    dashboard counts it from the active runs' results; a dashboard then reads only the newest."""

    @property
    def active(self) -> ActiveCounts: ...


class StorePage(Protocol):
    """One page of the current follow-up list, newest first, as a ``StoreEvaluation`` returns it.

    ``scanned`` counts the runs the store read to fill the page; ``next_cursor`` None is the end.
    """

    @property
    def runs(self) -> Sequence[OperationRun]: ...

    @property
    def next_cursor(self) -> str | None: ...

    @property
    def scanned(self) -> int: ...


@runtime_checkable
class StoreEvaluation(Protocol):
    """A store that computes current actionability itself, e.g. the SQL pushdown.

    It must give every run the status the ``Resolver`` gives it (the pushdown's differential
    test proves this), count only the runs of ``scopes``, and list the runs needing attention
    (actionable, manual review) of ``scopes`` newest first by (created_at, id). The helpers that
    take one use it for counts and for choosing which runs to show, and still explain, prove and
    offer actions for those runs with the resolver.
    """

    def count(self, scopes: VisibleScopes, *, as_of: datetime) -> StoreCounts: ...

    def follow_up_page(
        self,
        scopes: VisibleScopes,
        *,
        as_of: datetime,
        limit: int = 50,
        cursor: str | None = None,
    ) -> StorePage:
        """The first ``limit`` runs needing attention after ``cursor``, newest first.

        ``limit`` is an ``int`` (not a ``bool``, nor a text such as ``"5"``) from 1 to
        ``MAX_LIMIT`` (10,000), and ``cursor`` one this store issued: anything else is refused
        with a ``UsageError`` (``InvalidCursorError`` for a cursor) before any statement, as
        the request API refuses it, so a host calling the port directly cannot make one call
        read a whole table. ``limits.check_limit`` is the rule.
        """
        ...
