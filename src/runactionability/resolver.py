"""The resolvers: short loops around the core that fetch the evidence a plan asks for.

``Resolver`` calls synchronous ports; ``AsyncResolver`` awaits asynchronous ones. Both plan and
decide with the same ``Core``, so they cannot disagree.
"""

from __future__ import annotations

import copy
import sys
import warnings
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from runactionability.catalog import OperationCatalog
from runactionability.core import Core, Outcome, Plan
from runactionability.errors import (
    MissingStateSourceError,
    MissingStateSourceWarning,
    UsageError,
)
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.fetching import (
    fetch,
    fetch_async,
    fetching,
    joint_answer,
    joint_kinds,
    joint_read,
    joint_sources,
    visible,
    visible_requests,
)
from runactionability.model import OperationRun
from runactionability.ports import AsyncRunHistory, AsyncStateSource, RunHistory, StateSource
from runactionability.registry import Registry
from runactionability.result import ActionabilityResult
from runactionability.telemetry import EVALUATE, Recorder, count_results, not_counted, span

if TYPE_CHECKING:
    from runactionability.scopes import VisibleScopes


class _Shell:
    """What both resolvers share: configuration checks, the core, and reporting to observers."""

    def __init__(
        self,
        *,
        registry: Registry | None,
        catalog: OperationCatalog | None,
        state_kinds: Iterable[str],
        strict: bool,
    ) -> None:
        self.registry = Registry.default() if registry is None else registry
        self.catalog = self.registry.catalog() if catalog is None else catalog
        if not isinstance(self.catalog, OperationCatalog):
            raise UsageError(f"catalog must be an OperationCatalog, not {type(catalog).__name__}")
        self.registry.check_coverage(self.catalog)
        families = self.registry.families()
        available = frozenset(state_kinds)
        used = {family.name: family for family in families.values()}
        missing = sorted(
            (name, kind)
            for name, family in used.items()
            if name in self.catalog.families()
            for kind in family.state_kinds
            if kind not in available
        )
        if missing:
            if strict:
                raise MissingStateSourceError(missing)
            _warn_at_caller(
                MissingStateSourceWarning(
                    str(MissingStateSourceError(missing))
                    + "; those families can be superseded by a later success but never "
                    "resolved by state"
                ),
                depth=3,
            )
        self.strict = strict
        self.core = Core(
            catalog=self.catalog, families=families, state_kinds=available, strict=strict
        )

    def plan(
        self,
        runs: Iterable[OperationRun],
        as_of: datetime,
        scopes: VisibleScopes | None,
        recording: Recorder,
    ) -> tuple[Plan, Mapping[LaterSuccessRequest, LaterSuccessRequest]]:
        """The plan of ``runs`` and the later successes an actor of ``scopes`` may ask for."""
        started = recording.clock()
        plan = self.core.plan(runs, as_of=as_of)  # type: ignore[arg-type]
        recording.core_since(started)
        return plan, visible_requests(plan.later_success_requests, scopes)

    def decide(
        self,
        plan: Plan,
        successes: Mapping[LaterSuccessRequest, RunFact],
        states: dict[str, Mapping[StateRequest, StateFact]],
        asked: Mapping[LaterSuccessRequest, LaterSuccessRequest],
        scopes: VisibleScopes | None,
        shared_ids: Collection[tuple[type, object]],
        recording: Recorder,
    ) -> Outcome:
        """The core's decision on the evidence fetched for ``plan``, kept to what an actor of
        ``scopes`` may see and without the successes of ``shared_ids`` (``fetching.visible``)."""
        successes, states = visible(successes, states, asked, scopes, shared_ids)
        started = recording.clock()
        outcome = self.core.decide(plan, successes=successes, states=states)
        recording.core_since(started)
        recording.set("runactionability.runs.count", len(outcome.results))
        return outcome

    def finish(self, outcome: Outcome, as_of: datetime) -> list[ActionabilityResult]:
        count_results(outcome.results)
        # The results are final here; an observer that raises is reported and never loses them.
        notify = self.registry.notify
        with not_counted():
            for violation in outcome.violations:
                notify("runactionability_policy_violation", violation=violation)
            results = tuple(outcome.results)
            notify("runactionability_results_evaluated", results=results, as_of=as_of)
        return outcome.results


