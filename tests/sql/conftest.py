"""Fixtures of the SQL adapter tests: the same stores over memory, SQLite and PostgreSQL.

The ports, loaders and builders these fixtures hand out live in ``tests.support``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.support import (
    BACKENDS,
    HOST_LAYOUT,
    STORAGE_LEGS,
    Loader,
    host_ports,
    memory_ports,
    sql_ports,
    stored_ports,
)
from tests.zoo.contract import zoo_loader
from tests.zoo.hosts import FITS, fit_id

from runactionability.adapters.sqlalchemy import metadata
from runactionability.testing import count_statements

ZOO_LEGS = {f"zoo-{fit_id(fit)}": fit for fit in FITS}
"""Each zoo host on each engine it fits; its PostgreSQL legs skip without a server."""


@pytest.fixture(
    params=[
        "memory",
        *BACKENDS,
        *(f"{name}-lifecycle" for name in BACKENDS),
        *STORAGE_LEGS,
        *ZOO_LEGS,
    ]
)
def load(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Loader]:
    """Load runs and states into a fresh store of the parametrized kind; returns its ports.

    The ``-lifecycle`` stores are a host's own layout (``tests.support.HOST_LAYOUT``): one
    lifecycle column, every state kind in one table. A history with a (status, outcome) that
    has no lifecycle value skips there. A leg ``engine/storage`` reads copies of the reference
    tables whose instants are stored as ``storage`` (``Instants.parse``), loaded with the same
    runs and states. A ``zoo-`` leg is a zoo host's own tables (``tests/zoo``), its ids its own:
    ``tests.zoo.contract`` translates the tests' ids both ways.
    """
    if request.param == "memory":
        yield memory_ports
        return
    if request.param in ZOO_LEGS:
        yield from _zoo_leg(request, tmp_path)
        return
    if request.param.endswith("-lifecycle"):
        yield from _host_layout(request, tmp_path)
        return
    backend, _, storage = request.param.partition("/")
    if storage:
        if backend == "sqlite":
            engine = sa.create_engine(f"sqlite:///{tmp_path / 'contract.sqlite'}")
            yield lambda runs, facts: stored_ports(engine, storage, runs, facts)
            engine.dispose()
            return
        engine = request.getfixturevalue("postgres_engine")
        yield lambda runs, facts: stored_ports(engine, storage, runs, facts)
        with engine.begin() as connection:
            connection.execute(sa.text("SELECT 1"))
            for table in sa.inspect(connection).get_table_names():
                connection.execute(sa.text(f'DROP TABLE "{table}" CASCADE'))
        return
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'contract.sqlite'}")
        yield lambda runs, facts: sql_ports(engine, runs, facts)
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    yield lambda runs, facts: sql_ports(engine, runs, facts)
    with engine.begin() as connection:
        metadata.drop_all(connection)


def _host_layout(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Loader]:
    if request.param.startswith("sqlite"):
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'host.sqlite'}")
        yield lambda runs, facts: host_ports(engine, runs, facts)
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    yield lambda runs, facts: host_ports(engine, runs, facts)
    with engine.begin() as connection:
        HOST_LAYOUT.drop_all(connection)


def _zoo_leg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Loader]:
    host, dialect = ZOO_LEGS[request.param]
    if dialect == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / f'{host.name}.sqlite'}")
        yield zoo_loader(host, engine)
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    yield zoo_loader(host, engine)
    with engine.begin() as connection:
        host.drop(connection)
    # A pooled connection's prepared plans may not fit the next host's tables of the same name.
    engine.dispose()


@pytest.fixture
def statements() -> Iterator[Callable[[sa.Engine], list[str]]]:
    """Start recording the statements an engine executes; returns the live list (the host test
    kit's counter, stopped when the test ends)."""
    with ExitStack() as stack:
        yield lambda engine: stack.enter_context(count_statements(engine)).statements
