"""Pushdown against the bare count of failed/blocked runs, side by side, on SQLite and PostgreSQL.

For one workspace (~20,000 runs at 1,000,000) and for the whole table it prints the median of
``--reps`` repetitions of: the bare count; the pushdown count (both later-success forms); batch
evaluation in Python (read every run, one resolver batch); and one query per run (a sample of
runs evaluated one by one, extrapolated to every run, and labelled so). Then the first page of
the current follow-up list against an unfiltered page. Ratios are to the bare count (pages: to
the unfiltered page). ``--explain`` prints the plans of the one-workspace count's two statements
and of the first follow-up page (PostgreSQL: ``EXPLAIN (ANALYZE, BUFFERS)``), leaving out the
lines that only repeat the classification's text.

    .venv/bin/python bench/pushdown_bench.py --rows 1000000 \\
        --postgresql 'postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench'
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

import generate

from runactionability import Resolver
from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    SqlRunHistory,
    SqlRunSource,
    SqlStateSource,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import (
    SqlPushdown,
    SupersedeForm,
    _prepare,
    _scope_values,
)
from runactionability.consumers import VisibleScopes, read_runs

AS_OF = generate.AS_OF
SAMPLE = 200


def median(reps: int, call: Callable[[], Any]) -> float:
    times = []
    for _ in range(reps):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bare_count(engine: sa.Engine, scopes: VisibleScopes) -> int:
    statement = sa.text(
        "SELECT count(*) FROM operation_runs WHERE workspace_id IN :ws "
        "AND status = 'completed' AND outcome IN ('failed', 'blocked')"
    ).bindparams(sa.bindparam("ws", expanding=True))
    with engine.connect() as connection:
        return int(connection.execute(statement, {"ws": sorted(scopes.workspace_ids)}).scalar_one())


def bench_engine(name: str, engine: sa.Engine, reps: int, explain: bool) -> None:
    resolver = Resolver(
        history=SqlRunHistory(engine),
        states={k: SqlStateSource(engine, m) for k, m in reference_state_mappings().items()},
    )
    source = SqlRunSource(engine)
    pushdowns = {form: SqlPushdown(engine, form=form) for form in SupersedeForm}
    default = SqlPushdown(engine)
    one = VisibleScopes({"ws07"})
    every = VisibleScopes({f"ws{w:02d}" for w in range(generate.WORKSPACES)})
    print(f"\n== {name} ({default.compiled().form} by default), median of {reps} ==")
    print(f"{'measure':<44}{'one workspace':>22}{'whole table':>22}")
    table: dict[str, list[str]] = {}
    for scopes in (one, every):
        base = median(reps, lambda scopes=scopes: bare_count(engine, scopes))
        runs = read_runs(source, scopes.query(), page_size=5000)

        def cell(seconds: float, base: float = base) -> str:
            return f"{seconds * 1000:9.1f} ms {seconds / base:6.1f}x"

        table.setdefault("bare count of failed/blocked", []).append(cell(base))
        for form, pushdown in pushdowns.items():
            seconds = median(reps, lambda p=pushdown, s=scopes: p.count(s, as_of=AS_OF))
            table.setdefault(f"pushdown count ({form})", []).append(cell(seconds))
        python_reps = reps if len(runs) <= 100_000 else 1
        seconds = median(
            python_reps,
            lambda s=scopes: resolver.evaluate_many(
                read_runs(source, s.query(), page_size=5000), as_of=AS_OF
            ),
        )
        single = "" if python_reps == reps else " (1 rep)"
        table.setdefault("batch evaluation in Python", []).append(cell(seconds) + single)
        sample = runs[:: max(1, len(runs) // SAMPLE)][:SAMPLE]
        began = time.perf_counter()
        for run in sample:
            resolver.evaluate(run, as_of=AS_OF)
        per_run = (time.perf_counter() - began) / len(sample)
        table.setdefault("one query per run (sampled, extrapolated)", []).append(
            cell(per_run * len(runs))
        )
    for measure, cells in table.items():
        print(f"{measure:<44}{cells[0]:>22}{cells[1]:>30}")
    for label, scopes in (("one workspace", one), ("whole table", every)):
        plain = median(reps, lambda s=scopes: source.list_runs(s.query(), limit=50))
        follow = median(reps, lambda s=scopes: default.follow_up_page(s, as_of=AS_OF, limit=50))
        print(
            f"first follow-up page, {label:<14} {follow * 1000:8.1f} ms vs unfiltered page "
            f"{plain * 1000:8.1f} ms: {follow / plain:5.2f}x"
        )
    if explain:
        explain_plans(name, engine, default, one)


def explain_plans(
    name: str, engine: sa.Engine, pushdown: SqlPushdown, scopes: VisibleScopes
) -> None:
    fresh = SqlPushdown(engine, form=pushdown.compiled().form)
    fresh.count(scopes, as_of=AS_OF)
    fresh.follow_up_page(scopes, as_of=AS_OF, limit=50)
    prefix = "EXPLAIN QUERY PLAN " if name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
    for key, prepared in list(fresh._prepared.items()):
        if key[0] == "page" and key[1] is not None:
            continue
        print(f"\n-- plan: {key[0]} ({name}, one workspace)")
        explained = copy.copy(prepared)
        explained.sql = prefix + prepared.sql
        seen: set[str] = set()
        with engine.begin() as connection:
            # The session options the pushdown sets, and the scope ids it binds.
            _prepare(connection)
            values = {
                "as_of": AS_OF,
                "chunk": 76,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--postgresql", help="a PostgreSQL URL (its schema is loaded unless it holds --rows runs)"
    )
    parser.add_argument(
        "--reload", action="store_true", help="regenerate the SQLite file and reload PostgreSQL"
    )
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if args.reps < 5:
        parser.error("--reps must be at least 5")
    path = generate.sqlite_path(args.rows)
    if args.reload or not path.exists():
        generate.load_sqlite(path, args.rows)
    engine = sa.create_engine(f"sqlite:///{path}")
    bench_engine("sqlite", engine, args.reps, args.explain)
    engine.dispose()
    if args.postgresql:
        engine = sa.create_engine(args.postgresql)
        if args.reload or not generate.postgresql_loaded(engine, args.rows):
            generate.load_postgresql(engine, args.rows)
        bench_engine("postgresql", engine, args.reps, args.explain)
        engine.dispose()


if __name__ == "__main__":
    main()
