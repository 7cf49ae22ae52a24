"""Repeatable syncs: each run replaces the last, so a later success makes a failure history.

No current state is consulted: a sync's whole job is to make the state current, and only a sync
that ran to success after the failure proves it did.
"""

from __future__ import annotations

from collections.abc import Sequence

from runactionability.hookspecs import hookimpl
from runactionability.model import RunOutcome
from runactionability.policies.base import Family
from runactionability.policies.rules import (
    FirstDecisive,
    InformationalWhen,
    RetryAction,
    SupersededByLaterSuccess,
)

FAMILY = Family(
    name="repeatable_sync",
    description="Repeatable syncs: superseded by a later successful sync in the same scope.",
    policy=FirstDecisive(
        rules=(InformationalWhen({RunOutcome.CANCELLED}), SupersededByLaterSuccess()),
        action=RetryAction(),
    ),
)


@hookimpl
def runactionability_families() -> Sequence[Family]:
    return (FAMILY,)
