"""What a reading command opens: the engine, one snapshot, the resolver, scopes and the instant."""

from __future__ import annotations

import urllib.parse
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import attrs
import click
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy import database_url, operation_runs
from runactionability.adapters.sqlalchemy.backend import redacted_url
from runactionability.adapters.sqlalchemy.ids import check_scope_ids
from runactionability.cli._app import (
    DEFAULT_DATABASE,
    CliError,
    CliUsageError,
    Reading,
    chosen_locale,
    iso_instant,
    one_line,
)
from runactionability.cli._output import visible
from runactionability.config import Config, load_config
from runactionability.consumers import VisibleScopes
from runactionability.demo import read_marker
from runactionability.errors import (
    ConfigurationError,
    MappingMismatchWarning,
    MissingStateSourceWarning,
    NoWorkspacesError,
    UnknownLocaleWarning,
    UsageError,
)
from runactionability.i18n import MessageCatalogs, Renderer
from runactionability.i18n.catalogs import check_directory
from runactionability.model import usable_id
from runactionability.registry import Registry
from runactionability.service import ActionabilityService, EveryWorkspace, RequestSession
from runactionability.service.every import workspace_names, workspaces_with_runs


def _url(database: str, *, read_only: bool) -> sa.URL:
    if "://" not in database:
        if read_only:
            return _read_only(database)
        return sa.URL.create("sqlite", database=database)
    try:
        url = database_url(database)
    except ConfigurationError as exc:
        raise CliError(str(exc)) from None
    if (
        read_only
        and url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
    ):
        if url.query.get("uri") in ("true", "1"):
            # The host wrote a SQLite URI filename: whatever mode it names, a read never writes.
            return url.update_query_dict({"mode": "ro"})
        return _read_only(url.database)
    return url


def _read_only(path: str) -> sa.URL:
    # A plain path would be created, empty, by sqlite3.connect; a read-only URI never creates
    # (or writes) a file. The path is percent-quoted so '?', '#' and '%' in it stay a path.
    if not Path(path).is_file():
        raise CliError(
            f"no database at {path!r}; create the demo one with `runactionability demo` "
            "or pass --database URL"
        )
    uri = "file:" + urllib.parse.quote(str(Path(path).resolve()))
    return sa.URL.create("sqlite", database=uri, query={"mode": "ro", "uri": "true"})


def engine_for(database: str, *, must_exist: bool) -> sa.Engine:
    """An engine on ``database`` (a URL or a SQLite path), read-only when it ``must_exist``."""
    url = _url(database, read_only=must_exist)
    try:
        return sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise CliError(f"bad database URL {redacted_url(database)}: {one_line(exc)}") from None
    except ImportError as exc:
        # The dialect is known and its driver is not installed (postgresql+psycopg2 where only
        # psycopg is): the URL is right, the environment lacks a package.
        raise CliError(
            f"the driver of {redacted_url(database)} is not installed ({one_line(exc)}); install "
            "it, or name an installed one (postgresql+psycopg://...)"
        ) from None


def cli_config(config_path: str | None, catalog_path: str | None = None) -> Config:
    """The configuration a command reads (``--config``, else the one found), ``--catalog`` over
    its catalog."""
    config = load_config(config_path)
    if catalog_path is not None:
        config = attrs.evolve(config, catalog=catalog_path)
    return config


def database_of(config: Config, database: str | None) -> str:
    """What a command opens: ``--database``, else the configuration's, else the demo's file."""
    if database is not None:
        return database
    return config.database if config.database is not None else DEFAULT_DATABASE


def given_as_of(as_of_text: str | None) -> datetime | None:
    """``--as-of``, checked before anything is read (a usage error), or None when not given."""
    return None if as_of_text is None else iso_instant("--as-of", as_of_text)


def as_of_of(engine: sa.Engine, given: datetime | None) -> datetime:
    """The evaluation instant: ``--as-of``, else the demo's own, else now."""
    if given is not None:
        return given
    marker = read_marker(engine)
    return marker.as_of if marker is not None else datetime.now(UTC)


