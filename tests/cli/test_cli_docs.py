"""docs/cli.md shows what the commands print: every capture and every number its prose quotes is
regenerated here from a fresh demo database and compared.

A captured block is a fence whose first line is ``$ runactionability ARGS`` (one command, on the
demo database), or a JSON document of a schema below. Numbers in prose are quoted through
``_prose``, each pattern tied to the value it must show. After a deliberate change of output, run
``RUNACTIONABILITY_REGENERATE_DOCS=1 pytest tests/cli/test_cli_docs.py`` to rewrite them.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from runactionability.cli import cli
from runactionability.result import Actionability

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
# The home directory the captures show instead of the test's own temporary one.
SHOWN_HOME = "/home/operator"
REGENERATE = os.environ.get("RUNACTIONABILITY_REGENERATE_DOCS") == "1"

TEXT_CAPTURE = re.compile(
    r"^```\n\$ runactionability (?P<args>[^\n]*)\n(?P<output>.*?)^```$", re.M | re.S
)
JSON_BLOCK = re.compile(r"^```json\n(?P<document>.*?)^```$", re.M | re.S)
# The command that prints each captured JSON document, read from the document itself.
JSON_CAPTURES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "runactionability.explain/1": lambda document: ["explain", str(document["run"]["run_id"])],
}
# The captures this page must keep: a change in how blocks are written must not empty the test.
EXPECTED = {
    "demo",
    "report",
    "list --current-follow-up --limit 5",
    "explain 2740",
    "explain 2884",
    "changes --since 6h --limit 6",
}


class Demo:
    """The full demo database in a directory of its own, where every command reads it."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.created = self.run("demo")
        small = self.json("demo", "--database", str(home / "small.sqlite"), "--size", "small")
        self.small_runs: int = small["runs"]

    def run(self, *args: str) -> str:
        result = CliRunner().invoke(cli, list(args), prog_name="runactionability")
        assert result.exit_code == 0, result.output + result.stderr
        return result.stdout.replace(str(self.home), SHOWN_HOME)

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    def capture(self, args: str) -> str:
        # The demo recreates its database when run again; the page shows a first run.
        output = self.created if args == "demo" else self.run(*shlex.split(args))
        return "\n".join(line.rstrip() for line in output.rstrip().splitlines()) + "\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("operator").resolve()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(home)
        yield Demo(home)


def _is_capture(args: str, output: str) -> bool:
    # A transcript of several commands (the errors) or one on another database is no capture.
    return "--database" not in args and not ("\n" + output).count("\n$ ")


def _regenerate_captures(text: str, demo: Demo, seen: set[str]) -> str:
    def text_block(match: re.Match[str]) -> str:
        args, output = match["args"], match["output"]
        if not _is_capture(args, output):
            return match[0]
        seen.add(args)
        return f"```\n$ runactionability {args}\n{demo.capture(args)}```"

    def json_block(match: re.Match[str]) -> str:
        try:
            document = json.loads(match["document"])
        except json.JSONDecodeError:
            return match[0]  # an abridged example ("..."): its numbers are checked in _prose
        command = JSON_CAPTURES[document["schema"]](document)
        seen.add(" ".join([*command, "--json"]))
        printed = json.dumps(demo.json(*command), indent=2, ensure_ascii=False)
        return f"```json\n{printed}\n```"

    return JSON_BLOCK.sub(json_block, TEXT_CAPTURE.sub(text_block, text))


