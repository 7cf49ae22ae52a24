"""The click group every command registers on: exit codes, one-line errors and shared options."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

import attrs
import click
import sqlalchemy as sa

from runactionability.cli._output import visible
from runactionability.errors import (
    InvalidCursorError,
    RunActionabilityError,
    UsageError,
    driver_message,
)
from runactionability.jsonforms import JSON_SCHEMA_VERSION

DEFAULT_DATABASE = "runactionability-demo.sqlite"
"""The database every command reads unless ``--database`` names another: the demo's file."""

# The documents hold the library's JSON forms, so they share its version.
SCHEMA_VERSION = JSON_SCHEMA_VERSION
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNCOVERED = 3
EXIT_FINDINGS = 4
"""``doctor`` found an error-severity finding (the mapping misreads the host's tables), or
``guard`` found a raw follow-up read."""
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a command it interrupted."""


class CliError(click.ClickException):
    """A failure reported as one line on stderr."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(visible(f"runactionability: error: {self.format_message()}"), err=True)


class UncoveredError(CliError):
    exit_code = EXIT_UNCOVERED


class FindingsError(CliError):
    exit_code = EXIT_FINDINGS


class CliUsageError(CliError):
    """Input the command refuses before reading anything (exit 2, like click's usage errors)."""

    exit_code = EXIT_USAGE


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line: a driver's message proper, without SQLAlchemy's
    wrapping or the SQL a database quotes after it."""
    said = driver_message(exc)
    if said is not None:
        return said
    if isinstance(exc, sa.exc.SQLAlchemyError):
        # SQLAlchemy appends a documentation link after a blank line; the first line says it all.
        detail = str(exc).split("\n(Background on this error", 1)[0]
    else:
        detail = str(exc) or type(exc).__name__
    lines = [line.strip() for line in detail.strip().splitlines() if line.strip()]
    return " ".join(lines) if lines else type(exc).__name__


def iso_instant(option: str, text: str, *, refusal: str = "is not an ISO 8601 instant") -> datetime:
    """``text``, an ISO 8601 instant (naive is UTC), else a usage error naming ``option`` (and
    saying ``refusal`` of a text that is no instant).

    An instant whose UTC time falls outside the years 1 to 9999 (``9999-12-31T23:00-05:00``)
    is refused here: every comparison with a stored instant would overflow later, a traceback
    rather than the user's mistake.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliUsageError(f"{option} {text!r} {refusal}") from None
    if value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise CliUsageError(
            f"{option} {text!r} is out of range: in UTC it falls outside the years 1 to 9999"
        ) from None
    return value


LOCALE_KEY = "runactionability.locale"
"""Where ``--locale`` is kept in the click context's ``meta`` (the command's over the group's)."""


