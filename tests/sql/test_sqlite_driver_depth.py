"""SQLite's JSON depth limit is probed through the engine's own driver, once per driver.

The statements judge a context's depth against the limit of the SQLite library that runs them
(``json_depth.sqlite_shallow``). It was probed through the standard ``sqlite3`` module: an engine
on another driver (pysqlite3 bundles its own SQLite, 3.45+ refusing past 1,000 levels where the
standard library's 3.40 took 2,000) read a shallow context with many brackets as nested too
deep in SQL, while Python, and so ``explain``, read it as it is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, insert_raw, raw_row

from runactionability import ActionabilityService, VisibleScopes
from runactionability.adapters.sqlalchemy import create_schema
from runactionability.limits import MAX_CONTEXT_DEPTH

pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")


class Driver:
    """A DBAPI module that is ``module``, noting every database it is asked to open."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.opened: list[str] = []

    def connect(self, database: str, *args: Any, **kwargs: Any) -> Any:
        self.opened.append(database)
        return self.module.connect(database, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)


def _nested(levels: int) -> str:
    return '{"a": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


def _contexts() -> list[str]:
    """Shallow with many brackets, at the limit, one past it."""
    return ['{"many": [' + ",".join(["[]"] * 600) + "]}", _nested(MAX_CONTEXT_DEPTH), _nested(300)]


def _judged(engine: sa.Engine) -> tuple[dict[str, int], dict[str, int]]:
    """The dashboard's counts (judged in SQL) and the explained statuses (judged in Python)."""
    create_schema(engine)
    rows = [raw_row(engine, index, context=text) for index, text in enumerate(_contexts(), 1)]
    insert_raw(engine, rows)
    service = ActionabilityService(engine)
    with service.session(scopes=VisibleScopes({"w1"}), as_of=AS_OF) as session:
        counts = session.dashboard(top=0).counts.by_status
        explained: dict[str, int] = {}
        for index in range(1, len(rows) + 1):
            told = session.explain(index)
            assert told is not None
            status = told.assessment.result.status.value
            explained[status] = explained.get(status, 0) + 1
    return {status.value: n for status, n in counts.items() if n}, explained


def test_the_depth_is_probed_through_the_engines_driver_once(tmp_path: Path) -> None:
    drivers = [Driver(sqlite3), Driver(sqlite3)]
    engines = [
        sa.create_engine(f"sqlite:///{tmp_path / name}", module=driver)
        for name, driver in [("a.sqlite", drivers[0]), ("b.sqlite", drivers[0])]
    ]
    engines.append(sa.create_engine(f"sqlite:///{tmp_path / 'c.sqlite'}", module=drivers[1]))
    try:
        for engine in engines:
            counts, explained = _judged(engine)
            assert counts == explained
    finally:
        for engine in engines:
            engine.dispose()
    # One probe per driver, in a database of its own: never the host's.
    assert [opened.count(":memory:") for opened in (d.opened for d in drivers)] == [1, 1]


def test_a_driver_with_its_own_sqlite_judges_as_python_does(tmp_path: Path) -> None:
    dbapi = pytest.importorskip("pysqlite3.dbapi2")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'own.sqlite'}", module=dbapi)
    try:
        counts, explained = _judged(engine)
    finally:
        engine.dispose()
    assert counts == explained
    assert counts.get("requires_manual_review") == 1
