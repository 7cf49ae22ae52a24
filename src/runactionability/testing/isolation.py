"""A fail-hard guard against external calls while the sans-I/O parts of the library evaluate.

``Resolver.evaluate_many`` over in-memory ports, a policy's ``plan`` and ``decide``, the core and
the consumer helpers over in-memory ports do no I/O of their own: evidence arrives through the
ports, once per kind. A plugin's rule that looks something up over the network, or starts a
process, breaks that promise silently: the batch still answers, only slower, later and
non-deterministically. Inside ``no_external_calls()`` every such attempt raises
``ExternalCallError`` at the call, and the block fails on exit even when the code under test
caught and swallowed it (a policy error becomes ``requires_manual_review``, unless strict)::

    from runactionability.testing import no_external_calls

    def test_my_family_decides_without_io(resolver, runs, as_of):
        with no_external_calls():
            resolver.evaluate_many(runs, as_of=as_of)

What counts as external, while the block runs, in every thread of the process:

- a socket connection or a datagram sent (``socket.socket.connect``, ``connect_ex``,
  ``sendto``, ``sendmsg``, ``socket.create_connection``), whatever the address family: TCP,
  UDP and Unix sockets alike, so ``urllib``, ``http.client``, asyncio's connections and drivers
  written in Python are covered;
- a name lookup (``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``, ``gethostbyaddr``);
- a child process (``subprocess.Popen`` and everything built on it, ``os.system``,
  ``os.posix_spawn``, ``os.posix_spawnp``);
- a connection handed out by a SQLAlchemy engine whose database is not SQLite (drivers such as
  psycopg open their sockets in C, out of Python's sight, so the engine is the place to stop them).

Not external: SQLite, in memory or in a file (the process's own storage), reading files, the
clock. The guard is for evaluation over ports that already hold their facts (the memory adapter,
a host's own); a test of the SQL adapter on PostgreSQL fetches evidence by design and belongs
outside the block, or evaluates on SQLite inside it. The guard patches module attributes, so it
covers code that looks them up at call time (as the standard library does), not a reference
saved before the block began.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from runactionability.errors import ExternalCallError

_LOCK = threading.RLock()

_SOCKET_METHODS = ("connect", "connect_ex", "sendto", "sendmsg")
_SOCKET_FUNCTIONS = (
    "create_connection",
    "getaddrinfo",
    "gethostbyname",
    "gethostbyname_ex",
    "gethostbyaddr",
)
_OS_FUNCTIONS = ("system", "posix_spawn", "posix_spawnp")


class ExternalCalls:
    """What the block attempted, as ``ExternalCallError.call`` names it, in order."""

    __slots__ = ("attempts",)

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def refuse(self, call: str) -> ExternalCallError:
        self.attempts.append(call)
        return ExternalCallError(call)


@contextmanager
def no_external_calls() -> Iterator[ExternalCalls]:
    """Make every external call in the block raise ``ExternalCallError`` (see the module).

    Yields the record of attempts. On leaving the block without an exception, any attempt the
    code swallowed fails it with an ``AssertionError`` that lists them. The guard is
    process-wide: a block in another thread waits for this one; a nested block records the
    attempts made inside it.
    """
    calls = ExternalCalls()
    with _LOCK, ExitStack() as patches:
        for name in _SOCKET_METHODS:
            _patch(patches, socket.socket, name, calls, f"socket.{name}")
        for name in _SOCKET_FUNCTIONS:
            _patch(patches, socket, name, calls, f"socket.{name}")
        for name in _OS_FUNCTIONS:
            if hasattr(os, name):
                _patch(patches, os, name, calls, f"os.{name}")
        _patch(patches, subprocess.Popen, "__init__", calls, "subprocess.Popen")
        _refuse_server_engines(patches, calls)
        yield calls
    if calls.attempts:
        raise AssertionError(
            "external calls were attempted (and caught by the code under test): "
            + ", ".join(calls.attempts)
        )


def _patch(patches: ExitStack, owner: Any, name: str, calls: ExternalCalls, call: str) -> None:
    original = getattr(owner, name)

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise calls.refuse(f"{call}{_target(args)}")

    setattr(owner, name, refused)
    patches.callback(setattr, owner, name, original)


def _target(args: tuple[Any, ...]) -> str:
    """The address or command an attempt named, when its first argument shows one."""
    for arg in args:
        if isinstance(arg, socket.socket | subprocess.Popen):
            continue
        if isinstance(arg, str | bytes | tuple | list):
            return f"({arg!r})"
        return ""
    return ""


def _refuse_server_engines(patches: ExitStack, calls: ExternalCalls) -> None:
    # Only an engine that already exists can connect, and one exists only if SQLAlchemy is
    # loaded: importing it here would cost every host that evaluates in memory.
    sqlalchemy = sys.modules.get("sqlalchemy")
    if sqlalchemy is None:
        return

    def refused(dialect: Any, url: str) -> None:
        if dialect.name != "sqlite":
            raise calls.refuse(f"a {dialect.name} connection ({url})")

    # Before the driver opens a new connection, and when a pooled one is handed out again.
    def new_connection(dialect: Any, _record: Any, _args: Any, params: Any) -> None:
        refused(dialect, _shown_params(params))

    def pooled_connection(connection: Any) -> None:
        refused(connection.dialect, connection.engine.url.render_as_string())

    for event, listener in (("do_connect", new_connection), ("engine_connect", pooled_connection)):
        sqlalchemy.event.listen(sqlalchemy.Engine, event, listener)
        patches.callback(sqlalchemy.event.remove, sqlalchemy.Engine, event, listener)


def _shown_params(params: Any) -> str:
    """Where a driver was about to connect, without the password."""
    shown = {k: v for k, v in dict(params).items() if k in ("host", "port", "dbname", "database")}
    return ", ".join(f"{key}={value}" for key, value in sorted(shown.items()))