def _remember_locale(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        if not value.strip():
            # An empty --locale would silently mean "the default" and override the variable
            # and the configuration the user set; say so instead.
            raise click.BadParameter("give a locale such as de or en", param_hint="'--locale'")
        ctx.meta[LOCALE_KEY] = value


def _locale_option(**extra: Any) -> click.Option:
    return click.Option(
        ["--locale"],
        expose_value=False,
        is_eager=True,
        callback=_remember_locale,
        help="The language of the output, e.g. de or en (default: $RUNACTIONABILITY_LOCALE, "
        "else the configuration's locale, else English).",
        **extra,
    )


class _QuietInterrupts(logging.StreamHandler[TextIO]):
    """SQLAlchemy's pool warnings on stderr, as Python shows them without a handler, but for a
    Ctrl-C that lands while a connection returns to the pool: the pool logs it with its
    traceback ("Exception during reset or similar") and raises it on, and the command then says
    "interrupted", once (a follow spends much of each poll returning its connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.setLevel(logging.WARNING)

    def filter(self, record: logging.LogRecord) -> bool:
        interrupt = record.exc_info is not None and isinstance(
            record.exc_info[1], KeyboardInterrupt
        )
        return not interrupt and bool(super().filter(record))


class _Cli(click.Group):
    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        # Every command takes --locale itself, so it may follow the command's name.
        cmd.params.append(_locale_option())
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        pool_log = logging.getLogger("sqlalchemy.pool")
        quiet = _QuietInterrupts()
        pool_log.addHandler(quiet)
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            # click would print "Aborted!" and exit 1; a shell expects 130 after Ctrl-C. Any
            # JSON document was written whole before this, or not at all (see emit_json).
            click.echo("runactionability: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            if isinstance(exc, InvalidCursorError):
                raise CliUsageError(f"--cursor: {one_line(exc)}") from None
            if isinstance(exc, UsageError):
                # A value the library refuses is the command line's mistake, as one the
                # command refuses itself is (docs/cli.md: exit 2).
                raise CliUsageError(one_line(exc)) from None
            if isinstance(exc, RunActionabilityError | sa.exc.SQLAlchemyError | OSError):
                raise CliError(one_line(exc)) from None
            raise CliError(
                f"unexpected {type(exc).__name__}: {one_line(exc)} (rerun with --debug)"
            ) from None
        finally:
            pool_log.removeHandler(quiet)


@attrs.frozen
class _Options:
    debug: bool


@click.group(
    cls=_Cli,
    context_settings={"help_option_names": ["-h", "--help"]},
    params=[_locale_option(envvar="RUNACTIONABILITY_LOCALE")],
)
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.version_option(package_name="runactionability")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Find which operation runs need an operator's attention now, and why."""
    ctx.obj = _Options(debug=debug)


def chosen_locale() -> str | None:
    """The ``--locale`` of the running command (or of the group, or its variable), if any."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if LOCALE_KEY in ctx.meta:
            value: str = ctx.meta[LOCALE_KEY]
            return value
        ctx = ctx.parent
    return None


# -- shared options ---------------------------------------------------------------------------


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--config FILE``: every command's configuration (see ``runactionability.config``)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="A runactionability.toml (or pyproject.toml) file; default: ./runactionability.toml, "
        "else the nearest pyproject.toml with [tool.runactionability] (docs/configuration.md).",
    )(func)


def database_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return config_option(
        click.option(
            "--database",
            help="A database URL, or the path of a SQLite file (overrides the configuration's; "
            f"default: {DEFAULT_DATABASE}).",
        )(func)
    )


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "as_json", "--json", is_flag=True, help="Print one JSON document (see docs/cli.md)."
    )(func)


def scope_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--environment",
        "environments",
        multiple=True,
        help="An environment id to narrow to (repeatable).",
    )(func)
    return click.option(
        "--workspace",
        "workspaces",
        multiple=True,
        help="A visible workspace id (repeatable; default: every workspace in the database).",
    )(func)


def evaluation_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--catalog",
        "catalog_path",
        type=click.Path(dir_okay=False),
        help="An operation catalog TOML file (default: the registered types).",
    )(func)
    return click.option(
        "--as-of",
        "as_of_text",
        help="The evaluation instant, ISO 8601 (default: the demo's, else now; naive is UTC).",
    )(func)


@attrs.frozen
class Reading:
    """What a command reading one session was told: ``--database``, ``--config``, the scope
    options and the evaluation options (``open_session`` opens it)."""

    database: str | None
    config_path: str | None
    workspaces: tuple[str, ...]
    environments: tuple[str, ...]
    as_of_text: str | None
    catalog_path: str | None


def session_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a command that reads one session, handed to it as one ``reading``."""

    @functools.wraps(func)
    def command(
        *,
        database: str | None,
        config_path: str | None,
        workspaces: tuple[str, ...],
        environments: tuple[str, ...],
        as_of_text: str | None,
        catalog_path: str | None,
        **rest: Any,
    ) -> Any:
        told = Reading(database, config_path, workspaces, environments, as_of_text, catalog_path)
        return func(reading=told, **rest)

    return database_option(scope_options(evaluation_options(command)))
