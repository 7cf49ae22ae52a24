"""Every script in bench/ runs at a tiny size in the suite, so a benchmark cannot rot unnoticed.

Each runs in a subprocess over a tiny history on SQLite and, when
``RUNACTIONABILITY_TEST_DATABASE_URL`` is set and the script has a PostgreSQL leg, on PostgreSQL
(in a schema of its own, dropped afterwards); it must exit 0 and print its rows. A script added
to bench/ without a tiny run here fails ``test_every_benchmark_has_a_tiny_run``. The figures of
a tiny run mean nothing; ``make bench`` measures.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.support import POSTGRES_URL

BENCH = Path(__file__).resolve().parent.parent / "bench"
ROWS = "2000"

# A row of a benchmark's report holds a measured figure (ms, us, a ratio, seconds).
FIGURE = re.compile(r"\d\.\d")


# script -> (its tiny arguments on SQLite, its arguments on PostgreSQL given a URL whose
# search_path is a fresh schema, or None when it has no PostgreSQL leg), run from the
# repository root.
def _schema_of(url: str) -> str:
    """The schema a bench URL's search_path names (the test's fresh one)."""
    options = sa.make_url(url).query["options"]
    assert isinstance(options, str)
    return options.removeprefix("-csearch_path=")


Legs = tuple[list[str], Callable[[str], list[str]] | None]
TINY: dict[str, Legs] = {
    "changes_bench.py": (
        ["--rows", ROWS, "--small-rows", "1000", "--repeat", "1", "--engines", "sqlite"],
        lambda url: [
            "--rows",
            ROWS,
            "--small-rows",
            "1000",
            "--repeat",
            "1",
            "--engines",
            "postgresql",
            "--postgres-url",
            url,
            "--schema",
            _schema_of(url),
        ],
    ),
    "core_bench.py": (["--rows", ROWS, "--repeat", "1"], None),
    "generate.py": (["--rows", ROWS], lambda url: ["--rows", ROWS, "--postgresql", url]),
    "pushdown_bench.py": (
        ["--rows", ROWS, "--repeat", "1", "--explain", "--engines", "sqlite"],
        lambda url: [
            "--rows",
            ROWS,
            "--repeat",
            "1",
            "--engines",
            "postgresql",
            "--postgres-url",
            url,
            # Its own schema would outlive the test: load into the test's fresh one instead.
            "--schema",
            _schema_of(url),
        ],
    ),
    "sql_page_bench.py": (
        ["--rows", ROWS, "--repeat", "5", "--engines", "sqlite"],
        lambda url: [
            "--rows",
            ROWS,
            "--repeat",
            "5",
            "--engines",
            "postgresql",
            "--postgres-url",
            url,
            "--schema",
            _schema_of(url),
        ],
    ),
    "strategy_mix.py": (["--scenarios", "20"], None),
    "telemetry_bench.py": (["--rows", "200", "--repeat", "1"], None),
    "request_overhead_bench.py": (
        [
            "--data",
            "history",
            "--rows",
            ROWS,
            "--engines",
            "sqlite",
            "--warmup",
            "1",
            "--requests",
            "5",
        ],
        lambda url: [
            "--data",
            "history",
            "--rows",
            ROWS,
            "--engines",
            "postgresql",
            "--warmup",
            "1",
            "--requests",
            "5",
            "--postgres-url",
            url,
            "--schema",
            _schema_of(url),
        ],
    ),
}
# What each script must print besides rows of figures: the rows of issue 13's table it owns.
ROW_LABELS: dict[str, tuple[str, ...]] = {
    "changes_bench.py": ("1 workspace", "50 workspaces"),
    "pushdown_bench.py": (
        "needs-attention count",
        "full status breakdown",
        "first follow-up page of 50",
        "classified page of 50 problem runs",
    ),
    "core_bench.py": (
        "evaluate_many, warm",
        "evaluate_many, first call on a fresh MemoryRunHistory",
        "bare loop over the same runs",
    ),
    "telemetry_bench.py": ("absent", "no provider", "recording"),
}


def _scripts() -> set[str]:
    """The runnable scripts in bench/ (the data modules they import have no main)."""
    return {
        path.name for path in BENCH.glob("*.py") if 'if __name__ == "__main__":' in path.read_text()
    }


def test_every_benchmark_has_a_tiny_run() -> None:
    assert _scripts() == TINY.keys()


def _run(script: str, arguments: list[str]) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def _assert_rows(script: str, output: str) -> None:
    rows = [line for line in output.splitlines() if FIGURE.search(line)]
    assert rows, output
    for label in ROW_LABELS.get(script, ()):
        assert any(line.startswith(label) for line in rows), (label, output)


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_tiny_run_on_sqlite_prints_its_rows(script: str) -> None:
    _assert_rows(script, _run(script, TINY[script][0]))


@pytest.fixture(scope="module")
def bench_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("RUNACTIONABILITY_TEST_DATABASE_URL is not set")
    schema = f"ra_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.mark.parametrize("script", sorted(name for name, legs in TINY.items() if legs[1]))
def test_a_tiny_run_on_postgresql_prints_its_rows(script: str, bench_url: str) -> None:
    postgresql = TINY[script][1]
    assert postgresql is not None
    _assert_rows(script, _run(script, postgresql(bench_url)))
