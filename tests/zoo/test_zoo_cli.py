"""The CLI over the zoo: ``report``, ``list`` and ``explain`` with ``--json`` print, for a host's
own tables named in a configuration file (``--config``), the forms the consumers compute over
the memory adapter for the same history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tests.support import AS_OF, CATALOG, REGISTRY, database_option
from tests.zoo.canon import Host, Seeded, assert_same_listing, canonical_history, seed
from tests.zoo.config import config_text

from runactionability import Resolver
from runactionability.cli import cli
from runactionability.consumers import ActiveRuns, View, dashboard, explain, list_assessed
from runactionability.jsonforms import to_json


@pytest.fixture
def seeded(zoo: tuple[Host, sa.Engine], tmp_path: Path) -> Seeded:
    runs, facts = canonical_history()
    seeded = seed(*zoo, runs, facts)
    config = config_text(seeded.mapped, database_option(seeded.engine))
    (tmp_path / "runactionability.toml").write_text(config)
    return seeded


def _document(seeded: Seeded, folder: Path, command: str, *args: str) -> Any:
    named = seeded.scopes().workspace_ids
    assert named is not None
    scopes = [f"--workspace={w}" for w in sorted(named)]
    config = str(folder / "runactionability.toml")
    arguments = [command, *args, "--config", config, *scopes, "--as-of", AS_OF.isoformat()]
    result = CliRunner().invoke(cli, [*arguments, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # The one warning each host earns: its deliberately unlisted status or outcome (conftest).
    for line in result.stderr.splitlines():
        assert line.startswith("runactionability: warning: "), result.stderr
        assert "a value the mapping's" in line, result.stderr
    return json.loads(result.stdout)


def test_a_file_naming_only_what_reflection_cannot_know_answers_alike(
    seeded: Seeded, tmp_path: Path
) -> None:
    """No ``timestamps`` (but the library's own storage on SQLite), no ``ids``: the column types
    say them, the file gives only the zone of wall-clock times or the unit of epoch integers, and
    the answers are the full file's."""
    told = tmp_path / "told"
    told.mkdir()
    dialect = seeded.engine.dialect.name
    text = config_text(
        seeded.mapped, database_option(seeded.engine), told_only=True, dialect=dialect
    )
    native_on_sqlite = dialect == "sqlite" and seeded.mapped.runs.timestamps.form == "native"
    assert ("timestamps =" in text) is native_on_sqlite
    assert "ids =" not in text
    assert "reflect" not in text
    (told / "runactionability.toml").write_text(text)
    for command, args in (("report", ("--top", "50")), ("list", ("--limit", "100"))):
        assert _document(seeded, told, command, *args) == _document(
            seeded, tmp_path, command, *args
        )


def test_report_list_and_explain_equal_memory(seeded: Seeded, tmp_path: Path) -> None:
    scopes = seeded.scopes()
    memory = seeded.memory()
    resolver = Resolver(
        history=memory.history, states=memory.states, registry=REGISTRY, catalog=CATALOG
    )
    summary = dashboard(memory.runs, resolver, scopes=scopes, as_of=AS_OF, top=50)
    report = _document(seeded, tmp_path, "report", "--top", "50")
    expected = to_json(summary)
    assert_same_listing(seeded.runs, report.pop("top"), expected.pop("top"))
    assert {key: report[key] for key in expected} == expected
    for flag, view in (
        ("--current-follow-up", View.CURRENT_FOLLOW_UP),
        ("--history", View.HISTORY),
    ):
        page = list_assessed(
            memory.runs, resolver, scopes=scopes, as_of=AS_OF, view=view, limit=100
        )
        printed = _document(seeded, tmp_path, "list", flag, "--limit", "100")["runs"]
        assert_same_listing(seeded.runs, printed, to_json(page)["runs"])
    active = ActiveRuns.from_source(memory.runs, catalog=CATALOG, scopes=scopes, as_of=AS_OF)
    for run in seeded.runs:
        if not scopes.admits_run(run):
            continue
        told = explain(
            resolver, run, scopes=scopes, as_of=AS_OF, active=active, state_kinds=memory.states
        )
        printed = _document(seeded, tmp_path, "explain", str(run.id))
        assert {key: printed[key] for key in to_json(told)} == to_json(told), run.id
