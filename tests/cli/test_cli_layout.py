"""The command line as a package: one module per command, one coverage report, small pieces."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import runactionability.cli
from runactionability.catalog import OperationCatalog
from runactionability.cli import cli
from runactionability.cli._coverage_report import coverage_report
from runactionability.registry import Registry

PACKAGE = Path(runactionability.cli.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _json(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert isinstance(payload, dict)
    return payload


def test_every_module_and_function_stays_small() -> None:
    assert MODULES
    for path in MODULES:
        source = path.read_text("utf-8")
        assert len(source.splitlines()) <= MAX_MODULE_LINES, path.name
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                assert length <= MAX_FUNCTION_LINES, f"{path.name}: {node.name} ({length} lines)"


def test_only_the_coverage_report_reads_the_catalog_against_the_families() -> None:
    # The report was once computed three times; a command that walks the inventory itself
    # would start a second copy that a new per-type column could miss.
    walkers = {path.name for path in MODULES if ".inventory(" in path.read_text("utf-8")}
    assert walkers == {"_coverage_report.py"}


def test_coverage_and_families_print_the_shared_report() -> None:
    registry = Registry.default()
    reference = coverage_report(registry, OperationCatalog.reference())
    assert _json("coverage")["types"] == [
        {"name": row.name, "family": row.family, "covered": row.covered, "class": row.type_class}
        for row in reference.types
    ]
    registered = coverage_report(registry, registry.catalog())
    families = _json("families")["families"]
    assert isinstance(families, list)
    assert families
    for family in families:
        assert family["types"] == registered.types_of(family["name"])


def test_every_command_has_its_own_module() -> None:
    modules = {path.stem for path in MODULES if not path.stem.startswith("_")}
    assert set(cli.commands) == {"list" if name == "listing" else name for name in modules}


def test_python_dash_m_runs_the_command_line() -> None:
    # The child imports the package under test, wherever the interpreter's own copy lives.
    source = str(PACKAGE.parents[1])
    path = os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, "-m", "runactionability.cli", "--version"],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "version" in result.stdout


def test_coverage_and_families_show_the_class_each_types_rules_give_it() -> None:
    registry = Registry.default()
    expected = {
        entry.name: entry.describe() for entry in registry.catalog().inventory(registry.families())
    }
    coverage = json.loads(CliRunner().invoke(cli, ["coverage", "--json"]).output)
    assert {row["name"]: row["class"] for row in coverage["types"]} == expected
    assert expected["restore.execute"] == "manual-review"
    families = json.loads(CliRunner().invoke(cli, ["families", "--json"]).output)
    shown = {name: c for row in families["families"] for name, c in row["classes"].items()}
    assert shown == expected


# What reads answers from a database by itself; the CLI and the demo ask the request API instead.
READERS = frozenset(
    {
        "AsyncResolver",
        "Resolver",
        "SqlPushdown",
        "SqlRunHistory",
        "SqlRunSource",
        "SqlStateSource",
        "assess",
        "dashboard",
        "explain",
        "list_assessed",
        "open_backend",
        "read_runs",
    }
)


def test_the_cli_and_the_demo_read_through_the_request_api_and_nothing_private() -> None:
    demo = PACKAGE.parent / "demo"
    offenders = []
    for path in [*MODULES, *sorted(demo.glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            parts = node.module.split(".")
            if parts[0] != "runactionability" or parts[1:2] in (["cli"], ["demo"]):
                continue
            for alias in node.names:
                private = any(part.startswith("_") for part in [*parts, alias.name])
                if private or alias.name in READERS:
                    offenders.append(f"{path.name}: {node.module}.{alias.name}")
    assert offenders == []