def _check_ids(workspaces: Sequence[str], environments: Sequence[str]) -> None:
    for option, values in (("--workspace", workspaces), ("--environment", environments)):
        for value in values:
            if usable_id(value) is None:
                raise CliUsageError(f"{option} {value!r} is not a usable id")


def _check_runs_table(engine: sa.Engine, database: str, config: Config) -> None:
    runs = config.runs
    table, schema = (operation_runs.name, None) if runs is None else (runs.table, runs.schema)
    try:
        has_runs = sa.inspect(engine).has_table(table, schema=schema)
    except sa.exc.DatabaseError as exc:
        if engine.dialect.name != "sqlite":
            raise
        # sqlite3 says "file is not a database" without saying which file.
        raise CliError(
            f"{redacted_url(database)} is not a SQLite database: {one_line(exc)}"
        ) from None
    if not has_runs:
        raise CliError(f"the database {redacted_url(database)} has no {table} table")


@contextmanager
def _state_kind_warnings() -> Iterator[None]:
    """Say once, in lines a person can act on, that a state kind has no table, that the locale
    asked for has no catalog, or that the mapping misreads its tables' column types.

    The service checks its configuration when it is built and again for the session's resolver;
    Python's warning format would print the same warning twice, with a module and line number.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MissingStateSourceWarning)
        warnings.simplefilter("always", UnknownLocaleWarning)
        warnings.simplefilter("always", MappingMismatchWarning)
        yield
    said: set[str] = set()
    for warning in caught:
        if issubclass(warning.category, UnknownLocaleWarning | MappingMismatchWarning):
            if str(warning.message) not in said:
                said.add(str(warning.message))
                click.echo(visible(f"runactionability: warning: {warning.message}"), err=True)
            continue
        if not issubclass(warning.category, MissingStateSourceWarning):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
        elif str(warning.message) not in said:
            said.add(str(warning.message))
            click.echo(
                visible(
                    f"runactionability: warning: {warning.message}; name the table of each "
                    "under [states.KIND] in the configuration (docs/configuration.md)"
                ),
                err=True,
            )


def cli_renderer(config: Config, registry: Registry) -> Renderer:
    """The renderer of a command that opens no session, chosen as a session's would be:
    ``--locale`` (else the configuration's), its time zone, then the host's, the plugins' and
    the library's catalogs."""
    try:
        host = (
            () if config.messages is None else (check_directory(MessageCatalogs(config.messages)),)
        )
    except ConfigurationError as exc:
        raise CliError(str(exc)) from None
    with _state_kind_warnings():
        return Renderer(
            chosen_locale() or config.locale,
            time_zone=config.time_zone,
            catalogs=(*host, *registry.message_catalogs()),
        )


@contextmanager
def open_session(reading: Reading) -> Iterator[RequestSession]:
    """Open the database for one command; everything the command line says is checked first.

    ``--database`` overrides the configuration's database, ``--catalog`` its catalog.
    """
    workspaces, environments = reading.workspaces, reading.environments
    _check_ids(workspaces, environments)
    given = given_as_of(reading.as_of_text)
    config = cli_config(reading.config_path, reading.catalog_path)
    registry = Registry.default()
    database = database_of(config, reading.database)
    engine = engine_for(database, must_exist=True)
    try:
        _check_runs_table(engine, database, config)
        as_of = as_of_of(engine, given)
        # Every workspace first, even under --workspace: a named one must be among them.
        scopes = EveryWorkspace(environment_ids=list(environments) or None)
        # One command reads one snapshot: its counts, its page and the evidence that explains
        # the page cannot disagree because a run landed between two statements.
        with ExitStack() as stack:
            try:
                with _state_kind_warnings():
                    service = ActionabilityService.from_config(
                        config, bind=engine, registry=registry
                    )
                    session = stack.enter_context(
                        service.session(scopes=scopes, as_of=as_of, locale=chosen_locale())
                    )
            except NoWorkspacesError:
                raise CliError(
                    f"the database {redacted_url(database)} holds no runs with a usable "
                    "workspace id"
                ) from None
            _check_spellings(session, workspaces, environments)
            if workspaces:
                session = _named_workspaces(session, database, workspaces, environments)
            _check_environments(session, database, environments, named_workspaces=bool(workspaces))
            yield session
    finally:
        engine.dispose()


@contextmanager
def open_service(
    database: str | None,
    *,
    config_path: str | None,
    workspaces: Sequence[str],
    environments: Sequence[str],
    catalog_path: str | None,
) -> Iterator[tuple[ActionabilityService, VisibleScopes | EveryWorkspace]]:
    """The service and the scopes of a command that opens a session per step (``changes
    --follow`` polls), checked as ``open_session`` checks them."""
    _check_ids(workspaces, environments)
    config = cli_config(config_path, catalog_path)
    database = database_of(config, database)
    engine = engine_for(database, must_exist=True)
    try:
        _check_runs_table(engine, database, config)
        scopes: VisibleScopes | EveryWorkspace = EveryWorkspace(
            environment_ids=list(environments) or None
        )
        with _state_kind_warnings():
            service = ActionabilityService.from_config(
                config, bind=engine, registry=Registry.default()
            )
        if workspaces or environments:
            with service.session(scopes=scopes) as session:
                _check_spellings(session, workspaces, environments)
                if workspaces:
                    session = _named_workspaces(session, database, workspaces, environments)
                    scopes = session.scopes
                _check_environments(
                    session, database, environments, named_workspaces=bool(workspaces)
                )
        yield service, scopes
    finally:
        engine.dispose()


def _check_spellings(
    session: RequestSession, workspaces: Sequence[str], environments: Sequence[str]
) -> None:
    """Refuse a ``--workspace`` or ``--environment`` spelling a uuid otherwise than its uuid
    column's ids (upper case, 32 hex digits) with the library's message, which names the
    spelling to pass: it is a mistyped value, not an id that no run carries."""
    try:
        check_scope_ids(workspaces, environments, session.backend.runs.mapping.ids)
    except UsageError as exc:
        raise CliUsageError(one_line(exc)) from None


def _named_workspaces(
    session: RequestSession,
    database: str,
    workspaces: Sequence[str],
    environments: Sequence[str],
) -> RequestSession:
    """``session`` narrowed to the workspaces ``--workspace`` names, each known by its runs.

    A name no run carries is far likelier a typo than a new workspace, and an empty dashboard
    would hide the typo behind exit 0 (docs/decisions.md). The error names only what was given:
    the workspaces that do exist are not the command line's to suggest.
    """
    known = workspaces_with_runs(session.backend, workspaces)
    unknown = [name for name in dict.fromkeys(workspaces) if usable_id(name) not in known]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        which = "this workspace" if len(unknown) == 1 else "these workspaces"
        raise CliError(
            f"--workspace {names}: no run in the database {redacted_url(database)} belongs to "
            f"{which}"
        )
    scopes = VisibleScopes(workspaces, environment_ids=list(environments) or None)
    return attrs.evolve(session, scopes=scopes, whole_database=False)


def shown_scopes(session: RequestSession) -> VisibleScopes:
    """The session's scopes as a document shows them: every workspace by name (one statement
    of its snapshot, for the page only; the reads never list them)."""
    scopes = session.scopes
    if scopes.workspace_ids is not None:
        return scopes
    return VisibleScopes(
        workspace_names(session.backend),
        environment_ids=scopes.environment_ids,
        include_workspace_runs=scopes.include_workspace_runs,
    )


def _check_environments(
    session: RequestSession,
    database: str,
    environments: Sequence[str],
    *,
    named_workspaces: bool,
) -> None:
    """Refuse an ``--environment`` no run of the shown workspaces carries, as ``--workspace``.

    Workspace-owned runs stay visible under any ``--environment``, so a typo would otherwise
    print a plausible dashboard of them and exit 0.
    """
    if not environments:
        return
    known = session.environments_with_runs(environments)
    unknown = [name for name in dict.fromkeys(environments) if usable_id(name) not in known]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        which = "this environment" if len(unknown) == 1 else "these environments"
        where = " of the workspaces named" if named_workspaces else ""
        raise CliError(
            f"--environment {names}: no run{where} in the database {redacted_url(database)} "
            f"belongs to {which}"
        )
