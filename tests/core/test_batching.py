"""The batching contract: one call per port per batch, and the async shell agrees with the sync."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from tests.support import (
    AS_OF,
    MINUTE,
    STATE_KINDS,
    T0,
    AsyncHistory,
    AsyncSource,
    resolver,
    run,
    state,
)

from runactionability import (
    AsyncResolver,
    EvidenceFetchError,
    LaterSuccessRequest,
    OperationRun,
    Resolver,
    RunFact,
    StateFact,
    StateRequest,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.testing import strategies as ras


class CountingHistory(MemoryRunHistory):
    calls = 0

    def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Mapping[LaterSuccessRequest, RunFact]:
        self.calls += 1
        return super().latest_successes(requests, as_of=as_of)


class CountingSource(MemoryStateSource):
    calls = 0

    def current_states(
        self, requests: Collection[StateRequest]
    ) -> Mapping[StateRequest, StateFact]:
        self.calls += 1
        return super().current_states(requests)


TYPES = [
    ("provider.connection.check", "provider_connection_id"),
    ("backup.create", "backup_schedule_id"),
    ("baseline.capture", "baseline_profile_id"),
    ("inventory.sync", None),
    ("evidence.snapshot.generate", None),
    ("restore.execute", "backup_set_id"),
]


def batch(size: int) -> list[OperationRun]:
    runs = []
    for index in range(size):
        type_name, key = TYPES[index % len(TYPES)]
        runs.append(
            run(
                index,
                type_name,
                outcome=("failed", "blocked", "succeeded")[index // len(TYPES) % 3],
                workspace_id=f"ws-{index % 17}",
                environment_id=f"env-{index % 3}",
                created_at=T0 + MINUTE * (index % 500),
                context={key: index % 101} if key else {},
            )
        )
    return runs


@pytest.mark.parametrize("size", [10, 10_000])
def test_each_port_is_called_once_per_batch(size: int) -> None:
    runs = batch(size)
    history = CountingHistory(runs)
    sources = {kind: CountingSource(kind, [state(kind, subject="1")]) for kind in STATE_KINDS}
    judge = Resolver(history=history, states=sources, strict=True)
    results = judge.evaluate_many(runs, as_of=AS_OF)
    assert len(results) == size
    assert history.calls == 1
    assert {kind: source.calls for kind, source in sources.items()} == {
        "backup_set": 1,
        "baseline_snapshot": 1,
        "environment_review": 0,
        "evidence_snapshot": 1,
        "provider_connection": 1,
        "review_pack": 0,
    }


def test_a_batch_without_problem_runs_fetches_nothing() -> None:
    runs = [run(1, outcome="succeeded"), run(2, status="running", outcome=None)]
    history = CountingHistory(runs)
    source = CountingSource("provider_connection")
    kinds = {kind: MemoryStateSource(kind) for kind in STATE_KINDS}
    Resolver(history=history, states={**kinds, "provider_connection": source}).evaluate_many(
        runs, as_of=AS_OF
    )
    assert (history.calls, source.calls) == (0, 0)


def test_a_failing_port_raises_evidence_fetch_error() -> None:
    class Broken(MemoryRunHistory):
        def latest_successes(self, requests: Any, *, as_of: datetime) -> Any:
            raise ConnectionError("database went away")

    judge = Resolver(
        history=Broken(), states={kind: MemoryStateSource(kind) for kind in STATE_KINDS}
    )
    with pytest.raises(EvidenceFetchError, match="database went away"):
        judge.evaluate(run(1), as_of=AS_OF)


@given(ras.scenarios(state_kinds=STATE_KINDS))
def test_the_async_resolver_gives_the_same_results(scenario: ras.Scenario) -> None:
    facts = [fact for kind_facts in scenario.states.values() for fact in kind_facts]
    sync = resolver(scenario.runs, facts)
    history = MemoryRunHistory(scenario.runs)
    sources = {
        kind: AsyncSource(MemoryStateSource(kind, [f for f in facts if f.kind == kind]))
        for kind in STATE_KINDS
    }
    asynchronous = AsyncResolver(history=AsyncHistory(history), states=sources, strict=True)
    expected = sync.evaluate_many(scenario.runs, as_of=scenario.as_of)
    got = asyncio.run(asynchronous.evaluate_many(scenario.runs, as_of=scenario.as_of))
    assert got == expected
    if scenario.runs:
        one = asyncio.run(asynchronous.evaluate(scenario.runs[0], as_of=scenario.as_of))
        assert one == expected[0]
