"""A uuid spelled otherwise than its uuid column stores it (upper case, 32 hex digits) on the
command line is a bad value (exit 2) with the library's message, which names the spelling to
pass: ``explain`` used to exit 1 (an unexpected error), and ``--workspace`` said no run belongs
to the workspace, as for a typo, though the workspace has runs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from tests.cli.test_cli import invoke
from tests.support import UUID_RUN, UUID_RUNS_CONFIG, UUID_WORKSPACE, database_option, uuid_runs


@pytest.fixture
def config(sql_engine: sa.Engine, tmp_path: Path) -> str:
    uuid_runs(sql_engine)
    path = tmp_path / "runactionability.toml"
    path.write_text(f"database = {database_option(sql_engine)!r}\n{UUID_RUNS_CONFIG}")
    return str(path)


def _refusal(result: Result) -> str:
    # The warnings before it say which state kinds have no table: only the last line is the error.
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def _misspelled(text: str) -> list[str]:
    return [text.upper(), uuid.UUID(text).hex]


def test_explain_refuses_a_run_id_in_another_spelling_naming_the_one_to_pass(config: str) -> None:
    assert invoke("explain", "--config", config, UUID_RUN).exit_code == 0
    for spelled in _misspelled(UUID_RUN):
        assert _refusal(invoke("explain", "--config", config, spelled)) == (
            f"runactionability: error: run id {spelled!r} spells a uuid other than its column's "
            f"ids are compared: pass {UUID_RUN!r}"
        )


@pytest.mark.parametrize("command", [["list"], ["report"], ["changes", "--since", "2026-01-01"]])
def test_a_scope_in_another_spelling_is_refused_naming_the_one_to_pass(
    config: str, command: list[str]
) -> None:
    assert invoke(*command, "--config", config, "--workspace", UUID_WORKSPACE).exit_code == 0
    for option, name in (("--workspace", "workspace"), ("--environment", "environment")):
        for spelled in _misspelled(UUID_WORKSPACE):
            assert _refusal(invoke(*command, "--config", config, option, spelled)) == (
                f"runactionability: error: {name} id {spelled!r} spells a uuid other than its "
                f"column's ids are compared: pass {UUID_WORKSPACE!r}"
            )
