"""Shared test configuration: hypothesis profiles and the database engines of the SQL legs.

``make test`` uses the quick hypothesis profile; CI (``CI=true``) the thorough one. The SQL
fixtures always run on SQLite; they run on PostgreSQL as well when
``RUNACTIONABILITY_TEST_DATABASE_URL`` is set, and then a server that cannot be reached fails the
run rather than skipping it. Each session works in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

# Importing the support module also switches plugin autoloading off (see there).
from tests.support import (
    BACKENDS,
    PARTITIONED_LAYOUTS,
    POSTGRES_URL,
    STORAGE_LEGS,
    create_partitioned_schema,
)

from runactionability import Registry
from runactionability.demo import Size, generate, load, read_marker

settings.register_profile(
    "quick", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "thorough" if os.environ.get("CI") else "quick")
)


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[sa.Engine]:
    """An engine on a fresh PostgreSQL schema, dropped when the session ends."""
    if not POSTGRES_URL:
        pytest.skip("RUNACTIONABILITY_TEST_DATABASE_URL is not set")
    schema = f"ra_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at RUNACTIONABILITY_TEST_DATABASE_URL is unreachable: {exc}")
    engine = sa.create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def sql_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database per test: a SQLite file, or the PostgreSQL session schema, emptied."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'runs.sqlite'}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    yield engine
    with engine.begin() as connection:
        tables = connection.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        for table in list(tables):
            connection.execute(sa.text(f'DROP TABLE "{table}" CASCADE'))
    # psycopg prepares a statement it has run five times; the next test may create a table of
    # the same name with other column types, which a pooled connection's plan cannot serve.
    engine.dispose()


@pytest.fixture(params=STORAGE_LEGS)
def storage_leg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[sa.Engine, str]]:
    """An empty database and a non-native storage of instants (``tests.support.STORAGES``)."""
    backend, _, storage = request.param.partition("/")
    if backend == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'stored.sqlite'}")
        yield engine, storage
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    yield engine, storage
    with engine.begin() as connection:
        for table in sa.inspect(connection).get_table_names():
            connection.execute(sa.text(f'DROP TABLE "{table}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=sorted(PARTITIONED_LAYOUTS))
def partitioned_engine(
    request: pytest.FixtureRequest, postgres_engine: sa.Engine
) -> Iterator[tuple[sa.Engine, str]]:
    """The PostgreSQL schema, its runs table partitioned (``tests.support.PARTITIONED_LAYOUTS``)."""
    create_partitioned_schema(postgres_engine, request.param)
    yield postgres_engine, request.param
    with postgres_engine.begin() as connection:
        # Dropping the parent drops its partitions, which the other fixtures would drop again.
        connection.execute(sa.text("DROP TABLE operation_runs CASCADE"))
        for table in sa.inspect(connection).get_table_names():
            connection.execute(sa.text(f'DROP TABLE "{table}" CASCADE'))
    postgres_engine.dispose()


def pytest_addoption(parser: pytest.Parser) -> None:
    # Declared here, at the root, so that the option exists however the suite is started.
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        help="where the browser tests (tests/web/) save a screenshot of each page "
        "(default: screenshots/ under pytest's base temporary directory)",
    )


@pytest.fixture(scope="module", params=BACKENDS)
def demo_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[sa.URL, dict[str, str], datetime]]:
    """The small demo history, loaded once per module and backend: (URL, connect_args, as_of).

    Loading it took a second per test on PostgreSQL. The tests read it only through ``demo``,
    whose engines refuse every write, so no test changes what the next one reads.
    """
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
        as_of = _load_demo(sa.create_engine(f"sqlite:///{path}"))
        yield sa.make_url(f"sqlite:///file:{path}?mode=ro&uri=true"), {}, as_of
        return
    postgres = request.getfixturevalue("postgres_engine")
    schema = f"ra_test_{uuid.uuid4().hex[:12]}"
    with postgres.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        search_path = f"-csearch_path={schema}"
        as_of = _load_demo(sa.create_engine(postgres.url, connect_args={"options": search_path}))
        options = f"{search_path} -cdefault_transaction_read_only=on"
        yield postgres.url, {"options": options}, as_of
    finally:
        with postgres.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def _load_demo(engine: sa.Engine) -> datetime:
    try:
        load(engine, generate(Size.SMALL, catalog=Registry.default().catalog()))
        marker = read_marker(engine)
    finally:
        engine.dispose()
    assert marker is not None
    return marker.as_of


@pytest.fixture
def demo(
    demo_store: tuple[sa.URL, dict[str, str], datetime],
) -> Iterator[tuple[sa.Engine, datetime]]:
    """The small demo history on each backend, and the instant it was made for.

    A new engine per test (its own pool, caches and listeners) over the module's one copy; it
    refuses writes (SQLite opened read-only, PostgreSQL transactions read-only by default).
    """
    url, connect_args, as_of = demo_store
    engine = sa.create_engine(url, connect_args=connect_args)
    yield engine, as_of
    engine.dispose()
