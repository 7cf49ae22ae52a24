"""The one limit rule: how many runs or changes an answer may hold, checked before any statement."""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSequence
from datetime import timedelta
from typing import Any

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
        # reprlib: a hostile value (a megabyte of text) is not copied into the error.
        shown = written(value, reprlib.repr)
        raise UsageError(f"{name} must be an int from {least} to {MAX_LIMIT}, not {shown}")
    return value


MAX_CURSOR_LENGTH = 4096
"""The longest cursor a run source accepts (the SQL ones and the in-memory one alike), checked
before it is decoded. A cursor holds one instant and one id; only a row whose ``created_at``
stores stray text thousands of characters long would need more."""


MAX_CHANGE_MARGIN = timedelta(days=1)
"""The longest ``change_margin`` (a poll of the change feed ends this far behind the clock): the
longest a host's writing transaction may stay open is minutes, and a margin past a day only
delays every poll by it, while an absurd one (``1e20`` seconds) overflows the datetime it is
taken from. ``runactionability changes --margin`` has the same bound."""


MAX_CONTEXT_DEPTH = 256
"""The most levels of arrays and objects a run's context nests (``{}`` is one level, ``{"a": []}``
two); a deeper one is no valid context, on every engine and in memory. Python reads JSON and
walks a context recursively within its recursion limit (1,000 frames, shared with the caller's
stack), SQLite's JSON functions refuse more than 2,000 levels (1,000 from 3.45) and PostgreSQL's
jsonb takes many more: one bound well below all of them lets each reader judge alike."""


def json_too_deep(text: str) -> bool:
    """Whether JSON ``text`` nests deeper than ``MAX_CONTEXT_DEPTH``, read without recursion.

    Counting the opening brackets first settles almost every text (measured against the reader
    itself: a count is a fraction of a parse); the rest is one pass that skips strings. A pattern
    for strings would backtrack from every quote of an unclosed string full of escaped quotes:
    quadratic in a text a host stored.
    """
    if text.count("[") + text.count("{") <= MAX_CONTEXT_DEPTH:
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_CONTEXT_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def value_too_deep(value: object) -> bool:
    """Whether a mapping's nested mappings and sequences go deeper than ``MAX_CONTEXT_DEPTH``, or
    nest into themselves (a cycle nests without end), walked without recursion.

    A tree (the usual context) is walked once, depth first. A sub-object met a second time (a
    DAG, or a cycle) sends the value to ``_shared_too_deep``, which counts each sub-object at its
    deepest: counted where the walk first met it, a shared sub-object escaped the bound.
    """
    seen: set[int] = set()
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if id(item) in seen:
            return _shared_too_deep(value)
        seen.add(id(item))
        if depth > MAX_CONTEXT_DEPTH:
            return True
        pending.extend((child, depth + 1) for child in _containers(item))
    return False


def _shared_too_deep(value: object) -> bool:
    """``value_too_deep`` for a value that reuses sub-objects: each object's height is found
    once, so many paths to few objects cost one visit per object, not per path."""
    heights: dict[int, int] = {}
    on_path = {id(value)}
    # Each open container, what is left of its children, and the tallest child height so far.
    path: list[tuple[object, Iterator[object], list[int]]] = [(value, _containers(value), [0])]
    while path:
        item, children, tallest = path[-1]
        child = next(children, None)
        if child is None:
            path.pop()
            on_path.discard(id(item))
            height = heights[id(item)] = tallest[0] + 1
            if path:
                path[-1][2][0] = max(path[-1][2][0], height)
            continue
        if id(child) in on_path:
            return True
        known = heights.get(id(child))
        if known is not None:
            tallest[0] = max(tallest[0], known)
            # The child sits at level len(path) + 1 and nests ``known`` levels from there.
            if len(path) + known > MAX_CONTEXT_DEPTH:
                return True
            continue
        if len(path) >= MAX_CONTEXT_DEPTH:
            return True
        on_path.add(id(child))
        path.append((child, _containers(child), [0]))
    return heights[id(value)] > MAX_CONTEXT_DEPTH


