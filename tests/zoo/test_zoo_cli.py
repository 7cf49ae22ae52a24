"""The CLI over the zoo: ``report``, ``list`` and ``explain`` with ``--json`` print, for a host's
tables, the forms the consumers compute over the memory adapter for the same history.

The CLI reads the reference schema through ``--database``; a host's own tables need a mapping
the command line cannot carry yet, so this leg runs over the reference host.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tests.support import AS_OF, CATALOG, REGISTRY, database_option
from tests.zoo.canon import Host, Seeded, canonical_history, seed

from runactionability import Resolver
from runactionability.cli import cli
from runactionability.consumers import ActiveRuns, View, dashboard, explain, list_assessed
from runactionability.jsonforms import to_json

CLI_HOSTS = ("reference",)


@pytest.fixture
def seeded(zoo: tuple[Host, sa.Engine]) -> Seeded:
    if zoo[0].name not in CLI_HOSTS:
        pytest.skip(f"the CLI cannot be pointed at the {zoo[0].name} host's tables yet")
    runs, facts = canonical_history()
    return seed(*zoo, runs, facts)


def _document(seeded: Seeded, command: str, *args: str) -> Any:
    scopes = [f"--workspace={w}" for w in sorted(seeded.scopes().workspace_ids)]
    database = database_option(seeded.engine)
    arguments = [command, *args, "--database", database, *scopes, "--as-of", AS_OF.isoformat()]
    result = CliRunner().invoke(cli, [*arguments, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_report_list_and_explain_equal_memory(seeded: Seeded) -> None:
    scopes = seeded.scopes()
    memory = seeded.memory()
    resolver = Resolver(
        history=memory.history, states=memory.states, registry=REGISTRY, catalog=CATALOG
    )
    summary = dashboard(memory.runs, resolver, scopes=scopes, as_of=AS_OF, top=50)
    report = _document(seeded, "report", "--top", "50")
    assert {key: report[key] for key in to_json(summary)} == to_json(summary)
    for flag, view in (
        ("--current-follow-up", View.CURRENT_FOLLOW_UP),
        ("--history", View.HISTORY),
    ):
        page = list_assessed(
            memory.runs, resolver, scopes=scopes, as_of=AS_OF, view=view, limit=100
        )
        assert _document(seeded, "list", flag, "--limit", "100")["runs"] == to_json(page)["runs"]
    active = ActiveRuns.from_source(memory.runs, catalog=CATALOG, scopes=scopes, as_of=AS_OF)
    for run in seeded.runs:
        if not scopes.admits_run(run):
            continue
        told = explain(
            resolver, run, scopes=scopes, as_of=AS_OF, active=active, state_kinds=memory.states
        )
        printed = _document(seeded, "explain", str(run.id))
        assert {key: printed[key] for key in to_json(told)} == to_json(told), run.id
