"""What does the request API cost per request beyond its statements' own execution time?

One typical web request through ``ActionabilityService.session(...)``: the dashboard, the
current follow-up page and one run's explanation, on one snapshot. For each leg (data set x
engine x sync/async) it runs ``--warmup`` requests (the first compiles), then ``--requests``
measured ones, and prints side by side, median and p90 over the measured requests:

- ``wall``: the request's wall time, session opening and closing included;
- ``sql``: the sum of its statements' own execution time, timed by the engine's
  ``before_cursor_execute`` / ``after_cursor_execute`` events around the DBAPI ``execute``
  (async: around the awaited driver call, in which SQLAlchemy's adapter fetches every row);
- ``overhead``: wall minus sql, per request: the library's and SQLAlchemy's Python time
  (binding, reading rows, the core, the consumers; compiling, were any left);
- ``cpu ovh``: the same in this thread's CPU time (``time.thread_time``: the request's minus
  its statements'), which waiting for a busy machine's cores does not inflate;
- ``sql cpu``: this thread's CPU time inside the statements: the driver's own Python work
  (psycopg converting and sending a query, reading its result) and, on SQLite sync, the
  database itself; waiting for PostgreSQL is not in it;
- ``compiles``: SQL compilations during the measured requests (the target is 0).

SQLite's ``execute`` steps to the first row only, the rest are computed as they are fetched, so
the SQLite sync legs also replay one request's statements, with their parameters, straight on
the DBAPI connection with ``fetchall`` (``replay``): wall minus replay is the overhead with every
row's fetching counted as the database's. psycopg's ``execute`` receives the whole result, so on
PostgreSQL the events' time already includes it.

Data sets (``bench/request_data.py``): the demo database (~3,000 runs, every workspace
visible) and a generated history of ``--rows`` runs (``bench/generate.py``, cached under
``bench/results/`` and, on PostgreSQL, in a schema of its own; ``--workspaces`` of its 50
workspaces visible, ~20,000 runs each).

    .venv/bin/python bench/request_overhead_bench.py                      # everything
    .venv/bin/python bench/request_overhead_bench.py --data demo --engines sqlite --modes sync
    .venv/bin/python bench/request_overhead_bench.py --profile sqlite-demo-sync

``--profile LEG`` runs that leg's measured requests under cProfile and prints the top entries.
The PostgreSQL legs use ``--postgres-url`` (default: ``RUNACTIONABILITY_TEST_DATABASE_URL``, else
the local test server).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import compiler

sys.path.insert(0, str(Path(__file__).parent))

import generate
from request_data import SCHEMA_PREFIX, prepare, visible

from runactionability import ActionabilityService, Registry
from runactionability.consumers import VisibleScopes

REGISTRY = Registry.default()
CATALOG = REGISTRY.catalog()


class StatementClock:
    """Sums the execution time of every statement an engine runs, and keeps what ran."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[tuple[str, Any, bool]] = []
        self._started: list[float] = []
        self.reset()
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.statements.clear()
        self.marks: list[tuple[str, float, float]] = [("", time.perf_counter(), 0.0)]

    def mark(self, part: str) -> None:
        """Close the request's ``part``: its wall and statement time are since the last mark."""
        self.marks.append((part, time.perf_counter(), self.seconds))

    def parts(self) -> dict[str, tuple[float, float]]:
        """Each part's (wall, statements) seconds."""
        return {
            part: (at - before[1], sql - before[2])
            for before, (part, at, sql) in zip(self.marks, self.marks[1:], strict=False)
        }

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        self._started.append(time.thread_time())
        self._started.append(time.perf_counter())

    def _after(
        self, conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool
    ) -> None:
        self.seconds += time.perf_counter() - self._started.pop()
        self.cpu_seconds += time.thread_time() - self._started.pop()
        self.statements.append((statement, params, many))


