"""``--locale`` on every command (and ``RUNACTIONABILITY_LOCALE``): German throughout, and JSON
whose ids and parameters do not change with the locale."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from tests.support import ROOT

from runactionability.cli import cli
from runactionability.demo import Size, generate, load


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("localized") / "demo.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    load(engine, generate(Size.SMALL))
    engine.dispose()
    return str(path)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output + result.stderr
    return result


def first_attention(database: str) -> str:
    payload = json.loads(invoke("report", "--database", database, "--json").stdout)
    return str(payload["top"][0]["run_id"])


def test_report_in_german_before_or_after_the_command(database: str) -> None:
    before = invoke("--locale", "de", "report", "--database", database).stdout
    after = invoke("report", "--database", database, "--locale", "de").stdout
    assert before == after
    for german in ("Dashboard für", "Läufen", "Nach Familie", "Erfordert jetzt Aufmerksamkeit"):
        assert german in before
    assert "November 2026" in before
    assert "Stand 20. November 2026, 12:00:00 UTC" in before
    assert "Dashboard for" not in before
    assert "need attention" not in before


def test_the_variable_chooses_the_locale_and_the_option_wins(database: str) -> None:
    run_id = first_attention(database)
    german = invoke(
        "explain", run_id, "--database", database, env={"RUNACTIONABILITY_LOCALE": "de"}
    )
    assert "Was daran etwas ändern würde" in german.stdout
    assert "Begründung" in german.stdout
    english = invoke(
        "explain",
        run_id,
        "--database",
        database,
        "--locale",
        "en",
        env={"RUNACTIONABILITY_LOCALE": "de"},
    )
    assert "What would change it" in english.stdout


@pytest.mark.parametrize("where", ["before", "after"])
def test_an_empty_locale_is_refused_rather_than_overriding_the_variable(
    database: str, where: str
) -> None:
    command = ["families", "--locale", ""] if where == "after" else ["--locale", " ", "families"]
    result = CliRunner().invoke(cli, command, env={"RUNACTIONABILITY_LOCALE": "de"})
    assert result.exit_code == 2
    assert "Invalid value for '--locale': give a locale such as de or en" in result.stderr
    unset = invoke("families", env={"RUNACTIONABILITY_LOCALE": ""})
    assert "family" in unset.stdout


def test_an_unknown_locale_is_english_with_exactly_one_warning(database: str) -> None:
    result = invoke("--locale", "fr", "report", "--database", database)
    assert "Dashboard for" in result.stdout
    assert result.stderr.splitlines() == [
        "runactionability: warning: no message catalog for locale 'fr'; showing English"
    ]


def _ids(value: Any) -> Any:
    """A document with its rendered texts left out: what must not depend on the locale."""
    if isinstance(value, dict):
        return {
            k: _ids(v)
            for k, v in value.items()
            if k not in ("explanation", "label", "would_change")  # the rendered texts
        }
    if isinstance(value, list):
        return [_ids(item) for item in value]
    return value


@pytest.mark.parametrize("command", ["report", "explain", "list"])
def test_json_keeps_its_ids_and_parameters_whatever_the_locale(command: str, database: str) -> None:
    args = [command, "--database", database, "--json"]
    if command == "explain":
        args.insert(1, first_attention(database))
    english = json.loads(invoke(*args).stdout)
    german = json.loads(invoke("--locale", "de", *args).stdout)
    assert _ids(german) == _ids(english)
    assert german != english  # the texts themselves are German


def test_the_example_plugin_is_translated_by_its_own_catalog(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runpy.run_path(str(ROOT / "examples" / "third_party_family.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "Kontingent q-2 wurde am" in printed
    assert "neu berechnet" in printed
    assert "„Kontingentneuberechnung“" in printed
    assert "MEZ" in printed  # its instants in the host's zone (Europe/Berlin)


def test_the_example_catalog_is_a_plain_po_beside_the_example() -> None:
    catalog = ROOT / "examples" / "third_party_locale" / "de" / "LC_MESSAGES" / "quota.po"
    assert catalog.is_file()
    assert not catalog.with_suffix(".mo").exists()  # Babel reads the source for a plugin
    assert Path(catalog).read_text(encoding="utf-8").count("msgctxt") >= 3
