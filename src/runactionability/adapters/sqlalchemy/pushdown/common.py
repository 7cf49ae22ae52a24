"""What every part of the pushdown's classification shares: the values it yields and small SQL."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from runactionability.result import Actionability

EVALUATE = "evaluate"
"""The classification of a row that the Python resolver judges (a family with custom rules)."""

_ACTIONABLE = Actionability.ACTIONABLE.value
_REVIEW = Actionability.REQUIRES_MANUAL_REVIEW.value
_CLAMPED = frozenset(
    {
        Actionability.SUPERSEDED_BY_LATER_SUCCESS.value,
        Actionability.RESOLVED_BY_CURRENT_STATE.value,
        Actionability.INFORMATIONAL_ONLY.value,
    }
)


class SupersedeForm(enum.StrEnum):
    """How the later-success test is written (both give the same statuses)."""

    EXISTS = "exists"
    """A correlated ``EXISTS`` per problem row: one seek on the success index each."""
    GROUPED = "grouped"
    """A ``LEFT JOIN`` to the latest success per (superseded type, scope, subject)."""


# Printable ASCII only, and no space at either end (the empty id too).
_USUAL = re.compile(r"(?:[!-~](?:[ -~]*[!-~])?)?")


def usual_workspaces(ids: frozenset[str] | None) -> bool:
    """``usual_ids`` of the visible workspaces; every workspace (None) counts as usual: its
    statements read only rows whose workspace id is usable (``usable_stored_id``), so the
    row-level workspace tests are false for every row they read."""
    return ids is None or usual_ids(ids)


@functools.lru_cache(maxsize=256)
def usual_ids(ids: frozenset[str]) -> bool:
    """Whether no id of ``ids`` is one ``validity.unusual`` would send to Python.

    The same test in Python: printable ASCII only, and no space at either end. A statement
    reads only rows whose workspace id equals a visible one byte for byte, so when every
    visible id is usual the row-level workspace tests (the escape and the blank test) are
    false for every row it reads, and the classification leaves them out (``_Compiled``).
    Asked twice a statement for the same visible ids (a session's every read), so kept: a
    character loop over 50 ids cost ~0.1 ms a call.
    """
    return all(_USUAL.fullmatch(value) for value in ids)


def in_values(column: Any, values: Collection[str]) -> Any:
    if not values:
        return sa.false()
    return column.in_(sorted(values))


def exists(*conditions: Any) -> Any:
    # ``SELECT 1``, not ``SELECT *``: SQLite reads the subquery from a covering index only when
    # it names no column outside it.
    return sa.select(sa.literal_column("1")).where(*conditions).exists()
