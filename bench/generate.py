"""A realistic, deterministic run history for the pushdown benchmark, bulk-loaded fast.

50 workspaces x 20 environments, 15 operation types (some stored under an alias) with skewed
failure rates: about 15% of runs failed or blocked, a few percent queued or running, the rest
mostly successes, over one year, ids increasing with ``created_at``. Subjects come from small
pools per scope, so later successes exist; one current state per subject and state kind.

SQLite: raw ``executemany`` in large batches inside one transaction. PostgreSQL: ``COPY``.
The SQLite file is cached under ``bench/results/`` (gitignored) keyed by the row count; every
benchmark that caches a database or writes a report there takes ``--results DIR`` (or
``$RUNACTIONABILITY_BENCH_RESULTS``) instead, as the suite's tiny runs do.

    .venv/bin/python bench/generate.py --rows 1000000 [--postgresql URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from runactionability import OperationCatalog
from runactionability.adapters.sqlalchemy import metadata
from runactionability.adapters.sqlalchemy.types import to_micros

RESULTS_ENV = "RUNACTIONABILITY_BENCH_RESULTS"
WORKSPACES = 50
ENVIRONMENTS = 20
SUBJECTS = 5
SEED = 20261126
START = datetime(2025, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=365)
AS_OF = START + SPAN + timedelta(days=1)
"""The evaluation instant the benchmark uses: a day after the last run."""

# (stored name, weight, share failed or blocked): syncs and checks dominate; checks and
# authorizations fail often, notifications rarely.
TYPES = (
    ("inventory.sync", 180, 0.12),
    ("inventory_sync", 20, 0.12),
    ("directory.sync", 140, 0.10),
    ("policy.sync", 100, 0.08),
    ("provider.connection.check", 160, 0.30),
    ("provider.connection.authorize", 20, 0.35),
    ("baseline.capture", 50, 0.15),
    ("baseline.compare", 40, 0.20),
    ("evidence.snapshot.generate", 20, 0.10),
    ("review.environment.generate", 15, 0.10),
    ("backup.create", 60, 0.10),
    ("restore.execute", 6, 0.25),
    ("promotion.execute", 6, 0.20),
    ("alerts.dispatch", 90, 0.05),
    ("notifications.send", 93, 0.04),
)
STATE_KINDS = (
    ("provider_connection", "provider_connection", ("healthy", "healthy", "failing")),
    ("baseline_snapshot", "baseline_profile", ("complete", "complete", "partial")),
    ("backup_set", "backup_schedule", ("complete", "complete", "failed")),
)


def rows(
    count: int, *, problem_scale: float = 1.0, subjects: int = SUBJECTS
) -> Iterator[tuple[Any, ...]]:
    """(id, type, workspace, environment, status, outcome, created, started, completed,
    subject, context JSON) with datetimes, deterministic for ``count`` and the shape.

    ``problem_scale`` multiplies each type's failure share (the cost model varies the share of
    problem rows); ``subjects`` is the size of each scope's subject pool per type.
    """
    rng = random.Random(SEED)
    catalog = OperationCatalog.reference()
    names = [name for name, _, _ in TYPES]
    weights = [weight for _, weight, _ in TYPES]
    failure = {name: share for name, _, share in TYPES}
    types = {name: catalog.resolve(name) for name in names}
    step = SPAN / count
    for offset in range(count):
        name = rng.choices(names, weights)[0]
        op_type = types[name]
        assert op_type is not None
        workspace = rng.randrange(WORKSPACES)
        workspace_id = f"ws{workspace:02d}"
        environment_id = (
            None if op_type.workspace_owned else f"ws{workspace:02d}-env{rng.randrange(20):02d}"
        )
        subject = None
        context = "{}"
        if op_type.subject_key is not None:
            subject = f"{op_type.subject_key[:-3]}-{rng.randrange(subjects)}"
            context = json.dumps({op_type.subject_key: subject}, separators=(",", ":"))
        created = START + step * offset
        draw = rng.random()
        status, outcome = "completed", "succeeded"
        started: datetime | None = created + timedelta(seconds=rng.randrange(1, 30))
        completed: datetime | None = None
        if draw < 0.03:
            status, outcome = rng.choice(("queued", "running")), None
            started = None if status == "queued" else started
        elif draw < 0.03 + failure[name] * 1.1 * problem_scale:
            outcome = "failed" if rng.random() < 0.8 else "blocked"
        elif draw < 0.05 + failure[name] * 1.1 * problem_scale:
            outcome = rng.choice(("cancelled", "partially_succeeded"))
        if status == "completed":
            assert started is not None
            completed = started + timedelta(seconds=rng.randrange(5, 900))
        yield (
            offset + 1,
            name,
            workspace_id,
            environment_id,
            status,
            outcome,
            created,
            started,
            completed,
            subject,
            context,
        )


def states(proven_before: datetime, subjects: int = SUBJECTS) -> Iterator[tuple[Any, ...]]:
    """(kind, workspace, environment, subject, status, proven_at) per subject and kind."""
    rng = random.Random(SEED + 1)
    for workspace in range(WORKSPACES):
        for environment in range(ENVIRONMENTS):
            for kind, prefix, statuses in STATE_KINDS:
                for number in range(subjects):
                    yield (
                        kind,
                        f"ws{workspace:02d}",
                        f"ws{workspace:02d}-env{environment:02d}",
                        f"{prefix}-{number}",
                        rng.choice(statuses),
                        proven_before - timedelta(hours=rng.randrange(1, 24 * 120)),
                    )


_RUN_COLUMNS = (
    "id, type, workspace_id, environment_id, status, outcome, created_at, started_at, "
    "completed_at, subject, context"
)
_STATE_COLUMNS = "workspace_id, environment_id, subject, status, proven_at, attributes"


def _micros(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def load_sqlite(
    path: Path, count: int, *, problem_scale: float = 1.0, subjects: int = SUBJECTS
) -> None:
    """Create and fill the SQLite file (indexes built after the load, which is faster)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        metadata.create_all(connection, checkfirst=False)
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.drop(connection)
    raw: Any = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        insert = f"INSERT INTO operation_runs ({_RUN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        batch: list[tuple[Any, ...]] = []
        for row in rows(count, problem_scale=problem_scale, subjects=subjects):
            batch.append((*row[:6], *(_micros(v) for v in row[6:9]), *row[9:]))
            if len(batch) >= 50_000:
                cursor.executemany(insert, batch)
                batch.clear()
        cursor.executemany(insert, batch)
        for kind, *values in states(AS_OF, subjects):
            cursor.execute(
                f"INSERT INTO {kind}_states ({_STATE_COLUMNS}) VALUES (?,?,?,?,?,'{{}}')",
                (*values[:4], _micros(values[4])),
            )
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection)
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def load_postgresql(
    engine: sa.Engine, count: int, *, problem_scale: float = 1.0, subjects: int = SUBJECTS
) -> None:
    """Drop and refill the reference tables in ``engine``'s schema with ``COPY``, then vacuum."""
    with engine.begin() as connection:
        metadata.drop_all(connection)
        metadata.create_all(connection)
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.drop(connection)
    raw: Any = engine.raw_connection()
    try:
        driver = raw.driver_connection
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY operation_runs ({_RUN_COLUMNS}) FROM STDIN") as copy:
                for row in rows(count, problem_scale=problem_scale, subjects=subjects):
                    copy.write_row(row)
            for kind, _, _ in STATE_KINDS:
                with cursor.copy(f"COPY {kind}_states ({_STATE_COLUMNS}) FROM STDIN") as copy:
                    for state_kind, *values in states(AS_OF, subjects):
                        if state_kind == kind:
                            copy.write_row((*values, "{}"))
        driver.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection)
    # VACUUM sets the visibility map, as autovacuum does on a live table; without it no scan is
    # index-only and every count reads the heap.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in metadata.sorted_tables:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {table.name}")


