"""Provider connection checks: the family behind the original false call-to-action loop.

A failed check is no longer current when a later check of the same connection succeeded, or when
the connection's current state is ``healthy`` and was proven after the failure. The later check
is tried first because it is the stronger proof: it exercised the same code path that failed.
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

STATE_KIND = "provider_connection"

FAMILY = Family(
    name="provider_connection",
    description=(
        "Provider connection checks: superseded by a later successful check of the same "
        "connection, else resolved when the connection is healthy, proven after the failure."
    ),
    state_kinds=frozenset({STATE_KIND}),
    policy=FirstDecisive(
        rules=(
            InformationalWhen({RunOutcome.CANCELLED}),
            SupersededByLaterSuccess(),
            ResolvedByState(STATE_KIND, {"healthy"}),
        ),
        action=OpenRelatedAction(
            STATE_KIND, msg("action.fix_provider_connection", "Fix the provider connection")
        ),
    ),
)


@hookimpl
def runactionability_families() -> Sequence[Family]:
    return (FAMILY,)
