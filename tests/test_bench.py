"""Every script in bench/ runs at a tiny size in the suite, so a benchmark cannot rot unnoticed.

Each runs in a subprocess over a tiny history on SQLite and, when
``RUNACTIONABILITY_TEST_DATABASE_URL`` is set and the script has a PostgreSQL leg, on PostgreSQL
(in a schema of its own, dropped afterwards); it must exit 0 and print its rows: every row of
issue 13's table it owns, for each scope and with each denominator. A script added to bench/
without a tiny run here fails ``test_every_benchmark_has_a_tiny_run``. The tiny runs cache their
databases and write their reports in a temporary directory (``--results``), never over a
measured report in bench/results/. The figures of a tiny run mean nothing; ``make bench``
measures.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
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
EVERY_TINY = ["--tenants", "3", "--busy", "3", "--runs", "300", "--warmup", "1", "--requests", "1"]
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
    "core_bench.py": (["--rows", ROWS, "--repeat", "1", "--gc"], None),
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
    "every_workspace_bench.py": (
        ["--engines", "sqlite", *EVERY_TINY],
        lambda url: ["--engines", "postgresql", "--postgres-url", url, *EVERY_TINY],
    ),
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
# The scripts that cache a database or write a report: each takes ``--results DIR``.
TAKES_RESULTS = frozenset(
    {
        "changes_bench.py",
        "generate.py",
        "pushdown_bench.py",
        "request_overhead_bench.py",
        "sql_page_bench.py",
    }
)
# Issue 13's table as pushdown_bench prints it: each measure once per scope, each row with the
# ratio to the old denominator and to the honest one (then, where measured, of the CPU times).
TABLE_MEASURES = (
    "needs-attention count",
    "full status breakdown",
    "first follow-up page of 50",
    "classified page of 50 problem runs",
)
SCOPES = ("one workspace", "whole table")
# The page measures are divided a third time, by the cheapest read of their own rows; each of
# those reads has its plan printed for each scope, and the report holds the ratios too.
PAGE_MEASURES = {
    "first follow-up page of 50": "problem_rows",
    "classified page of 50 problem runs": "failed_rows",
}
# The rows of the other SQL scripts, per engine: sql_page_bench's page against page+classify,
# request_overhead_bench's legs (statements, then wall, SQL, overhead, CPU overhead and SQL CPU
# as median/p90, the replay and the compilations).
ENGINE_ROWS: dict[str, Callable[[str], tuple[str, ...]]] = {
    "sql_page_bench.py": lambda engine: (
        rf"{engine} +[\d,]+ +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +\d+$",
        r"  of which: core \(plan \+ decide\) \d+\.\d\d ms, evidence as the page reads it "
        r"\(\d+ kinds in \d+ statements?\) \d+\.\d\d ms \(CPU: core \d+\.\d\d ms, evidence \d",
    ),
    # The feed against issue 14's count and against reading the window's completed runs.
    "changes_bench.py": lambda engine: tuple(
        rf"{scope} +\d+ +\d+ +\d+\.\d +\d+\.\d +\d+\.\d\dx +\d+ +\d+\.\d\d +\d+\.\dx  \d+/\d+"
        for scope in ("1 workspace", "50 workspaces")
    ),
    # Each tenant count's request with the tenants listed and unlisted, wall and CPU.
    "every_workspace_bench.py": lambda engine: tuple(
        rf"{engine} +3  {leg} +\d+\.\d +\d+\.\d$" for leg in ("listed", "unlisted")
    ),
    "request_overhead_bench.py": lambda engine: tuple(
        rf"{engine}-history-{mode} +\d+( +\d+\.\d\d/\d+\.\d\d){{5}} +(\d+\.\d\d|-) +\d+$"
        for mode in ("sync", "async")
    ),
}
# What each script must print besides rows of figures: the rows of issue 13's table it owns.
ROW_LABELS: dict[str, tuple[str, ...]] = {
    "changes_bench.py": ("1 workspace", "50 workspaces"),
    "pushdown_bench.py": TABLE_MEASURES,
    "core_bench.py": (
        "evaluate_many, warm",
        "evaluate_many, first call on a fresh MemoryRunHistory",
        "bare loop over the same runs",
        "collector, warm",
        "collector, first",
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


def _files(folder: Path) -> Mapping[str, tuple[int, int]]:
    """Each file under ``folder`` with its size and modification time (nothing: no folder)."""
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tiny runs' results directory, shared so each tiny database is built once; a tiny
    run that wrote into bench/results/ instead fails here, after the module's last run."""
    before = _files(BENCH / "results")
    yield tmp_path_factory.mktemp("bench-results")
    assert _files(BENCH / "results") == before, "a tiny run wrote into bench/results/"


