"""What a big batch leaves for the cyclic collector to walk.

Every tracked object that lives from plan to decide, or in the results, is walked by each of the
collector's full collections, which a batch of a million runs triggers (``docs/performance.md``,
"The core over 1,000,000 in-memory runs"). These tests pin the objects the core keeps per
problem scope, so a change that adds one more per scope shows up here, not only in a benchmark.
"""

from __future__ import annotations

import gc

from tests.support import REGISTRY, T0, run

from runactionability.core import Core
from runactionability.evidence import LaterSuccessRequest, StateRequest


def _tracked_referents(value: object) -> list[object]:
    gc.collect()  # tuples of atomic values are untracked by the first pass over them
    return [ref for ref in gc.get_referents(value) if gc.is_tracked(ref) and ref is not type(value)]


def test_a_hashed_request_keeps_no_tracked_object_of_its_own() -> None:
    success = LaterSuccessRequest(
        operation_types=("inventory.sync",),
        workspace_id="acme",
        environment_id="prod",
        subject_key=None,
        subject=None,
    )
    state = StateRequest(kind="backup_set", workspace_id="acme", environment_id="prod", subject="7")
    for request in (success, state):
        hash(request)
        assert _tracked_referents(request) == []


def test_hashes_are_cached_and_follow_equality() -> None:
    def request(subject: str | None) -> LaterSuccessRequest:
        return LaterSuccessRequest(
            operation_types=("a", "b"),
            workspace_id="acme",
            environment_id=None,
            subject_key="key",
            subject=subject,
            visible_environment_ids=frozenset({"prod"}),
        )

    first, again, other = request("7"), request("7"), request("8")
    assert hash(first) == hash(first) == hash(again)
    assert first == again
    assert first != other
    assert len({first, again, other}) == 2


def test_a_planned_scope_keeps_its_requests_and_little_else() -> None:
    # 200 failed provider checks of 200 connections: 200 scopes, each with a later-success
    # request and one state request. The plan keeps, per scope, the shared value, the two
    # requests and the dict holding the state request (no mapping view per scope).
    size = 200
    runs = [run(index, context={"provider_connection_id": index}) for index in range(size)]
    core = Core(
        catalog=REGISTRY.catalog(),
        families=REGISTRY.families(),
        state_kinds={"provider_connection"},
    )
    gc.collect()
    before = len(gc.get_objects())
    plan = core.plan(runs, as_of=T0.replace(year=T0.year + 1))
    gc.collect()
    kept = len(gc.get_objects()) - before
    assert len(plan.later_success_requests) == size
    assert kept <= 4 * size + 20
