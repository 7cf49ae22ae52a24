"""Issue 14's "Measured": a one-hour window of changes against the needs-attention count.

On the ``--rows`` history of ``bench/generate.py`` (1,000,000 runs over a year, 50 workspaces),
for one workspace (~20,000 runs at 1,000,000) and for every workspace, on SQLite and PostgreSQL,
each repetition times, one after the other (alternating the order), in a request session at the
window's end:

- ``changes``: ``RequestSession.changes`` over the last hour of the history (every page);
- ``count``: the needs-attention count of the same scope at the same instant
  (``SqlPushdown.count(...).needs_attention``, what the dashboard shows);

and prints the medians of ``--repeat`` wall times (at least 5 for a measurement; fewer is a smoke
run and says so), their ratio (the target is at most 1x) and the statements each sends, counted
with ``runactionability.testing.count_statements``, on the ``--rows`` history and on one of
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
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

import generate

from runactionability import ActionabilityService, Registry, VisibleScopes
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


def timed(service: ActionabilityService, scopes: VisibleScopes, call: Callable[..., int]) -> float:
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
        ("1 workspace", VisibleScopes(everyone[:1])),
        ("50 workspaces", VisibleScopes(everyone)),
    ]
    service = ActionabilityService(engine, registry=REGISTRY)
    rows = []
    try:
        for label, scopes in legs:
            times: dict[str, list[float]] = {"changes": [], "count": []}
            calls = {"changes": lambda s: read_changes(s, since), "count": needs_attention}
            with service.session(scopes=scopes, as_of=UNTIL) as session:
                found, needs = read_changes(session, since), needs_attention(session)
            for repetition in range(args.repeat):
                order = ("changes", "count") if repetition % 2 == 0 else ("count", "changes")
                for measure in order:
                    times[measure].append(timed(service, scopes, calls[measure]))
            big = statements(service, engine, scopes, since)
            rows.append((label, found, needs, times, big))
    finally:
        service.close()
    if name == "postgresql":
        engine.dispose()
        # The second size goes into its own schema (or, with --schema, the same one reloaded).
        small = engine_for(name, args.small_rows, args)
    assert small is not None
    small_service = ActionabilityService(small, registry=REGISTRY)
    try:
        small_counts = [statements(small_service, small, scopes, since) for _, scopes in legs]
    finally:
        small_service.close()
        small.dispose()
    if name == "sqlite":
        engine.dispose()
    _report(name, args, rows, small_counts)


def _report(
    name: str,
    args: argparse.Namespace,
    rows: list[tuple[str, int, int, dict[str, list[float]], tuple[int, int]]],
    small_counts: list[tuple[int, int]],
) -> None:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    smoke = "" if args.repeat >= 5 else " (a smoke run: fewer than 5 repetitions)"
    print(
        f"changes: {name}, {args.rows:,} runs, the last {args.window} min, medians of "
        f"{args.repeat}{smoke}, load {load}"
    )
    print(
        f"{'scope':<14} {'changes':>7} {'needs':>6} {'changes ms':>10} {'count ms':>9} "
        f"{'ratio':>6}  statements changes/count at {args.rows:,} | {args.small_rows:,} runs"
    )
    for (label, found, needs, times, big), small in zip(rows, small_counts, strict=True):
        feed = statistics.median(times["changes"])
        count = statistics.median(times["count"])
        print(
            f"{label:<14} {found:>7} {needs:>6} {feed * 1000:>10.1f} {count * 1000:>9.1f} "
            f"{feed / count:>5.2f}x  {big[0]}/{big[1]} | {small[0]}/{small[1]}"
        )


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
