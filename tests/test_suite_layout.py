"""The suite keeps one clock and one support module, is type-checked with the library, and its
shared demo is read-only."""

from __future__ import annotations

import asyncio
import re
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.support import async_engine_of

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


def test_the_shared_demo_refuses_writes(demo: tuple[sa.Engine, datetime]) -> None:
    # The tests of a module read one loaded demo (tests/conftest.py): a test that wrote would
    # change what the next one reads, so a write through its engine, sync or async, fails.
    engine, _ = demo
    with (
        pytest.raises(sa.exc.DBAPIError, match=r"read-only|readonly"),
        engine.begin() as connection,
    ):
        connection.execute(sa.text("DELETE FROM operation_runs"))

    async def write() -> None:
        bind = async_engine_of(engine)
        try:
            async with bind.begin() as connection:
                await connection.execute(sa.text("DELETE FROM operation_runs"))
        finally:
            await bind.dispose()

    with pytest.raises(sa.exc.DBAPIError, match=r"read-only|readonly"):
        asyncio.run(write())
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM operation_runs")).scalar_one()
