"""Ctrl-C: the JSON document on stdout is whole or absent, and the exit code is 130.

Each test runs the real console entry point in a subprocess with one step patched, so the
signal arrives at a known point: while the document is being written (the write itself sends
it), or while the command is still reading (the test sends it once the child says it is there).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.cli.test_cli import invoke

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
    import io, os, signal, sys, time
    # A child of a non-interactive shell may inherit SIGINT ignored; a terminal's Ctrl-C is not.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import runactionability.cli as cli
    sys.argv = ["runactionability", "report", "--database", {database!r}, "--json"]
"""

INTERRUPTED_WHILE_WRITING = """
    class Slow(io.RawIOBase):
        # stdout that takes 64 bytes per call, and is interrupted right after the first call.
        calls = 0

        def writable(self):
            return True

        def write(self, data):
            chunk = bytes(data[:64])
            os.write(1, chunk)
            Slow.calls += 1
            if Slow.calls == 1:
                os.kill(os.getpid(), signal.SIGINT)
            return len(chunk)

    sys.stdout = io.TextIOWrapper(io.BufferedWriter(Slow(), buffer_size=64), encoding="utf-8")
    cli.main()
"""

INTERRUPTED_WHILE_READING = """
    def slow_dashboard(*args, **kwargs):
        sys.stderr.write("reading\\n")
        sys.stderr.flush()
        time.sleep(60)
        raise AssertionError("not interrupted")

    cli.report.dashboard = slow_dashboard
    cli.main()
"""


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("interrupt") / "demo.sqlite"
    result = invoke("demo", "--database", str(path), "--size", "small", "--json")
    assert result.exit_code == 0, result.output
    return str(path)


def child(script: str, database: str) -> subprocess.Popen[str]:
    source = textwrap.dedent(PRELUDE.format(database=database)) + textwrap.dedent(script)
    return subprocess.Popen(
        [sys.executable, "-c", source],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_while_writing_leaves_the_whole_document(demo_file: str) -> None:
    process = child(INTERRUPTED_WHILE_WRITING, demo_file)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    payload = json.loads(stdout)  # whole: it parses, up to its closing brace
    assert payload["schema"] == "runactionability.report/1"
    assert stderr.strip().splitlines() == ["runactionability: interrupted"]


def test_ctrl_c_while_reading_writes_nothing(demo_file: str) -> None:
    process = child(INTERRUPTED_WHILE_READING, demo_file)
    assert process.stderr is not None
    try:
        assert process.stderr.readline() == "reading\n"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert stdout == ""
    assert stderr.strip().splitlines() == ["runactionability: interrupted"]
