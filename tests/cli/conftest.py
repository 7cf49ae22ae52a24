"""Fixtures of the command-line tests: the small demo, made once per session on SQLite."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tests.support import database_option

from runactionability.cli import cli

DemoDatabase = Callable[[sa.Engine], str]


def _run_demo(url: str) -> None:
    result = CliRunner().invoke(cli, ["demo", "--database", url, "--size", "small", "--json"])
    assert result.exit_code == 0, result.output + result.stderr


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the ``demo`` command wrote, which no test opens: each copies it."""
    path = tmp_path_factory.mktemp("demo-template") / "demo.sqlite"
    _run_demo(str(path))
    return path


@pytest.fixture
def demo_into(demo_template: Path) -> DemoDatabase:
    """Puts a fresh small demo where an empty engine's database is; returns its --database value.

    On SQLite the test's file is a copy of ``demo_template`` (the same bytes the command would
    write, in a tenth of its time); on PostgreSQL the command runs in the test's schema.
    """

    def put(engine: sa.Engine) -> str:
        url = database_option(engine)
        if engine.dialect.name == "sqlite":
            assert not Path(url).exists(), "the engine's database is not empty"
            shutil.copyfile(demo_template, url)
        else:
            _run_demo(url)
        return url

    return put
