"""The request benchmark's data sets, built once and cached: the demo database and the history.

The demo (``runactionability demo``'s full history) goes to ``bench/results/request-demo.sqlite``
and to the PostgreSQL schema ``ra_request_bench_demo``; the ``--rows`` history of
``bench/generate.py`` to ``bench/results/history-<rows>.sqlite`` and the schema
``ra_request_bench_<rows>`` (``--schema-prefix`` replaces ``ra_request_bench_``, so people
benchmarking on one server keep apart). Each is reused while it holds what it should.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

import generate

from runactionability import Registry
from runactionability.consumers import VisibleScopes
from runactionability.demo import Size, load, read_marker
from runactionability.demo import generate as generate_demo

SCHEMA_PREFIX = "ra_request_bench_"
CATALOG = Registry.default().catalog()


def sqlite_url(path: Path, *, asynchronous: bool) -> str:
    return f"sqlite+aiosqlite:///{path}" if asynchronous else f"sqlite:///{path}"


def postgres_engine(url: str, schema: str, *, asynchronous: bool) -> Any:
    options = {"options": f"-csearch_path={schema}"}
    if asynchronous:
        from sqlalchemy.ext.asyncio import create_async_engine

        return create_async_engine(
            url.replace("+psycopg:", "+psycopg_async:"), connect_args=options
        )
    return sa.create_engine(url, connect_args=options)


def prepare(data: str, engine_name: str, args: argparse.Namespace) -> tuple[Any, Any, datetime]:
    """Build (or find cached) the data set; return the sync and async engine factories, as_of."""
    if data == "demo":
        as_of = _prepare_demo(engine_name, args)
    else:
        as_of = _prepare_history(engine_name, args)
    path = _sqlite_path(data, args)
    schema = _demo_schema(args) if data == "demo" else _history_schema(args)

    def engine_of(asynchronous: bool) -> Any:
        if engine_name == "sqlite" and asynchronous:
            from sqlalchemy.ext.asyncio import create_async_engine

            return create_async_engine(sqlite_url(path, asynchronous=True))
        if engine_name == "sqlite":
            return sa.create_engine(sqlite_url(path, asynchronous=False))
        return postgres_engine(args.postgres_url, schema, asynchronous=asynchronous)

    return (lambda: engine_of(False)), (lambda: engine_of(True)), as_of


def _sqlite_path(data: str, args: argparse.Namespace) -> Path:
    if data == "demo":
        return generate.results_dir() / "request-demo.sqlite"
    return generate.sqlite_path(args.rows)


def _demo_schema(args: argparse.Namespace) -> str:
    return args.schema or f"{args.schema_prefix}demo"


def _history_schema(args: argparse.Namespace) -> str:
    return args.schema or f"{args.schema_prefix}{args.rows}"


def _ensure_schema(url: str, schema: str) -> None:
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    admin.dispose()


def _prepare_demo(engine_name: str, args: argparse.Namespace) -> datetime:
    if engine_name == "sqlite":
        engine = sa.create_engine(sqlite_url(_sqlite_path("demo", args), asynchronous=False))
    else:
        _ensure_schema(args.postgres_url, _demo_schema(args))
        engine = postgres_engine(args.postgres_url, _demo_schema(args), asynchronous=False)
    try:
        marker = read_marker(engine)
        if marker is None or marker.size is not Size.FULL:
            load(engine, generate_demo(Size.FULL, catalog=CATALOG))
            marker = read_marker(engine)
            # A live database has planner statistics; without them PostgreSQL's plans for the
            # freshly loaded demo are several times slower (measured: 203 against 68 ms).
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        assert marker is not None
        return marker.as_of
    finally:
        engine.dispose()


def _prepare_history(engine_name: str, args: argparse.Namespace) -> datetime:
    if engine_name == "sqlite":
        generate.cached_sqlite(args.rows)
    else:
        schema = _history_schema(args)
        _ensure_schema(args.postgres_url, schema)
        engine = postgres_engine(args.postgres_url, schema, asynchronous=False)
        try:
            if not generate.postgresql_loaded(engine, args.rows):
                generate.load_postgresql(engine, args.rows)
        finally:
            engine.dispose()
    return generate.AS_OF


def visible(data: str, engine: sa.Engine, args: argparse.Namespace) -> VisibleScopes:
    if data != "demo":
        return VisibleScopes({f"ws{w:02d}" for w in range(args.workspaces)})
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT DISTINCT workspace_id FROM operation_runs ORDER BY workspace_id"
        ).scalars()
        return VisibleScopes(list(rows))
