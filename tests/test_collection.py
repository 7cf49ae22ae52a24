"""Plain ``pytest`` (what IDE runners call) collects exactly what ``python -m pytest`` collects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _collected(*command: str) -> list[str]:
    completed = subprocess.run(
        [*command, "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    return [line for line in completed.stdout.splitlines() if "::" in line]


def test_plain_pytest_collects_the_same_suite_as_python_m_pytest() -> None:
    plain = _collected(str(Path(sys.executable).with_name("pytest")))
    module = _collected(sys.executable, "-m", "pytest")
    assert plain, "plain pytest collected nothing"
    assert plain == module
