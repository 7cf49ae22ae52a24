"""Coverage assertions: fail a host's test suite, with every gap listed, before production does."""

from __future__ import annotations

from collections.abc import Iterable

from runactionability.catalog import OperationCatalog
from runactionability.errors import CoverageError
from runactionability.registry import Registry


def assert_catalog_covered(
    registry: Registry,
    catalog: OperationCatalog | None = None,
    *,
    state_kinds: Iterable[str] | None = None,
) -> None:
    """Assert that every type of ``catalog`` (default: the registry's own) has a registered family.

    With ``state_kinds`` (the kinds the host has a state source for), also assert that every
    family the catalog uses has a source for each state kind it may ask for: a family without
    one can still be superseded but is never resolved by state. The ``AssertionError`` lists every
    gap at once.
    """
    catalog = registry.catalog() if catalog is None else catalog
    problems: list[str] = []
    try:
        registry.check_coverage(catalog)
    except CoverageError as exc:
        problems.append(str(exc))
    if state_kinds is not None:
        available = frozenset(state_kinds)
        families = registry.families()
        missing = sorted(
            f"{kind!r} (family {name!r})"
            for name in catalog.families()
            if name in families
            for kind in families[name].state_kinds
            if kind not in available
        )
        if missing:
            problems.append(f"no state source for state kinds: {', '.join(missing)}")
    if problems:
        raise AssertionError("; ".join(problems))
