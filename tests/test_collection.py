"""Plain ``pytest`` (what IDE runners call) collects exactly what ``python -m pytest`` collects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _collecting(*command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*command, "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _collected(collecting: subprocess.Popen[str], stdout: str, stderr: str) -> list[str]:
    assert collecting.returncode == 0, stdout[-2000:] + stderr[-2000:]
    return [line for line in stdout.splitlines() if "::" in line]


def test_plain_pytest_collects_the_same_suite_as_python_m_pytest() -> None:
    # Both collections start before either is read: each imports every test module (seconds of
    # CPU), and side by side they take one collection's time on a machine with a second core.
    plain_run = _collecting(str(Path(sys.executable).with_name("pytest")))
    module_run = _collecting(sys.executable, "-m", "pytest")
    # Both are waited for before either is judged, so a failing one leaves no process behind.
    plain_output, module_output = plain_run.communicate(), module_run.communicate()
    plain = _collected(plain_run, *plain_output)
    module = _collected(module_run, *module_output)
    assert plain, "plain pytest collected nothing"
    assert plain == module
