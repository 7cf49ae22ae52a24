"""The core's fast request constructors make exactly the values the classes make."""

from __future__ import annotations

import attrs

from runactionability.evidence import (
    LaterSuccessRequest,
    StateRequest,
    new_state_request,
    new_success_request,
)


def test_a_success_request_filled_slot_by_slot_is_the_value_the_class_makes() -> None:
    built = new_success_request(("sync", "sync.v1"), "w1", None, "connection", "c7")
    made = LaterSuccessRequest(
        operation_types=("sync", "sync.v1"),
        workspace_id="w1",
        environment_id=None,
        subject_key="connection",
        subject="c7",
    )
    assert attrs.asdict(built) == attrs.asdict(made)
    assert built == made
    assert hash(built) == hash(made)
    assert {made: 1}[built] == 1
    assert attrs.evolve(built, subject="c8") == attrs.evolve(made, subject="c8")


def test_a_state_request_filled_slot_by_slot_is_the_value_the_class_makes() -> None:
    built = new_state_request("provider_connection", "w1", "e1", None)
    made = StateRequest(
        kind="provider_connection", workspace_id="w1", environment_id="e1", subject=None
    )
    assert attrs.asdict(built) == attrs.asdict(made)
    assert built == made
    assert hash(built) == hash(made)
    assert repr(built) == repr(made)
