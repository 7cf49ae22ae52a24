"""The API reference shows every exported name, with its docstring.

mkdocstrings renders a module's ``__all__`` from what griffe reads of the source; an exported name
griffe sees as a submodule (a function named like the module defining it) or as an object with no
docstring is silently left out, and the strict build does not fail. So each reference page is
held here to its module's ``__all__``: every name is rendered by the module's directive, or the
page names it in a directive of its own.
"""

from __future__ import annotations

import functools
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
        "runactionability.terms",
    }


@functools.cache
def package() -> griffe.Object | griffe.Alias:
    return griffe.load("runactionability", search_paths=[str(ROOT / "src")])


def read(module_path: str) -> griffe.Object | griffe.Alias:
    """The module as griffe, and so mkdocstrings, reads it from the source."""
    inner = module_path.removeprefix("runactionability").removeprefix(".")
    return package()[inner] if inner else package()


def rendered(module: griffe.Object | griffe.Alias, name: str) -> bool:
    """Whether the module's directive shows ``name``: an object, not a module, with a docstring."""
    member = module.members.get(name)
    return member is not None and not member.is_module and member.docstring is not None


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_every_exported_name_is_on_its_page(page: Path) -> None:
    module_path, *others = directives(page)
    exported = importlib.import_module(module_path).__all__
    module = read(module_path)
    missing = [
        name
        for name in exported
        if not rendered(module, name) and not any(other.endswith(f".{name}") for other in others)
    ]
    assert not missing, f"{page.name} shows none of {missing}"


CODE_SPAN = re.compile(r"(`+).+?\1", re.S)
TAG = re.compile(r"<[A-Za-z][^>]*>")


def docstrings(obj: griffe.Object | griffe.Alias) -> list[tuple[str, str]]:
    """The docstrings the reference renders for ``obj``: its own and its public members'."""
    found = [(obj.path, obj.docstring.value)] if obj.docstring else []
    if obj.is_class:
        for name, member in obj.members.items():
            if not name.startswith("_") and member.docstring:
                found.append((member.path, member.docstring.value))
    return found


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_no_docstring_text_reads_as_an_html_tag(page: Path) -> None:
    # Markdown passes "<zone>" through as a tag, and the browser shows nothing: such text
    # belongs in a code span.
    module_path, *_ = directives(page)
    module = read(module_path)
    exported = importlib.import_module(module_path).__all__
    tags = [
        f"{path}: {tag}"
        for name in exported
        if rendered(module, name)
        for path, text in docstrings(module.members[name])
        for tag in TAG.findall(CODE_SPAN.sub("", text))
    ]
    assert not tags
