"""Issue 13's table: each measure against an inflated and an honest denominator, side by side.

For one workspace (~20,000 runs at 1,000,000) and for the whole table, on SQLite and PostgreSQL,
each repetition times every measure and every denominator of that scope one after the other
(alternating the order), and the report gives medians of ``--repeat`` repetitions (at least 5
for a measurement; fewer is a smoke run and says so):

- needs-attention count (``SqlPushdown.needs_attention``, which reads the problem rows alone)
  against the bare count of failed/blocked runs (inflated: no index matches it) and against an
  index-only count of the problem rows the pushdown classifies (honest: the partial problem-row
  index, nothing else read);
- the full status breakdown (``SqlPushdown.count``) against the same bare count and a grouped
  index-only count of every run by status and outcome;
- the first current-follow-up page of 50 against an unfiltered newest-first page of 50
  (``SqlRunSource.list_runs``, issue 13's denominator) and against the cheapest read of the
  page's rows, the scope's newest 50 problem rows from the partial problem-row index
  (``rows read``);
- a page of 50 failed/blocked runs classified with explanations over the SQL ports against
  fetching the same page (issue 13's) and against the newest 50 failed/blocked rows from that
  index (``rows read``).

Each honest denominator's plan is checked to be index-only (SQLite ``USING COVERING INDEX``,
PostgreSQL ``Index Only Scan`` and its heap fetches); each rows read's plan is printed with
whether it sorts and whether it is index-only (on PostgreSQL it cannot be: the problem index
holds no context). ``--explain`` prints the plans of the statements the one-workspace count and
the first follow-up page run (the forms timed) and of the denominators of both scopes;
``--baselines`` adds batch evaluation in Python and one query per run; ``--workspaces`` times
the count and the page for growing sets of visible workspaces. The table, each scope's medians
and the plans' verdicts are also written to ``pushdown_bench.json`` in the results directory.

    .venv/bin/python bench/pushdown_bench.py                   # 1,000,000 runs, both engines
    .venv/bin/python bench/pushdown_bench.py --rows 2000 --repeat 1 --engines sqlite   # smoke

PostgreSQL is loaded into a schema of the bench's own, ``ra_pushdown_<rows>`` (``--schema``),
on the server of ``--postgres-url`` (default ``RUNACTIONABILITY_TEST_DATABASE_URL``, else the
local test server); SQLite into ``bench/results/history-<rows>.sqlite``. Both are reused by later
runs of the same size (``--reload`` rebuilds them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

import generate

from runactionability import Resolver, RunOutcome
from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    SqlRunHistory,
    SqlRunSource,
    SqlStateSource,
    operation_runs,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.problem_predicate import problem_rows
from runactionability.adapters.sqlalchemy.pushdown import (
    SqlPushdown,
    SupersedeForm,
    _prepare,
    _scope_values,
)
from runactionability.consumers import VisibleScopes, read_runs

AS_OF = generate.AS_OF
SAMPLE = 200
PAGE = 50
PROBLEM_OUTCOMES = frozenset({RunOutcome.FAILED, RunOutcome.BLOCKED})
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ALL_WORKSPACES = [f"ws{w:02d}" for w in range(generate.WORKSPACES)]

# (measure, old denominator, honest denominator, cheapest read of the answer's rows or None
# where the honest one is that read, target one workspace, target whole table)
ROWS = (
    ("needs-attention count", "bare", "problems", None, 8.0, 15.0),
    ("full status breakdown", "bare", "by_status", None, None, None),
    ("first follow-up page of 50", "page", "page", "problem_rows", 1.5, 1.5),
    ("classified page of 50 problem runs", "problem_page", "problem_page", "failed_rows", 2.0, 2.0),
)
PAGE_CALLS = ("page", "follow_up", "problem_page", "classified", "problem_rows", "failed_rows")
"""What ``--pages-only`` times: issue 13's two page measures and their denominators."""
ROWS_READS = ("problem_rows", "failed_rows")
"""The denominators that read a page's own rows: each plan is printed with its verdict."""
DENOMINATORS = {
    "bare": "count(*) of the scope's completed failed/blocked runs: no index matches (old)",
    "problems": "count(*) of the scope's problem rows from the partial problem-row index",
    "by_status": "count(*) of the scope's runs GROUP BY status, outcome from a covering index",
    "page": "SqlRunSource.list_runs(scope, limit=50): unfiltered, newest first (issue 13's)",
    "problem_page": "SqlRunSource.list_runs(scope, limit=50, outcomes={failed, blocked})",
    "problem_rows": "the scope's newest 50 problem rows, every column, from the problem index",
    "failed_rows": "the scope's newest 50 failed/blocked rows, every column, from that index",
}


