"""The keyset cursors of the run source and the follow-up list: written, checked, and signed.

A cursor is opaque to the caller. ``encode_cursor`` writes its body (urlsafe base64 of a small
JSON list: a tag, the stored ``created_at``, the run id); ``decode_cursor`` accepts only the exact
text ``encode_cursor`` writes. Before the body is parsed, the text is bounded in length and
alphabet and, when the host gives a key, its HMAC-SHA256 is verified, so a cursor the host's own
service did not issue (altered, cut short, unsigned, or signed by another key) is refused before
any statement, and before its JSON is even read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from datetime import datetime
from typing import Any

from runactionability.adapters.sqlalchemy.ids import (
    INT64_MAX,
    INT64_MIN,
    IdType,
    id_value,
    text_fits,
)
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.errors import InvalidCursorError, UsageError
from runactionability.limits import MAX_CURSOR_LENGTH

MIN_KEY_LENGTH = 16
"""The shortest signing key accepted, in bytes: a shorter one is guessable."""

_BODY = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")
# Keys sign nothing but cursors of this form: a MAC made for another purpose with the same key
# never passes as a cursor's.
_DOMAIN = b"runactionability.cursor/1\x00"
_SHOWN = 40


def check_cursor_key(key: object) -> bytes | None:
    """``key`` as the bytes cursors are signed with, or None for unsigned cursors.

    Raises ``UsageError`` for a key that is not bytes or shorter than ``MIN_KEY_LENGTH``.
    """
    if key is None:
        return None
    if not isinstance(key, bytes | bytearray):
        raise UsageError(f"cursor_key must be bytes, not {type(key).__name__}")
    if len(key) < MIN_KEY_LENGTH:
        raise UsageError(f"cursor_key must be at least {MIN_KEY_LENGTH} bytes, not {len(key)}")
    return bytes(key)


def invalid_cursor(cursor: object, issuer: str) -> InvalidCursorError:
    """The error for a cursor ``issuer`` did not write, quoting at most its start."""
    shown = cursor if not isinstance(cursor, str) or len(cursor) <= _SHOWN else cursor[:_SHOWN]
    more = "..." if isinstance(cursor, str) and len(cursor) > _SHOWN else ""
    return InvalidCursorError(f"not a cursor {issuer} issued: {shown!r}{more}")


def seal(body: str, key: bytes | None) -> str:
    """The cursor text of ``body``: itself, or with ``key`` its signature after a dot."""
    return body if key is None else f"{body}.{_signature(body, key)}"


def unseal(cursor: object, key: bytes | None, issuer: str) -> str:
    """The body of ``cursor`` once its form (and with ``key`` its signature) is checked.

    Raises ``InvalidCursorError`` for anything else: too long, outside the alphabet, unsigned
    while a key is set, or signed by another key (compared in constant time).
    """
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR_LENGTH:
        raise invalid_cursor(cursor, issuer)
    if key is None:
        body = cursor
    else:
        body, dot, signature = cursor.rpartition(".")
        if not (dot and _SIGNATURE.fullmatch(signature)):
            raise invalid_cursor(cursor, issuer)
    if not _BODY.fullmatch(body):
        raise invalid_cursor(cursor, issuer)
    if key is not None and not hmac.compare_digest(signature, _signature(body, key)):
        raise invalid_cursor(cursor, issuer)
    return body


def _signature(body: str, key: bytes) -> str:
    digest = hmac.new(key, _DOMAIN + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode_cursor(created: object, run_id: object, *, key: bytes | None = None) -> str:
    """The keyset cursor after a row: its stored ``created_at`` (tagged by kind) and its id.

    The run source and the pushdown's follow-up list both write it; ``decode_cursor`` reads it.
    With a ``key`` it is signed (``seal``).
    """
    if created is None:
        payload: list[Any] = ["null", None, run_id]
    elif isinstance(created, datetime):
        # A naive value (a host's PostgreSQL column without a time zone) keeps a tag of its own,
        # so that a naive instant under the "instant" tag is recognisably not one we wrote.
        tag = "instant" if created.utcoffset() is not None else "naive"
        payload = [tag, created.isoformat(), run_id]
    else:
        payload = ["stored", created, run_id]
    return seal(base64.urlsafe_b64encode(json.dumps(payload).encode()).decode(), key)


def decode_cursor(
    cursor: str,
    *,
    id_type: IdType = "text",
    issuer: str = "this run source",
    key: bytes | None = None,
    instants: Instants | None = None,
    dialect: str = "",
) -> tuple[str, Any, Any]:
    """(tag, created_at, id) of a cursor ``encode_cursor`` wrote, or ``InvalidCursorError``.

    Only the exact text ``encode_cursor`` writes for what it decodes to is accepted (signed with
    ``key`` when one is given): any other text, however close, is refused before a statement.
    With the table's ``instants`` and the ``dialect``, the position must also be one a listing
    of that storage issues (``cursor_position_fits``): an unsigned cursor is anyone's text, and
    a value the column cannot hold would fail in the database (on PostgreSQL leaving the
    transaction unusable) instead of being refused as a cursor.
    """
    body = unseal(cursor, key, issuer)
    invalid = invalid_cursor(cursor, issuer)
    try:
        tag, created, run_id = json.loads(base64.urlsafe_b64decode(body.encode()))
        if tag in {"instant", "naive"}:
            created = datetime.fromisoformat(created)
    except (ValueError, TypeError, RecursionError, binascii.Error):
        raise invalid from None
    # Checked here, before a statement binds them: a crafted cursor must be refused as one,
    # never surface as a driver's binding error or compare a value of the wrong kind.
    if tag == "null":
        valid = created is None
    elif tag == "instant":
        valid = created.utcoffset() is not None
    elif tag == "naive":
        valid = created.utcoffset() is None
    elif tag == "stored":
        valid = stored_cursor_value_is_valid(created)
    else:
        valid = False
    if instants is not None and not cursor_position_fits(tag, created, instants, dialect):
        valid = False
    if not (valid and cursor_id_is_valid(run_id, id_type=id_type, dialect=dialect)):
        raise invalid
    if encode_cursor(created, run_id) != body:
        # Padding, spacing, key order, number or instant spellings other than ours: not ours.
        raise invalid
    return tag, created, run_id


def stored_cursor_value_is_valid(value: object) -> bool:
    """Whether a cursor's unreadable created_at (tag ``stored``) is a value a column can hold."""
    if isinstance(value, str):
        return text_fits(value, "")
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    return isinstance(value, float) and math.isfinite(value)