@contextmanager
def compilations() -> Iterator[list[str]]:
    """Every SQL compilation, cache misses and explicit ``compile`` calls alike (as
    tests/service/test_request_api.py counts them); savepoints are transaction control that
    SQLAlchemy renders afresh each time, by design, so they are left out."""
    seen: list[str] = []
    original = compiler.SQLCompiler.__init__

    def counting(self: compiler.SQLCompiler, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if "SAVEPOINT" not in self.string:
            seen.append(self.string)

    compiler.SQLCompiler.__init__ = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        compiler.SQLCompiler.__init__ = original  # type: ignore[method-assign]


def sync_request(
    service: ActionabilityService, scopes: VisibleScopes, as_of: datetime, clock: StatementClock
) -> None:
    with service.session(scopes=scopes, as_of=as_of) as session:
        clock.mark("open")
        summary = session.dashboard()
        clock.mark("dashboard")
        page = session.follow_up_page()
        clock.mark("follow-up page")
        shown = summary.top or page.items
        if shown:
            session.explain(shown[0].run.id)
        clock.mark("explain")
    clock.mark("close")


async def async_request(
    service: Any, scopes: VisibleScopes, as_of: datetime, clock: StatementClock
) -> None:
    async with service.session(scopes=scopes, as_of=as_of) as session:
        clock.mark("open")
        summary = await session.dashboard()
        clock.mark("dashboard")
        page = await session.follow_up_page()
        clock.mark("follow-up page")
        shown = summary.top or page.items
        if shown:
            await session.explain(shown[0].run.id)
        clock.mark("explain")
    clock.mark("close")


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(samples) * 1000, 3),
        "p90": round(percentile(samples, 0.9) * 1000, 3),
    }


def measure(
    run: Callable[[], None], clock: StatementClock, args: argparse.Namespace, profile: bool
) -> dict[str, Any]:
    """Warm up, then time ``--requests`` requests: wall, statements and their difference."""
    for _ in range(args.warmup):
        run()
    wall: list[float] = []
    sql: list[float] = []
    overhead: list[float] = []
    cpu_overhead: list[float] = []
    sql_cpu: list[float] = []
    parts: dict[str, list[tuple[float, float]]] = {}
    profiler = cProfile.Profile() if profile else None
    with compilations() as compiled:
        for _ in range(args.requests):
            clock.reset()
            if profiler is not None:
                profiler.enable()
            began, began_cpu = time.perf_counter(), time.thread_time()
            run()
            elapsed = time.perf_counter() - began
            cpu_overhead.append(time.thread_time() - began_cpu - clock.cpu_seconds)
            sql_cpu.append(clock.cpu_seconds)
            if profiler is not None:
                profiler.disable()
            wall.append(elapsed)
            sql.append(clock.seconds)
            overhead.append(elapsed - clock.seconds)
            for part, spent in clock.parts().items():
                parts.setdefault(part, []).append(spent)
    if profiler is not None:
        print_profile(profiler, args.requests)
    return {
        "requests": args.requests,
        "statements": len(clock.statements),
        "wall_ms": summary(wall),
        "sql_ms": summary(sql),
        "overhead_ms": summary(overhead),
        "overhead_cpu_ms": summary(cpu_overhead),
        "sql_cpu_ms": summary(sql_cpu),
        "compilations": len(compiled),
        "parts_ms": {
            part: {
                "wall": round(statistics.median(w for w, _ in spent) * 1000, 3),
                "overhead": round(statistics.median(w - q for w, q in spent) * 1000, 3),
            }
            for part, spent in parts.items()
        },
    }


def replay_ms(engine: sa.Engine, statements: list[tuple[str, Any, bool]], repeat: int) -> float:
    """The median time of the DBAPI alone running ``statements`` and fetching every row."""
    raw: Any = engine.raw_connection()
    times = []
    try:
        for _ in range(repeat):
            cursor = raw.cursor()
            began = time.perf_counter()
            for statement, params, many in statements:
                if many:
                    cursor.executemany(statement, params)
                else:
                    cursor.execute(statement, params)
                if cursor.description is not None:
                    cursor.fetchall()
            times.append(time.perf_counter() - began)
            cursor.close()
            raw.rollback()
    finally:
        raw.close()
    return round(statistics.median(times) * 1000, 3)


