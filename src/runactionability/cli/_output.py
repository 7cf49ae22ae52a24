"""Where a command writes: rich text on a console, one whole JSON document, progress on stderr."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table


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


class _PipedConsole(Console):
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
        return Console(highlight=False, soft_wrap=False)
    return _PipedConsole(highlight=False, soft_wrap=False, width=PIPED_WIDTH)


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