def side_by_side(repeat: int, calls: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """The median seconds of each call over ``repeat`` rounds, each round timing every call.

    One untimed round first compiles statements and warms caches; the order alternates between
    rounds so that neither side always runs right after the other. Besides each call's wall time
    (``name``) it gives this process's CPU time (``name cpu``): on SQLite, where the database
    runs inside the process, that is the whole cost, which other work on the machine does not
    stretch; on PostgreSQL it leaves out the server's share.
    """
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {}
    for round_ in range(repeat):
        order = list(calls.items())
        if round_ % 2:
            order.reverse()
        for name, call in order:
            cpu = time.process_time()
            began = time.perf_counter()
            call()
            times.setdefault(name, []).append(time.perf_counter() - began)
            times.setdefault(f"{name} cpu", []).append(time.process_time() - cpu)
    return {name: statistics.median(values) for name, values in times.items()}


def _sql(engine: sa.Engine, statement: Any) -> str:
    # Literal ids and vocabulary, compiled once: the denominators pay no expression building.
    return str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


class Denominators:
    """The reference statements of one scope, as SQL text run straight through the driver.

    ``workspaces`` None is the whole table: every workspace is visible, so no workspace filter
    (an ``IN`` list of all 50 led SQLite to a covering scan of a wide index, 20x the count).
    """

    def __init__(self, engine: sa.Engine, workspaces: list[str] | None) -> None:
        self.engine = engine
        t = operation_runs.c
        self.workspaces = workspaces
        scope: list[Any] = []
        if workspaces is not None:
            scope.append(
                t.workspace_id == workspaces[0]
                if len(workspaces) == 1
                else t.workspace_id.in_(workspaces)
            )
        self.problems = _sql(
            engine,
            sa.select(sa.func.count())
            .select_from(operation_runs)
            .where(*scope, problem_rows(t.status, t.outcome)),
        )
        if workspaces is not None and engine.dialect.name == "sqlite":
            # For a list of workspaces SQLite's planner prefers a wide covering index over the
            # partial problem-row index; the honest count walks the latter.
            self.problems = self.problems.replace(
                "FROM operation_runs",
                "FROM operation_runs INDEXED BY ix_operation_runs_problem_scope",
            )
        self.by_status = _sql(
            engine,
            sa.select(t.status, t.outcome, sa.func.count())
            .where(*scope)
            .group_by(t.status, t.outcome),
        )
        # The old denominator, as the benchmark ran it before: every visible id in the list.
        self.bare_sql = _sql(
            engine,
            sa.select(sa.func.count()).where(
                t.workspace_id.in_(workspaces or ALL_WORKSPACES),
                t.status == "completed",
                t.outcome.in_(["failed", "blocked"]),
            ),
        )

        self.problem_rows = self._newest(engine, scope, problem_rows(t.status, t.outcome))
        self.failed_rows = self._newest(
            engine,
            scope,
            problem_rows(t.status, t.outcome),
            t.outcome.in_(sorted(str(outcome) for outcome in PROBLEM_OUTCOMES)),
        )

    @staticmethod
    def _newest(engine: sa.Engine, scope: list[Any], *where: Any) -> str:
        """The newest ``PAGE`` rows of the scope that match ``where``, every column, in the
        pages' order: what a page of them reads at the least, from the partial problem index
        (the problem predicate repeated so that both engines match it)."""
        t = operation_runs.c
        created = t.created_at.desc()
        # The stored columns as they are: the adapter's reading of a context (the checks of
        # its JSON on PostgreSQL) is the library's work, not the rows'.
        stored = [sa.literal_column(f"operation_runs.{column.name}") for column in t]
        sql = _sql(
            engine,
            sa.select(*stored)
            .select_from(operation_runs)
            .where(*scope, *where)
            .order_by(created.nulls_last() if engine.dialect.name == "postgresql" else created)
            .order_by(t.id.desc())
            .limit(PAGE),
        )
        if engine.dialect.name == "sqlite":
            # Named, so that the read is the index's whatever the planner's estimate.
            index = "ix_operation_runs_problem_" + ("scope" if scope else "created")
            sql = sql.replace("FROM operation_runs", f"FROM operation_runs INDEXED BY {index}")
        return sql

    def read(self, sql: str) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.exec_driver_sql(sql))

    def bare(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.exec_driver_sql(self.bare_sql).scalar_one())

    def count_problems(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.exec_driver_sql(self.problems).scalar_one())

    def count_by_status(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.exec_driver_sql(self.by_status))


