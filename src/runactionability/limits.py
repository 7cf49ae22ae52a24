"""The one limit rule: how many runs or changes an answer may hold, checked before any statement."""

from __future__ import annotations

import reprlib

from runactionability.errors import UsageError

MAX_LIMIT = 10_000
"""The most runs a page (``limit``), a dashboard (``top``) or active work (``newest``) lists, and
the most changes a page of the change feed holds. A host that passes a query parameter through
as a limit cannot make one request read a whole table: past this many, page with the cursors."""


def check_limit(value: object, *, name: str = "limit", least: int = 1) -> int:
    """``value`` when it is an ``int`` (a ``bool`` is not one) from ``least`` to ``MAX_LIMIT``,
    else a ``UsageError`` naming ``name``; a text such as ``"5"`` is refused, not parsed.

    The one limit rule: the request API, the ports' adapters (run sources, the SQL pushdown)
    and the consumer helpers check with it before any statement, so none can disagree.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= MAX_LIMIT:
        # reprlib: a hostile value (a megabyte of text, a huge int) is not copied into the error.
        shown = reprlib.repr(value)
        raise UsageError(f"{name} must be an int from {least} to {MAX_LIMIT}, not {shown}")
    return value