def _prose(demo: Demo) -> list[tuple[str, list[str]]]:
    """Every number the page's prose quotes: a pattern, and the values its groups must hold."""
    report = demo.json("report")
    status = report["by_status"]
    made = demo.json("demo", "--database", str(demo.home / "again.sqlite"))
    pairs = {(e["workspace_id"], e["environment_id"]) for e in report["by_environment"]}
    prod = demo.json("report", "--workspace", "acme", "--environment", "prod")
    artifact = next(f for f in prod["by_family"] if f["family"] == "artifact")
    return [
        (r"seed `(\d+)`, evaluated as of\n`([^`]+)`", [str(made["seed"]), made["as_of"]]),
        (
            r"`--size full`: about ([\d,]+) runs over 30 days in (\d+) workspaces and (\d+)\n"
            r"environments",
            [
                f"{round(report['total'], -2):,}",
                str(len(report["scopes"]["workspace_ids"])),
                str(sum(1 for _, environment in pairs if environment is not None)),
            ],
        ),
        (r"`--size small`: about (\d+) runs", [str(round(demo.small_runs, -2))]),
        (
            r"Reading the numbers: ([\d,]+) runs; (\d+) need attention \((\d+) actionable, (\d+) "
            r"in manual review",
            [
                f"{report['total']:,}",
                str(report["needs_attention"]),
                str(status[Actionability.ACTIONABLE]),
                str(status[Actionability.REQUIRES_MANUAL_REVIEW]),
            ],
        ),
        (
            r"The (\d+) runs that a raw reading calls failures",
            [str(made["raw"]["needs_attention"])],
        ),
        (r"`superseded` \((\d+):", [str(status[Actionability.SUPERSEDED_BY_LATER_SUCCESS])]),
        (
            r"(\w+) is `resolved` by current state",
            [str(status[Actionability.RESOLVED_BY_CURRENT_STATE])],
        ),
        (r"counts queued and running runs \((\d+)\)", [str(status[Actionability.NOT_TERMINAL])]),
        (
            r'"total": (\d+),\n  "needs_attention": (\d+),',
            [str(prod["total"]), str(prod["needs_attention"])],
        ),
        (
            r'"by_status": \{"actionable": (\d+), "requires_manual_review": (\d+), '
            r'"superseded_by_later_success": (\d+),\n\s+"resolved_by_current_state": (\d+), '
            r'"informational_only": (\d+), "not_terminal": (\d+)\}',
            [str(count) for count in prod["by_status"].values()],
        ),
        (
            r'"by_family": \[\{"family": "artifact", "total": (\d+), "needs_attention": (\d+),',
            [str(artifact["total"]), str(artifact["needs_attention"])],
        ),
        (
            r'"top": \[\{"run_id": (\d+), "actionability": "(\w+)"',
            [str(prod["top"][0]["run_id"]), prod["top"][0]["actionability"]],
        ),
    ]


def _regenerate_prose(text: str, demo: Demo, missing: list[str]) -> str:
    for pattern, values in _prose(demo):
        match = re.search(pattern, text)
        if match is None:
            missing.append(pattern)
            continue
        assert len(values) == len(match.groups()), pattern
        pieces, end = [], match.start()
        for group, value in enumerate(values, start=1):
            pieces += [text[end : match.start(group)], value]
            end = match.end(group)
        text = text[: match.start()] + "".join(pieces) + text[end:]
    return text


def test_docs_cli_shows_what_the_commands_print_now(demo: Demo) -> None:
    text = DOCS.read_text()
    seen: set[str] = set()
    missing: list[str] = []
    regenerated = _regenerate_prose(_regenerate_captures(text, demo, seen), demo, missing)
    assert missing == [], "prose the page no longer has; update _prose with it"
    assert seen >= EXPECTED | {"explain 2740 --json"}
    if REGENERATE:
        DOCS.write_text(regenerated)
        text = regenerated
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            regenerated.splitlines(keepends=True),
            "docs/cli.md",
            "regenerated",
        )
    )
    assert diff == "", (
        f"docs/cli.md disagrees with the commands (see the module docstring):\n{diff}"
    )


ERROR_LINE = re.compile(
    r"^\$ runactionability (?P<args>[^\n#]*)\n(?P<line>runactionability: error: [^\n]*)$", re.M
)


def test_docs_cli_error_lines_are_what_the_commands_print(demo: Demo) -> None:
    # The transcript of errors: each command on the demo database is rerun; the others need a
    # server or a file of their own, which their own tests build.
    checked = 0
    for match in ERROR_LINE.finditer(DOCS.read_text()):
        args = shlex.split(match["args"])
        if "--database" in args or "--catalog" in args:
            continue
        result = CliRunner().invoke(cli, args, prog_name="runactionability")
        assert result.stderr.rstrip("\n") == match["line"], match["args"]
        assert result.exit_code != 0
        checked += 1
    assert checked >= 4
