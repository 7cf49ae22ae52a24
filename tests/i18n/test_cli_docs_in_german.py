"""docs/cli.md shows ``report`` and ``explain`` in German beside English: the real output.

Each documented block is run again on the full demo database (as the page says it was captured)
and compared line by line, so the German copy in the docs cannot drift from the catalogs.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from runactionability.cli import cli
from runactionability.demo import generate, load

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
BLOCK = re.compile(r"```\n\$ runactionability (?P<command>[^\n]+)\n(?P<output>.*?)```", re.S)
CHECKED = (
    "report",
    "--locale de report --top 3",
    "explain 2740",
    "explain 2884",
    "--locale de explain 2884",
)


def documented() -> dict[str, str]:
    return {m["command"]: m["output"] for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    engine = sa.create_engine(f"sqlite:///{folder / 'runactionability-demo.sqlite'}")
    load(engine, generate())
    engine.dispose()
    return folder


def test_the_docs_show_report_and_explain_in_german_beside_english() -> None:
    blocks = documented()
    assert set(CHECKED) <= set(blocks)
    assert "Dashboard für" in blocks["--locale de report --top 3"]
    assert "Was daran etwas ändern würde" in blocks["--locale de explain 2884"]


@pytest.mark.parametrize("command", CHECKED)
def test_a_documented_output_is_what_the_command_prints(
    command: str, demo_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo_folder)
    monkeypatch.delenv("RUNACTIONABILITY_LOCALE", raising=False)
    result = CliRunner().invoke(cli, shlex.split(command))
    assert result.exit_code == 0, result.output + result.stderr
    printed = "".join(line.rstrip() + "\n" for line in result.stdout.splitlines())
    # The page's captures end at the last printed line (tests/cli/test_cli_docs.py writes them).
    assert printed.rstrip("\n") == documented()[command].rstrip("\n")