def plan_of(engine: sa.Engine, sql: str) -> list[str]:
    """The plan of ``sql``: SQLite's query plan, PostgreSQL's ``EXPLAIN (ANALYZE, BUFFERS)``."""
    prefix = (
        "EXPLAIN QUERY PLAN "
        if engine.dialect.name == "sqlite"
        else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
    )
    with engine.connect() as connection:
        return [str(row[-1]) for row in connection.exec_driver_sql(prefix + sql)]


def index_only(engine: sa.Engine, sql: str) -> str:
    """Whether ``sql`` reads only an index: a verdict for the report, from its plan."""
    plan = plan_of(engine, sql)
    if engine.dialect.name == "sqlite":
        scans = [line for line in plan if line.startswith(("SCAN", "SEARCH"))]
        if scans and all("COVERING INDEX" in line for line in scans):
            return "index-only (covering index)"
        if scans and not _reads_table(engine, sql):
            # SQLite drops the query's terms a partial index's WHERE implies, yet its query plan
            # still says "USING INDEX": the bytecode shows no table row is ever read.
            return "index-only (partial index; the bytecode reads no table column)"
        return "NOT index-only: " + "; ".join(scans)
    if any("Seq Scan" in line or "Bitmap Heap" in line for line in plan) or not any(
        "Index Only Scan" in line for line in plan
    ):
        return "NOT index-only: " + next(line.strip() for line in plan if "Scan" in line)
    fetches = sum(int(line.split("Heap Fetches:")[1]) for line in plan if "Heap Fetches:" in line)
    return f"index-only (Index Only Scan, heap fetches {fetches})"


def rows_verdict(engine: sa.Engine, sql: str) -> str:
    """How a read of a page's rows is planned: its scans, whether it sorts, whether it is
    index-only (on PostgreSQL the problem index leaves out the context, so it cannot be)."""
    plan = plan_of(engine, sql)
    scans = [
        re.sub(r"^->\s*|\s*\(actual.*", "", line.strip())
        for line in plan
        if line.lstrip().startswith(("SCAN", "SEARCH")) or " Scan " in f" {line.strip()} "
    ]
    sorts = any("TEMP B-TREE FOR ORDER BY" in line or "Sort Key" in line for line in plan)
    only = index_only(engine, sql)
    if only.startswith("NOT") and engine.dialect.name == "postgresql":
        only = "not index-only (each entry's table row read: the index holds no context)"
    return f"{'; '.join(scans)}; {'sorts' if sorts else 'no sort'}; {only}"


