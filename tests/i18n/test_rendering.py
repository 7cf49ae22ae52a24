"""Rendering a message for a locale and a time zone: catalogs, formats, plurals, fallbacks."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support import T0, run

from runactionability import (
    Listing,
    MessageCatalogs,
    Renderer,
    UnknownLocaleWarning,
    msg,
    msgn,
    to_json,
)
from runactionability.terms import family_name, outcome_name, type_name

SENTENCE = msg(
    "verdict.no_resolving_evidence",
    "The {type} {outcome} at {completed_at}, and no later success or current state proves it "
    "fixed.",
    type=msg("operation_type.inventory.sync", "inventory sync"),
    outcome=msg("outcome_verb.failed", "failed"),
    completed_at=T0,
)


def german(**kwargs: object) -> Renderer:
    return Renderer("de", **kwargs)  # type: ignore[arg-type]


def test_english_is_the_source_text_with_its_values_formatted() -> None:
    assert Renderer().render(SENTENCE) == (
        "The inventory sync failed at November 10, 2026, 12:00:00\u202fPM UTC, and no later "
        "success or current state proves it fixed."
    )


def test_german_reads_as_german_in_the_hosts_time_zone() -> None:
    berlin = german(time_zone="Europe/Berlin")
    assert berlin.render(SENTENCE) == (
        "Der Lauf vom Typ „Inventarsynchronisierung“ endete am 10. November 2026, 13:00:00 MEZ "
        "mit dem Ergebnis „fehlgeschlagen“, und weder ein späterer Erfolg noch ein aktueller "
        "Zustand belegt, dass das Problem behoben ist."
    )


def test_a_regional_locale_uses_its_languages_catalog() -> None:
    assert Renderer("de_DE").render(outcome_name("failed")) == "fehlgeschlagen"
    assert Renderer("de-AT").render(outcome_name("failed")) == "fehlgeschlagen"


@pytest.mark.parametrize(
    ("count", "total", "english", "deutsch"),
    [
        (1, 5, "1 of 5 runs needs attention", "1 von 5 Läufen erfordert Aufmerksamkeit"),
        (2, 5, "2 of 5 runs need attention", "2 von 5 Läufen erfordern Aufmerksamkeit"),
        (1, 1, "1 of 1 run needs attention", "1 von 1 Lauf erfordert Aufmerksamkeit"),
        (0, 1, "0 of 1 run need attention", "0 von 1 Lauf erfordern Aufmerksamkeit"),
    ],
)
def test_the_noun_follows_the_total_and_the_verb_the_count(
    count: int, total: int, english: str, deutsch: str
) -> None:
    # "1 of 5 run needs attention": one plural form served both words.
    runs = msgn("cli.report_runs", "{count} run", "{count} runs", count=total)
    attention = msgn(
        "cli.report_attention",
        "{count} of {runs} needs attention",
        "{count} of {runs} need attention",
        count=count,
        runs=runs,
    )
    assert Renderer().render(attention) == english
    assert german().render(attention) == deutsch


def test_counts_lists_and_durations_follow_the_locale() -> None:
    de = german()
    assert de.value(12_345) == "12.345"
    assert Renderer().value(12_345) == "12,345"
    assert de.value(Listing(["a", "b", "c"], "or")) == "a, b oder c"
    assert de.value(timedelta(hours=3)) == "3 Stunden"


def test_a_name_no_catalog_knows_is_shown_as_stored() -> None:
    assert german().render(type_name("quota.recalculate")) == "quota.recalculate"
    assert german().render(family_name("quota")) == "quota"
    assert german().render(outcome_name("exploded")) == "exploded"


def test_a_display_name_is_found_by_its_id_whatever_english_text_names_it() -> None:
    # A fact names its type as stored; the catalog knows the type by its label.
    assert german().render(type_name("inventory.sync")) == "Inventarsynchronisierung"
    assert Renderer().render(type_name("inventory.sync")) == "inventory sync"


def test_an_unknown_locale_is_english_with_exactly_one_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        renderer = Renderer("fr")
        renderer.render(SENTENCE)
        renderer.render(outcome_name("failed"))
    assert [w.category for w in caught] == [UnknownLocaleWarning]
    assert "'fr'" in str(caught[0].message)
    assert renderer.language == "en"
    assert renderer.render(outcome_name("failed")) == "failed"


def test_a_tag_that_is_no_locale_is_english_too() -> None:
    with pytest.warns(UnknownLocaleWarning):
        assert Renderer("xx-nonsense").language == "en"


def test_a_host_catalog_overrides_the_librarys_words(tmp_path: Path) -> None:
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "runactionability.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgctxt "action.retry"\nmsgid "Retry this run"\nmsgstr "Nochmal starten"\n',
        encoding="utf-8",
    )
    host = german(catalogs=[MessageCatalogs(tmp_path)])
    assert host.render(msg("action.retry", "Retry this run")) == "Nochmal starten"
    # What the host does not override still comes from the library's catalog.
    assert host.render(outcome_name("failed")) == "fehlgeschlagen"


def test_a_translation_with_a_wrong_placeholder_falls_back_to_english(tmp_path: Path) -> None:
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "runactionability.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgctxt "scope.workspace"\nmsgid "workspace {workspace_id}"\nmsgstr "Workspace {ws}"\n',
        encoding="utf-8",
    )
    host = german(catalogs=[MessageCatalogs(tmp_path)])
    where = msg("scope.workspace", "workspace {workspace_id}", workspace_id="acme")
    assert host.render(where) == "workspace acme"


@pytest.mark.parametrize("broken", ["{workspace_id.real}", "{workspace_id[x]}", "{0}"])
def test_any_broken_placeholder_of_a_host_falls_back_to_english(
    tmp_path: Path, broken: str
) -> None:
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "runactionability.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        f'msgctxt "scope.workspace"\nmsgid "workspace {{workspace_id}}"\nmsgstr "W {broken}"\n',
        encoding="utf-8",
    )
    host = german(catalogs=[MessageCatalogs(tmp_path)])
    where = msg("scope.workspace", "workspace {workspace_id}", workspace_id="acme")
    assert host.render(where) == "workspace acme"


def test_a_corrupt_host_catalog_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    from runactionability import ConfigurationError

    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "runactionability.mo").write_bytes(b"not a catalog at all")
    with pytest.raises(ConfigurationError, match="cannot be read"):
        german(catalogs=[MessageCatalogs(tmp_path)])


def test_an_unknown_time_zone_is_a_usage_error() -> None:
    from runactionability import UsageError

    with pytest.raises(UsageError, match="IANA"):
        Renderer("de", time_zone="Mars/Olympus")


def test_the_result_keeps_its_english_explanation_for_existing_hosts() -> None:
    from tests.support import AS_OF, resolver

    failed = run(1, "inventory.sync", context={})
    [result] = resolver([failed]).evaluate_many([failed], as_of=AS_OF)
    assert result.explanation == Renderer().render(result.message)
    assert result.explanation.startswith("The inventory sync failed at November 10, 2026")
    assert result.primary_action is not None
    assert result.primary_action.label == "Retry the inventory sync"


def test_json_carries_the_rendered_text_beside_its_stable_id_and_params() -> None:
    from tests.support import AS_OF, resolver

    failed = run(1, "inventory.sync", context={})
    [result] = resolver([failed]).evaluate_many([failed], as_of=AS_OF)
    english = to_json(result)
    deutsch = to_json(result, renderer=german(time_zone="Europe/Berlin"))
    assert english["explanation_message"] == deutsch["explanation_message"]
    assert deutsch["explanation_message"] == {
        "id": "verdict.no_resolving_evidence",
        "params": {
            "type": {"id": "operation_type.inventory.sync", "params": {}},
            "outcome": {"id": "outcome_verb.failed", "params": {}},
            "completed_at": "2026-11-10T12:01:00+00:00",
        },
    }
    assert deutsch["explanation"].startswith("Der Lauf vom Typ „Inventarsynchronisierung“")
    assert "13:01:00 MEZ" in deutsch["explanation"]
    assert deutsch["primary_action"]["label"] == "„Inventarsynchronisierung“ erneut ausführen"
    assert deutsch["primary_action"]["label_message"]["id"] == "action.retry_type"
    assert english["primary_action"]["label"] == "Retry the inventory sync"


@pytest.mark.parametrize("locale", ["en", "de"])
def test_a_stored_name_with_braces_is_shown_as_stored(locale: str) -> None:
    # A display name's English text is the stored value: a brace in it is a literal.
    assert Renderer(locale).render(outcome_name("fail}")) == "fail}"
    assert Renderer(locale).render(family_name("{odd}")) == "{odd}"
