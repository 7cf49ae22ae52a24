"""The API reference shows every exported name, with its docstring.

mkdocstrings renders a module's ``__all__`` from what griffe reads of the source; an exported name
griffe sees as a submodule (a function named like the module defining it) or as an object with no
docstring is silently left out, and the strict build does not fail. So each reference page is
held here to its module's ``__all__``: every name is rendered by the module's directive, or the
page names it in a directive of its own.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import griffe
import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"
DIRECTIVE = re.compile(r"^::: (\S+)$", re.M)
PAGES = sorted(REFERENCE.glob("*.md"))


def directives(page: Path) -> list[str]:
    return DIRECTIVE.findall(page.read_text())


def test_the_reference_documents_the_public_modules() -> None:
    modules = {directives(page)[0] for page in PAGES}
    assert modules >= {
        "runactionability",
        "runactionability.consumers",
        "runactionability.service",
        "runactionability.adapters.sqlalchemy",
        "runactionability.testing",
        "runactionability.config",
    }


def rendered(module: griffe.Object | griffe.Alias, name: str) -> bool:
    """Whether the module's directive shows ``name``: an object, not a module, with a docstring."""
    member = module.members.get(name)
    return member is not None and not member.is_module and member.docstring is not None


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_every_exported_name_is_on_its_page(page: Path) -> None:
    module_path, *others = directives(page)
    exported = importlib.import_module(module_path).__all__
    module = griffe.load(module_path, search_paths=[str(ROOT / "src")])
    missing = [
        name
        for name in exported
        if not rendered(module, name) and not any(other.endswith(f".{name}") for other in others)
    ]
    assert not missing, f"{page.name} shows none of {missing}"
