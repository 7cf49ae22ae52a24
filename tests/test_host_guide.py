"""The host guide's promise: for each zoo schema, the glue of a dashboard, a follow-up page and an
explanation endpoint is under 30 lines, imports included, and the guide shows the very glue its
example runs, which is also the glue that serves the zoo host of the same name (tests/zoo)."""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "host-guide.md"
HOSTS = ("laravel", "jobs", "uuids", "reference")
REGION = re.compile(r"^# -- glue: begin\n(.*?)^# -- glue: end\n", re.S | re.M)
OUTSIDE = {"AS_OF"}
"""The one name a block may take from its example: the fixed instant that makes the example print
the same thing on every run (a request passes None)."""


def glue(example: Path) -> str:
    """The code between the glue markers of ``example``."""
    found = REGION.search(example.read_text())
    assert found is not None, f"{example.name} marks no glue"
    return found.group(1).strip() + "\n"


def counted(code: str) -> int:
    """Lines a host writes: neither blank nor comment-only."""
    return sum(
        1 for line in code.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )


def unbound(code: str) -> set[str]:
    """Names ``code`` reads but neither binds nor imports itself (nor are builtins)."""
    tree = ast.parse(code)
    bound = set(dir(builtins))
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return read - bound


@pytest.mark.parametrize("host", HOSTS)
def test_the_glue_of_each_host_is_under_30_lines(host: str) -> None:
    code = glue(ROOT / "examples" / f"host_{host}.py")
    assert "def dashboard_view" in code
    assert "def follow_up_view" in code
    assert "def explain_view" in code
    # Counted with every import it needs: the block is all a host copies.
    assert unbound(code) <= OUTSIDE
    assert counted(code) < 30


@pytest.mark.parametrize("host", HOSTS)
def test_the_guide_shows_the_glue_the_example_runs(host: str) -> None:
    code = glue(ROOT / "examples" / f"host_{host}.py")
    assert f"```python\n{code}```" in GUIDE.read_text()


def test_the_counter_counts_code_not_blanks_or_comments() -> None:
    assert counted("a = 1\n\n# why\n    b = 2  # inline\n") == 2


def test_a_block_that_leaves_out_an_import_it_needs_is_caught() -> None:
    code = "import sqlalchemy as sa\n\ndef f(e: sa.Engine) -> Any:\n    return g(e, AS_OF)\n"
    assert unbound(code) == {"Any", "g", "AS_OF"}


def test_the_web_recipe_shows_the_code_the_web_host_runs() -> None:
    recipe = GUIDE.read_text().partition("## Web recipe")[2]
    blocks = re.findall(r"```python\n(.*?)```", recipe, re.S)
    sources = [path.read_text() for path in (ROOT / "examples" / "webapp").glob("*.py")]
    assert len(blocks) == 2
    for block in blocks:
        # A method is shown dedented; the example holds it one level in.
        shown = (block, textwrap.indent(block, "    "))
        assert any(form in source for form in shown for source in sources), block
