"""One run as a screen sees it, and the batch evaluation every consumer helper starts from.

Every helper (the dashboard summary, the follow-up and history lists, the primary action) reads
the same ``Assessment`` values, built from one list of results per batch, so two screens can never
disagree about a run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

import attrs

from runactionability.catalog import OperationCatalog
from runactionability.consumers.actions import is_repeatable, plan_actions
from runactionability.consumers.active_runs import ActiveRuns, is_active
from runactionability.consumers.shared import (
    IdKey,
    RecentByRunId,
    citing,
    id_key,
    replaced,
    shared_ids,
    shared_proofs,
    visible_at,
    without_shared_proofs,
)
from runactionability.errors import UsageError
from runactionability.model import OperationRun, RunId
from runactionability.ports import RunSource
from runactionability.registry import Registry
from runactionability.resolver import AsyncResolver, Resolver
from runactionability.result import (
    Actionability,
    ActionabilityResult,
    ActionKind,
    PrimaryAction,
)
from runactionability.scopes import VisibleScopes
from runactionability.verdicts import duplicate_result

CURRENT_FOLLOW_UP = frozenset({Actionability.ACTIONABLE, Actionability.REQUIRES_MANUAL_REVIEW})
"""The statuses of the current follow-up list: exactly those that need attention."""

HISTORY = frozenset(
    {
        Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        Actionability.RESOLVED_BY_CURRENT_STATE,
        Actionability.INFORMATIONAL_ONLY,
    }
)
"""The statuses of the history list: terminal runs that call for nothing now."""


@attrs.frozen(kw_only=True)
class Assessment:
    """A run, its current actionability, and what a screen may offer for it.

    ``eligible_actions`` holds every action kind a screen may enable; ``primary_action`` is the
    one it shows first (None for informational and active runs). ``active_run_id`` names the
    queued or running run of the same work that holds a retry back.
    """

    run: OperationRun
    result: ActionabilityResult
    primary_action: PrimaryAction | None
    eligible_actions: frozenset[ActionKind]
    active_run_id: RunId | None = None

    @property
    def run_id(self) -> RunId:
        return self.run.id

    @property
    def status(self) -> Actionability:
        return self.result.status

    @property
    def needs_attention(self) -> bool:
        return self.result.needs_attention

    @property
    def is_current_follow_up(self) -> bool:
        return self.result.status in CURRENT_FOLLOW_UP

    @property
    def is_history(self) -> bool:
        return self.result.status in HISTORY

    @property
    def is_active(self) -> bool:
        """Queued or running work: shown on progress surfaces, never counted as follow-up."""
        return self.result.status is Actionability.NOT_TERMINAL and is_active(self.run)

    def allows(self, kind: ActionKind) -> bool:
        """Whether a screen may offer this kind of action for the run."""
        return kind in self.eligible_actions


T = TypeVar("T", Assessment, ActionabilityResult)


def is_current_follow_up(item: Assessment | ActionabilityResult) -> bool:
    """Whether a result (or assessment) belongs on the current follow-up list."""
    return item.status in CURRENT_FOLLOW_UP


def is_history(item: Assessment | ActionabilityResult) -> bool:
    """Whether a result (or assessment) belongs on the history list."""
    return item.status in HISTORY


def current_follow_up(items: Iterable[T]) -> list[T]:
    """The items that need an operator now (actionable or manual review), in their order."""
    return [item for item in items if item.status in CURRENT_FOLLOW_UP]


def history(items: Iterable[T]) -> list[T]:
    """The terminal items that call for nothing now (superseded, resolved, informational)."""
    return [item for item in items if item.status in HISTORY]


def assess_results(
    runs: Sequence[OperationRun],
    results: Sequence[ActionabilityResult],
    *,
    scopes: VisibleScopes,
    registry: Registry,
    active: ActiveRuns,
) -> list[Assessment]:
    """Assessments for results a resolver already computed, one per visible run, in order.

    ``results`` must be the resolver's answer for ``runs`` (same length, same ids, same order),
    evaluated for these scopes (``Resolver.evaluate_many(runs, as_of=..., scopes=scopes)``):
    for an actor, evidence outside their scopes does not exist. Runs outside ``scopes`` are left
    out. A result resting on a proof outside them was evaluated for someone else; its status
    without that proof is unknown here, so it is a ``UsageError`` (naming the visible run only).
    """
    if len(runs) != len(results):
        raise UsageError(f"{len(runs)} runs but {len(results)} results")
    families = registry.families()
    # Only an actionable run of a repeatable family asks whether the same work is active: the
    # active runs those need are read (when they are read) in one go, before the first asks.
    active.prepare(
        run
        for run, result in zip(runs, results, strict=True)
        if result.status is Actionability.ACTIONABLE
        and result.family is not None
        and (family := families.get(result.family)) is not None
        and is_repeatable(family)
        and scopes.admits_run(run)
    )
    assessments: list[Assessment] = []
    for run, result in zip(runs, results, strict=True):
        if run.id != result.run_id:
            raise UsageError(f"result for run {result.run_id!r} paired with run {run.id!r}")
        if not scopes.admits_run(run):
            continue
        if result.proof is not None and not scopes.admits_proof(result.proof):
            raise UsageError(
                f"the result for run {run.id!r} was not evaluated for these visible scopes; "
                "pass scopes= to the resolver's evaluate_many"
            )
        family = families.get(result.family) if result.family is not None else None
        action, eligible, blocker = plan_actions(run, result, family=family, active=active)
        assessments.append(
            Assessment(
                run=run,
                result=result,
                primary_action=action,
                eligible_actions=eligible,
                active_run_id=blocker,
            )
        )
    return assessments


def assess(
    resolver: Resolver,
    runs: Iterable[OperationRun],
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    active: ActiveRuns | None = None,
    shared: Collection[IdKey] = (),
    source: RunSource | None = None,
    known: KnownResults | None = None,
) -> list[Assessment]:
    """Evaluate the visible runs in one batch and assess each, in input order.

    A run whose id another of these runs has, or whose key is in ``shared`` (``shared_with``:
    the ids that name two visible runs in the whole source), is not evaluated: it reads as
    ``requires_manual_review``, reason ``duplicate_run_id``, as every row sharing its id does.
    Nor is a success whose id names two visible runs (of these runs, or of ``source``, the
    source they were read from) evidence for another run (``shared_proofs``).

    Runs outside ``scopes`` are dropped before evaluation, and each run is taken as it was at
    ``as_of`` (``run_as_of``): one created later is dropped, one that completed later is the
    active run it was then. ``active`` defaults to the queued and
    running runs among ``runs`` (one whose id names two visible runs, of ``runs``, ``shared`` or
    ``source``, is never named: its work is offered a review, not a retry); pass
    ``ActiveRuns.from_source`` when ``runs`` is only a page.
    ``known`` holds the results a session has already evaluated (``KnownResults``).
    """
    visible = visible_at(runs, scopes, as_of)
    results = evaluate_visible(
        resolver, visible, scopes=scopes, as_of=as_of, shared=shared, source=source, known=known
    )
    return _assessed(resolver, visible, results, active, scopes, as_of, shared, source)


async def assess_async(
    resolver: AsyncResolver,
    runs: Iterable[OperationRun],
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    active: ActiveRuns | None = None,
    shared: Collection[IdKey] = (),
    source: RunSource | None = None,
) -> list[Assessment]:
    """``assess`` for asyncio hosts: the same assessments, the evidence awaited in one batch
    (and, when a success's id proves shared, the runs it would settle again, without it)."""
    visible = visible_at(runs, scopes, as_of)
    flagged = shared_ids(visible, shared)
    plain = [run for run in visible if id_key(run) not in flagged]
    evaluated = await resolver.evaluate_many(plain, as_of=as_of, scopes=scopes)
    refused = shared_proofs(source, evaluated, flagged, scopes, as_of)
    if refused:
        again = citing(plain, evaluated, refused)
        redone = await resolver.evaluate_many(again, as_of=as_of, scopes=scopes, shared_ids=refused)
        evaluated = replaced(evaluated, refused, redone)
    results = _merged(visible, flagged, evaluated, resolver.registry, resolver.catalog, as_of)
    return _assessed(resolver, visible, results, active, scopes, as_of, shared, source)


def _assessed(
    resolver: Resolver | AsyncResolver,
    visible: list[OperationRun],
    results: Sequence[ActionabilityResult],
    active: ActiveRuns | None,
    scopes: VisibleScopes,
    as_of: datetime,
    shared: Collection[IdKey],
    source: RunSource | None,
) -> list[Assessment]:
    # ``assess`` and ``assess_async`` alike: by default the queued and running runs among the
    # visible ones, asked about ``source`` for an id two visible runs may share.
    if active is None:
        active = ActiveRuns(
            visible,
            catalog=resolver.catalog,
            scopes=scopes,
            source=source,
            as_of=as_of,
            shared=shared,
        )
    return assess_results(
        visible, results, scopes=scopes, registry=resolver.registry, active=active
    )


def _merged(
    runs: Sequence[OperationRun],
    flagged: frozenset[IdKey],
    evaluated: Sequence[ActionabilityResult],
    registry: Registry,
    catalog: OperationCatalog,
    as_of: datetime,
) -> list[ActionabilityResult]:
    if not flagged:
        return list(evaluated)
    results = iter(evaluated)
    families = registry.families()
    merged = []
    for run in runs:
        if id_key(run) not in flagged:
            merged.append(next(results))
            continue
        op_type = catalog.resolve(run.type)
        known = op_type is not None and op_type.family in families
        merged.append(duplicate_result(run, op_type if known else None, as_of))
    return merged


KNOWN_KEPT = 1000
"""How many results a session's ``KnownResults`` keeps, the most recent."""


class KnownResults:
    """The results one request session has evaluated, by run, for its ``scopes`` at its
    ``as_of``: a run evaluated again in that session (the same row of the same snapshot) takes
    its result from here, and its evidence is not read again.

    A result depends on its run, the scopes, ``as_of`` and the evidence the snapshot holds,
    never on the other runs of its batch (each evidence request is the run's own), so it is the
    one a new batch would give. ``ahead`` is the follow-up page a request usually shows after
    its dashboard: when no more runs need attention, the dashboard evaluates them all. Only a
    session keeps one, never two sessions nor two actors. Not an attrs value: it grows.
    """

    def __init__(self, *, scopes: VisibleScopes, as_of: datetime, ahead: int = 0) -> None:
        self.scopes = scopes
        self.as_of = as_of
        self.ahead = ahead
        self._results = RecentByRunId[tuple[OperationRun, ActionabilityResult]](KNOWN_KEPT)
        self._resolver: Resolver | None = None

    def evaluate(
        self, resolver: Resolver, runs: Sequence[OperationRun], *, as_of: datetime
    ) -> list[ActionabilityResult]:
        """``resolver.evaluate_many`` of ``runs`` (of ``scopes``, at ``as_of``): the runs not
        known yet in one batch, the others as known. One resolver only: another one (other
        evidence, other policies) would be answered with the first one's results, so it is a
        ``UsageError``."""
        if self._resolver is None:
            self._resolver = resolver
        elif resolver is not self._resolver:
            raise UsageError("these known results were evaluated by another resolver")
        known = [self._known(run) for run in runs]
        missing = [run for run, result in zip(runs, known, strict=True) if result is None]
        fresh = iter(
            resolver.evaluate_many(missing, as_of=as_of, scopes=self.scopes) if missing else ()
        )
        results = []
        for run, result in zip(runs, known, strict=True):
            if result is None:
                result = next(fresh)
                self._results.keep(id_key(run), (run, result))
            results.append(result)
        return results

    def _known(self, run: OperationRun) -> ActionabilityResult | None:
        held = self._results.get(id_key(run))
        # The same row: an id is only the run it was when its result was kept.
        return held[1] if held is not None and (held[0] is run or held[0] == run) else None


def evaluate_visible(
    resolver: Resolver,
    visible: Sequence[OperationRun],
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    shared: Collection[IdKey] = (),
    source: RunSource | None = None,
    known: KnownResults | None = None,
) -> list[ActionabilityResult]:
    """``resolver.evaluate_many`` of the runs whose id no other visible run has (see
    ``assess``); the others read ``duplicate_run_id``, in input order. A run a success whose
    id names two visible runs would settle is evaluated again without it (``shared_proofs``).
    With ``known`` (for these ``scopes`` at this ``as_of``), a run it holds is not evaluated
    again."""
    flagged = shared_ids(visible, shared)
    plain = [run for run in visible if id_key(run) not in flagged]
    if known is not None and known.scopes == scopes and known.as_of == as_of and not flagged:
        evaluated = known.evaluate(resolver, plain, as_of=as_of)
    else:
        evaluated = resolver.evaluate_many(plain, as_of=as_of, scopes=scopes)
    evaluated = without_shared_proofs(
        resolver, plain, evaluated, source=source, flagged=flagged, scopes=scopes, as_of=as_of
    )
    return _merged(visible, flagged, evaluated, resolver.registry, resolver.catalog, as_of)
