"""The host test kit: helpers for hosts and plugin authors that test against this library.

- ``assert_catalog_covered``: every type of a catalog has a family (and a state source).
- ``count_statements`` / ``assert_max_statements``: the N+1 guard of a host's consumer paths.
- ``no_external_calls``: evaluation that reaches outside the process fails hard.
- ``assert_no_raw_follow_up`` (and ``runactionability guard``): no screen reads raw follow-up.
- ``assert_family_contract``: a hypothesis property test of a family against the core's rules.
- ``runactionability.testing.strategies``: hypothesis strategies for runs, histories, states.

The pytest plugin (``runactionability.testing.plugin``, registered under ``pytest11``) offers
the fixtures ``statement_counter`` and ``no_external_calls``. Names are imported on first use:
the strategies and ``assert_family_contract`` need the ``testing`` extra (hypothesis), the
statement counters SQLAlchemy; importing this package loads neither. See docs/testing.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runactionability.errors import ExternalCallError
from runactionability.testing.coverage import assert_catalog_covered

if TYPE_CHECKING:
    from runactionability.testing.contract import assert_family_contract
    from runactionability.testing.guard import (
        GuardFinding,
        GuardRules,
        assert_no_raw_follow_up,
        scan,
    )
    from runactionability.testing.isolation import ExternalCalls, no_external_calls
    from runactionability.testing.statements import (
        StatementCounter,
        assert_max_statements,
        count_statements,
    )

_LAZY = {
    "assert_family_contract": "contract",
    "GuardFinding": "guard",
    "GuardRules": "guard",
    "assert_no_raw_follow_up": "guard",
    "scan": "guard",
    "ExternalCalls": "isolation",
    "no_external_calls": "isolation",
    "StatementCounter": "statements",
    "assert_max_statements": "statements",
    "count_statements": "statements",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = [
    "ExternalCallError",
    "ExternalCalls",
    "GuardFinding",
    "GuardRules",
    "StatementCounter",
    "assert_catalog_covered",
    "assert_family_contract",
    "assert_max_statements",
    "assert_no_raw_follow_up",
    "count_statements",
    "no_external_calls",
    "scan",
]
