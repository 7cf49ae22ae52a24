"""``--locale de`` on the commands that open no session: ``demo``, ``families``, ``coverage``,
``doctor`` and ``guard`` print their headings, columns, statuses and counts in German."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from runactionability.cli import cli
from runactionability.demo import Size, generate, load


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("localized") / "demo.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    load(engine, generate(Size.SMALL))
    engine.dispose()
    return str(path)


def german(*args: str) -> str:
    result = CliRunner().invoke(cli, ["--locale", "de", *args])
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def test_demo_in_german(tmp_path: Path) -> None:
    output = german("demo", "--size", "small", "--database", str(tmp_path / "demo.sqlite"))
    first = output.splitlines()[0]
    assert first.startswith("Demo-Datenbank ")
    assert "301 Läufe und 31 aktuelle Zustände in 3 Workspaces" in first
    for text in (
        "Rohe Lesart",
        "gespeichertes Ergebnis",
        "erfordert Aufmerksamkeit",
        "Handlungsbedarf",
        "Provider-Verbindung repariert",
        "Begründung",
        "Nachweis",
        "Nächste Schritte:",
    ):
        assert text in output
    for english in (
        "Created the demo",
        "stored outcome",
        "needs attention",
        "Next:",
        "raw reading",
    ):
        assert english not in output
    # The raw reading shows outcomes as stored: that column is what a raw reading reads.
    assert "partially_succeeded" in output


def test_families_in_german() -> None:
    output = german("families")
    header = output.splitlines()[1].split()
    assert header == ["Familie", "Risiko", "Plugin", "Wiederholung", "Zustandsarten", "Typen"]
    risks = {line.split()[0]: line.split()[1] for line in output.splitlines()[3:] if line.strip()}
    assert risks["high_risk"] == "hoch"
    assert risks["backup"] == "normal"
    assert " ja " in output
    assert " nein " in output


def test_coverage_in_german() -> None:
    output = german("coverage")
    assert output.startswith("Katalog ")
    assert output.splitlines()[2].split() == ["Typ", "Familie", "abgedeckt", "Klasse"]
    assert " ja " in output
    assert " yes " not in output


def test_doctor_in_german(database: str) -> None:
    output = german("doctor", "--database", database)
    assert output.splitlines()[0] == (
        "operation_runs auf sqlite geprüft: 301 Läufe, davon 301 in der Stichprobe; "
        "0 Fehler, 0 Warnungen"
    )
    assert "Hinweis invalid_rows: " in output
    assert "Checked" not in output


def test_guard_in_german(tmp_path: Path) -> None:
    (tmp_path / "clean.py").write_text("print('hello')\n")
    assert german("guard", str(tmp_path)) == "Kein Lesen der rohen Nachverfolgung gefunden.\n"


def test_demo_json_in_german_keeps_its_ids(tmp_path: Path) -> None:
    arguments = ["demo", "--size", "small", "--json"]
    english = json.loads(
        CliRunner().invoke(cli, [*arguments, "--database", str(tmp_path / "en.sqlite")]).stdout
    )
    deutsch = json.loads(german(*arguments, "--database", str(tmp_path / "de.sqlite")))
    first, erste = english["headlines"][0], deutsch["headlines"][0]
    assert first["title"].startswith("Provider connection fixed")
    assert erste["title"].startswith("Provider-Verbindung repariert")
    assert erste["run"]["explanation"].startswith("Zustand „Provider-Verbindung“")
    assert erste["run"]["explanation_message"] == first["run"]["explanation_message"]
