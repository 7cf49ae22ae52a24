"""The README's embedding example runs, so the README cannot lie."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_an_example() -> None:
    assert python_blocks()


def test_the_readme_examples_run(capsys) -> None:  # type: ignore[no-untyped-def]
    # The blocks tell one story, so they run in one namespace, in order, as a reader would.
    namespace = {"__name__": "readme"}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    assert capsys.readouterr().out.strip()


# A README is also the package's page on a package index, where a relative link leads nowhere.
LINK_TARGETS = (
    re.compile(r"\]\(([^)\s]+)"),  # [text](target)
    re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M),  # [name]: target
    re.compile(r"""(?:href|src)=["']([^"']+)"""),  # raw HTML
)
REPOSITORY_FILES = "https://github.com/runactionability/runactionability/blob/main/"


def test_every_readme_link_is_absolute_and_names_a_file_of_this_tree() -> None:
    text = README.read_text()
    targets = [target for pattern in LINK_TARGETS for target in pattern.findall(text)]
    assert targets
    assert [target for target in targets if not target.startswith("https://")] == []
    for target in targets:
        if target.startswith(REPOSITORY_FILES):
            path = target.removeprefix(REPOSITORY_FILES).partition("#")[0]
            assert (README.parent / path).is_file(), target
