"""The core and the rules stay small enough to hold in one's head (issue 9's size limits).

Each module of the core layer (the core, its check table, proofs and verdicts) and of the rules
(catalog, policies) is at most 400 lines, and none of their functions is over 60 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "runactionability"
MODULES = sorted(
    [PACKAGE / f"{name}.py" for name in ("core", "checks", "proofs", "verdicts")]
    + list((PACKAGE / "catalog").rglob("*.py"))
    + list((PACKAGE / "policies").rglob("*.py")),
)
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_module_is_at_most_400_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_FILE_LINES, f"{_name(path)} has {lines} lines"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_function_is_over_60_lines(path: Path) -> None:
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{_name(path)}: {', '.join(long)}"
