"""The follow-up walk's rows, read once per session: ``Head`` and the page read over it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from runactionability.adapters.sqlalchemy.cursors import encode_cursor
from runactionability.adapters.sqlalchemy.instant_rows import cursor_value
from runactionability.adapters.sqlalchemy.pushdown.prepared import _Prepared
from runactionability.adapters.sqlalchemy.types import as_run_id
from runactionability.model import OperationRun
from runactionability.result import Actionability
from runactionability.scopes import VisibleScopes

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown

# The chunk the walk's first statement asks for when a page holds ``limit`` runs: room for as
# many runs again that turn out not to need attention (about half of the problem rows in the
# benchmark's history), so that one statement usually fills the page.
MAX_CHUNK = 4096

# Reads the walk's next ``chunk`` rows after the cursor (None: from the newest): the statement
# that ran, its rows, the runs Python judged and their statuses, by row index.
Read = Callable[
    [str | None, int],
    tuple[_Prepared, Sequence[Any], dict[int, OperationRun], dict[int, Actionability]],
]


def first_chunk(limit: int) -> int:
    return min(2 * limit + 1, MAX_CHUNK)


def next_chunk(limit: int, found: int, scanned: int, before: int, chunk: int) -> int:
    """The size of the walk's next read: by the share of runs that needed attention so far, so
    one more statement usually fills the page; a read that found none doubles."""
    if found > before:
        chunk = int((limit - found + 1) / (found / scanned) * 1.25) + 1
    else:
        chunk *= 2
    return min(chunk, MAX_CHUNK)


class Head:
    """The walk's rows from one starting point, newest first, as far as they were read.

    One per page read, or one per session for the walk from the newest (``SqlPushdown``'s
    ``bound_to`` copy keeps it), so that every page from the start in one session reads each row
    once: the session's one snapshot, actor and ``as_of`` make the rows the same. Not an attrs
    value: it grows as pages read further, and never leaves the pushdown.
    """

    __slots__ = (
        "_cursor",
        "_cursor_of",
        "built",
        "complete",
        "counted",
        "pending",
        "prepared",
        "raw",
        "read",
        "status",
    )

    def __init__(self, cursor: str | None, cursor_of: Callable[[_Prepared, Any], str]) -> None:
        # Set by each call that reads through it: its own connection reads any further rows.
        self.read: Read | None = None
        self._cursor = cursor
        self._cursor_of = cursor_of
        self.prepared: list[_Prepared] = []
        self.raw: list[Any] = []
        self.status: list[Actionability] = []
        self.pending: dict[int, OperationRun] = {}
        # The run of each row a page kept, and the stored created_at its cursor carries: the
        # dashboard's top runs are built once for the page that shows them again.
        self.built: dict[int, tuple[OperationRun, Any]] = {}
        self.complete = False
        # What the session's count found: (runs needing attention, problem rows), which sizes
        # the first read (``first_read``).
        self.counted: tuple[int, int] | None = None

    def ensure(self, count: int) -> int:
        """Read until ``count`` rows are held or the walk has ended (one statement at most);
        return how many rows up to ``count`` there are."""
        missing = count - len(self.raw)
        if missing > 0 and not self.complete:
            assert self.read is not None, "a page sets how its head reads"
            prepared, rows, pending, judged = self.read(self._after(), missing)
            at = prepared.position("actionability")
            start = len(self.raw)
            for index, raw in enumerate(rows):
                self.prepared.append(prepared)
                self.raw.append(raw)
                self.status.append(judged.get(index) or _STATUSES[raw[at]])
            for index, run in pending.items():
                self.pending[start + index] = run
            self.complete = len(rows) < missing
        return min(count, len(self.raw))

    def _after(self) -> str | None:
        if not self.raw:
            return self._cursor
        return self._cursor_of(self.prepared[-1], self.raw[-1])

    def first_read(self, limit: int) -> None:
        """Before a page of ``limit`` runs reads from the newest: when the session's count says
        at most ``limit`` runs need attention, the page reads to the walk's end, so the first
        statement asks for every problem row the count saw and one more (which proves the end,
        up to ``MAX_CHUNK``): one statement where the page's chunks would take two or more."""
        if self.counted is not None and not self.raw and self.counted[0] <= limit:
            self.ensure(min(self.counted[1] + 1, MAX_CHUNK))


_STATUSES = {status.value: status for status in Actionability}


def page_of(
    head: Head,
    limit: int,
    keep: Callable[[int, Actionability], None],
) -> tuple[int, int, bool]:
    """The page of ``limit`` runs read over ``head``, in the chunks a walk from its start reads
    (they decide where a page stops, and so its ``scanned`` and whether it has a cursor).

    ``keep`` hears each kept row's index and status. Returns (how many were kept, ``scanned``,
    whether the page is full with a next cursor); a page that is not full has none.
    """
    found = scanned = position = 0
    chunk = first_chunk(limit)
    while True:
        end = head.ensure(position + chunk)
        before = found
        for index in range(position, end):
            scanned += 1
            value = head.status[index]
            if not value.needs_attention:
                continue
            if found == limit:
                # One more run needs attention: the page ends at the last one kept.
                return found, scanned - 1, True
            keep(index, value)
            found += 1
        if end - position < chunk:
            return found, scanned, False
        if found == limit:
            # Full, and whether another run needs attention is unknown: proving it would
            # cost a statement, so the next page may be empty (with no cursor).
            return found, scanned, True
        position = end
        chunk = next_chunk(limit, found, scanned, before, chunk)


def session_head(pushdown: SqlPushdown, scopes: VisibleScopes, as_of: datetime) -> Head | None:
    """The walk from the newest of a session's pushdown (``bound_to``) for ``scopes`` at
    ``as_of``; None for a pushdown that reads through an engine (each call sees anew)."""
    heads = pushdown._heads
    if heads is None:
        return None
    head = heads.get((scopes, as_of))
    if head is None:
        head = heads[(scopes, as_of)] = Head(None, functools.partial(cursor_of, pushdown))
    return head


def cursor_of(pushdown: SqlPushdown, prepared: _Prepared, raw: Any) -> str:
    """The cursor after a walk row: the next read starts there."""
    last = prepared.read(raw)
    created = cursor_value(last, "created_at")
    return encode_cursor(created, as_run_id(last["id"]), key=pushdown.cursor_key)
