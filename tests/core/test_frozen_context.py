"""A policy cannot change a run's context, nested values included, nor the host's data behind it.

Issue 8, finding 7: the freeze was shallow, so a policy could append to a list inside the context
and change what every later screen (and the host) reads.
"""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pytest
from tests.support import AS_OF, run

from runactionability import (
    Actionability,
    Decision,
    Evidence,
    Family,
    OperationRun,
    OperationType,
    ProblemRun,
    Reason,
    Registry,
    Resolver,
    hookimpl,
)
from runactionability.adapters.memory import MemoryRunHistory


def nested() -> dict[str, Any]:
    return {
        "thing_id": "t1",
        "meta": {"tags": ["a", "b"], "owner": {"name": "ops"}},
        "steps": [{"name": "connect"}],
        "seen": {1, 2},
        "pair": ({"x": 1}, 2),
    }


MUTATIONS = [
    pytest.param(lambda c: c["meta"].__setitem__("owner", None), id="nested-setitem"),
    pytest.param(lambda c: c["meta"].update(extra=1), id="nested-update"),
    pytest.param(lambda c: c["meta"].pop("tags"), id="nested-pop"),
    pytest.param(lambda c: c["meta"]["tags"].append("c"), id="list-append"),
    pytest.param(lambda c: c["meta"]["tags"].__setitem__(0, "z"), id="list-setitem"),
    pytest.param(lambda c: c["meta"]["tags"].sort(reverse=True), id="list-sort"),
    pytest.param(lambda c: c["steps"][0].__setitem__("name", "x"), id="dict-in-list"),
    pytest.param(lambda c: c["seen"].add(3), id="set-add"),
    pytest.param(lambda c: c["pair"][0].clear(), id="dict-in-tuple"),
    pytest.param(lambda c: c.__setitem__("thing_id", "t2"), id="top-level"),
]


@pytest.mark.parametrize("mutate", MUTATIONS)
def test_every_nested_value_of_a_context_is_read_only(mutate: Any) -> None:
    host = nested()
    frozen = run(1, context=host)
    with pytest.raises((TypeError, AttributeError)):
        mutate(frozen.context)
    assert host == nested()
    assert frozen.context == nested()


def test_a_frozen_context_reads_compares_and_serializes_like_the_original() -> None:
    frozen = run(1, context=nested()).context
    assert frozen == nested()
    assert isinstance(frozen["meta"], dict)
    assert isinstance(frozen["meta"]["tags"], list)
    assert frozen["meta"]["tags"] == ["a", "b"]
    plain = {key: value for key, value in nested().items() if key != "seen"}
    assert json.loads(json.dumps({k: frozen[k] for k in plain})) == json.loads(json.dumps(plain))
    assert copy.deepcopy(frozen["meta"]) == nested()["meta"]
    assert pickle.loads(pickle.dumps(frozen["steps"])) == [{"name": "connect"}]
    assert attrs.evolve(run(1, context=nested()), id=2).context == nested()


def test_a_shared_sub_object_is_frozen_once() -> None:
    # A cycle is no context (tests/core/test_deep_memory_values.py); a sub-object reached along
    # two paths is one frozen object.
    shared: dict[str, Any] = {"thing_id": "t1"}
    frozen = run(1, context={"a": shared, "b": [shared]}).context
    assert frozen["a"] is frozen["b"][0]
    with pytest.raises(TypeError):
        frozen["a"]["x"] = 1


class Meddler:
    """A plugin policy that writes into the run's nested context, then decides."""

    def __init__(self) -> None:
        self.errors: list[Exception] = []

    def plan(self, run: ProblemRun) -> Iterable[Any]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision:
        run.run.context["meta"]["tags"].append("meddled")
        return Decision(
            status=Actionability.INFORMATIONAL_ONLY, reason="meddled", explanation="Meddled."
        )


def meddling_resolver(*, strict: bool = False) -> Resolver:
    class Plugin:
        @hookimpl
        def runactionability_families(self) -> Sequence[Family]:
            return (Family(name="meddlers", policy=Meddler()),)

        @hookimpl
        def runactionability_operation_types(self) -> Sequence[OperationType]:
            return (OperationType(name="meddle", family="meddlers", subject_key="thing_id"),)

    registry = Registry()
    registry.register(Plugin(), name="meddlers")
    return Resolver(registry=registry, history=MemoryRunHistory(()), strict=strict)


def test_a_policy_that_writes_into_a_nested_context_fails_and_changes_nothing() -> None:
    host = nested()
    victim = run(1, "meddle", context=host)
    result = meddling_resolver().evaluate(victim, as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_ERROR
    assert host["meta"]["tags"] == ["a", "b"]
    assert victim.context["meta"]["tags"] == ["a", "b"]
    with pytest.raises(TypeError, match="read-only"):
        meddling_resolver(strict=True).evaluate(victim, as_of=AS_OF)


def test_a_context_of_plain_values_is_still_one_shallow_copy() -> None:
    host = {"thing_id": "t1", "n": 3}
    frozen = run(1, context=host)
    host["n"] = 4
    assert frozen.context["n"] == 3
    # attrs.evolve hands the view back; a view of plain values is kept as it is
    assert attrs.evolve(frozen, id=2).context is frozen.context
    assert OperationRun.from_mapping({"id": 3, "context": host}).context == host
