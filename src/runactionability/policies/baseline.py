"""Baseline operations: captures and comparisons of one baseline profile.

A failure is no longer current when a later run of the same type for the same profile
succeeded. A failed capture is also resolved when the profile's current baseline snapshot is
``complete`` and was proven after the failure: a complete snapshot taken later is exactly what the
capture was meant to produce. A comparison is not: a fresh snapshot does not prove a comparison
ran, so only a later successful comparison supersedes one.
"""

from __future__ import annotations

from collections.abc import Sequence

from runactionability.hookspecs import hookimpl
from runactionability.messages import msg
from runactionability.model import RunOutcome
from runactionability.policies.base import Family
from runactionability.policies.rules import (
    FirstDecisive,
    InformationalWhen,
    OpenRelatedAction,
    ResolvedByState,
    SupersededByLaterSuccess,
)

STATE_KIND = "baseline_snapshot"

FAMILY = Family(
    name="baseline",
    description=(
        "Baseline captures and comparisons: superseded by a later success of the same type for "
        "the same profile; a capture is also resolved by a complete baseline snapshot proven "
        "after the failure."
    ),
    state_kinds=frozenset({STATE_KIND}),
    policy=FirstDecisive(
        rules=(
            InformationalWhen({RunOutcome.CANCELLED}),
            SupersededByLaterSuccess(),
            ResolvedByState(STATE_KIND, {"complete"}, {"baseline.capture"}),
        ),
        action=OpenRelatedAction(
            "baseline_profile", msg("action.open_baseline_profile", "Open the baseline profile")
        ),
    ),
)


@hookimpl
def runactionability_families() -> Sequence[Family]:
    return (FAMILY,)
