"""Audit finding 6 on the command line: a configuration under which most of the newest problem
runs read as invalid records is one warning line naming the share, the reason and ``doctor``;
the command still answers (every such run in manual review, as before)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from tests.cli.test_cli import invoke
from tests.service.test_invalid_sample import host_table

CONFIG = """
database = {database}
[runs]
table = "jobs"
subject = false
zone = "UTC"
outcomes = {{ failed = "failed", succeeded = "succeeded" }}
"""


def _report(tmp_path: Path, outcome: str) -> tuple[list[str], dict[str, object]]:
    path = tmp_path / "host.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    host_table(engine, 20, outcome=outcome)
    engine.dispose()
    config = tmp_path / "runactionability.toml"
    config.write_text(CONFIG.format(database=json.dumps(f"sqlite:///{path}")))
    result = invoke("report", "--config", str(config), "--as-of", "2026-11-05T00:00:00Z", "--json")
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "jobs" in line]
    return lines, json.loads(result.stdout)


def test_most_problem_runs_invalid_is_one_warning_line(tmp_path: Path) -> None:
    lines, report = _report(tmp_path, "error")
    (line,) = lines
    assert line.startswith(
        "runactionability: warning: jobs: 10 of the 10 problem runs among the newest 20 (100%)"
    )
    assert "invalid_outcome 10" in line
    assert line.endswith("run `runactionability doctor` for every finding and its fix")
    assert report["total"] == 20


def test_a_configuration_that_reads_its_rows_says_nothing(tmp_path: Path) -> None:
    lines, _ = _report(tmp_path, "failed")
    assert lines == []
