"""Values nested too deep, or into themselves, held in memory: read as the SQL reads them.

The SQL sources read state attributes nested deeper than ``MAX_CONTEXT_DEPTH`` as none, and a
context nested that deep as no mapping (``invalid_context``). In memory such attributes were kept
as given (two tied facts then recursed while ordered by their JSON text), and a context that
reuses one sub-object at two depths, or nests into itself, escaped the depth walk.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import attrs
import pytest
from tests.support import evaluate, run, state

from runactionability import Actionability, StateFact
from runactionability.adapters.memory import MemoryStateSource
from runactionability.evidence import StateRequest
from runactionability.limits import MAX_CONTEXT_DEPTH

TOO_DEEP = "The run's context nests arrays and objects deeper than 256 levels."


def nested(levels: int) -> dict[str, Any]:
    """A mapping of ``levels`` levels (``{"a": 1}`` is one), built without recursion."""
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    assert isinstance(value, dict)
    return value


def fact(attributes: dict[str, Any]) -> StateFact:
    return attrs.evolve(state(), attributes=attributes)


@pytest.mark.parametrize("levels", [MAX_CONTEXT_DEPTH, MAX_CONTEXT_DEPTH + 1, 5_000])
def test_state_attributes_nested_too_deep_are_read_as_none(levels: int) -> None:
    # As the SQL sources read them (tests/sql/test_deep_state_attributes.py).
    attributes = fact(nested(levels)).attributes
    assert (attributes == {}) is (levels > MAX_CONTEXT_DEPTH)


def test_tied_facts_with_deep_attributes_do_not_recurse() -> None:
    source = MemoryStateSource("provider_connection", [fact(nested(5_000)), fact(nested(4_000))])
    request = StateRequest(
        kind="provider_connection", workspace_id="acme", environment_id="prod", subject="7"
    )
    (found,) = source.current_states([request]).values()
    assert found.attributes == {}
    result = evaluate(run(1), states=[fact(nested(5_000)), fact(nested(4_000))])
    assert result.status is Actionability.RESOLVED_BY_CURRENT_STATE


def test_a_shared_sub_object_counts_at_every_depth_it_is_reached() -> None:
    # Reached shallow first, then deep: the walk once counted it only where it first met it.
    shared = nested(MAX_CONTEXT_DEPTH - 2)
    deep: Any = shared
    for _ in range(10):
        deep = [deep]
    context = {"first": shared, "later": deep}
    result = evaluate(run(1, context=context))
    assert (result.status, result.reason) == (
        Actionability.REQUIRES_MANUAL_REVIEW,
        "invalid_context",
    )
    assert str(result.message) == TOO_DEEP
    # Many paths to few objects (a diamond per level) are walked once per object, not per path.
    diamond: Any = {"x": 1}
    for _ in range(200):
        diamond = {"left": diamond, "right": diamond}
    assert evaluate(run(2, context={"provider_connection_id": 7, "d": diamond})).reason != (
        "invalid_context"
    )


@pytest.mark.parametrize("where", ["itself", "a list", "a deque", "deep"])
def test_a_context_that_nests_into_itself_is_invalid(where: str) -> None:
    loop: dict[str, Any] = {"provider_connection_id": 7}
    if where == "itself":
        loop["self"] = loop
    elif where == "a list":
        loop["items"] = [1, {"back": [loop]}]
    elif where == "a deque":
        loop["queue"] = deque([{"back": loop}])
    else:
        inner = nested(50)
        inner["a"] = {"up": loop}
        loop["down"] = inner
    result = evaluate(run(1, context=loop))
    assert (result.status, result.reason) == (
        Actionability.REQUIRES_MANUAL_REVIEW,
        "invalid_context",
    )
    assert str(result.message) == TOO_DEEP


def test_a_context_too_deep_has_its_own_message() -> None:
    result = evaluate(run(1, context={"deep": nested(MAX_CONTEXT_DEPTH)}))
    assert result.reason == "invalid_context"
    assert str(result.message) == TOO_DEEP
    # Text that is no mapping keeps its message.
    assert str(evaluate(run(2, context="plain")).message) == (
        "The run's context is a str, not a mapping."
    )
