"""What the core accepts from its caller and from the ports, checked before it is used.

The batch (a sequence of ``OperationRun`` with distinct ids, or a typed error before any I/O),
``as_of`` (an aware datetime), and the facts the ports returned: only those the plan asked for,
of their kind and sound at ``as_of``, may be evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from typing import TYPE_CHECKING

from runactionability.errors import DuplicateRunError, UsageError
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.model import OperationRun
from runactionability.proofs import is_aware, run_fact_fault

if TYPE_CHECKING:
    from runactionability.core import Plan


def visible_facts(
    plan: Plan,
    successes: Mapping[LaterSuccessRequest, RunFact],
    states: Mapping[str, Mapping[StateRequest, StateFact]],
) -> tuple[dict[LaterSuccessRequest, RunFact], dict[StateRequest, StateFact]]:
    """The facts that may be evidence: asked for by the plan, of their kind, and sound at as_of."""
    as_of = plan.as_of
    # A broken port's answer (not a fact, or a naive timestamp) is no evidence: comparing it
    # with as_of would raise and take the whole batch down with it.
    visible_successes = {
        request: fact
        for request, fact in successes.items()
        if request in plan.later_success_requests
        and isinstance(fact, RunFact)
        and run_fact_fault(fact, as_of) is None
    }
    visible_states: dict[StateRequest, StateFact] = {}
    for kind, facts in states.items():
        asked = plan.state_requests.get(kind, frozenset())
        for request, fact in facts.items():
            if (
                request in asked
                and isinstance(fact, StateFact)
                and is_aware(fact.proven_at)
                and fact.proven_at <= as_of
            ):
                visible_states[request] = fact
    return visible_successes, visible_states


def check_as_of(as_of: object) -> None:
    if not is_aware(as_of):
        raise UsageError(f"as_of must be a timezone-aware datetime, not {as_of!r}")
    try:
        as_of.astimezone(UTC)  # type: ignore[attr-defined]
    except OverflowError:
        # Every store compares instants in UTC; this one has none (9999-12-31T23:00-05:00).
        raise UsageError(f"as_of falls outside the years 1 to 9999 in UTC: {as_of!r}") from None


def check_runs(runs: Iterable[OperationRun]) -> Sequence[OperationRun]:
    if isinstance(runs, str | bytes) or not isinstance(runs, Iterable):
        raise UsageError(f"runs must be an iterable of OperationRun, not {type(runs).__name__}")
    batch = runs if isinstance(runs, list | tuple) else list(runs)
    for run in batch:
        if run.__class__ is not OperationRun and not isinstance(run, OperationRun):
            raise UsageError(f"expected an OperationRun, got {type(run).__name__}")
    ids = {run.id for run in batch}
    if len(ids) != len(batch):
        seen: set[object] = set()
        duplicates = []
        for run in batch:
            if run.id in seen and run.id not in duplicates:
                duplicates.append(run.id)
            seen.add(run.id)
        raise DuplicateRunError(duplicates)
    return batch
