"""The helpers hosts use in their own test suites."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given

from runactionability import OperationCatalog, OperationRun, OperationType, Registry
from runactionability.testing import assert_catalog_covered
from runactionability.testing import strategies as ras


def test_the_library_and_its_coverage_helper_do_not_import_hypothesis() -> None:
    code = (
        "import sys, runactionability, runactionability.testing, runactionability.adapters.memory;"
        "assert 'hypothesis' not in sys.modules, 'hypothesis was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_assert_catalog_covered_passes_for_the_defaults() -> None:
    assert_catalog_covered(Registry.default(), OperationCatalog.reference())


def test_assert_catalog_covered_lists_every_gap() -> None:
    catalog = OperationCatalog(
        [
            OperationCatalog.reference()["provider.connection.check"],
            OperationType(name="quota.recalculate", family="quota"),
        ]
    )
    with pytest.raises(AssertionError) as raised:
        assert_catalog_covered(Registry.default(), catalog, state_kinds=())
    message = str(raised.value)
    assert "quota.recalculate (family 'quota')" in message
    assert "'provider_connection' (family 'provider_connection')" in message


@given(ras.histories(catalog=OperationCatalog.reference(), max_size=10))
def test_histories_are_well_formed_runs_of_the_catalog(runs: list[OperationRun]) -> None:
    catalog = OperationCatalog.reference()
    assert len({run.id for run in runs}) == len(runs)
    for run in runs:
        op_type = catalog.resolve(run.type)
        assert op_type is not None
        assert run.created_at.tzinfo is not None
        if run.outcome is None:
            assert run.status in ("queued", "running")
        else:
            assert run.status == "completed"
            assert run.completed_at >= run.created_at
        if op_type.subject_key is not None:
            assert str(run.context[op_type.subject_key]) in ras.SUBJECTS
        if not op_type.workspace_owned:
            assert run.environment_id in ras.ENVIRONMENTS