def _reads_table(engine: sa.Engine, sql: str) -> bool:
    """Whether SQLite's bytecode for ``sql`` reads a column or row of the runs table itself."""
    with engine.connect() as connection:
        root = connection.exec_driver_sql(
            "SELECT rootpage FROM sqlite_master WHERE name = 'operation_runs'"
        ).scalar_one()
        program = list(connection.exec_driver_sql("EXPLAIN " + sql))
    cursors = {p1 for _, opcode, p1, p2, *_ in program if opcode == "OpenRead" and p2 == root}
    reading = {"Column", "Rowid", "SeekRowid", "NotExists", "RowData"}
    return any(opcode in reading and p1 in cursors for _, opcode, p1, *_ in program)


def bench_engine(name: str, engine: sa.Engine, args: argparse.Namespace) -> dict[str, Any]:
    """Issue 13's table on ``engine``, printed; returned for the JSON report."""
    resolver = Resolver(
        history=SqlRunHistory(engine),
        states={k: SqlStateSource(engine, m) for k, m in reference_state_mappings().items()},
    )
    source = SqlRunSource(engine)
    default = SqlPushdown(engine)
    scopes_of: dict[str, list[str] | None] = {"one workspace": ["ws07"], "whole table": None}
    rounds = args.repeat
    smoke = "" if rounds >= 5 else "  (fewer than 5 rounds: a smoke run, not a measurement)"
    print(f"\n== {name}, {args.rows:,} runs, medians of {rounds} side-by-side rounds =={smoke}")
    load_before = _load()
    print(f"count form: {default.compiled().form} (default); pages: exists; load {load_before}")
    measured: dict[str, dict[str, float]] = {}
    scopes_report: dict[str, Any] = {}
    for label, workspaces in scopes_of.items():
        den = Denominators(engine, workspaces)
        scopes_report[label] = {
            "runs": sum(row[-1] for row in den.count_by_status()),
            "problem_rows": den.count_problems(),
            "plans": {
                key: index_only(engine, getattr(den, key)) for key in ("problems", "by_status")
            }
            | {key: rows_verdict(engine, getattr(den, key)) for key in ROWS_READS},
        }
        print(
            f"{label}: {scopes_report[label]['runs']:,} runs, "
            f"{scopes_report[label]['problem_rows']:,} problem rows"
        )
        for key, verdict in scopes_report[label]["plans"].items():
            print(f"  {key} denominator plan: {verdict}")
        scopes = VisibleScopes(set(workspaces or ALL_WORKSPACES))
        calls = _calls(engine, (default, resolver, source), scopes, den, args.pages_only)
        measured[label] = side_by_side(rounds, calls)
        if args.baselines:
            measured[label].update(baselines(resolver, source, scopes, rounds))
    table = report(measured, cpu=name == "sqlite")
    load_after = _load()
    print(f"load average after: {load_after}")
    if args.workspaces:
        by_workspaces(engine, default, source, ALL_WORKSPACES, rounds)
    if args.explain:
        explain_plans(name, engine, default, VisibleScopes({"ws07"}))
        for label, workspaces in scopes_of.items():
            den = Denominators(engine, workspaces)
            for key in ("problems", "by_status", *ROWS_READS):
                print(f"\n-- plan: {key} denominator ({name}, {label})")
                for line in plan_of(engine, getattr(den, key)):
                    print("  ", line[:150])
    return {
        "engine": name,
        "rows": args.rows,
        "rounds": rounds,
        "load": [load_before, load_after],
        "scopes": scopes_report,
        "medians_ms": {
            label: {key: round(seconds * 1000, 4) for key, seconds in times.items()}
            for label, times in measured.items()
        },
        "table": table,
        "denominators": DENOMINATORS,
    }


