"""A state fact's ids held in memory are judged as the SQL state source judges stored ones.

Ids compare as text (``usable_id``): the SQL source reads an integer column's ``7`` as the
object ``"7"``. The memory source used to key a fact by the raw int, so a fact about ``7`` was
silently no evidence for the run about ``"7"`` while the same row in SQL resolved it.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from tests.support import evaluate, run, state

from runactionability import Actionability
from runactionability.adapters.memory import MemoryStateSource
from runactionability.evidence import StateRequest


@pytest.mark.parametrize(
    ("workspace_id", "environment_id", "subject"),
    [(1, 2, 7), ("1", 2, 7), (1, "2", "7"), ("1", "2", 7)],
)
def test_a_fact_with_int_ids_is_the_state_of_the_object_they_name(
    workspace_id: Any, environment_id: Any, subject: Any
) -> None:
    failed = run(101, workspace_id="1", environment_id="2", context={"provider_connection_id": 7})
    healthy = attrs.evolve(
        state(), workspace_id=workspace_id, environment_id=environment_id, subject=subject
    )
    result = evaluate(failed, states=[healthy])
    assert result.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert result.proof is not None
    assert (result.proof.workspace_id, result.proof.environment_id, result.proof.subject) == (
        "1",
        "2",
        "7",
    )


def test_the_fact_a_memory_source_returns_carries_text_ids() -> None:
    one: Any
    seven: Any
    source = MemoryStateSource("provider_connection")
    one, seven = 1, 7  # the fields are typed str; a host's data may hold ints
    source.add(attrs.evolve(state(), workspace_id=one, environment_id=None, subject=seven))
    request = StateRequest(
        kind="provider_connection", workspace_id="1", environment_id=None, subject="7"
    )
    fact = source.current_states([request])[request]
    assert (fact.workspace_id, fact.environment_id, fact.subject) == ("1", None, "7")


@pytest.mark.parametrize("workspace_id", ["", "  ", None, True])
def test_a_fact_with_no_usable_workspace_id_is_no_evidence(workspace_id: Any) -> None:
    source = MemoryStateSource("provider_connection")
    source.add(attrs.evolve(state(), workspace_id=workspace_id))
    assert source.current_states(_every_request()) == {}


def _every_request() -> list[StateRequest]:
    return [
        StateRequest(
            kind="provider_connection", workspace_id=workspace, environment_id="prod", subject="7"
        )
        for workspace in ("acme", "True", "1")
    ]


@pytest.mark.parametrize("field", ["subject", "environment_id"])
def test_a_blank_id_names_no_object_not_the_scope_wide_one(field: str) -> None:
    # The SQL source compares ids byte for byte: a row whose subject is '' is not the row with
    # no subject (tests/sql/test_hostile_evidence.py keeps both in the reference tables).
    source = MemoryStateSource("provider_connection")
    ids: dict[str, Any] = {"subject": None, "environment_id": None, field: " "}
    source.add(attrs.evolve(state(), **ids))
    request = StateRequest(
        kind="provider_connection", workspace_id="acme", environment_id=None, subject=None
    )
    assert source.current_states([request]) == {}
