"""The pytest plugin is registered, hermetic (fixtures only) and loads nothing until used."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import runactionability.testing.plugin as plugin


def test_the_plugin_is_registered_under_pytest11() -> None:
    points = importlib.metadata.entry_points(group="pytest11")
    assert {p.name: p.value for p in points}["runactionability"] == plugin.__name__


def test_the_plugin_only_offers_fixtures() -> None:
    # A hook would change every host's test run; fixtures act only where a test asks.
    assert [name for name in vars(plugin) if name.startswith("pytest_")] == []


def test_loading_the_plugin_imports_neither_sqlalchemy_nor_hypothesis() -> None:
    code = (
        "import sys, runactionability.testing.plugin;"
        "loaded = [m for m in ('sqlalchemy', 'hypothesis') if m in sys.modules];"
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
