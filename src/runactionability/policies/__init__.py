"""Built-in families (one module each) and the rules they are composed from."""

from __future__ import annotations

from types import ModuleType

from runactionability.policies import (
    artifact,
    backup,
    baseline,
    high_risk,
    informational,
    provider_connection,
    reference_types,
    repeatable_sync,
)

BUILTIN_PLUGINS: tuple[tuple[str, ModuleType], ...] = (
    ("runactionability.provider_connection", provider_connection),
    ("runactionability.repeatable_sync", repeatable_sync),
    ("runactionability.baseline", baseline),
    ("runactionability.artifact", artifact),
    ("runactionability.backup", backup),
    ("runactionability.high_risk", high_risk),
    ("runactionability.informational", informational),
    ("runactionability.reference_types", reference_types),
)
"""The built-in plugins, registered by ``Registry.default()`` in this order before entry points."""