def _run(script: str, arguments: list[str], results: Path) -> str:
    place = ["--results", str(results)] if script in TAKES_RESULTS else []
    completed = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments, *place],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def _assert_rows(script: str, output: str, engine: str, results: Path) -> None:
    rows = [line for line in output.splitlines() if FIGURE.search(line)]
    assert rows, output
    for label in ROW_LABELS.get(script, ()):
        assert any(line.startswith(label) for line in rows), (label, output)
    if script == "pushdown_bench.py":
        _assert_table(rows, output)
        _assert_rows_reads(output, results / "pushdown_bench.json", engine)
    if script == "sql_page_bench.py":
        _assert_breakdown(output)
    if script == "changes_bench.py":
        _assert_window_plans(output)
    rows_of = ENGINE_ROWS.get(script)
    for pattern in rows_of(engine) if rows_of else ():
        assert any(re.match(pattern, line.rstrip()) for line in rows), (pattern, output)


def _assert_rows_reads(output: str, report: Path, engine: str) -> None:
    """Each page's cheapest read of its rows: its plan printed for each scope, and its ratio in
    the JSON report beside the issue's denominators."""
    for key in PAGE_MEASURES.values():
        plans = re.findall(rf"^  {key} denominator plan: .*; (?:no sort|sorts); .*$", output, re.M)
        assert len(plans) == len(SCOPES), (key, output)
    (written,) = [leg for leg in json.loads(report.read_text()) if leg["engine"] == engine]
    table = {(row["measure"], row["scope"]): row for row in written["table"]}
    for measure in TABLE_MEASURES:
        for scope in SCOPES:
            row = table[measure, scope]
            assert row["old"]["ratio"] > 0, row
            assert row["honest"]["ratio"] > 0, row
            read = PAGE_MEASURES.get(measure)
            if read is None:
                assert "rows_read" not in row, row
            else:
                assert row["rows_read"]["denominator"] == read, row
                assert row["rows_read"]["ratio"] > 0, row


def _assert_breakdown(output: str) -> None:
    """The evidence of the breakdown is what the classified page sends besides the page."""
    for engine_line, breakdown in zip(
        re.findall(r"^\w+ +[\d,]+ +[\d.]+ +[\d.]+ +[\d.]+ +(\d+)$", output, re.M),
        re.findall(r"evidence as the page reads it \(\d+ kinds in (\d+) statements?\)", output),
        strict=True,
    ):
        assert int(breakdown) == int(engine_line) - 1, output


def _assert_window_plans(output: str) -> None:
    for scope in ("1 workspace", "50 workspaces"):
        assert re.search(rf"^  {scope}: .*(SCAN|SEARCH|Scan)", output, re.M), (scope, output)


def _assert_table(rows: list[str], output: str) -> None:
    header = next(line for line in output.splitlines() if line.startswith("measure "))
    assert "old denominator" in header, header
    assert "honest denominator" in header, header
    assert "rows read" in header, header
    for measure in TABLE_MEASURES:
        for scope in SCOPES:
            found = [line for line in rows if re.match(rf"{measure} +{scope} ", line)]
            assert len(found) == 1, (measure, scope, output)
            # The old and the honest denominator's time and ratio, then for a page those of
            # the cheapest read of its rows (else "-"), then the target.
            against = r" +\d+\.\d\d ms +\d+\.\dx"
            rows_read = against if measure in PAGE_MEASURES else " +-"
            assert re.match(
                rf"{measure} +{scope} +\d+\.\d\d ms{against}{against}{rows_read} +(<=|-)",
                found[0],
            ), found[0]


def test_every_script_that_writes_results_takes_the_option() -> None:
    # A script that caches a database or writes a report without the option would write into
    # bench/results/ (the data helpers it calls write under ``generate.results_dir()``).
    writers = ("results_dir()", "sqlite_path(", "cached_sqlite(", "prepare(")
    for name in _scripts():
        source = (BENCH / name).read_text()
        assert ("parse_args(parser)" in source) == (name in TAKES_RESULTS), name
        if any(call in source for call in writers):
            assert name in TAKES_RESULTS, name


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_tiny_run_on_sqlite_prints_its_rows(script: str, results: Path) -> None:
    _assert_rows(script, _run(script, TINY[script][0], results), "sqlite", results)


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
def test_a_tiny_run_on_postgresql_prints_its_rows(
    script: str, bench_url: str, results: Path
) -> None:
    postgresql = TINY[script][1]
    assert postgresql is not None
    _assert_rows(script, _run(script, postgresql(bench_url), results), "postgresql", results)