def _calls(
    engine: sa.Engine,
    readers: tuple[SqlPushdown, Resolver, SqlRunSource],
    scopes: VisibleScopes,
    den: Denominators,
    pages_only: bool,
) -> dict[str, Callable[[], Any]]:
    """What one scope's rounds time: every measure and every denominator of issue 13's table."""
    default, resolver, source = readers
    query = scopes.query()

    def classified() -> Any:
        page = source.list_runs(query, limit=PAGE, outcomes=PROBLEM_OUTCOMES)
        return resolver.evaluate_many(page.runs, as_of=AS_OF)

    calls: dict[str, Callable[[], Any]] = {
        "bare": den.bare,
        "problems": den.count_problems,
        "by_status": den.count_by_status,
        "attention": lambda: default.needs_attention(scopes, as_of=AS_OF),
        "count": lambda: default.count(scopes, as_of=AS_OF),
        "page": lambda: source.list_runs(query, limit=PAGE),
        "follow_up": lambda: default.follow_up_page(scopes, as_of=AS_OF, limit=PAGE),
        "problem_page": lambda: source.list_runs(query, limit=PAGE, outcomes=PROBLEM_OUTCOMES),
        "classified": classified,
        "problem_rows": lambda: den.read(den.problem_rows),
        "failed_rows": lambda: den.read(den.failed_rows),
    }
    if pages_only:
        return {key: calls[key] for key in PAGE_CALLS}
    for form in SupersedeForm:
        if form != default.compiled().form:
            other = SqlPushdown(engine, form=form)
            calls[f"count {form}, needs attention"] = lambda p=other: p.needs_attention(
                scopes, as_of=AS_OF
            )
    return calls


def by_workspaces(
    engine: sa.Engine,
    pushdown: SqlPushdown,
    source: SqlRunSource,
    all_workspaces: list[str],
    rounds: int,
) -> None:
    """The needs-attention count and the first page for growing sets of visible workspaces."""
    print(
        f"\n{'visible workspaces':<20}{'runs':>10}{'problem rows':>14}{'count':>14}"
        f"{'problem count':>15}{'ratio':>9}{'follow-up page':>16}{'page':>11}{'ratio':>8}"
    )
    sizes = sorted({1, 2, 5, 10, 25, len(all_workspaces)} & set(range(len(all_workspaces) + 1)))
    for size in sizes:
        workspaces = all_workspaces[:size]
        scopes = VisibleScopes(set(workspaces))
        den = Denominators(engine, None if size == len(all_workspaces) else workspaces)
        runs = sum(row[-1] for row in den.count_by_status())
        times = side_by_side(
            rounds,
            {
                "problems": den.count_problems,
                "count": lambda s=scopes: pushdown.needs_attention(s, as_of=AS_OF),
                "page": lambda s=scopes: source.list_runs(s.query(), limit=PAGE),
                "follow_up": lambda s=scopes: pushdown.follow_up_page(s, as_of=AS_OF, limit=PAGE),
            },
        )
        print(
            f"{size:<20}{runs:>10,}{den.count_problems():>14,}{_ms(times['count']):>14}"
            f"{_ms(times['problems']):>15}{times['count'] / times['problems']:>8.1f}x"
            f"{_ms(times['follow_up']):>16}{_ms(times['page']):>11}"
            f"{times['follow_up'] / times['page']:>7.1f}x"
        )


NUMERATORS = {
    "needs-attention count": "attention",
    "full status breakdown": "count",
    "first follow-up page of 50": "follow_up",
    "classified page of 50 problem runs": "classified",
}


