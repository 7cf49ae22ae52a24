"""The last visit a browser made, kept in a signed cookie: where "changed since" starts.

The cookie holds the instant of the visit and an HMAC-SHA256 of it under the host's key. A
cookie that is missing, altered, cut short, signed by another key (a restarted example host
draws a new one) or naming no usable instant reads as a first visit: it never errors the page,
and as it names only an instant the browser itself was shown, it reveals nothing either way.

The panel reads with the change feed's poller rule: its window ends the service's change margin
before the request's instant, and the cookie keeps that end, so a run committed after its own
timestamps (within the margin) is listed on the next visit instead of never. It looks back at most
``LOOK_BACK``: a page's cost follows its window, so a months-old cookie must not cost minutes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime, timedelta

import attrs

VISIT_COOKIE = "last_visit"
LOOK_BACK = timedelta(days=7)
"""How far back the panel reads at most; an older last visit shows the changes of this span."""


@attrs.frozen(kw_only=True)
class VisitWindow:
    """What the panel reads: the changes in ``(since, until]``, and the instant the cookie keeps.

    ``capped`` when the last visit was longer ago than ``LOOK_BACK``, so ``since`` is later.
    """

    since: datetime
    until: datetime
    capped: bool

    @property
    def empty(self) -> bool:
        return self.since >= self.until


def visit_window(last_visit: datetime, end: datetime) -> VisitWindow:
    """The window from ``last_visit`` to ``end`` (the request's instant less the change margin),
    cut to ``LOOK_BACK``; when ``end`` is not after the last visit, an empty window that keeps
    the cookie where it is, so a later visit still starts at the last one."""
    if last_visit >= end:
        return VisitWindow(since=last_visit, until=last_visit, capped=False)
    since = max(last_visit, end - LOOK_BACK)
    return VisitWindow(since=since, until=end, capped=since > last_visit)


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
