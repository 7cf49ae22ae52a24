"""The package root is the public surface: sorted, complete, and free of optional layers."""

from __future__ import annotations

import subprocess
import sys

import runactionability

CONTRACT = {
    # Names the core-library issue fixes as the contract host code imports.
    "Actionability",
    "ActionabilityResult",
    "CoverageError",
    "ConflictError",
    "Family",
    "OperationCatalog",
    "OperationRun",
    "OperationType",
    "Registry",
    "Resolver",
    "RunActionabilityError",
    "RunFact",
    "RunOutcome",
    "RunStatus",
    "StateFact",
    "hookimpl",
}


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert runactionability.__all__ == sorted(runactionability.__all__)
    for name in runactionability.__all__:
        assert getattr(runactionability, name) is not None, name


def test_the_contract_names_are_exported() -> None:
    assert set(runactionability.__all__) >= CONTRACT


def test_errors_share_one_base() -> None:
    errors = [
        getattr(runactionability, name)
        for name in runactionability.__all__
        if name.endswith("Error") and name != "RunActionabilityError"
    ]
    assert errors
    for error in errors:
        assert issubclass(error, runactionability.RunActionabilityError), error


def test_importing_the_root_loads_no_optional_layer() -> None:
    # The SQL adapter, the CLI and the hypothesis strategies are layers over the core; a host
    # that only evaluates runs in memory must not pay for (or need) them.
    probe = (
        "import sys, runactionability; "
        "layers = ('sqlalchemy', 'click', 'rich', 'hypothesis'); "
        "print(sorted(m for m in layers if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert loaded == "[]"
