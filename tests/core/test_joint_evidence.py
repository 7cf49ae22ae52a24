"""The optional ``JointEvidence`` port: a history that reads some state kinds with its successes.

The resolver uses it when its history offers it and a batch asks for two kinds of evidence or
more; the kinds it read are never asked again, the others are asked of their own sources, and the
results are those of the ports read one by one (sync and async, with and without scopes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from tests.support import AS_OF, STATE_KINDS, AsyncHistory, AsyncSource, resolver, run, state

from runactionability import (
    AsyncResolver,
    EvidenceFetchError,
    JointEvidence,
    LaterSuccessRequest,
    Resolver,
    RunFact,
    StateFact,
    StateRequest,
    StateSource,
    VisibleScopes,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.testing import strategies as ras

JOINED = frozenset({"provider_connection", "backup_set"})


class JointHistory(MemoryRunHistory):
    """Reads the kinds of ``JOINED`` with its successes, and counts its calls."""

    joint_calls = 0
    calls = 0

    def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Mapping[LaterSuccessRequest, RunFact]:
        self.calls += 1
        return super().latest_successes(requests, as_of=as_of)

    def latest_successes_with_states(
        self,
        requests: Collection[LaterSuccessRequest],
        states: Mapping[str, tuple[StateSource, Collection[StateRequest]]],
        *,
        as_of: datetime,
    ) -> tuple[Mapping[LaterSuccessRequest, RunFact], Mapping[str, Mapping[StateRequest, Any]]]:
        self.joint_calls += 1
        read = {
            kind: source.current_states(asked)
            for kind, (source, asked) in states.items()
            if kind in JOINED
        }
        # The sources' own answers, read without counting them as calls of the resolver.
        for kind in read:
            states[kind][0].calls -= 1  # type: ignore[attr-defined]
        return MemoryRunHistory.latest_successes(self, requests, as_of=as_of), read


class CountingSource(MemoryStateSource):
    calls = 0

    def current_states(
        self, requests: Collection[StateRequest]
    ) -> Mapping[StateRequest, StateFact]:
        self.calls += 1
        return super().current_states(requests)


def _sources(facts: list[StateFact]) -> dict[str, CountingSource]:
    return {
        kind: CountingSource(kind, [fact for fact in facts if fact.kind == kind])
        for kind in STATE_KINDS
    }


def test_the_protocol_names_the_method() -> None:
    assert isinstance(JointHistory([]), JointEvidence)
    assert not isinstance(MemoryRunHistory([]), JointEvidence)


@given(ras.scenarios(state_kinds=STATE_KINDS))
def test_a_joint_read_gives_the_ports_results(scenario: ras.Scenario) -> None:
    facts = [fact for kind_facts in scenario.states.values() for fact in kind_facts]
    expected = resolver(scenario.runs, facts).evaluate_many(scenario.runs, as_of=scenario.as_of)
    history = JointHistory(scenario.runs)
    sources = _sources(facts)
    judge = Resolver(history=history, states=sources, strict=True)
    assert judge.evaluate_many(scenario.runs, as_of=scenario.as_of) == expected
    scopes = VisibleScopes({str(run.workspace_id) for run in scenario.runs[:1]} or {"w1"})
    assert judge.evaluate_many(scenario.runs, as_of=scenario.as_of, scopes=scopes) == resolver(
        scenario.runs, facts
    ).evaluate_many(scenario.runs, as_of=scenario.as_of, scopes=scopes)


def _batch() -> list[Any]:
    return [
        run(1, "provider.connection.check", context={"provider_connection_id": "c1"}),
        run(2, "backup.create", context={"backup_schedule_id": "b1"}),
        run(3, "baseline.capture", context={"baseline_profile_id": "p1"}),
    ]


def test_kinds_read_jointly_are_not_asked_again_and_the_others_are() -> None:
    history = JointHistory(_batch())
    sources = _sources([state("provider_connection", subject="c1")])
    Resolver(history=history, states=sources, strict=True).evaluate_many(_batch(), as_of=AS_OF)
    assert (history.joint_calls, history.calls) == (1, 0)
    asked = {kind for kind, source in sources.items() if source.calls}
    assert asked == {"baseline_snapshot"}
    assert all(source.calls <= 1 for source in sources.values())


def test_one_kind_of_evidence_is_read_by_its_own_port() -> None:
    runs = [run(1, "inventory.sync")]
    history = JointHistory(runs)
    Resolver(history=history, states=_sources([]), strict=True).evaluate_many(runs, as_of=AS_OF)
    assert (history.joint_calls, history.calls) == (0, 1)


def test_a_joint_answer_that_is_not_a_pair_is_a_fetch_error() -> None:
    class Broken(JointHistory):
        def latest_successes_with_states(self, *args: Any, **kwargs: Any) -> Any:
            return {}

    judge = Resolver(history=Broken(_batch()), states=_sources([]), strict=True)
    with pytest.raises(EvidenceFetchError, match="not a pair") as raised:
        judge.evaluate_many(_batch(), as_of=AS_OF)
    assert "later success" in raised.value.kind
    assert "provider_connection" in raised.value.kind


def test_a_failing_joint_read_names_its_kinds() -> None:
    class Failing(JointHistory):
        def latest_successes_with_states(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("database went away")

    judge = Resolver(history=Failing(_batch()), states=_sources([]), strict=True)
    with pytest.raises(EvidenceFetchError, match="database went away") as raised:
        judge.evaluate_many(_batch(), as_of=AS_OF)
    assert raised.value.kind.startswith("later success, ")


class AsyncJointHistory(AsyncHistory):
    def __init__(self, history: JointHistory) -> None:
        super().__init__(history)
        self.joint = history

    async def latest_successes_with_states(
        self,
        requests: Collection[LaterSuccessRequest],
        states: Mapping[str, tuple[Any, Collection[StateRequest]]],
        *,
        as_of: datetime,
    ) -> tuple[Mapping[LaterSuccessRequest, RunFact], Mapping[str, Mapping[StateRequest, Any]]]:
        await asyncio.sleep(0)
        synced = {kind: (source.source, asked) for kind, (source, asked) in states.items()}
        return self.joint.latest_successes_with_states(requests, synced, as_of=as_of)


def test_the_async_resolver_reads_jointly_too() -> None:
    facts = [state("provider_connection", subject="c1"), state("baseline_snapshot", subject="p1")]
    expected = resolver(_batch(), facts).evaluate_many(_batch(), as_of=AS_OF)
    history = JointHistory(_batch())
    sources = _sources(facts)
    joint = AsyncJointHistory(history)
    judge = AsyncResolver(
        history=joint,
        states={kind: AsyncSource(source) for kind, source in sources.items()},
        strict=True,
    )
    assert asyncio.run(judge.evaluate_many(_batch(), as_of=AS_OF)) == expected
    assert (history.joint_calls, history.calls) == (1, 0)
    assert {kind for kind, source in sources.items() if source.calls} == {"baseline_snapshot"}
