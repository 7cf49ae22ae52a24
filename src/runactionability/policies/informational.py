"""Alerts and notifications: records of what was sent, never a call-to-action themselves.

A failed notification is surfaced by the alerting system that owns delivery; on the operations
dashboard it is history only.
"""

from __future__ import annotations

from collections.abc import Sequence

from runactionability.hookspecs import hookimpl
from runactionability.policies.base import Family
from runactionability.policies.rules import AlwaysInformational, FirstDecisive

FAMILY = Family(
    name="informational",
    description="Alerts and notifications: informational only, whatever the outcome.",
    policy=FirstDecisive(rules=(AlwaysInformational(),)),
)


@hookimpl
def runactionability_families() -> Sequence[Family]:
    return (FAMILY,)