def _warn_at_caller(warning: Warning, *, depth: int) -> None:
    """Issue ``warning`` at the frame ``depth`` levels up, shown as one line.

    ``warnings.warn`` would print the caller's source line under the message (a line of the
    host's code, or of the CLI's, that says nothing the message does not). The location is given
    as the caller's module name, which no file is named after, so the line reads
    ``module:lineno: Category: message``; filters and once-per-location deduplication work on
    the caller's module exactly as ``warnings.warn`` would make them.
    """
    frame = sys._getframe(depth)
    module = frame.f_globals.get("__name__") or "<unknown>"
    warnings.warn_explicit(
        warning,
        type(warning),
        filename=module,
        lineno=frame.f_lineno,
        module=module,
        registry=frame.f_globals.setdefault("__warningregistry__", {}),
    )


def _check_sources(states: Mapping[str, object] | None) -> dict[str, object]:
    sources = dict(states or {})
    for kind, source in sources.items():
        if getattr(source, "kind", kind) != kind:
            raise UsageError(
                f"the state source registered for {kind!r} serves kind {source.kind!r}"  # type: ignore[attr-defined]
            )
    return sources


class Resolver:
    """Evaluates runs against the registry's families, fetching evidence through the ports.

    ``states`` maps each state kind to its source. A family that may ask for a state kind with no
    source gets a ``MissingStateSourceWarning`` at construction (``MissingStateSourceError`` when
    ``strict``); ``strict`` also re-raises a policy's own exceptions, which tests want.
    """

    def __init__(
        self,
        *,
        history: RunHistory,
        registry: Registry | None = None,
        catalog: OperationCatalog | None = None,
        states: Mapping[str, StateSource] | None = None,
        strict: bool = False,
    ) -> None:
        self._states: dict[str, StateSource] = _check_sources(states)  # type: ignore[assignment]
        self._shell = _Shell(
            registry=registry, catalog=catalog, state_kinds=self._states, strict=strict
        )
        self.history = history

    @property
    def registry(self) -> Registry:
        return self._shell.registry

    @property
    def catalog(self) -> OperationCatalog:
        return self._shell.catalog

    def with_ports(self, *, history: RunHistory, states: Mapping[str, StateSource]) -> Resolver:
        """This resolver reading through other ports of the same state kinds.

        The copy shares the configuration this resolver checked (and warned about) once, so a
        long-lived service gives each request a resolver over that request's snapshot without
        checking the registry, building the core or repeating a warning again.
        """
        sources: dict[str, StateSource] = _check_sources(states)  # type: ignore[assignment]
        if sources.keys() != self._states.keys():
            raise UsageError(
                f"the resolver was built for the state kinds {sorted(self._states)}, "
                f"not {sorted(sources)}"
            )
        clone = copy.copy(self)
        clone.history = history
        clone._states = sources
        return clone

    def evaluate(self, run: OperationRun, *, as_of: datetime) -> ActionabilityResult:
        """The current actionability of one run."""
        return self.evaluate_many((run,), as_of=as_of)[0]

    def evaluate_many(
        self,
        runs: Iterable[OperationRun],
        *,
        as_of: datetime,
        scopes: VisibleScopes | None = None,
        shared_ids: Collection[tuple[type, object]] = (),
    ) -> list[ActionabilityResult]:
        """The current actionability of every run, in input order, one result per run.

        The history port is called at most once and each state source at most once, whatever
        the number of runs. With ``scopes`` (an actor's ``VisibleScopes``), evidence outside
        them does not exist: the history is asked only for runs the actor may see, and any
        fact outside them is dropped before the core decides, so each result is what it would
        be if the hidden rows were not stored at all. ``shared_ids`` holds the run ids (as
        ``(id.__class__, id)``) that name two visible runs: a success with one of them is no
        evidence either (its proof would cite an id naming two runs); the run is judged without
        it, so an older success it hid is not looked for either.
        """
        shell = self._shell
        with span(EVALUATE, "runactionability.Resolver.evaluate_many") as recording:
            plan, asked = shell.plan(runs, as_of, scopes, recording)
            successes: Mapping[LaterSuccessRequest, RunFact] = {}
            states: dict[str, Mapping[StateRequest, StateFact]] = {}
            joint = joint_read(self.history, asked, plan)
            if joint is not None:
                sources = joint_sources(self._states, plan)
                with fetching(kinds := joint_kinds(asked, plan)):
                    answer = joint(asked.keys(), sources, as_of=as_of)
                successes, states = joint_answer(kinds, answer, plan)
            elif asked:
                successes = fetch(
                    "later success",
                    partial(self.history.latest_successes, asked.keys(), as_of=as_of),
                )
            for kind, requests in plan.state_requests.items():
                if kind not in states:
                    read = partial(self._states[kind].current_states, requests)
                    states[kind] = fetch(kind, read)
            outcome = shell.decide(plan, successes, states, asked, scopes, shared_ids, recording)
        return shell.finish(outcome, as_of)