def report(measured: dict[str, dict[str, float]], *, cpu: bool) -> list[dict[str, Any]]:
    """Issue 13's rows, printed and returned; with ``cpu`` (SQLite) also the ratios of CPU times
    to the honest denominator and to the cheapest read of the answer's rows."""
    print(
        f"{'measure':<36}{'scope':<15}{'time':>11}{'old denominator':>24}"
        f"{'honest denominator':>24}{'rows read':>24}{'target':>8}"
        + (f"{'CPU time':>12}{'CPU-time ratio':>16}{'to rows read':>14}" if cpu else "")
    )
    table = []
    for measure, old, honest, rows_read, one_target, whole_target in ROWS:
        if NUMERATORS[measure] not in next(iter(measured.values())):
            continue
        for (label, times), target in zip(
            measured.items(), (one_target, whole_target), strict=True
        ):
            row = _table_row(measure, label, times, (old, honest, rows_read), target)
            table.append(row)
            print(_printed(row, cpu=cpu))
    extra = [
        key
        for key in next(iter(measured.values()))
        if key.startswith(("count ", "python")) and not key.endswith(" cpu")
    ]
    for key in [*extra, "one query per run"]:
        if key not in next(iter(measured.values())):
            continue
        for label, times in measured.items():
            seconds = times[key]
            old_ratio = f"{seconds / times['bare']:6.1f}x"
            honest_ratio = f"{seconds / times['problems']:6.1f}x"
            print(f"{key:<36}{label:<15}{_ms(seconds):>11}{old_ratio:>24}{honest_ratio:>24}")
    print("evaluate_many in memory (warm / first call): bench/core_bench.py")
    print("denominators (rows read: the cheapest read of the answer's rows, where not the honest):")
    for key, text in DENOMINATORS.items():
        print(f"  {key:<13}{text}")
    return table


def _table_row(
    measure: str,
    scope: str,
    times: dict[str, float],
    denominators: tuple[str, str, str | None],
    target: float | None,
) -> dict[str, Any]:
    """One row of the table: the measure's median and its ratio to each denominator."""
    numerator = NUMERATORS[measure]
    row: dict[str, Any] = {"measure": measure, "scope": scope, "target": target}
    row["ms"] = round(times[numerator] * 1000, 4)
    row["cpu_ms"] = round(times[numerator + " cpu"] * 1000, 4)
    for role, key in zip(("old", "honest", "rows_read"), denominators, strict=True):
        if key is None:
            continue
        row[role] = {
            "denominator": key,
            "ms": round(times[key] * 1000, 4),
            "ratio": round(times[numerator] / times[key], 3),
            "cpu_ratio": round(times[numerator + " cpu"] / times[key + " cpu"], 3),
        }
    return row


def _printed(row: dict[str, Any], *, cpu: bool) -> str:
    def against(role: str) -> str:
        if role not in row:
            return "-"
        return f"{row[role]['ms']:.2f} ms {row[role]['ratio']:6.1f}x"

    target = row["target"]
    wanted = "-" if target is None else f"<={target:g}x"
    on_cpu = ""
    if cpu:
        to_rows = f"{row['rows_read']['cpu_ratio']:.1f}x" if "rows_read" in row else "-"
        on_cpu = f"{row['cpu_ms']:>9.2f} ms{row['honest']['cpu_ratio']:>15.1f}x{to_rows:>14}"
    return (
        f"{row['measure']:<36}{row['scope']:<15}{row['ms']:>8.2f} ms{against('old'):>24}"
        f"{against('honest'):>24}{against('rows_read'):>24}{wanted:>8}" + on_cpu
    )


