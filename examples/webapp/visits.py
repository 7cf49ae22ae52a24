"""The last visit a browser made, kept in a signed cookie: where "changed since" starts.

The cookie holds the instant of the visit and an HMAC-SHA256 of it under the host's key. A
cookie that is missing, altered, cut short, signed by another key (a restarted example host
draws a new one) or naming no usable instant reads as a first visit: it never errors the page,
and as it names only an instant the browser itself was shown, it reveals nothing either way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime

VISIT_COOKIE = "last_visit"


def _signature(body: str, key: bytes) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def write_visit(instant: datetime, key: bytes) -> str:
    """The cookie value of a visit at ``instant`` (timezone-aware)."""
    body = base64.urlsafe_b64encode(instant.isoformat().encode()).decode()
    return f"{body}.{_signature(body, key)}"


def read_visit(value: str | None, key: bytes) -> datetime | None:
    """The instant ``write_visit`` wrote under ``key``; None for anything else."""
    if not value or value.count(".") != 1:
        return None
    body, signature = value.split(".")
    if not hmac.compare_digest(signature.encode(), _signature(body, key).encode()):
        return None
    try:
        instant = datetime.fromisoformat(base64.urlsafe_b64decode(body.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return instant if instant.utcoffset() is not None else None