# Checked first: an isinstance test against the ABCs costs more than the walk itself.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _containers(item: object) -> Iterator[object]:
    """``item``'s children that nest: what ``model.as_context`` copies level by level."""
    children = item.values() if isinstance(item, Mapping) else item
    assert isinstance(children, Iterable)
    return (
        child
        for child in children
        if child.__class__ not in _SCALARS and isinstance(child, Mapping | tuple | MutableSequence)
    )


MAX_INTEGER_DIGITS = 4_300
"""The most digits of an integer every reader takes: Python's default ``int`` limit
(``sys.get_int_max_str_digits``, CVE-2020-10735), past which ``int()`` and ``str()`` refuse it.
A longer JSON integer reads as the float of its spelling with an exponent (``1e5000`` is
``inf``) and a longer ``int`` is no usable id or subject, in memory and in SQL, whatever the
process's own limit: a bound of the library's, so the SQL can apply it too."""


def integer_too_long(digits: str) -> bool:
    """Whether the JSON integer ``digits`` (a sign, then digits) has more digits than
    ``MAX_INTEGER_DIGITS``."""
    return len(digits) - digits.startswith("-") > MAX_INTEGER_DIGITS


SHORT_INTEGER_BITS = MAX_INTEGER_DIGITS * 3
"""Every int of this many bits or fewer has at most ``MAX_INTEGER_DIGITS`` digits (log2(10) > 3):
a test of ``bit_length`` settles all but the longest ints."""


def integer_text(value: int) -> str | None:
    """``str(value)``, or None when ``value`` has more than ``MAX_INTEGER_DIGITS`` digits
    (whatever the process's own limit) or more than that limit lets ``str()`` write."""
    if value.bit_length() <= SHORT_INTEGER_BITS:
        return str(value)
    try:
        text = str(value)
    except ValueError:
        return None
    return None if integer_too_long(text) else text


TOO_LONG_INTEGER = f"(an integer of more than {MAX_INTEGER_DIGITS:,} digits)"
"""How a value whose text Python refuses to write (an int longer than its limit, or a value
holding one) is shown in a message, an error or a JSON form, where its text would stand."""


def written(value: object, spell: Callable[[object], str] = repr) -> str:
    """``spell(value)`` (``repr``, ``str``, ``reprlib.repr``), or ``TOO_LONG_INTEGER`` where
    Python refuses to write an integer of ``value``: a hostile field is shown, never raised."""
    try:
        return spell(value)
    except ValueError:
        # Of the values a store reads or a host's dicts hold, only an int past the process's
        # limit (``sys.get_int_max_str_digits``), alone or inside a container, cannot be written.
        return TOO_LONG_INTEGER


def check_run_id(instance: Any, attribute: Any, value: Any) -> None:
    """``OperationRun.id``'s check (an attrs validator): ``TypeError`` for an id that is neither a
    str nor an int (a bool is neither), ``ValueError`` for an int of more than
    ``MAX_INTEGER_DIGITS`` digits. The id is the one field a result cannot do without, so it is
    checked when the run is made rather than turned into a manual-review result like every other
    bad field; an int longer than that is no usable id (``model.usable_id``), which no form,
    cursor or command could write, and no store reads one (its integer ids hold 64 bits)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"OperationRun.id must be a str or an int, not {written(value)}")
    if isinstance(value, str) or value.bit_length() <= SHORT_INTEGER_BITS:
        return
    if integer_text(value) is None:
        raise ValueError(f"OperationRun.id must be a usable int, not {TOO_LONG_INTEGER}")


TOO_DEEP_CONTEXT = f"(a context nested deeper than {MAX_CONTEXT_DEPTH} levels)"
"""What ``model.as_context`` keeps of a mapping nested too deep (or into itself): text, which the
core flags as a context nested too deep (``invalid_context``), as it flags such JSON text read
from SQL."""
