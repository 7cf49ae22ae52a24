"""The reference catalog's operation types, contributed the way a plugin contributes its own."""

from __future__ import annotations

from collections.abc import Sequence

from runactionability.catalog import OperationCatalog, OperationType
from runactionability.hookspecs import hookimpl


@hookimpl
def runactionability_operation_types() -> Sequence[OperationType]:
    return OperationCatalog.reference().inventory()
