"""The dashboard summary: every count, list and action from one list of assessments."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

import attrs

from runactionability.consumers.active_runs import ActiveRuns, KeyedActiveRuns, is_active
from runactionability.consumers.assess import (
    Assessment,
    KnownResults,
    assess,
    assess_results,
    evaluate_visible,
)
from runactionability.consumers.listing import read_runs
from runactionability.consumers.shared import IdKey, shared_with, visible_at
from runactionability.limits import check_limit
from runactionability.model import OperationRun, RunId, RunStatus, usable_id
from runactionability.ports import (
    RunSource,
    StoreActiveCounts,
    StoreCounts,
    StoreEvaluation,
)
from runactionability.resolver import Resolver
from runactionability.result import Actionability, ActionabilityResult, ActiveCounts, StatusCounts
from runactionability.scopes import EnvironmentKey, VisibleScopes
from runactionability.telemetry import DASHBOARD, traced

_OLDEST = datetime.min.replace(tzinfo=UTC)


@attrs.frozen(kw_only=True)
class ActiveWork:
    """Queued and running work, kept apart from follow-up: it never counts as needing attention.

    ``by_type`` counts by canonical type (the stored name when the type is unknown); ``newest``
    holds the most recently created active runs.
    """

    queued: int
    running: int
    by_type: Mapping[str, int]
    newest: tuple[Assessment, ...]

    @property
    def total(self) -> int:
        return self.queued + self.running


@attrs.frozen(kw_only=True)
class DashboardSummary:
    """What an operations dashboard shows for an actor's visible scopes at ``as_of``.

    ``needs_attention`` equals ``counts.needs_attention`` and the sum over families and over
    environments, because all come from the same assessments. ``top`` holds the runs needing
    attention, most recently completed first, each with its explanation and primary action.
    """

    scopes: VisibleScopes
    as_of: datetime
    counts: StatusCounts
    by_family: Mapping[str | None, StatusCounts]
    by_environment: Mapping[EnvironmentKey, StatusCounts]
    top: tuple[Assessment, ...]
    active: ActiveWork

    @property
    def needs_attention(self) -> int:
        return self.counts.needs_attention


def _instant(value: object) -> datetime:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return _OLDEST


def _id_key(run_id: RunId) -> tuple[bool, RunId]:
    # Ints order numerically and strings lexically, as a database orders one typed id column.
    return (isinstance(run_id, str), run_id)


def _recency(item: Assessment) -> tuple[datetime, tuple[bool, RunId]]:
    # Newest created first, ties by id: the order of the current follow-up list and of the
    # store's pages, so the dashboard's top runs are the head of that list on either path.
    run = item.run
    return (_instant(run.created_at), _id_key(run.id))


def summarize(
    assessments: Iterable[Assessment],
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    top: int = 10,
) -> DashboardSummary:
    """Summarize assessments for ``scopes``; any assessment outside them is left out."""
    check_limit(top, name="top", least=0)
    items = [item for item in assessments if scopes.admits_run(item.run)]
    by_family: dict[str | None, list[Assessment]] = {}
    by_environment: dict[EnvironmentKey, list[Assessment]] = {}
    for item in items:
        by_family.setdefault(item.result.family, []).append(item)
        workspace_id = usable_id(item.run.workspace_id)
        if workspace_id is not None:
            env_key = (workspace_id, usable_id(item.run.environment_id))
            by_environment.setdefault(env_key, []).append(item)
    attention = sorted((i for i in items if i.needs_attention), key=_recency, reverse=True)
    active = [item for item in items if item.is_active]
    return DashboardSummary(
        scopes=scopes,
        as_of=as_of,
        counts=StatusCounts.of(items),
        by_family=MappingProxyType(
            {
                name: StatusCounts.of(group)
                for name, group in sorted(
                    by_family.items(), key=lambda kv: (kv[0] is None, kv[0] or "")
                )
            }
        ),
        by_environment=MappingProxyType(
            {
                key: StatusCounts.of(group)
                for key, group in sorted(
                    by_environment.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
                )
            }
        ),
        top=tuple(attention[:top]),
        active=_active_work(
            [(item.run, item.result) for item in active],
            top=top,
            assessed=lambda newest: [active[index] for index, _ in newest],
        ),
    )


_Evaluated = tuple[OperationRun, ActionabilityResult]


def _active_work(
    evaluated: Sequence[_Evaluated],
    *,
    top: int,
    assessed: Callable[[list[tuple[int, _Evaluated]]], Sequence[Assessment]],
) -> ActiveWork:
    """Active work from the active runs' results: counted from the results alone, and only
    the ``top`` newest handed to ``assessed`` (with their positions) for their assessments."""
    by_type: dict[str, int] = {}
    queued = running = 0
    for run, result in evaluated:
        name = result.operation_type or str(run.type)
        by_type[name] = by_type.get(name, 0) + 1
        queued += run.status is RunStatus.QUEUED
        running += run.status is RunStatus.RUNNING
    # A stable sort, newest first: ties keep their order, as the assessments' sort did.
    newest = sorted(
        enumerate(evaluated),
        key=lambda pair: (_instant(pair[1][0].created_at), _id_key(pair[1][0].id)),
        reverse=True,
    )[:top]
    return ActiveWork(
        queued=queued,
        running=running,
        by_type=MappingProxyType(dict(sorted(by_type.items()))),
        newest=tuple(assessed(newest)),
    )


def active_work(
    resolver: Resolver,
    active: ActiveRuns,
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    newest: int = 10,
    source: RunSource | None = None,
) -> ActiveWork:
    """The work of ``active`` at ``as_of``, as ``summarize`` gives it for their assessments:
    every run is evaluated (one batch, no evidence read), only the ``newest`` are assessed.

    A run whose id another visible run of ``source`` (the one ``active`` was read from) shares
    reads ``duplicate_run_id``, as on every page, so it is not active work: it needs attention.
    """
    visible = visible_at(active, scopes, as_of)
    shared = () if source is None else shared_with(source, visible, scopes, as_of)
    results = evaluate_visible(resolver, visible, scopes=scopes, as_of=as_of, shared=shared)
    return _active_of(resolver, visible, results, scopes=scopes, top=newest, active=active)


def _active_of(
    resolver: Resolver,
    runs: Sequence[OperationRun],
    results: Sequence[ActionabilityResult],
    *,
    scopes: VisibleScopes,
    top: int,
    active: ActiveRuns,
) -> ActiveWork:
    # Only queued and running runs with no outcome are active work (rule 2 makes each of them
    # not terminal); any other run here is not counted, as ``summarize`` counts none.
    evaluated = [
        (run, result)
        for run, result in zip(runs, results, strict=True)
        if result.status is Actionability.NOT_TERMINAL and is_active(run)
    ]

    def assessed(newest: list[tuple[int, _Evaluated]]) -> list[Assessment]:
        return assess_results(
            [run for _, (run, _) in newest],
            [result for _, (_, result) in newest],
            scopes=scopes,
            registry=resolver.registry,
            active=active,
        )

    return _active_work(evaluated, top=top, assessed=assessed)


@traced(DASHBOARD, "runactionability.consumers.dashboard", runs=lambda d: d.counts.total)
def dashboard(
    source: RunSource,
    resolver: Resolver,
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    top: int = 10,
    created_from: datetime | None = None,
    on_page: Callable[[int], None] | None = None,
    store: StoreEvaluation | None = None,
    active: ActiveRuns | None = None,
    known: KnownResults | None = None,
) -> DashboardSummary:
    """The dashboard summary of every run of ``scopes`` (created since ``created_from``).

    The runs are evaluated in one batch, so counts, the top list and the actions come from one
    list of results. They are the runs as they were at ``as_of``: a run created later is not
    counted, and one that completed later is active work (``not_terminal``). With a ``store``
    (and no ``created_from``), the store counts and picks the top runs (the newest needing
    attention, by creation), so only those and the active runs are read here; the active runs
    are counted from their results, and only the ``top`` newest of them assessed.
    ``active`` holds the queued and running runs of ``scopes`` at ``as_of`` when the caller has
    read them from the same snapshot already (as ``list_assessed`` and ``assess`` take it);
    they are then neither read again nor indexed again.
    ``known`` (a session's ``KnownResults``, store path only) keeps the batch's results, and
    when at most ``known.ahead`` runs need attention the batch evaluates every one of them, for
    the page the session shows next (one evidence read for both, where each read its own).
    ``top`` is an int from 0 to ``MAX_LIMIT`` (``UsageError`` before any read).
    """
    check_limit(top, name="top", least=0)
    if store is not None and created_from is None:
        return _from_store(
            store, source, resolver, scopes=scopes, as_of=as_of, top=top, active=active, known=known
        )
    # The runs as they were at as_of: none created later, none completed later.
    query = scopes.query(created_from=created_from, as_of=as_of)
    runs = read_runs(source, query, on_page=on_page)
    if created_from is None:
        active = ActiveRuns(runs, catalog=resolver.catalog, scopes=scopes)
    elif active is None:
        # Work created before the window may still be running, and then it holds back a retry.
        active = ActiveRuns.from_source(
            source, catalog=resolver.catalog, scopes=scopes, as_of=as_of
        )
    # A window may leave out the other row of a shared id: the source tells (one batch does not).
    shared = () if created_from is None else shared_with(source, runs, scopes, as_of)
    items = assess(
        resolver, runs, scopes=scopes, as_of=as_of, active=active, shared=shared, source=source
    )
    return summarize(items, scopes=scopes, as_of=as_of, top=top)


def _from_store(
    store: StoreEvaluation,
    source: RunSource,
    resolver: Resolver,
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    top: int,
    active: ActiveRuns | None,
    known: KnownResults | None = None,
) -> DashboardSummary:
    counts = store.count(scopes, as_of=as_of)
    shown: Sequence[OperationRun] = ()
    ahead: Sequence[OperationRun] = ()
    if top > 0:
        # The whole follow-up list when the page ahead holds it (a longer one would make each
        # dashboard dearer for a page that may not follow); its first ``top`` are the top.
        fits = known is not None and counts.counts.needs_attention <= known.ahead
        limit = max(top, known.ahead) if fits and known is not None else top
        listed = store.follow_up_page(scopes, as_of=as_of, limit=limit).runs
        shown, ahead = listed[:top], listed[top:]
    shared = shared_with(source, shown, scopes, as_of)
    if isinstance(counts, StoreActiveCounts):
        if active is None:
            active = KeyedActiveRuns(source, catalog=resolver.catalog, scopes=scopes, as_of=as_of)
        # The store counted the active work: only the top newest active runs are read (when not
        # held already) and evaluated.
        tally = counts.active
        newest = active.newest(top, count=tally.queued + tally.running)
        working: Iterable[OperationRun] = newest
        counted: ActiveCounts | None = tally
    else:
        if active is None:
            query = scopes.query(statuses={RunStatus.QUEUED, RunStatus.RUNNING}, as_of=as_of)
            active = ActiveRuns(
                read_runs(source, query),
                catalog=resolver.catalog,
                scopes=scopes,
                source=source,
                as_of=as_of,
            )
        working, counted = active, None
    batch = _Batch(shown, working, ahead, shared, known)
    return _summary(counts, batch, resolver, scopes, as_of, top, active, counted, source)


@attrs.frozen
class _Batch:
    """What a store's dashboard evaluates in one batch: the ``shown`` top runs, the ``working``
    active runs, and the follow-up runs ``ahead`` of the top that a ``known`` keeps."""

    shown: Sequence[OperationRun]
    working: Iterable[OperationRun]
    ahead: Sequence[OperationRun]
    shared: frozenset[IdKey]
    known: KnownResults | None


def _summary(
    counts: StoreCounts,
    batch: _Batch,
    resolver: Resolver,
    scopes: VisibleScopes,
    as_of: datetime,
    top: int,
    active: ActiveRuns,
    active_counts: ActiveCounts | None,
    source: RunSource,
) -> DashboardSummary:
    """The summary of a store's counts, its ``shown`` runs and the ``working`` active runs,
    evaluated in one batch; the active work is counted from their results, or taken from
    ``active_counts`` when the store counted it."""
    # Runs outside the scopes (or not existing at as_of) are dropped here first: the split of
    # the batch into the top runs and the active ones is then by position, and exact.
    shown = visible_at(batch.shown, scopes, as_of)
    # A queued run that records an outcome is invalid, so it may be on the follow-up list too.
    listed = {run.id for run in shown}
    working = visible_at((run for run in batch.working if run.id not in listed), scopes, as_of)
    # The runs ahead join the batch for their evidence alone (an id twice would read as shared).
    taken = {*listed, *(run.id for run in working)}
    ahead = [run for run in visible_at(batch.ahead, scopes, as_of) if run.id not in taken]
    # One batch: the shown runs' evidence is read once; the active runs need none (rule 2).
    results = evaluate_visible(
        resolver,
        [*shown, *working, *ahead],
        scopes=scopes,
        as_of=as_of,
        shared=batch.shared,
        known=batch.known,
        source=source,
    )
    split, end = len(shown), len(shown) + len(working)
    # Every active run is counted, but only the newest shown are assessed (the rest would be
    # built for nothing: ~580 on a 20,000-run workspace of the benchmark).
    work = _active_of(resolver, working, results[split:end], scopes=scopes, top=top, active=active)
    if active_counts is not None:
        work = attrs.evolve(
            work,
            queued=active_counts.queued,
            running=active_counts.running,
            by_type=MappingProxyType(dict(sorted(active_counts.by_type.items()))),
        )
    return DashboardSummary(
        scopes=scopes,
        as_of=as_of,
        counts=counts.counts,
        by_family=counts.by_family,
        by_environment=counts.by_environment,
        top=tuple(
            assess_results(
                shown, results[:split], scopes=scopes, registry=resolver.registry, active=active
            )
        ),
        active=work,
    )
