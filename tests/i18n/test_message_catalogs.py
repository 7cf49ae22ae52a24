"""The shipped catalogs hold every message of the code, in English and German, and nothing else.

The entries are found as a maintainer's ``make messages`` finds them: Babel's extractor over the
package (``msg``/``msgn`` calls) and the display names of the built-in plugins. A message added,
re-worded or removed in the code fails here until the catalogs follow.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from tests.support import ROOT, catalog_path, library_messages

from runactionability.i18n import SHIPPED_LOCALES
from runactionability.i18n.extract import Entry, placeholders

ENTRIES = library_messages()


def read(locale: str) -> Catalog:
    with catalog_path(locale).open("rb") as stream:
        return read_po(stream, locale=locale)


def entries_of(catalog: Catalog) -> set[Entry]:
    found = set()
    for message in catalog:
        if not message.id:
            continue
        context = str(message.context)
        if isinstance(message.id, tuple):
            found.add(Entry(context, str(message.id[0]), str(message.id[1])))
        else:
            found.add(Entry(context, str(message.id)))
    return found


def test_the_code_has_messages_to_check() -> None:
    ids = {entry.id for entry in ENTRIES}
    assert {"verdict.no_resolving_evidence", "action.retry_type", "cli.report_title"} <= ids
    assert "operation_type.inventory.sync" in ids  # a display name, from the registry
    assert len(ids) == len(ENTRIES), "one id, one English text"


@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
def test_every_message_is_in_the_catalog_and_nothing_stale(locale: str) -> None:
    held = entries_of(read(locale))
    missing = sorted(e.id for e in ENTRIES - held)
    stale = sorted(e.id for e in held - ENTRIES)
    assert (missing, stale) == ([], []), "run `make messages`, then translate what is new"


@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
def test_every_entry_is_translated_with_the_same_placeholders(locale: str) -> None:
    problems = []
    for message in read(locale):
        if not message.id:
            continue
        sources = [str(s) for s in (message.id if isinstance(message.id, tuple) else [message.id])]
        strings = [
            str(s or "")
            for s in (message.string if isinstance(message.string, tuple) else [message.string])
        ]
        expected = placeholders(sources[0]) | placeholders(sources[-1])
        if message.fuzzy or not all(strings):
            problems.append(f"{message.context}: untranslated or fuzzy")
        for string in strings:
            if placeholders(string) != expected:
                problems.append(f"{message.context}: {sorted(placeholders(string))}")
    assert problems == []


def test_the_english_catalog_says_what_the_code_says() -> None:
    for message in read("en"):
        if message.id:
            assert message.string == message.id, message.context


def test_german_is_not_english_copied_over() -> None:
    catalog = read("de")
    # Only texts that are all placeholders and punctuation may read the same in both languages.
    copied = [
        m.context
        for m in catalog
        if m.id
        and m.string == m.id
        and any(ch.isalpha() for ch in _without_placeholders(str(m.id)))
        and m.context not in _SAME_IN_GERMAN
    ]
    assert copied == []


# Words German uses as they are (a loanword, a product term, the preposition "in").
_SAME_IN_GERMAN = frozenset(
    {
        "operation_type.backup.create",
        "operation_type.promotion.execute",
        "cli.run_in_scope",
        "cli.run_line",
        "cli.demo.run",
    }
)


def _without_placeholders(text: str) -> str:
    for name in placeholders(text):
        text = text.replace("{" + name + "}", "")
    return text


@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
def test_the_installed_catalog_is_compiled_from_its_source(locale: str) -> None:
    # The build hook (hatch_build.py) compiles each .po; an install that missed it, or a .po
    # edited since, would show English. Rebuild with `pip install -e .` or `make messages`.
    compiled = catalog_path(locale).with_suffix(".mo")
    assert compiled.is_file(), f"{compiled} is missing: reinstall (pip install -e .)"
    fresh = io.BytesIO()
    write_mo(fresh, read(locale))
    installed = gettext.GNUTranslations(io.BytesIO(compiled.read_bytes()))
    expected = gettext.GNUTranslations(io.BytesIO(fresh.getvalue()))
    assert installed._catalog == expected._catalog  # type: ignore[attr-defined]


def test_the_build_hook_compiles_every_catalog(tmp_path: Path) -> None:
    from hatch_build import LOCALE_DIR, compile_catalogs

    for locale in SHIPPED_LOCALES:
        source = catalog_path(locale)
        target = tmp_path / LOCALE_DIR / locale / "LC_MESSAGES" / source.name
        target.parent.mkdir(parents=True)
        target.write_bytes(source.read_bytes())
    compiled = compile_catalogs(tmp_path)
    assert sorted(path.parent.parent.name for path in compiled) == sorted(SHIPPED_LOCALES)
    german = gettext.GNUTranslations(io.BytesIO(compiled[0].read_bytes()))
    assert german.pgettext("action.retry", "Retry this run") == "Diesen Lauf erneut ausführen"
    assert (ROOT / "hatch_build.py").is_file()
