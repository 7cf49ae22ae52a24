"""How the resolvers fetch a plan's evidence: errors named by kind, answers checked, the joint
read of a history that offers one (``JointEvidence``), and what an actor's scopes let through.

Shared by ``Resolver`` and ``AsyncResolver``, so that the two fetch alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from runactionability.core import Plan
from runactionability.errors import EvidenceFetchError
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest

if TYPE_CHECKING:
    from runactionability.scopes import VisibleScopes

K = TypeVar("K")
V = TypeVar("V")


@contextmanager
def fetching(kind: str) -> Iterator[None]:
    """Any failure of a port becomes an ``EvidenceFetchError`` naming what was being fetched."""
    try:
        yield
    except EvidenceFetchError:
        raise
    except Exception as exc:
        raise EvidenceFetchError.wrapping(kind, exc) from exc


def fetch(kind: str, call: Callable[[], Mapping[K, V]]) -> Mapping[K, V]:
    with fetching(kind):
        answer = call()
    return _checked_answer(kind, answer)


async def fetch_async(kind: str, call: Callable[[], Awaitable[Mapping[K, V]]]) -> Mapping[K, V]:
    with fetching(kind):
        answer = await call()
    return _checked_answer(kind, answer)


def joint_read(
    history: object, asked: Mapping[LaterSuccessRequest, LaterSuccessRequest], plan: Plan
) -> Any:
    """The history's ``latest_successes_with_states``, when it has one and the batch asks for
    two kinds of evidence or more (one kind is one call either way)."""
    if len(plan.state_requests) + bool(asked) < 2:
        return None
    return getattr(history, "latest_successes_with_states", None)


def joint_sources(
    states: Mapping[str, object], plan: Plan
) -> dict[str, tuple[object, frozenset[StateRequest]]]:
    """What a joint read is given: each state kind the batch reads, with its source and
    requests."""
    return {kind: (states[kind], requests) for kind, requests in plan.state_requests.items()}


def joint_answer(
    kinds: str, answer: object, plan: Plan
) -> tuple[Mapping[LaterSuccessRequest, RunFact], dict[str, Mapping[StateRequest, StateFact]]]:
    """A joint read's answer checked as each port's is; kinds the batch did not ask are dropped."""
    if not (isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[1], Mapping)):
        raise EvidenceFetchError(kinds, f"the port returned a {type(answer).__name__}, not a pair")
    states: dict[str, Mapping[StateRequest, StateFact]] = {
        kind: _checked_answer(kind, found)
        for kind, found in answer[1].items()
        if kind in plan.state_requests
    }
    return _checked_answer("later success", answer[0]), states


def joint_kinds(asked: Mapping[LaterSuccessRequest, LaterSuccessRequest], plan: Plan) -> str:
    return ", ".join(["later success"] * bool(asked) + sorted(plan.state_requests))


def visible(
    successes: Mapping[LaterSuccessRequest, RunFact],
    states: dict[str, Mapping[StateRequest, StateFact]],
    asked: Mapping[LaterSuccessRequest, LaterSuccessRequest],
    scopes: VisibleScopes | None,
    shared: Collection[tuple[type, object]] = (),
) -> tuple[Mapping[LaterSuccessRequest, RunFact], dict[str, Mapping[StateRequest, StateFact]]]:
    """The evidence an actor of ``scopes`` may see (all of it without ``scopes``), without the
    successes whose run id is among ``shared`` (keyed by class and value)."""
    if shared:
        # Its proof would cite an id that names two runs: the run is judged as if it were not
        # there, as a hidden success is.
        successes = {
            request: fact
            for request, fact in successes.items()
            if not (isinstance(fact, RunFact) and (fact.run_id.__class__, fact.run_id) in shared)
        }
    if scopes is None:
        return successes, states
    shown: dict[str, Mapping[StateRequest, StateFact]] = {
        kind: _visible_states(found, scopes) for kind, found in states.items()
    }
    return _visible_successes(successes, asked, scopes), shown


def _checked_answer(kind: str, answer: object) -> Mapping[K, V]:
    # A port that answers with something else is broken; treating it as "no evidence" would hide
    # the fault, and treating it as evidence would be worse.
    if not isinstance(answer, Mapping):
        raise EvidenceFetchError(
            kind, f"the port returned a {type(answer).__name__}, not a mapping"
        )
    return answer


def visible_requests(
    requests: frozenset[LaterSuccessRequest], scopes: VisibleScopes | None
) -> dict[LaterSuccessRequest, LaterSuccessRequest]:
    """Each later-success request as it is fetched for ``scopes``, mapped to the plan's request.

    A workspace-owned request (no environment) may be answered by a run in any environment of
    the workspace; for an actor who sees only some environments it asks for those alone, so the
    port answers with the newest run the actor may see, never a hidden one.
    """
    if scopes is None or scopes.environment_ids is None:
        return {request: request for request in requests}
    return {
        (
            attrs.evolve(
                request,
                visible_environment_ids=scopes.environment_ids,
                visible_workspace_runs=scopes.include_workspace_runs,
            )
            if request.environment_id is None
            else request
        ): request
        for request in requests
    }


def _visible_successes(
    answer: Mapping[LaterSuccessRequest, RunFact],
    asked: Mapping[LaterSuccessRequest, LaterSuccessRequest],
    scopes: VisibleScopes,
) -> dict[LaterSuccessRequest, RunFact]:
    # A port that ignores the request's visible environments may still answer with a hidden run:
    # it is dropped, so the run keeps the status it has without it, and nothing names it.
    visible: dict[LaterSuccessRequest, RunFact] = {}
    for fetched, fact in answer.items():
        request = asked.get(fetched)
        if request is None:
            continue
        if isinstance(fact, RunFact) and not scopes.admits(fact.workspace_id, fact.environment_id):
            continue
        visible[request] = fact
    return visible


def _visible_states(
    answer: Mapping[StateRequest, StateFact], scopes: VisibleScopes
) -> dict[StateRequest, StateFact]:
    return {
        request: fact
        for request, fact in answer.items()
        if not isinstance(fact, StateFact) or scopes.admits(fact.workspace_id, fact.environment_id)
    }
