"""Issue 14's "Measured": a one-hour window of changes against the needs-attention count.

On the ``--rows`` history of ``bench/generate.py`` (1,000,000 runs over a year, 50 workspaces),
for one workspace (~20,000 runs at 1,000,000) and for every workspace, on SQLite and PostgreSQL,
each repetition times, one after the other (alternating the order), in a request session at the
window's end:

- ``changes``: ``RequestSession.changes`` over the last hour of the history (every page);
- ``count``: the needs-attention count of the same scope at the same instant
  (``SqlPushdown.count(...).needs_attention``, what the dashboard shows): issue 14's denominator;
- ``window``: the cheapest read of the window's own rows, the scope's runs completed in the
  window, every stored column, as SQL text straight through the driver (every workspace: no
  workspace filter); the reference schema has no index that leads with ``completed_at``, so it
  reads the narrowest index that holds it (its plan is printed, see ``window_sql``);

and prints the medians of ``--repeat`` wall times (at least 5 for a measurement; fewer is a smoke
run and says so), the feed's ratio to each denominator (the target, at most 1x, is issue 14's, to
the count) and the statements the feed and the count send, counted with
``runactionability.testing.count_statements``, on the ``--rows`` history and on one of
``--small-rows`` runs: the feed's count must not grow with the history.

    .venv/bin/python bench/changes_bench.py                        # 1,000,000 runs, both engines
    .venv/bin/python bench/changes_bench.py --rows 2000 --small-rows 1000 --repeat 1   # smoke

SQLite reads ``bench/results/history-<rows>.sqlite`` (shared with the other benchmarks);
PostgreSQL the schema ``<--schema-prefix>_<rows>`` of each size (default
``ra_bench_changes_<rows>``; ``--schema`` names one schema for both sizes instead: it is reloaded
when the size it holds differs).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

import generate

from runactionability import ActionabilityService, Registry, VisibleScopes
from runactionability.adapters.sqlalchemy import operation_runs
from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.service import RequestSession
from runactionability.testing import count_statements

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
UNTIL = generate.START + generate.SPAN
"""The window's end: the last instant of the generated history."""
REGISTRY = Registry.default(entry_points=False)


