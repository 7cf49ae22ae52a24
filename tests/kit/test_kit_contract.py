"""The family contract: every built-in family and the third-party example pass it; a family that
breaks a rule fails it; the strategies behind it reach supersession and resolution."""

from __future__ import annotations

import runpy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, find, settings
from tests.support import REGISTRY, STATE_KINDS

from runactionability import (
    Actionability,
    Decision,
    Evidence,
    Family,
    FirstDecisive,
    OperationCatalog,
    OperationType,
    ProblemRun,
    Resolver,
    SupersededByLaterSuccess,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.evidence import EvidenceRequest
from runactionability.testing import assert_family_contract
from runactionability.testing import strategies as ras

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "third_party_family.py"
SUPERSEDED = Actionability.SUPERSEDED_BY_LATER_SUCCESS
RESOLVED = Actionability.RESOLVED_BY_CURRENT_STATE
ONCE: dict[str, Any] = {"phases": [Phase.generate], "database": None}


@pytest.mark.parametrize("name", sorted(REGISTRY.families()))
def test_every_built_in_family_keeps_the_contract(name: str) -> None:
    assert_family_contract(REGISTRY.families()[name], registry=REGISTRY)


def test_the_third_party_example_keeps_the_contract() -> None:
    example: dict[str, Any] = runpy.run_path(str(EXAMPLE), run_name="third_party_family")
    types = example["QuotaPlugin"]().runactionability_operation_types()
    assert_family_contract(example["QUOTA"], types)


class EarlySuccessCounts:
    """Claims supersession by any later-success fact, even one that started before the failure."""

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return (run.later_success_request,)

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        fact = evidence.later_success
        if fact is None:
            return None
        return Decision(status=SUPERSEDED, reason="any_success", explanation="x", proof=fact)


SYNC = OperationType(name="sync.run", family="sync", subject_key="source_id")


def test_a_family_whose_policy_the_core_corrects_fails_the_contract() -> None:
    careless = Family(name="sync", policy=FirstDecisive(rules=(EarlySuccessCounts(),)))
    with pytest.raises(AssertionError, match="the core corrected the policy of 'sync'"):
        # Shrinking a falsified contract is slow and shows nothing this test needs.
        assert_family_contract(careless, [SYNC], settings=settings(max_examples=200, **ONCE))


def test_a_policy_that_raises_fails_the_contract() -> None:
    class Raises(EarlySuccessCounts):
        def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
            raise RuntimeError("boom")

    broken = Family(name="sync", policy=FirstDecisive(rules=(Raises(),)))
    with pytest.raises(RuntimeError, match="boom"):
        assert_family_contract(broken, [SYNC], settings=settings(max_examples=5, **ONCE))


def test_the_contract_refuses_what_it_cannot_run() -> None:
    honest = Family(name="sync", policy=FirstDecisive(rules=(SupersededByLaterSuccess(),)))
    with pytest.raises(TypeError, match="needs the family's types"):
        assert_family_contract(honest)
    with pytest.raises(ValueError, match="not the family given"):
        assert_family_contract(honest, registry=REGISTRY)
    other = OperationType(name="other.run", family="sync_other")
    with pytest.raises(ValueError, match="no operation type of family 'sync'"):
        assert_family_contract(honest, [other])


def statuses(scenario: ras.Scenario) -> set[Actionability]:
    resolver = Resolver(
        registry=REGISTRY,
        catalog=OperationCatalog.reference(),
        history=MemoryRunHistory(scenario.runs),
        states={k: MemoryStateSource(k, scenario.states.get(k, ())) for k in STATE_KINDS},
    )
    return {r.status for r in resolver.evaluate_many(scenario.runs, as_of=scenario.as_of)}


@pytest.mark.parametrize("wanted", [SUPERSEDED, RESOLVED])
def test_evidence_scenarios_reach_supersession_and_resolution(wanted: Actionability) -> None:
    strategy = ras.evidence_scenarios(state_kinds=STATE_KINDS, registry=REGISTRY)
    reached = settings(max_examples=300, **ONCE)
    found = find(strategy, lambda s: wanted in statuses(s), settings=reached)
    assert wanted in statuses(found)


def test_state_statuses_can_be_set_per_kind() -> None:
    strategy = ras.evidence_scenarios(
        state_kinds=("provider_connection", "backup_set"),
        statuses={"provider_connection": ["healthy"]},
    )
    found = find(
        strategy,
        lambda s: len(s.states["provider_connection"]) > 1,
        settings=settings(max_examples=300, **ONCE),
    )
    assert {fact.status for fact in found.states["provider_connection"]} == {"healthy"}
