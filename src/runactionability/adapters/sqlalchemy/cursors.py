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

from runactionability.adapters.sqlalchemy.ids import IdType, id_value
from runactionability.errors import InvalidCursorError, UsageError

MAX_CURSOR_LENGTH = 4096
"""The longest cursor accepted. A cursor holds one instant and one id; only a row whose
``created_at`` stores stray text thousands of characters long would need more."""

MIN_KEY_LENGTH = 16
"""The shortest signing key accepted, in bytes: a shorter one is guessable."""

_BODY = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")
# Keys sign nothing but cursors of this form: a MAC made for another purpose with the same key
# never passes as a cursor's.
_DOMAIN = b"runactionability.cursor/1\x00"
_SHOWN = 40
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


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
) -> tuple[str, Any, Any]:
    """(tag, created_at, id) of a cursor ``encode_cursor`` wrote, or ``InvalidCursorError``.

    Only the exact text ``encode_cursor`` writes for what it decodes to is accepted (signed with
    ``key`` when one is given): any other text, however close, is refused before a statement.
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
    if not (valid and cursor_id_is_valid(run_id, id_type=id_type)):
        raise invalid
    if encode_cursor(created, run_id) != body:
        # Padding, spacing, key order, number or instant spellings other than ours: not ours.
        raise invalid
    return tag, created, run_id


def stored_cursor_value_is_valid(value: object) -> bool:
    """Whether a cursor's unreadable created_at (tag ``stored``) is a value a column can hold."""
    if isinstance(value, str):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return _INT64_MIN <= value <= _INT64_MAX
    return isinstance(value, float) and math.isfinite(value)


def cursor_id_is_valid(run_id: object, *, id_type: IdType) -> bool:
    """Whether a run id read from a cursor is one a run table of ``id_type`` can hold.

    An int in the signed 64-bit range (not for a uuid column), or a str: any for a text column,
    a uuid's lowercase text for a uuid column, none for an integer column.
    """
    if id_type == "uuid":
        return id_value(run_id, "uuid", "postgresql") is not None
    if isinstance(run_id, str):
        return id_type == "text"
    return (
        isinstance(run_id, int)
        and not isinstance(run_id, bool)
        and stored_cursor_value_is_valid(run_id)
    )
