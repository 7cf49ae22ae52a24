"""Every error and warning the library raises, under one base class each.

Errors are split by whose fault they are: a host's configuration (coverage, conflicts, a catalog
file), a caller's programming mistake (bad arguments, duplicate run ids), or the outside world (an
evidence source that failed). A bad *row* is never an error: it becomes a ``requires_manual_review``
result with its own reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def driver_message(exc: BaseException) -> str | None:
    """The first line of the database driver's message inside ``exc`` (SQLAlchemy's ``orig``),
    or None when ``exc`` wraps no driver error.

    The first line is the message proper. PostgreSQL appends the line of the statement that
    failed (``LINE 1: SELECT ...``) and a caret under it, SQLAlchemy the whole statement: SQL
    that can run to tens of thousands of characters and tells a reader nothing the first line
    does not. Every layer that shows a driver's error quotes it through this one rule; the
    statement stays on the exception for a traceback.
    """
    orig = getattr(exc, "orig", None)
    if not isinstance(orig, BaseException):
        return None
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


class RunActionabilityError(Exception):
    """Base class of every error raised by runactionability."""


class RunActionabilityWarning(UserWarning):
    """Base class of every warning issued by runactionability."""


class ConfigurationError(RunActionabilityError):
    """The registry, catalog or resolver is configured in a way that cannot work."""


class CatalogError(ConfigurationError):
    """An operation catalog is malformed: a duplicate name or alias, or an unreadable file."""


class PluginError(ConfigurationError):
    """A plugin failed to import or register, or one of its hooks raised.

    The message names the plugin (its entry point name) and, for a plugin loaded from the
    entry-point group, the distribution and version that installed it, so a host knows which
    package to fix or uninstall.
    """


class ConflictError(ConfigurationError):
    """Two plugins claim the same family or operation type name.

    ``clashes`` holds one ``(what, name, plugins)`` triple per clash, so a host sees every clash at
    once rather than fixing them one run at a time.
    """

    def __init__(self, clashes: Sequence[tuple[str, str, Sequence[str]]]) -> None:
        self.clashes = tuple((what, name, tuple(plugins)) for what, name, plugins in clashes)
        lines = [
            f"{what} {name!r} is claimed by {' and '.join(plugins)}"
            if len(set(plugins)) > 1
            else f"{what} {name!r} is claimed {len(plugins)} times by {plugins[0]}"
            for what, name, plugins in self.clashes
        ]
        super().__init__("; ".join(lines))


class CoverageError(ConfigurationError):
    """Some operation types in the catalog map to no registered family."""

    def __init__(self, uncovered: Iterable[tuple[str, str]]) -> None:
        self.uncovered = tuple(sorted(uncovered))
        listed = ", ".join(f"{name} (family {family!r})" for name, family in self.uncovered)
        super().__init__(f"operation types with no registered family: {listed}")


class MissingStateSourceError(ConfigurationError):
    """A family may ask for a state kind that has no source (raised only in strict mode)."""

    def __init__(self, missing: Iterable[tuple[str, str]]) -> None:
        self.missing = tuple(sorted(missing))
        listed = ", ".join(f"{kind!r} (family {family!r})" for family, kind in self.missing)
        super().__init__(f"no state source for state kinds: {listed}")


class MissingStateSourceWarning(RunActionabilityWarning):
    """A family may ask for a state kind that has no source; it can still be superseded."""


class MappingMismatchWarning(RunActionabilityWarning):
    """A table mapping says its ids or instants are stored otherwise than the columns declare.

    Issued once, when a service is built: under such a mapping the statements fail, or read
    every timestamp as invalid and send every problem run to manual review. The message names
    each table and column, what the mapping says, what the column is, and the fix (in Python and
    in a configuration file). Also issued, once, when the types agree but most of the newest
    runs' problem runs read as invalid records (an unlisted outcome word, text the storage does
    not read): the message names the share, the main reasons and ``runactionability doctor``.
    """


class UnknownLocaleWarning(RunActionabilityWarning):
    """No message catalog serves the locale asked for; the text is shown in English."""


class ObserverFailedWarning(RunActionabilityWarning):
    """An observer hook raised; the batch it observed is answered all the same.

    ``hook`` names the hook and ``plugin`` the plugin whose implementation raised.
    """

    def __init__(self, hook: str, plugin: str, exc: BaseException) -> None:
        self.hook = hook
        self.plugin = plugin
        super().__init__(
            f"observer {hook} of plugin {plugin!r} raised {type(exc).__name__}: {exc}; "
            "the results it observed stand"
        )


class UsageError(RunActionabilityError, TypeError):
    """A caller passed an argument of the wrong kind (a programming mistake, raised at once)."""


class DuplicateRunError(UsageError, ValueError):
    """Two runs with one id where one run was asked for: in one batch given to the core, or in
    a store asked for the run with that id (``RunSource.get_run``). Answering with one of them
    would hide the other."""

    def __init__(self, run_ids: Iterable[object], *, where: str = "in one batch") -> None:
        self.run_ids = tuple(run_ids)
        super().__init__(f"duplicate run ids {where}: {', '.join(map(repr, self.run_ids))}")


class InvalidCursorError(UsageError, ValueError):
    """A pagination cursor that the listing it was given to did not issue (or that was altered).

    Raised before any statement runs: a cursor is opaque, so one that does not decode to what
    the source writes (its tag, an instant with a time zone, a run id of a storable kind) is a
    caller's mistake, never a query.
    """


class EvidenceFetchError(RunActionabilityError):
    """An evidence source failed; the batch has no answer rather than a wrong one."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        super().__init__(f"fetching {kind} evidence failed: {detail}")

    @classmethod
    def wrapping(cls, kind: str, exc: BaseException) -> EvidenceFetchError:
        """The error of a source of ``kind`` that raised ``exc``.

        A database error is quoted by its driver's message proper (``driver_message``), never
        with the SQL of the pushdown's statements; the statement stays on ``__cause__``.
        """
        said = driver_message(exc)
        return cls(kind, f"{type(exc).__name__}: {exc if said is None else said}")


class NoWorkspacesError(ConfigurationError):
    """A session asked for every workspace, and the runs table holds no usable workspace id."""


class ExternalCallError(RunActionabilityError):
    """Code under ``runactionability.testing.no_external_calls`` tried to reach outside the process.

    A socket connection, a DNS lookup, a child process or a connection of a SQLAlchemy engine on a
    database server: evaluation is pure, and a policy or consumer path that does I/O of its own
    breaks the one-round-trip-per-evidence-kind budget and the determinism rule. ``call`` names
    what was attempted.
    """

    def __init__(self, call: str) -> None:
        self.call = call
        super().__init__(f"external call during an isolated block: {call}")
