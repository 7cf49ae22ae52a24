"""Restores, promotions and destructive operations: every problem run stays in manual review.

A later success does not prove a failed restore left nothing half-applied, and a cancelled one may
have been stopped midway, so no evidence resolves these runs; the core clamps them as well.
"""

from __future__ import annotations

from collections.abc import Sequence

from runactionability.hookspecs import hookimpl
from runactionability.policies.base import Family, Risk
from runactionability.policies.rules import AlwaysManualReview, FirstDecisive

FAMILY = Family(
    name="high_risk",
    risk=Risk.HIGH,
    description="Restores, promotions and destructive operations: always manual review.",
    policy=FirstDecisive(rules=(AlwaysManualReview(),)),
)


@hookimpl
def runactionability_families() -> Sequence[Family]:
    return (FAMILY,)
