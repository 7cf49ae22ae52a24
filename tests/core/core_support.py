"""Builders shared by the core tests: runs, state facts and resolvers over the memory ports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from runactionability import (
    ActionabilityResult,
    OperationCatalog,
    OperationRun,
    Registry,
    Resolver,
    StateFact,
    hookimpl,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AS_OF = T0 + timedelta(days=1)
MINUTE = timedelta(minutes=1)

STATE_KINDS = (
    "backup_set",
    "baseline_snapshot",
    "environment_review",
    "evidence_snapshot",
    "provider_connection",
    "review_pack",
)
"""Every state kind a built-in family may ask for."""

_UNSET: Any = object()


def run(
    run_id: str | int,
    type: str = "provider.connection.check",
    *,
    outcome: Any = "failed",
    status: Any = "completed",
    workspace_id: Any = "acme",
    environment_id: Any = "prod",
    created_at: Any = T0,
    started_at: Any = None,
    completed_at: Any = _UNSET,
    context: Any = _UNSET,
) -> OperationRun:
    """A run with sensible defaults: a failed provider check of connection 7, done in a minute."""
    if completed_at is _UNSET:
        start = started_at or created_at
        start = start if isinstance(start, datetime) else T0
        completed_at = start + MINUTE if status == "completed" else None
    if context is _UNSET:
        context = {"provider_connection_id": 7}
    return OperationRun(
        id=run_id,
        type=type,
        workspace_id=workspace_id,
        environment_id=environment_id,
        status=status,
        outcome=outcome,
        created_at=created_at,
        started_at=started_at,
        completed_at=completed_at,
        context=context,
    )


def state(
    kind: str = "provider_connection",
    *,
    subject: str | None = "7",
    status: str = "healthy",
    proven_at: datetime = T0 + timedelta(hours=1),
    workspace_id: str = "acme",
    environment_id: str | None = "prod",
) -> StateFact:
    return StateFact(
        kind=kind,
        workspace_id=workspace_id,
        environment_id=environment_id,
        subject=subject,
        status=status,
        proven_at=proven_at,
    )


def resolver(
    history: Iterable[OperationRun] = (),
    states: Iterable[StateFact] = (),
    *,
    registry: Registry | None = None,
    catalog: OperationCatalog | None = None,
    kinds: Iterable[str] = STATE_KINDS,
    strict: bool = True,
) -> Resolver:
    """A strict resolver over memory ports, with a source for each of ``kinds``."""
    facts = list(states)
    sources = {
        kind: MemoryStateSource(kind, [fact for fact in facts if fact.kind == kind])
        for kind in kinds
    }
    return Resolver(
        registry=default_registry() if registry is None else registry,
        catalog=catalog,
        history=MemoryRunHistory(history),
        states=sources,
        strict=strict,
    )


_DEFAULT: list[Registry] = []


def default_registry() -> Registry:
    """One shared ``Registry.default()`` for tests that register nothing of their own."""
    if not _DEFAULT:
        _DEFAULT.append(Registry.default())
    return _DEFAULT[0]


def evaluate(
    target: OperationRun,
    history: Iterable[OperationRun] = (),
    states: Iterable[StateFact] = (),
    *,
    as_of: datetime = AS_OF,
    **options: Any,
) -> ActionabilityResult:
    """Evaluate one run against a history that holds it and ``history``."""
    return resolver([target, *history], states, **options).evaluate(target, as_of=as_of)


class Recorder:
    """A plugin that records what the observer hooks see."""

    def __init__(self) -> None:
        self.batches: list[tuple[tuple[ActionabilityResult, ...], datetime]] = []
        self.violations: list[Any] = []

    @hookimpl
    def runactionability_results_evaluated(
        self, results: Iterable[ActionabilityResult], as_of: datetime
    ) -> None:
        self.batches.append((tuple(results), as_of))

    @hookimpl
    def runactionability_policy_violation(self, violation: Any) -> None:
        self.violations.append(violation)


def counts(results: Iterable[ActionabilityResult]) -> Mapping[str, int]:
    tally: dict[str, int] = {}
    for result in results:
        tally[result.status.value] = tally.get(result.status.value, 0) + 1
    return tally
