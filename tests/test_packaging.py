"""What a user of the distribution sees before any code runs: the license, the project's links,
the version, and a console script that says what to install when the ``cli`` extra is missing."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import read_mo
from click.testing import CliRunner

import runactionability
from runactionability.cli import cli

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = "https://github.com/runactionability/runactionability"


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def test_the_license_file_is_the_declared_license_with_its_holder() -> None:
    project = _project()
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    holder = project["authors"][0]["name"]
    assert f"Copyright (c) 2026 {holder}\n" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_the_build_backend_reads_the_license_files_field() -> None:
    # hatchling reads PEP 639's `license-files` list from 1.27; an older one refuses the build,
    # the packaging test's (with the dev extra's hatchling) included.
    backend = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
    assert "hatchling>=1.27" in backend["requires"]
    assert "hatchling>=1.27" in _project()["optional-dependencies"]["dev"]


def test_the_project_urls_lead_into_the_repository() -> None:
    urls = _project()["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Changelog", "Issues"}
    assert urls["Homepage"] == REPOSITORY
    assert urls["Issues"] == f"{REPOSITORY}/issues"
    # Documentation and changelog name files of this tree, so a move breaks this test.
    for name, kind in (("Documentation", "tree"), ("Changelog", "blob")):
        prefix = f"{REPOSITORY}/{kind}/main/"
        assert urls[name].startswith(prefix), name
        assert (ROOT / urls[name].removeprefix(prefix)).exists(), urls[name]


def test_the_version_is_the_distributions_and_public() -> None:
    assert runactionability.__version__ == version("runactionability")
    assert "__version__" in runactionability.__all__
    shown = CliRunner().invoke(cli, ["--version"], prog_name="runactionability")
    assert shown.exit_code == 0
    assert shown.output == f"runactionability, version {runactionability.__version__}\n"


def _run_console_script(*args: str, missing: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the function ``[project.scripts]`` names, as the installed script would, in a child
    whose imports of ``missing`` fail as they do where the extra is not installed."""
    module, _, function = _project()["scripts"]["runactionability"].partition(":")
    hide = f"sys.modules[{missing!r}] = None; " if missing else ""
    probe = (
        f"import importlib, sys; {hide}sys.argv = ['runactionability', *{list(args)!r}]; "
        f"importlib.import_module({module!r}).{function}()"
    )
    source = str(ROOT / "src")
    path = os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("missing", ["click", "rich"])
def test_the_console_script_without_the_cli_extra_says_what_to_install(missing: str) -> None:
    result = _run_console_script("report", missing=missing)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"runactionability: error: the command line needs {missing}: "
        "install runactionability[cli]\n"
    )


def test_the_console_script_runs_the_command_line_when_the_extra_is_there() -> None:
    result = _run_console_script("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"runactionability, version {runactionability.__version__}\n"


@pytest.mark.parametrize("missing", [None, "click"])
def test_python_dash_m_runs_the_console_script(missing: str | None) -> None:
    hide = f"sys.modules[{missing!r}] = None; " if missing else ""
    probe = (
        f"import runpy, sys; {hide}sys.argv = ['runactionability', '--version']; "
        "runpy.run_module('runactionability', run_name='__main__', alter_sys=True)"
    )
    source = str(ROOT / "src")
    path = os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    if missing is None:
        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout == f"runactionability, version {runactionability.__version__}\n"
    else:
        assert result.returncode == 1
        assert result.stderr == (
            "runactionability: error: the command line needs click: install runactionability[cli]\n"
        )


def test_a_missing_module_outside_the_extra_keeps_its_traceback() -> None:
    # Only click and rich are the extra's; any other missing import is a bug to be seen whole.
    result = _run_console_script("report", missing="runactionability.cli.report")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "install runactionability[cli]" not in result.stderr


_SYNC_HOST = """
import sys
sys.modules["greenlet"] = None  # a sync host installs no async extra, so no greenlet
import sqlalchemy as sa
from runactionability.cli import cli
from runactionability.service import ActionabilityService
from runactionability.adapters.sqlalchemy import SqlRunHistory
from runactionability.testing import count_statements
engine = sa.create_engine("sqlite://")
with count_statements(engine) as counter, engine.connect() as connection:
    connection.exec_driver_sql("select 1")
print(counter.count)
try:
    from runactionability.service import AsyncActionabilityService
except ImportError as exc:
    print("async:", "greenlet" in str(exc))
"""


def test_a_sync_host_needs_no_greenlet() -> None:
    # SQLAlchemy 2.1 no longer installs greenlet, which only its asyncio layer needs: the demo,
    # the CLI, the sync request API and the statement counter must run without it, and the
    # async names fail only when asked for.
    completed = subprocess.run(
        [sys.executable, "-c", _SYNC_HOST], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split("\n")[:2] == ["1", "async: True"]


def test_the_wheel_ships_the_json_schema_and_compiled_catalogs(tmp_path: Path) -> None:
    # A host validates against the shipped schema and renders through the compiled catalogs; a
    # change to the build's packages or excludes could drop either without any other test
    # noticing (the editable install reads them from src/). The build runs on a copy without
    # compiled catalogs, so the wheel's are the build hook's, and the tree is left as it was.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "hatch_build.py", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.mo")
    )
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "dist")],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("runactionability-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        schema = archive.read("runactionability/schemas/forms.schema.json")
        catalogs = {
            name.split("/")[3]: archive.read(name)
            for name in names
            if name.startswith("runactionability/i18n/locale/") and name.endswith(".mo")
        }
    assert schema == (ROOT / "src/runactionability/schemas/forms.schema.json").read_bytes()
    assert sorted(catalogs) == ["de", "en"]
    german = read_mo(io.BytesIO(catalogs["de"]))
    unknown = german.get("The run's status {status} is not known.", "check.unknown_status")
    assert unknown is not None
    assert unknown.string == "Der Status {status} des Laufs ist unbekannt."
    assert "runactionability/py.typed" in names
