"""The suite keeps one clock and one support module, and is type-checked with the library."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def _modules() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if path.name != "support.py")


def test_tests_share_helpers_through_the_support_module_not_a_conftest() -> None:
    # A conftest imported as a module is loaded twice (once by pytest as ``conftest``, once by
    # name), and a helper reached through a test directory on ``sys.path`` fails under an IDE.
    reaching = re.compile(r"^\s*(from|import) (tests\.(\w+\.)*conftest|\w*_support)\b", re.M)
    offenders = [
        str(path.relative_to(ROOT)) for path in _modules() if reaching.search(path.read_text())
    ]
    assert offenders == []


def test_every_test_instant_comes_from_the_one_clock() -> None:
    # An origin of its own (``T0 = datetime(...)``) is a second clock; derived instants
    # (``AS_OF = T0 + ...``) are fine.
    own_clock = re.compile(r"^(T0|AS_OF)\s*(:[^=]*)?=\s*datetime\(", re.M)
    offenders = [
        str(path.relative_to(ROOT)) for path in _modules() if own_clock.search(path.read_text())
    ]
    assert offenders == []


def test_mypy_checks_the_tests_as_well_as_the_library() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert {"src", "tests"} <= set(config["files"])
    assert config["strict"] is True
