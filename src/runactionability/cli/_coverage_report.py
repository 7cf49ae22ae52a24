"""The one coverage report: per catalog type, the facts ``coverage`` and ``families`` print.

A new per-type column (say, the class a type's policy gives it) is one more field on
``TypeCoverage``, filled in ``coverage_report``; both commands then read it from there.
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
    families = registry.families()
    return CoverageReport(
        tuple(
            TypeCoverage(
                name=op_type.name, family=op_type.family, covered=op_type.family in families
            )
            for op_type in catalog.inventory()
        )
    )
