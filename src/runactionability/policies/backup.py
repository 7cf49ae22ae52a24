"""Backups: a failed backup of a schedule matters until a later one of the same schedule works.

Resolved by state when the schedule's latest backup set is ``complete`` and was proven after the
failure: a complete, verified backup set is the protection the failed run was meant to give.
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

STATE_KIND = "backup_set"

FAMILY = Family(
    name="backup",
    description=(
        "Backups: superseded by a later successful backup of the same schedule, else resolved "
        "by a complete backup set proven after the failure."
    ),
    state_kinds=frozenset({STATE_KIND}),
    policy=FirstDecisive(
        rules=(
            InformationalWhen({RunOutcome.CANCELLED}),
            SupersededByLaterSuccess(),
            ResolvedByState(STATE_KIND, {"complete"}),
        ),
        action=OpenRelatedAction(
            "backup_schedule", msg("action.open_backup_schedule", "Open the backup schedule")
        ),
    ),
)


@hookimpl
def runactionability_families() -> Sequence[Family]:
    return (FAMILY,)
