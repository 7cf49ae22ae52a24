"""Finding every message in source code, with Babel's extractor, to build and check catalogs.

The library's catalogs are checked against what this finds (``tests/test_i18n_catalogs.py``); a
plugin author runs it over the plugin's own package, with the display names of its types and
families (``Registry.display_names``), to write the plugin's catalogs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from runactionability.messages import Message

KEYWORDS = {"msg": ((1, "c"), 2), "msgn": ((1, "c"), 2, 3)}
"""Babel keyword specs of ``msg(id, text, ...)`` and ``msgn(id, singular, plural, ...)``: the
id is the gettext context (``pybabel extract -k msg:1c,2 -k msgn:1c,2,3``)."""

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@attrs.frozen
class Entry:
    """One message a catalog must translate: its id (context), English source and plural."""

    id: str
    text: str
    plural: str | None = None


def extract_messages(directory: str | Path, *, extra: Iterable[Message] = ()) -> set[Entry]:
    """Every ``msg``/``msgn`` call with literal arguments in the ``.py`` files under
    ``directory``, and the ``extra`` messages (display names, which code builds from data)."""
    found: set[Entry] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(directory), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        if context is None:
            continue
        if isinstance(message, tuple):
            found.add(Entry(context, message[0], message[1]))
        else:
            found.add(Entry(context, message))
    found.update(Entry(m.id, m.text, m.plural) for m in extra)
    return found


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` placeholders of a message text."""
    return frozenset(_PLACEHOLDER.findall(text))


def update_catalog(path: str | Path, entries: Iterable[Entry], locale: str, domain: str) -> None:
    """Bring the ``.po`` file at ``path`` in line with ``entries`` (created when missing).

    New entries come in untranslated (in an ``en`` catalog, as their English source); entries no
    longer in the code are dropped; translations of unchanged entries are kept. Babel writes the
    file; the build compiles it.
    """
    target = Path(path)
    existing: Catalog
    if target.is_file():
        with target.open("rb") as stream:
            existing = read_po(stream, locale=locale, domain=domain)
    else:
        existing = Catalog(locale=locale, domain=domain)
    updated = Catalog(
        locale=locale,
        domain=domain,
        project=domain,
        fuzzy=False,
        header_comment=f"# {domain} messages ({locale}).",
        # Kept from the file, so that an update that changes no entry changes no byte.
        creation_date=existing.creation_date,
        revision_date=existing.revision_date,
    )
    english = locale.split("_")[0] == "en"
    by_context = {message.context: message for message in existing if message.context}
    for entry in sorted(entries, key=lambda e: (e.id, e.text)):
        msgid: str | tuple[str, str] = (
            entry.text if entry.plural is None else (entry.text, entry.plural)
        )
        known = existing.get(msgid, context=entry.id)
        string: Any = "" if entry.plural is None else ("", "")
        fuzzy = False
        if known is not None and known.string:
            string, fuzzy = known.string, known.fuzzy
        elif english:
            string = msgid
        elif (earlier := by_context.get(entry.id)) is not None and earlier.string:
            # The English source changed under the same id: the old translation is kept for the
            # translator to review, flagged fuzzy (which the catalog tests refuse).
            string, fuzzy = earlier.string, True
        updated.add(msgid, string, context=entry.id, flags=("fuzzy",) if fuzzy else ())
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as stream:
        write_po(stream, updated, width=100, omit_header=False, sort_output=False)
