"""The suite is hermetic: a third-party plugin installed beside it changes no test's outcome.

A real distribution (a module and its dist-info directory) is put on the path of a subprocess,
so ``importlib.metadata`` finds it exactly as it finds an installed package. Its family asks for
a state kind no test gives a source (a ``MissingStateSourceWarning``, which pyproject turns into
an error) and adds a family and a type to every default registry that autoloads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runactionability import Registry
from runactionability.registry import DISABLE_AUTOLOAD_VARIABLE

ROOT = Path(__file__).resolve().parents[2]

HARMLESS_PLUGIN = """
    from runactionability import AlwaysManualReview, Family, FirstDecisive, OperationType, hookimpl

    @hookimpl
    def runactionability_families():
        return (
            Family(
                name="quota",
                policy=FirstDecisive(rules=(AlwaysManualReview(),)),
                state_kinds={"quota_ledger"},
            ),
        )

    @hookimpl
    def runactionability_operation_types():
        return (OperationType(name="quota.recalculate", family="quota"),)
"""


def install_plugin(root: Path) -> None:
    (root / "ra_quota_plugin.py").write_text(textwrap.dedent(HARMLESS_PLUGIN))
    dist_info = root / "ra_quota_plugin-2.3.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ra-quota-plugin\nVersion: 2.3\n"
    )
    (dist_info / "entry_points.txt").write_text("[runactionability]\nquota = ra_quota_plugin\n")


def child_environment(plugin_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Only the suite's own switch (tests/support.py) may turn autoloading off in the child; the
    # SQL legs stay on SQLite to keep this test short.
    env.pop(DISABLE_AUTOLOAD_VARIABLE, None)
    env.pop("RUNACTIONABILITY_TEST_DATABASE_URL", None)
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_root), *filter(None, [env.get("PYTHONPATH")])])
    return env


def test_the_suite_passes_with_a_third_party_plugin_installed(tmp_path: Path) -> None:
    install_plugin(tmp_path)
    env = child_environment(tmp_path)
    probe = (
        "import os, warnings; from runactionability import Registry, Resolver\n"
        "from runactionability.adapters.memory import MemoryRunHistory\n"
        "print(sorted(Registry.default().families()))\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    Resolver(history=MemoryRunHistory(), states={})\n"
        "print(any('quota_ledger' in str(w.message) for w in caught))\n"
        f"os.environ[{DISABLE_AUTOLOAD_VARIABLE!r}] = '1'\n"
        "print(sorted(Registry.default().families()))\n"
    )
    seen = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert seen.returncode == 0, seen.stderr
    autoloaded, warned, switched_off = seen.stdout.splitlines()
    # The plugin really is installed and autoloaded, and would warn: without the suite's switch
    # every default registry in the tests would see it.
    assert "'quota'" in autoloaded
    assert warned == "True"
    assert "'quota'" not in switched_off

    suite = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "tests/core",
            "tests/consumers",
            f"--ignore={Path(__file__).relative_to(ROOT)}",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    assert " passed" in suite.stdout.splitlines()[-1]


@pytest.mark.parametrize("value", ["1", "yes", "0"])
def test_the_environment_variable_turns_autoloading_off(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Like PYTEST_DISABLE_PLUGIN_AUTOLOAD: any non-empty value disables.
    monkeypatch.setenv(DISABLE_AUTOLOAD_VARIABLE, value)
    loaded: list[bool] = []

    def load_entry_points(self: Registry) -> int:
        loaded.append(True)
        return 0

    monkeypatch.setattr(Registry, "load_entry_points", load_entry_points)
    Registry.default()
    assert loaded == []
    Registry.default(entry_points=True)
    assert loaded == [True]
    monkeypatch.setenv(DISABLE_AUTOLOAD_VARIABLE, "")
    Registry.default()
    assert loaded == [True, True]
    Registry.default(entry_points=False)
    assert loaded == [True, True]