def cursor_id_is_valid(run_id: object, *, id_type: IdType, dialect: str = "") -> bool:
    """Whether a run id read from a cursor is one a run table of ``id_type`` can hold.

    An int in the signed 64-bit range (not for a uuid column), or a str: any the ``dialect``
    can bind for a text column, a uuid's lowercase text for a uuid column, none for an integer
    column.
    """
    if id_type == "uuid":
        return id_value(run_id, "uuid", "postgresql") is not None
    if isinstance(run_id, str):
        return id_type == "text" and text_fits(run_id, dialect)
    return (
        isinstance(run_id, int)
        and not isinstance(run_id, bool)
        and stored_cursor_value_is_valid(run_id)
    )


def cursor_position_fits(tag: str, created: object, instants: Instants, dialect: str) -> bool:
    """Whether a listing of a table storing ``instants`` on ``dialect`` issues this position.

    ``instant`` only for a native storage, whose readable values it carries (any other storage's
    cursor carries the stored value). ``naive`` only on PostgreSQL, from a ``timestamp`` column:
    a naive storage's readable values, or a native mapping's column without a time zone.
    ``stored`` only a value the column holds and the database reads back as one: on PostgreSQL
    an integer of 64 bits for epoch, text for ISO text, and for the timestamp types the text
    PostgreSQL writes for a value it cannot read as an instant (``stored_timestamp_fits``); on
    SQLite any text, integer or finite number, which any column there may hold.
    """
    if tag == "null":
        return True
    if tag == "instant":
        return instants.is_native
    if tag == "naive":
        return dialect == "postgresql" and instants.form in {"native", "timestamptz", "naive"}
    if tag != "stored":
        return False
    if dialect != "postgresql":
        return stored_cursor_value_is_valid(created)
    if instants.form == "epoch":
        return (
            isinstance(created, int)
            and not isinstance(created, bool)
            and INT64_MIN <= created <= INT64_MAX
        )
    if not isinstance(created, str) or not text_fits(created, dialect):
        return False
    if instants.form == "iso_text":
        return True
    return stored_timestamp_fits(created, zoned=instants.form != "naive")


# PostgreSQL's ISO output of a timestamp (DateStyle ISO, which psycopg reads): any year of four
# or more digits, optionally BC, an offset for ``timestamptz``.
_PG_TIMESTAMP = re.compile(
    r"([0-9]{4,6})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?"
    r"(?:([+-])([0-9]{2})(?::([0-9]{2})(?::([0-9]{2}))?)?)?( BC)?",
    re.ASCII,
)
_DAY_MICROS = 86_400_000_000
# PostgreSQL's timestamp range: from 4714-11-24 BC (Julian day 0) up to, not including,
# 294277-01-01; as microseconds from 1970-01-01 in the proleptic Gregorian calendar.
_PG_LOW = -210_866_803_200_000_000
_PG_HIGH = 9_224_318_016_000_000_000
# The largest offset PostgreSQL accepts; text without one is read in the session's zone.
_MAX_OFFSET_MICROS = (16 * 3600 - 1) * 1_000_000


def stored_timestamp_fits(text: str, *, zoned: bool) -> bool:
    """Whether PostgreSQL reads ``text`` back as a ``timestamp`` (``zoned``: ``timestamptz``).

    ``'infinity'``, ``'-infinity'``, or a date and time it writes, within its range: a text
    without an offset must fit whatever the session's zone, one with an offset only ``zoned``.
    """
    if text in {"infinity", "-infinity"}:
        return True
    match = _PG_TIMESTAMP.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second, fraction, sign, oh, om, os_, bc = match.groups()
    if sign is not None and not zoned:
        return False
    # Astronomical years: 1 BC is year 0.
    y = 1 - int(year) if bc else int(year)
    m, d = int(month), int(day)
    if int(year) == 0 or not 1 <= m <= 12 or not 1 <= d <= _days_in_month(y, m):
        return False
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        return False
    offset = 0
    if sign is not None:
        if int(oh) > 15 or int(om or 0) > 59 or int(os_ or 0) > 59:
            return False
        offset = (int(oh) * 3600 + int(om or 0) * 60 + int(os_ or 0)) * 1_000_000
        offset = -offset if sign == "-" else offset
    seconds = (int(hour) * 60 + int(minute)) * 60 + int(second)
    micros = _days_from_civil(y, m, d) * _DAY_MICROS + seconds * 1_000_000 - offset
    micros += int((fraction or "").ljust(6, "0"))
    margin = _MAX_OFFSET_MICROS if zoned and sign is None else 0
    return _PG_LOW + margin <= micros < _PG_HIGH - margin


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in {4, 6, 9, 11} else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (any astronomical year)."""
    year -= month <= 2
    era = year // 400
    of_era = year - era * 400
    of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    of_cycle = of_era * 365 + of_era // 4 - of_era // 100 + of_year
    return era * 146_097 + of_cycle - 719_468
