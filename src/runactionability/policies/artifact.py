"""Generated artifacts: evidence snapshots, environment reviews and review packs.

Each artifact is regenerated on demand, so a later successful generation supersedes a failed one;
failing that, the artifact's current record (``complete`` for snapshots and reviews, ``published``
for review packs), proven after the failure, shows an operator already has what the run was for.
Each state kind applies only to the type that produces it.
"""

from __future__ import annotations

from collections.abc import Sequence

from runactionability.hookspecs import hookimpl
from runactionability.model import RunOutcome
from runactionability.policies.base import Family
from runactionability.policies.rules import (
    FirstDecisive,
    InformationalWhen,
    ResolvedByState,
    RetryAction,
    SupersededByLaterSuccess,
)

FAMILY = Family(
    name="artifact",
    description=(
        "Evidence snapshots, environment reviews and review packs: superseded by a later "
        "successful generation, else resolved by the artifact's current record."
    ),
    state_kinds=frozenset({"evidence_snapshot", "environment_review", "review_pack"}),
    policy=FirstDecisive(
        rules=(
            InformationalWhen({RunOutcome.CANCELLED}),
            SupersededByLaterSuccess(),
            ResolvedByState("evidence_snapshot", {"complete"}, {"evidence.snapshot.generate"}),
            ResolvedByState("environment_review", {"complete"}, {"review.environment.generate"}),
            ResolvedByState("review_pack", {"published"}, {"review_pack.generate"}),
        ),
        action=RetryAction(),
    ),
)


@hookimpl
def runactionability_families() -> Sequence[Family]:
    return (FAMILY,)