def postgresql_loaded(engine: sa.Engine, count: int) -> bool:
    """Whether ``engine``'s schema holds ``count`` runs; any index it lacks is created."""
    if not sa.inspect(engine).has_table("operation_runs"):
        return False
    with engine.begin() as connection:
        stored = connection.exec_driver_sql("SELECT count(*) FROM operation_runs").scalar_one()
        if stored != count:
            return False
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)
    return True


def shape_suffix(problem_scale: float = 1.0, subjects: int = SUBJECTS) -> str:
    """The name suffix of a history of another shape than the default (empty for the default)."""
    if problem_scale == 1.0 and subjects == SUBJECTS:
        return ""
    return f"-p{problem_scale:g}-s{subjects}".replace(".", "_")


def results_dir() -> Path:
    """Where the benchmarks cache their SQLite databases and write their JSON reports:
    ``$RUNACTIONABILITY_BENCH_RESULTS`` when set, else ``bench/results/``. The suite's tiny runs
    point it at a temporary directory, so they never overwrite a measured report nor leave
    small databases beside the large cached ones."""
    return Path(os.environ.get(RESULTS_ENV) or Path(__file__).parent / "results")


def parse_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """``parser``'s arguments with ``--results DIR``, which sets ``results_dir()`` for the run."""
    parser.add_argument(
        "--results",
        type=Path,
        metavar="DIR",
        help=f"where databases are cached and reports written (default: ${RESULTS_ENV}, "
        "else bench/results/)",
    )
    args = parser.parse_args()
    if args.results is not None:
        # Through the environment, so every module of the run (and any child) agrees on it.
        os.environ[RESULTS_ENV] = str(args.results.resolve())
    return args


def sqlite_path(count: int, *, problem_scale: float = 1.0, subjects: int = SUBJECTS) -> Path:
    return results_dir() / f"history-{count}{shape_suffix(problem_scale, subjects)}.sqlite"


def cached_sqlite(count: int) -> Path:
    """The cached SQLite history of ``count`` runs, generated on first use."""
    path = sqlite_path(count)
    if not path.exists():
        load_sqlite(path, count)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgresql", help="a PostgreSQL URL to load as well")
    args = parse_args(parser)
    began = time.perf_counter()
    load_sqlite(sqlite_path(args.rows), args.rows)
    print(f"sqlite: {args.rows} runs in {time.perf_counter() - began:.1f}s")
    if args.postgresql:
        began = time.perf_counter()
        engine = sa.create_engine(args.postgresql)
        load_postgresql(engine, args.rows)
        engine.dispose()
        print(f"postgresql: {args.rows} runs in {time.perf_counter() - began:.1f}s")


if __name__ == "__main__":
    main()
