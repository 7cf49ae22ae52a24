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
