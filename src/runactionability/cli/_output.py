"""Where a command writes: rich text on a console, one whole JSON document, progress on stderr."""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console, ConsoleOptions, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.segment import Segment
from rich.table import Table
from rich.text import Text


@contextmanager
def progress(enabled: bool, description: str) -> Iterator[Callable[[int], None]]:
    """Advance a progress display on stderr (only when stderr is a terminal and not --json)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _count: None
        return
    display = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with display:
        task = display.add_task(description, total=None)
        yield lambda count: display.advance(task, count)


PIPED_WIDTH = 120
"""Where prose and panels wrap when stdout is not a terminal (rich would pick 80)."""

# Wide enough for any table's natural width: a measure, never a width anything is drawn at.
_UNBOUNDED = 1_000_000


# What a stored word must not do on an operator's terminal: move the cursor, clear the screen,
# open a hyperlink (C0 and C1 controls, DEL) or reorder what follows (bidirectional overrides).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with every control character escaped (``\\x1b``): a line that may quote the
    host's stored words, safe to write to a terminal."""
    return _UNSAFE.sub(lambda found: repr(found.group())[1:-1], text)


class _SafeConsole(Console):
    """A console for the host's stored words: never read as markup or emoji codes (a type
    ``[/bold]`` is shown, not parsed, and cannot fail a command), and with every control
    character shown escaped (``\\x1b``), never sent to the terminal."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, soft_wrap=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        # Escaped before a table measures its cells, so an escaped word is never cut short.
        return super().render_str(visible(text), **options)

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterator[Segment]:
        # What did not pass through render_str (a Text built elsewhere) is escaped here, last.
        for segment in super().render(renderable, options):
            if segment.control is None and _UNSAFE.search(segment.text):
                segment = Segment(visible(segment.text), segment.style)
            yield segment


class _PipedConsole(_SafeConsole):
    """Output for a file, a pager or a pipe: prose wraps at ``PIPED_WIDTH``, tables never do.

    Rich fits a table into the console's width by cutting its cells short ("provider.conn…"),
    which breaks ``grep`` and loses the name; here a table wider than that is printed at its
    own natural width instead.
    """

    def print(self, *objects: Any, **kwargs: Any) -> None:
        unbounded = self.options.update_width(_UNBOUNDED)
        needed = max(
            (self.measure(o, options=unbounded).maximum for o in objects if isinstance(o, Table)),
            default=0,
        )
        if needed <= self.width:
            super().print(*objects, **kwargs)
            return
        width = self.width
        self.width = needed
        try:
            super().print(*objects, **kwargs)
        finally:
            self.width = width


def stdout_console() -> Console:
    """The console rich text goes to."""
    if sys.stdout.isatty():
        return _SafeConsole()
    return _PipedConsole(width=PIPED_WIDTH)


def emit_json(payload: Mapping[str, Any], *, compact: bool = False) -> None:
    """Write ``payload`` as one JSON document on stdout (``compact``: on one line, as JSON Lines
    are)."""
    # The document is built in full first, then written with Ctrl-C held back until it is out:
    # a consumer reads one whole document or none, never a truncated one.
    document = json.dumps(payload, indent=None if compact else 2, ensure_ascii=False)
    with _sigint_deferred():
        click.echo(document)


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold a SIGINT that arrives inside the block; raise it as KeyboardInterrupt after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