def engine_for(name: str, rows: int, args: argparse.Namespace) -> sa.Engine:
    """An engine on a history of ``rows`` runs, loaded (or found) for ``name``."""
    if name == "sqlite":
        return sa.create_engine(f"sqlite:///{generate.cached_sqlite(rows)}")
    schema = args.schema or f"{args.schema_prefix}_{rows}"
    admin = sa.create_engine(args.postgres_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    admin.dispose()
    engine = sa.create_engine(
        args.postgres_url, connect_args={"options": f"-csearch_path={schema}"}
    )
    if not generate.postgresql_loaded(engine, rows):
        generate.load_postgresql(engine, rows)
    return engine


def read_changes(session: RequestSession, since: datetime) -> int:
    page = session.changes(since=since, limit=10_000)
    found = len(page.changes)
    while page.next_cursor:
        page = session.changes(cursor=page.next_cursor, limit=10_000)
        found += len(page.changes)
    return found


def needs_attention(session: RequestSession) -> int:
    return session.pushdown.count(session.scopes, as_of=session.as_of).needs_attention


def window_sql(engine: sa.Engine, workspace: str | None, since: datetime) -> str:
    """The runs of ``workspace`` (None: every one) completed in the window, every stored column.

    No index of the reference schema leads with ``completed_at``. PostgreSQL's planner picks the
    cheapest read itself (measured against forcing an index). SQLite's picked a wider index for
    one workspace and a scan of the table for all of them, both dearer than finding the ids in
    the narrowest index that holds ``completed_at`` and reading those rows, which it is told to.
    """
    if engine.dialect.name == "postgresql":
        bounds = [f"'{instant.isoformat()}'::timestamptz" for instant in (since, UNTIL)]
    else:
        bounds = [str(to_micros(instant)) for instant in (since, UNTIL)]
    scope = "" if workspace is None else f"workspace_id = '{workspace}' AND "
    window = f"{scope}completed_at >= {bounds[0]} AND completed_at <= {bounds[1]}"
    columns = ", ".join(column.name for column in operation_runs.columns)
    if engine.dialect.name == "postgresql":
        return f"SELECT {columns} FROM operation_runs WHERE {window}"
    return (
        f"SELECT {columns} FROM operation_runs WHERE id IN (SELECT id FROM operation_runs "
        f"INDEXED BY ix_operation_runs_success_scope WHERE {window})"
    )


def window_plan(engine: sa.Engine, sql: str) -> str:
    """The scans of ``sql``'s plan, for the report."""
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        plan = [str(row[-1]).strip() for row in connection.exec_driver_sql(explain + sql)]
    scans = [line for line in plan if "SCAN" in line or "SEARCH" in line or "Scan" in line]
    return "; ".join(re.sub(r"^->\s*|\s*\(cost.*", "", line) for line in scans)


def timed(
    service: ActionabilityService, scopes: VisibleScopes, call: Callable[..., object]
) -> float:
    with service.session(scopes=scopes, as_of=UNTIL) as session:
        started = time.perf_counter()
        call(session)
        return time.perf_counter() - started


def statements(
    service: ActionabilityService, engine: sa.Engine, scopes: VisibleScopes, since: datetime
) -> tuple[int, int]:
    counted = []
    for call in (lambda s: read_changes(s, since), needs_attention):
        with service.session(scopes=scopes, as_of=UNTIL) as session, count_statements(engine) as c:
            call(session)
        counted.append(c.count)
    return counted[0], counted[1]


def bench_engine(name: str, args: argparse.Namespace) -> None:
    since = UNTIL - timedelta(minutes=args.window)
    engine = engine_for(name, args.rows, args)
    small = engine_for(name, args.small_rows, args) if name == "sqlite" else None
    everyone = [f"ws{w:02d}" for w in range(generate.WORKSPACES)]
    legs = [
        ("1 workspace", VisibleScopes(everyone[:1]), everyone[0]),
        ("50 workspaces", VisibleScopes(everyone), None),
    ]
    service = ActionabilityService(engine, registry=REGISTRY)
    rows = []
    try:
        for label, scopes, workspace in legs:
            sql = window_sql(engine, workspace, since)

            def window(session: RequestSession, sql: str = sql) -> list[Any]:
                with engine.connect() as connection:
                    return list(connection.exec_driver_sql(sql))

            calls: dict[str, Callable[[RequestSession], object]] = {
                "changes": lambda s: read_changes(s, since),
                "count": needs_attention,
                "window": window,
            }
            times: dict[str, list[float]] = {measure: [] for measure in calls}
            with service.session(scopes=scopes, as_of=UNTIL) as session:
                found, needs = read_changes(session, since), needs_attention(session)
                completed = len(window(session))
            for repetition in range(args.repeat):
                order = list(calls) if repetition % 2 == 0 else list(reversed(calls))
                for measure in order:
                    times[measure].append(timed(service, scopes, calls[measure]))
            big = statements(service, engine, scopes, since)
            plan = window_plan(engine, sql)
            rows.append(Leg(label, found, needs, completed, times, big, plan))
    finally:
        service.close()
    if name == "postgresql":
        engine.dispose()
        # The second size goes into its own schema (or, with --schema, the same one reloaded).
        small = engine_for(name, args.small_rows, args)
    assert small is not None
    small_service = ActionabilityService(small, registry=REGISTRY)
    try:
        small_counts = [statements(small_service, small, scopes, since) for _, scopes, _ in legs]
    finally:
        small_service.close()
        small.dispose()
    if name == "sqlite":
        engine.dispose()
    _report(name, args, rows, small_counts)


@attrs.frozen
class Leg:
    """One scope's figures: what the feed found, the denominators' sizes, the times, the
    statements at the ``--rows`` size and the window read's plan."""

    label: str
    found: int
    needs: int
    completed: int
    times: dict[str, list[float]]
    statements: tuple[int, int]
    plan: str


def _report(
    name: str, args: argparse.Namespace, rows: list[Leg], small_counts: list[tuple[int, int]]
) -> None:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    smoke = "" if args.repeat >= 5 else " (a smoke run: fewer than 5 repetitions)"
    print(
        f"changes: {name}, {args.rows:,} runs, the last {args.window} min, medians of "
        f"{args.repeat}{smoke}, load {load}"
    )
    print(
        f"{'scope':<14} {'changes':>7} {'needs':>6} {'changes ms':>10} {'count ms':>9} "
        f"{'ratio':>6} {'window':>6} {'window ms':>9} {'ratio':>7}  "
        f"statements changes/count at {args.rows:,} | {args.small_rows:,} runs"
    )
    for leg, small in zip(rows, small_counts, strict=True):
        feed, count, window = (
            statistics.median(leg.times[measure]) for measure in ("changes", "count", "window")
        )
        print(
            f"{leg.label:<14} {leg.found:>7} {leg.needs:>6} {feed * 1000:>10.1f} "
            f"{count * 1000:>9.1f} {feed / count:>5.2f}x {leg.completed:>6} {window * 1000:>9.2f} "
            f"{feed / window:>6.1f}x  {leg.statements[0]}/{leg.statements[1]} | "
            f"{small[0]}/{small[1]}"
        )
    print("ratio: to the needs-attention count (issue 14's; target <= 1x); window: to reading")
    print("the runs completed in the window (window: how many), every column, by the plan:")
    for leg in rows:
        print(f"  {leg.label}: {leg.plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, help="the second size (default: rows / 10)")
    parser.add_argument("--repeat", "--reps", type=int, default=5, help="rounds (5 or more)")
    parser.add_argument("--window", type=int, default=60, help="the window, in minutes")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        "--postgresql",
        default=os.environ.get("RUNACTIONABILITY_TEST_DATABASE_URL", DEFAULT_URL),
    )
    parser.add_argument("--schema", help="one PostgreSQL schema for both sizes, reloaded")
    parser.add_argument(
        "--schema-prefix",
        default="ra_bench_changes",
        help="each size's PostgreSQL schema is <prefix>_<rows> (default ra_bench_changes)",
    )
    args = generate.parse_args(parser)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.small_rows = args.small_rows or max(args.rows // 10, 1)
    for name in args.engines.split(","):
        if name not in ("sqlite", "postgresql"):
            parser.error(f"unknown engine {name!r}")
        bench_engine(name, args)


if __name__ == "__main__":
    main()