def _load() -> str:
    # Other work on the machine stretches the long calls more than the short ones.
    return (
        " ".join(Path("/proc/loadavg").read_text().split()[:3])
        if Path("/proc/loadavg").exists()
        else "unknown"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def baselines(
    resolver: Resolver, source: SqlRunSource, scopes: VisibleScopes, rounds: int
) -> dict[str, float]:
    """Batch evaluation in Python, and one query per run (a sample of runs, extrapolated)."""
    runs = read_runs(source, scopes.query(), page_size=5000)
    python_rounds = rounds if len(runs) <= 100_000 else 1
    batch = side_by_side(
        python_rounds,
        {
            "python": lambda: resolver.evaluate_many(
                read_runs(source, scopes.query(), page_size=5000), as_of=AS_OF
            )
        },
    )["python"]
    sample = runs[:: max(1, len(runs) // SAMPLE)][:SAMPLE]
    began = time.perf_counter()
    for run in sample:
        resolver.evaluate(run, as_of=AS_OF)
    per_run = (time.perf_counter() - began) / len(sample)
    return {
        f"python batch ({python_rounds} rounds)": batch,
        "one query per run": per_run * len(runs),
    }


def explain_plans(
    name: str, engine: sa.Engine, pushdown: SqlPushdown, scopes: VisibleScopes
) -> None:
    """The plans of the statements the timed count and first page run, in the forms timed."""
    # The same configuration as the timed pushdown (form left to the dialect's default for counts,
    # EXISTS for pages), so each plan is the one of the statement timed.
    fresh = SqlPushdown(engine, form=pushdown.form)
    fresh.count(scopes, as_of=AS_OF)
    fresh.needs_attention(scopes, as_of=AS_OF)
    fresh.follow_up_page(scopes, as_of=AS_OF, limit=PAGE)
    prefix = "EXPLAIN QUERY PLAN " if name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
    for key, prepared in list(fresh._prepared.items()):
        if key[0] == "page" and key[1] is not None:
            continue
        form = next((part for part in key if isinstance(part, SupersedeForm)), None)
        print(f"\n-- plan: {key[0]} ({name}, one workspace, form {form or 'none'})")
        explained = prepared.prefixed(prefix)
        seen: set[str] = set()
        with engine.begin() as connection:
            # The session options the pushdown sets, and the scope ids it binds.
            _prepare(connection)
            values = {
                "as_of": AS_OF,
                "chunk": 2 * PAGE + 1,
                **_scope_values(scopes, name, REFERENCE_RUNS.ids),
            }
            for row in explained.execute(connection, values):
                line = str(row[-1])
                skip = ("'", "Filter", "Index Cond", "Join Filter", "Group Key", "Sort Key")
                if "WHEN" in line or "CASE" in line or line.lstrip().startswith(skip):
                    continue
                # The same lookup appears once per branch that uses it; show it once.
                if name == "sqlite" and line in seen:
                    continue
                seen.add(line)
                print("  ", line[:150])


def postgres_engine(url: str, schema: str) -> sa.Engine:
    """An engine on ``schema`` (created if missing) of the server at ``url``."""
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    return sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", "--reps", type=int, default=5, help="rounds (5 or more)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        "--postgresql",
        default=os.environ.get("RUNACTIONABILITY_TEST_DATABASE_URL", DEFAULT_URL),
    )
    parser.add_argument("--schema", help="the PostgreSQL schema (default ra_pushdown_<rows>)")
    parser.add_argument(
        "--reload", action="store_true", help="regenerate the SQLite file and reload PostgreSQL"
    )
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--problem-scale", type=float, default=1.0, help="multiply every failure share by this"
    )
    parser.add_argument(
        "--subjects", type=int, default=generate.SUBJECTS, help="subjects per scope and type"
    )
    parser.add_argument("--baselines", action="store_true")
    parser.add_argument(
        "--pages-only", action="store_true", help="time the two page measures alone (no counts)"
    )
    parser.add_argument(
        "--workspaces", action="store_true", help="also time 1 to 50 visible workspaces"
    )
    args = generate.parse_args(parser)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    shape = {"problem_scale": args.problem_scale, "subjects": args.subjects}
    suffix = generate.shape_suffix(**shape).replace("-", "_")
    reports = []
    for name in args.engines.split(","):
        if name == "sqlite":
            path = generate.sqlite_path(args.rows, **shape)
            if args.reload or not path.exists():
                generate.load_sqlite(path, args.rows, **shape)
            engine = sa.create_engine(f"sqlite:///{path}")
        elif name == "postgresql":
            schema = args.schema or f"ra_pushdown_{args.rows}{suffix}"
            engine = postgres_engine(args.postgres_url, schema)
            if args.reload or not generate.postgresql_loaded(engine, args.rows):
                generate.load_postgresql(engine, args.rows, **shape)
        else:
            parser.error(f"unknown engine {name!r}")
        try:
            reports.append(bench_engine(name, engine, args))
        finally:
            engine.dispose()
    results = generate.results_dir()
    results.mkdir(parents=True, exist_ok=True)
    (results / "pushdown_bench.json").write_text(json.dumps(reports, indent=2) + "\n")


if __name__ == "__main__":
    main()
