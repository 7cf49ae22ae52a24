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


def stdout_console() -> Console:
    """The console rich text goes to."""
    # Piped output (a file, a pager, a test) gets a fixed, readable width instead of rich's 80.
    width = None if sys.stdout.isatty() else 120
    return Console(highlight=False, soft_wrap=False, width=width)


def emit_json(payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as one JSON document on stdout."""
    # The document is built in full first, then written with Ctrl-C held back until it is out:
    # a consumer reads one whole document or none, never a truncated one.
    document = json.dumps(payload, indent=2, ensure_ascii=False)
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
