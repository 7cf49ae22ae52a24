"""The one coverage report: per catalog type, the facts ``coverage`` and ``families`` print.

A new per-type column is one more field on ``TypeCoverage``, filled in ``coverage_report``; both
commands then read it from there.
"""

from __future__ import annotations

import attrs

from runactionability.catalog import OperationCatalog
from runactionability.registry import Registry


@attrs.frozen
class TypeCoverage:
    """One operation type of a catalog, as the catalog commands show it."""

    name: str
    family: str
    covered: bool
    """Whether ``family`` is registered: a run of an uncovered type has no policy to decide it."""
    type_class: str
    """The class its family's policy gives the type, derived from the rules (``TypeProfile``)."""


@attrs.frozen
class CoverageReport:
    """Every type of one catalog against one registry's families, sorted by type name."""

    types: tuple[TypeCoverage, ...]

    @property
    def uncovered(self) -> tuple[TypeCoverage, ...]:
        return tuple(row for row in self.types if not row.covered)

    def types_of(self, family: str) -> list[str]:
        """The names of the types that belong to ``family``, sorted."""
        return [row.name for row in self.types if row.family == family]


def coverage_report(registry: Registry, catalog: OperationCatalog) -> CoverageReport:
    """Which types of ``catalog`` map to a family ``registry`` has registered."""
    return CoverageReport(
        tuple(
            TypeCoverage(
                name=entry.name,
                family=entry.family,
                covered=entry.covered,
                type_class=entry.describe(),
            )
            for entry in catalog.inventory(registry.families())
        )
    )