def print_profile(profiler: cProfile.Profile, requests: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    print(f"\n-- cProfile over {requests} requests, top by own time --")
    stats.sort_stats("tottime").print_stats(25)
    print(out.getvalue())
    out.truncate(0)
    out.seek(0)
    print(f"-- cProfile over {requests} requests, top by cumulative time --")
    stats.sort_stats("cumulative").print_stats(35)
    print(out.getvalue())


def sync_leg(
    engine: sa.Engine, scopes: VisibleScopes, as_of: datetime, args: argparse.Namespace, leg: str
) -> dict[str, Any]:
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    clock = StatementClock(engine)
    report = measure(
        lambda: sync_request(service, scopes, as_of, clock),
        clock,
        args,
        profile=args.profile == leg,
    )
    if engine.dialect.name == "sqlite":
        report["replay_ms"] = replay_ms(engine, list(clock.statements), args.requests)
    return report


def async_leg(
    engine: Any, scopes: VisibleScopes, as_of: datetime, args: argparse.Namespace, leg: str
) -> dict[str, Any]:
    from runactionability import AsyncActionabilityService  # type: ignore[attr-defined]

    service = AsyncActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    clock = StatementClock(engine.sync_engine)
    loop = asyncio.new_event_loop()

    def run(request: Awaitable[None]) -> None:
        loop.run_until_complete(request)

    try:
        return measure(
            lambda: run(async_request(service, scopes, as_of, clock)),
            clock,
            args,
            profile=args.profile == leg,
        )
    finally:
        loop.run_until_complete(engine.dispose())
        loop.close()


def has_async() -> bool:
    import runactionability

    return hasattr(runactionability, "AsyncActionabilityService")


def run_legs(args: argparse.Namespace) -> list[dict[str, Any]]:
    reports = []
    asynchronous = has_async()
    for data in args.data.split(","):
        for engine_name in args.engines.split(","):
            sync_engine, async_engine, as_of = prepare(data, engine_name, args)
            engine = sync_engine()
            scopes = visible(data, engine, args)
            for mode in args.modes.split(","):
                leg = f"{engine_name}-{data}-{mode}"
                if mode == "async" and not asynchronous:
                    print(f"{leg}: skipped, no AsyncActionabilityService in this build")
                    continue
                if mode == "sync":
                    report = sync_leg(engine, scopes, as_of, args, leg)
                else:
                    report = async_leg(async_engine(), scopes, as_of, args, leg)
                report.update(leg=leg, workspaces=len(scopes.workspace_ids))
                reports.append(report)
                print_row(report)
            engine.dispose()
    return reports


HEADER = (
    f"{'leg':<26} {'stmts':>5} {'wall ms':>15} {'sql ms':>15} {'overhead ms':>15} "
    f"{'cpu ovh':>15} {'sql cpu':>15} {'replay':>8} {'compiles':>8}"
)


def print_row(report: dict[str, Any]) -> None:
    def pair(name: str) -> str:
        return f"{report[name]['median']:>7.2f}/{report[name]['p90']:<7.2f}"

    replay = f"{report['replay_ms']:>8.2f}" if "replay_ms" in report else f"{'-':>8}"
    print(
        f"{report['leg']:<26} {report['statements']:>5} {pair('wall_ms')} {pair('sql_ms')} "
        f"{pair('overhead_ms')} {pair('overhead_cpu_ms')} {pair('sql_cpu_ms')} {replay} "
        f"{report['compilations']:>8}",
        flush=True,
    )
    parts = ", ".join(
        f"{part} {spent['wall']:.2f}/{spent['overhead']:.2f}"
        for part, spent in report["parts_ms"].items()
    )
    print(f"{'':<26} median wall/overhead ms: {parts}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="demo,history", help="demo, history or both")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--modes", default="sync,async")
    parser.add_argument("--rows", type=int, default=1_000_000, help="the history's runs")
    parser.add_argument("--workspaces", type=int, default=1, help="visible in the history")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--profile", metavar="LEG", help="e.g. sqlite-demo-sync")
    parser.add_argument(
        "--schema",
        help="the PostgreSQL schema of the data (default <prefix>demo or <prefix><rows>)",
    )
    parser.add_argument(
        "--schema-prefix",
        default=SCHEMA_PREFIX,
        help="the PostgreSQL schemas' prefix, so several people can keep their data apart",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "RUNACTIONABILITY_TEST_DATABASE_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        ),
    )
    args = generate.parse_args(parser)
    if args.warmup < 1 or args.requests < 5:
        parser.error("--warmup must be at least 1 (the first request compiles), --requests 5")
    results = generate.results_dir()
    results.mkdir(parents=True, exist_ok=True)
    print("median/p90 over the measured requests; replay: SQLite's statements on the bare DBAPI")
    print(HEADER, flush=True)
    reports = run_legs(args)
    (results / "request_overhead_bench.json").write_text(json.dumps(reports, indent=2) + "\n")


if __name__ == "__main__":
    main()