class AsyncResolver:
    """``Resolver`` for asyncio hosts: the same core, with awaited ports."""

    def __init__(
        self,
        *,
        history: AsyncRunHistory,
        registry: Registry | None = None,
        catalog: OperationCatalog | None = None,
        states: Mapping[str, AsyncStateSource] | None = None,
        strict: bool = False,
    ) -> None:
        self._states: dict[str, AsyncStateSource] = _check_sources(states)  # type: ignore[assignment]
        self._shell = _Shell(
            registry=registry, catalog=catalog, state_kinds=self._states, strict=strict
        )
        self.history = history

    @property
    def registry(self) -> Registry:
        return self._shell.registry

    @property
    def catalog(self) -> OperationCatalog:
        return self._shell.catalog

    async def evaluate(self, run: OperationRun, *, as_of: datetime) -> ActionabilityResult:
        """The current actionability of one run."""
        return (await self.evaluate_many((run,), as_of=as_of))[0]

    async def evaluate_many(
        self,
        runs: Iterable[OperationRun],
        *,
        as_of: datetime,
        scopes: VisibleScopes | None = None,
        shared_ids: Collection[tuple[type, object]] = (),
    ) -> list[ActionabilityResult]:
        """The current actionability of every run, in input order (see ``Resolver``)."""
        shell = self._shell
        with span(EVALUATE, "runactionability.AsyncResolver.evaluate_many") as recording:
            plan, asked = shell.plan(runs, as_of, scopes, recording)
            successes: Mapping[LaterSuccessRequest, RunFact] = {}
            states: dict[str, Mapping[StateRequest, StateFact]] = {}
            joint = joint_read(self.history, asked, plan)
            if joint is not None:
                sources = joint_sources(self._states, plan)
                with fetching(kinds := joint_kinds(asked, plan)):
                    answer = await joint(asked.keys(), sources, as_of=as_of)
                successes, states = joint_answer(kinds, answer, plan)
            elif asked:
                successes = await fetch_async(
                    "later success",
                    partial(self.history.latest_successes, asked.keys(), as_of=as_of),
                )
            for kind, requests in plan.state_requests.items():
                if kind not in states:
                    read = partial(self._states[kind].current_states, requests)
                    states[kind] = await fetch_async(kind, read)
            outcome = shell.decide(plan, successes, states, asked, scopes, shared_ids, recording)
        return shell.finish(outcome, as_of)
