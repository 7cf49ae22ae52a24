"""Every script in examples/ runs to completion (each asserts its own story)."""

from __future__ import annotations

import os
import runpy
import warnings
from pathlib import Path

import pytest
from tests.support import POSTGRES_URL

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))
NEEDS_POSTGRESQL = {"host_laravel.py", "host_uuids.py"}
"""Host examples on a PostgreSQL-only schema: they run on RUNACTIONABILITY_TEST_DATABASE_URL."""


def test_there_are_examples() -> None:
    assert {path.name for path in EXAMPLES} >= {
        "embed_in_memory.py",
        "request_api_async.py",
        "third_party_family.py",
        *NEEDS_POSTGRESQL,
    }


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if script.name in NEEDS_POSTGRESQL and not POSTGRES_URL:
        # Never a pass that ran nothing: a developer without PostgreSQL skips, CI fails.
        message = f"{script.name} needs RUNACTIONABILITY_TEST_DATABASE_URL (PostgreSQL)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("name", sorted(NEEDS_POSTGRESQL))
def test_a_postgresql_example_without_a_server_says_so_and_fails(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNACTIONABILITY_TEST_DATABASE_URL", raising=False)
    script = Path(__file__).parents[1] / "examples" / name
    with pytest.raises(SystemExit, match="RUNACTIONABILITY_TEST_DATABASE_URL") as stopped:
        runpy.run_path(str(script), run_name="__main__")
    assert stopped.value.code != 0
