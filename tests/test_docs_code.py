"""Every code block of the documentation site runs in the suite, or is a fragment on purpose.

The convention (``docs/about-the-docs.md``): the line before a fence may hold an HTML comment
saying what the block is.

- ``<!-- fragment -->``: a piece of a larger program; it must parse (Python compiles, TOML
  loads), nothing more.
- a comment naming a test file (``<!-- tested by tests/test_readme.py -->``): that test runs the
  block; the file must exist and name the page.
- no comment: the Python blocks of a page run in order, as one script, in an empty directory,
  with the names the prose takes as given (``given_names``: ``engine``, ``resolver``, ``runs``,
  ``scopes``, ``now``...); TOML blocks load; every command of a ``console`` block exists (a
  ``make`` target, a ``runactionability`` command with its options, a script in the repository).

A block with no language, ``text`` or ``json`` is output, a message or a document shown as
captured (often abridged), never code; the commands of its ``$`` lines are checked as a
``console`` block's are.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path

import attrs
import click
import pytest
import sqlalchemy as sa
from tests.support import AS_OF, MINUTE, T0

from runactionability import OperationCatalog, OperationRun, Resolver, VisibleScopes
from runactionability.adapters.sqlalchemy import create_schema, insert_runs, open_backend
from runactionability.cli import cli
from runactionability.consumers import list_assessed

ROOT = Path(__file__).resolve().parent.parent
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")))
CODE = ("python", "console", "toml")
OUTPUT = ("", "text", "json")
FENCE = re.compile(r"^```(\S*)\n(.*?)^```\n", re.S | re.M)
COMMENT = re.compile(r"<!--(.*?)-->\s*\Z", re.S)
TEST_FILE = re.compile(r"\btests/\S+?\.py\b")


@attrs.frozen
class Block:
    page: Path
    line: int
    language: str
    code: str
    marker: str  # "fragment", "tested", or "" (runs here)
    tested_by: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks_of(page: Path) -> Iterator[Block]:
    text = page.read_text()
    for found in FENCE.finditer(text):
        before = text[: found.start()]
        comment = COMMENT.search(before.rstrip("\n").rsplit("\n", 1)[-1])
        note = comment.group(1).strip() if comment else ""
        tested = TEST_FILE.search(note)
        if note == "fragment":
            marker = "fragment"
        elif tested:
            marker = "tested"
        else:
            marker = ""
        yield Block(
            page=page,
            line=before.count("\n") + 1,
            language=found.group(1),
            code=found.group(2),
            marker=marker,
            tested_by=tested.group(0) if tested else None,
        )


BLOCKS = [block for page in PAGES for block in blocks_of(page)]


def ids(blocks: list[Block]) -> list[str]:
    return [block.where for block in blocks]


def test_the_site_has_code_in_every_form() -> None:
    assert {block.language for block in BLOCKS} >= set(CODE)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_fence_starts_a_line(page: Path) -> None:
    # An indented fence (in a list item) or an unclosed one would escape the collector above.
    text = page.read_text()
    assert not re.findall(r"^[ \t]+```", text, re.M)
    fences = len(re.findall(r"^```", text, re.M))
    assert 2 * sum(1 for block in BLOCKS if block.page == page) == fences


@pytest.mark.parametrize("block", BLOCKS, ids=ids(BLOCKS))
def test_every_block_is_code_or_output(block: Block) -> None:
    assert block.language in CODE + OUTPUT, f"{block.where}: unknown language {block.language!r}"


def parses(block: Block) -> None:
    if block.language == "python":
        # A fragment may come from inside a coroutine (``await``, ``async with``).
        compile(block.code, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    elif block.language == "toml":
        tomllib.loads(block.code)


FRAGMENTS = [b for b in BLOCKS if b.marker == "fragment"]


@pytest.mark.parametrize("block", FRAGMENTS, ids=ids(FRAGMENTS))
def test_a_fragment_parses(block: Block) -> None:
    assert block.language in CODE, f"{block.where}: only code is a fragment"
    parses(block)


TESTED = [b for b in BLOCKS if b.marker == "tested"]


@pytest.mark.parametrize("block", TESTED, ids=ids(TESTED))
def test_a_block_tested_elsewhere_names_a_test_that_reads_its_page(block: Block) -> None:
    assert block.tested_by is not None
    test = ROOT / block.tested_by
    assert test.is_file(), f"{block.where}: no {block.tested_by}"
    assert block.page.name in test.read_text(), f"{block.tested_by} never reads {block.page.name}"
    parses(block)


DATA = [b for b in BLOCKS if not b.marker and b.language == "toml"]


@pytest.mark.parametrize("block", DATA, ids=ids(DATA))
def test_a_data_block_loads(block: Block) -> None:
    parses(block)


def given_names() -> dict[str, object]:
    """What the docs' prose takes as given: a host's engine with a little history, its resolver,
    runs, scopes and clock. Only these names: a block that forgets an import still fails."""
    failed_check = OperationRun(
        id=101,
        type="provider.connection.check",
        workspace_id="acme",
        environment_id="prod",
        status="completed",
        outcome="blocked",
        created_at=T0,
        completed_at=T0 + MINUTE,
        context={"provider_connection_id": 7},
    )
    engine = sa.create_engine("sqlite://")
    create_schema(engine)
    insert_runs(engine, [failed_check])
    backend = open_backend(engine)
    resolver = Resolver(history=backend.history, states=backend.states)
    return {
        "now": AS_OF,
        "as_of": AS_OF,
        "engine": engine,
        "catalog": OperationCatalog.reference(),
        "scopes": VisibleScopes({"acme"}),
        "source": backend.runs,
        "resolver": resolver,
        "runs": [failed_check],
        "run_id": failed_check.id,
        "page": list_assessed(backend.runs, resolver, scopes=VisibleScopes({"acme"}), as_of=AS_OF),
    }


SCRIPTS = sorted({b.page for b in BLOCKS if not b.marker and b.language == "python"})


@pytest.mark.parametrize("page", SCRIPTS, ids=[str(p.relative_to(ROOT)) for p in SCRIPTS])
def test_the_python_blocks_of_a_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The blocks of a page tell one story, so they run in one namespace, in order, as a reader
    # would type them; in an empty directory, so a block that writes a file writes it there.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNACTIONABILITY_CURSOR_KEY", "k" * 32)
    namespace = {"__name__": f"docs:{page.name}", **given_names()}
    for block in BLOCKS:
        if block.page == page and not block.marker and block.language == "python":
            exec(compile(block.code, block.where, "exec"), namespace)


def commands(code: str) -> Iterator[str]:
    """The commands of a console block: its ``$`` lines if it has any (the rest is output),
    else every line; continuations joined, comments dropped."""
    lines = code.replace("\\\n", " ").splitlines()
    prompted = [line[2:] for line in lines if line.startswith("$ ")]
    for line in prompted or lines:
        command = line.split(" #", 1)[0].strip()
        if command and not command.startswith("#"):
            yield command


MAKE_TARGET = re.compile(r"^([a-z][\w-]*):", re.M)


def _command_index(args: list[str]) -> int:
    """Where the command's name is, past the group's options and their values (``--locale de``)."""
    takes_value = {
        name
        for param in cli.params
        if isinstance(param, click.Option) and not param.is_flag
        for name in param.opts
    }
    at = 0
    while args[at].startswith("-"):
        at += 1 if "=" in args[at] or args[at] not in takes_value else 2
    return at


def check_command(command: str) -> None:
    words = shlex.split(command)
    program, args = Path(words[0]).name, words[1:]
    if program == "make":
        targets = set(MAKE_TARGET.findall((ROOT / "Makefile").read_text()))
        assert set(args) <= targets, f"no make target {sorted(set(args) - targets)}"
    elif program == "runactionability":
        context = click.Context(cli, info_name="runactionability")
        at = _command_index(args)
        name = args[at]
        assert name in cli.list_commands(context), f"no command {name}"
        command_object = cli.get_command(context, name)
        assert command_object is not None
        group_options, rest = args[:at], args[at + 1 :]
        cli.make_context("runactionability", [*group_options, name])
        # Parsed as click parses them (unknown options and bad values fail), never invoked.
        command_object.make_context(name, rest, parent=context)
    elif program in ("python", "python3"):
        assert (ROOT / args[0]).is_file(), f"no script {args[0]}"
    else:
        pytest.fail(f"{command!r}: not a command of this project; mark the block a fragment")


def is_session(block: Block) -> bool:
    """Captured output that shows the commands it came from (``$ `` lines)."""
    return block.language in OUTPUT and any(
        line.startswith("$ ") for line in block.code.splitlines()
    )


# A captured session's commands are checked as a console block's are: output is not rerun, but
# a renamed command or option must not live on in it.
CONSOLE = [b for b in BLOCKS if not b.marker and (b.language == "console" or is_session(b))]


@pytest.mark.parametrize("block", CONSOLE, ids=ids(CONSOLE))
def test_every_command_of_a_console_block_exists(block: Block) -> None:
    found = list(commands(block.code))
    assert found, f"{block.where}: no command"
    for command in found:
        try:
            check_command(command)
        except click.UsageError as error:
            pytest.fail(f"{block.where}: {command!r}: {error.format_message()}")
