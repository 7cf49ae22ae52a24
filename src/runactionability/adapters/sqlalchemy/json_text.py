"""How the adapters read JSON text (a SQLite context, any PostgreSQL context as ``jsonb``
prints it, state attributes): as SQLite's JSON functions read it, and never with an error
for a value Python cannot hold."""

from __future__ import annotations

import json
import re
from typing import Any

from runactionability.limits import integer_too_long, json_too_deep


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _first_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) == len(pairs):
        return members
    # A name repeated with one value is that value (the first, as ``json_extract`` finds it).
    # Repeated with different values it names no value: SQLite reads the first, PostgreSQL
    # and ``json.loads`` the last, and evidence about either would be taken from a guess.
    members, ambiguous = {}, set()
    for name, value in pairs:
        if name not in members:
            members[name] = value
        elif type(members[name]) is not type(value) or members[name] != value:
            ambiguous.add(name)
    for name in ambiguous:
        del members[name]
    return members


# Made once: ``json.loads`` with any option builds a decoder per call (measured: 8.5 us a
# context read so, against 2.9 us for ``json.loads`` without options and 2.5 us for this one).
_DECODER = json.JSONDecoder(parse_constant=_not_json, object_pairs_hook=_first_members)


def _json_integer(digits: str) -> Any:
    if integer_too_long(digits):
        return float(digits)
    try:
        return int(digits)
    except ValueError:
        # A process whose own limit is lower than the library's.
        return float(digits)


# The reader of a text the default one refused: an integer Python's ``int`` refuses (more than
# ``MAX_INTEGER_DIGITS`` digits) is read as the float Python reads for its spelling with an
# exponent (``1e5000``: ``inf``), so the context stays a mapping, as the SQL finds it, and
# the integer is no subject, as the SQL reads none (``json_subject``). Asked only after the
# default reader failed: a parse_int hook costs every integer of every context a call.
_WIDE_DECODER = json.JSONDecoder(
    parse_constant=_not_json, object_pairs_hook=_first_members, parse_int=_json_integer
)


def decode_json(text: str) -> Any:
    """The JSON value of ``text``, an integer ``int`` refuses read as a float (``_json_integer``);
    ``ValueError`` when ``text`` is no JSON as SQLite's functions read it."""
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError:
        raise
    except ValueError:
        return _WIDE_DECODER.decode(text)


# A \u escape of a UTF-16 surrogate: the one way JSON text holds one, and alone (unpaired) it
# is a character SQLite's JSON functions return as bytes that are not UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _holds_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_holds_surrogate(k) or _holds_surrogate(v) for k, v in value.items())
    return isinstance(value, list) and any(_holds_surrogate(item) for item in value)


def read_json_text(text: str) -> Any:
    """The JSON value of ``text`` as SQLite's JSON functions read it; ``text`` itself if none.

    Python's reader accepts ``NaN`` and ``Infinity``, which SQLite's ``json_valid`` refuses,
    and keeps the last of an object's duplicate members, where ``json_extract`` finds the first:
    read the default way, a context the SQL calls invalid would be a valid one to the core, and
    a subject the SQL correlates on would not be the one the core reads. An unpaired surrogate
    (``"\\ud800"``) is no text SQLite returns readably, so a document holding one is not read
    (the SQL leaves such a row to this judgement: ``pushdown.validity``). An integer ``int``
    refuses reads as a float (``decode_json``), where Python's reader raises.
    """
    if json_too_deep(text):
        return text
    try:
        value = decode_json(text)
    except ValueError:
        return text
    if "\\" in text and _SURROGATE_ESCAPE.search(text) is not None and _holds_surrogate(value):
        return text
    return value
