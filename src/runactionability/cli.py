"""The ``runactionability`` command line: the demo, the dashboard report, listings and explanations.

Every command reads a database through the SQL adapter (the demo's SQLite file by default), takes
the actor's scopes with ``--workspace``/``--environment``, and prints either rich text or, with
``--json``, one JSON document whose schema ``docs/cli.md`` documents. Errors are one line on
stderr and a non-zero exit code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import attrs
import click
import sqlalchemy as sa
from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from runactionability.adapters.sqlalchemy import SqlBackend, open_backend, operation_runs
from runactionability.adapters.sqlalchemy.backend import database_url
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.catalog import OperationCatalog
from runactionability.consumers import (
    ActiveRuns,
    Assessment,
    DashboardSummary,
    Explanation,
    StatusCounts,
    View,
    VisibleScopes,
    assess,
    dashboard,
    explain,
    is_repeatable,
    list_assessed,
    read_runs,
    would_change,
)
from runactionability.demo import (
    HEADLINE_TITLES,
    Comparison,
    DemoData,
    Size,
    compare,
    generate,
    load,
    read_marker,
)
from runactionability.errors import (
    ConfigurationError,
    CoverageError,
    InvalidCursorError,
    RunActionabilityError,
)
from runactionability.evidence import RunFact, StateFact
from runactionability.model import OperationRun, usable_id
from runactionability.registry import Registry
from runactionability.resolver import Resolver
from runactionability.result import Actionability, PrimaryAction

DEFAULT_DATABASE = "runactionability-demo.sqlite"
"""The database every command reads unless ``--database`` names another: the demo's file."""

SCHEMA_VERSION = 1
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNCOVERED = 3
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a command it interrupted."""

_STATUS_STYLE = {
    Actionability.ACTIONABLE: "bold red",
    Actionability.REQUIRES_MANUAL_REVIEW: "bold yellow",
    Actionability.SUPERSEDED_BY_LATER_SUCCESS: "green",
    Actionability.RESOLVED_BY_CURRENT_STATE: "green",
    Actionability.INFORMATIONAL_ONLY: "dim",
    Actionability.NOT_TERMINAL: "cyan",
}


class CliError(click.ClickException):
    """A failure reported as one line on stderr."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"runactionability: error: {self.format_message()}", err=True)


class UncoveredError(CliError):
    exit_code = EXIT_UNCOVERED


class CliUsageError(CliError):
    """Input the command refuses before reading anything (exit 2, like click's usage errors)."""

    exit_code = EXIT_USAGE


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        detail = str(exc.orig)
    elif isinstance(exc, sa.exc.SQLAlchemyError):
        # SQLAlchemy appends a documentation link after a blank line; the first line says it all.
        detail = str(exc).split("\n(Background on this error", 1)[0]
    else:
        detail = str(exc) or type(exc).__name__
    lines = [line.strip() for line in detail.strip().splitlines() if line.strip()]
    return " ".join(lines) if lines else type(exc).__name__


class _Cli(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            # click would print "Aborted!" and exit 1; a shell expects 130 after Ctrl-C. Any
            # JSON document was written whole before this, or not at all (see _emit_json).
            click.echo("runactionability: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            if isinstance(exc, InvalidCursorError):
                raise CliUsageError(f"--cursor: {_one_line(exc)}") from None
            if isinstance(exc, RunActionabilityError | sa.exc.SQLAlchemyError | OSError):
                raise CliError(_one_line(exc)) from None
            raise CliError(
                f"unexpected {type(exc).__name__}: {_one_line(exc)} (rerun with --debug)"
            ) from None


@attrs.frozen
class _Options:
    debug: bool


# -- shared options ---------------------------------------------------------------------------


def _database_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--database",
        default=DEFAULT_DATABASE,
        show_default=True,
        help="A database URL, or the path of a SQLite file.",
    )(func)


def _json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "as_json", "--json", is_flag=True, help="Print one JSON document (see docs/cli.md)."
    )(func)


def _scope_options(func: Callable[..., Any]) -> Callable[..., Any]:
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


def _evaluation_options(func: Callable[..., Any]) -> Callable[..., Any]:
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


# -- plumbing ---------------------------------------------------------------------------------


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


def _engine(database: str, *, must_exist: bool) -> sa.Engine:
    url = _url(database, read_only=must_exist)
    try:
        return sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise CliError(f"bad database URL {database!r}: {_one_line(exc)}") from None


def _catalog(registry: Registry, catalog_path: str | None) -> OperationCatalog:
    if catalog_path is None:
        return registry.catalog()
    return OperationCatalog.from_toml(catalog_path)


@attrs.define
class _Session:
    engine: sa.Engine
    backend: SqlBackend
    resolver: Resolver
    scopes: VisibleScopes
    as_of: datetime
    pushdown: SqlPushdown


def _parse_as_of(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--as-of {text!r} is not an ISO 8601 instant") from None
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


def _workspaces(backend: SqlBackend) -> list[str]:
    table = backend.runs.mapping.table_clause()
    column = table.c[backend.runs.mapping.workspace_id]
    connection = backend.runs.bind
    assert isinstance(connection, sa.Connection), "a snapshot's ports share one connection"
    rows = connection.execute(sa.select(column).distinct().order_by(column)).scalars()
    # A blank (or otherwise unusable) workspace id belongs to no scope: it is skipped here, as
    # VisibleScopes would refuse it and take every other workspace down with it.
    return [usable for value in rows if (usable := usable_id(value)) is not None]


@contextmanager
def _session(
    database: str,
    *,
    workspaces: Sequence[str],
    environments: Sequence[str],
    as_of_text: str | None,
    catalog_path: str | None,
) -> Iterator[_Session]:
    # Everything the command line says is checked before a database is opened.
    for option, values in (("--workspace", workspaces), ("--environment", environments)):
        for value in values:
            if usable_id(value) is None:
                raise CliUsageError(f"{option} {value!r} is not a usable id")
    registry = Registry.default()
    catalog = _catalog(registry, catalog_path)
    engine = _engine(database, must_exist=True)
    try:
        try:
            has_runs = sa.inspect(engine).has_table(operation_runs.name)
        except sa.exc.DatabaseError as exc:
            if engine.dialect.name != "sqlite":
                raise
            # sqlite3 says "file is not a database" without saying which file.
            raise CliError(f"{database!r} is not a SQLite database: {_one_line(exc)}") from None
        if not has_runs:
            raise CliError(f"the database {database!r} has no {operation_runs.name} table")
        if as_of_text is not None:
            as_of = _parse_as_of(as_of_text)
        else:
            marker = read_marker(engine)
            as_of = marker.as_of if marker is not None else datetime.now(UTC)
        # One command reads one snapshot: its counts, its page and the evidence that explains
        # the page cannot disagree because a run landed between two statements.
        with open_backend(engine, catalog=catalog).snapshot() as backend:
            resolver = Resolver(
                history=backend.history, states=backend.states, registry=registry, catalog=catalog
            )
            visible = list(workspaces) or _workspaces(backend)
            if not visible:
                raise CliError(
                    f"the database {database!r} holds no runs with a usable workspace id"
                )
            scopes = VisibleScopes(visible, environment_ids=list(environments) or None)
            # Counts and the follow-up list come from the database; the resolver explains runs.
            pushdown = SqlPushdown(
                backend.history.bind,
                runs=backend.runs.mapping,
                states={kind: source.mapping for kind, source in backend.states.items()},
                registry=registry,
                catalog=catalog,
            )
            yield _Session(engine, backend, resolver, scopes, as_of, pushdown)
    finally:
        engine.dispose()


@contextmanager
def _progress(enabled: bool, description: str) -> Iterator[Callable[[int], None]]:
    """Advance a progress display on stderr (only when stderr is a terminal and not --json)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _count: None
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=None)
        yield lambda count: progress.advance(task, count)


def _console() -> Console:
    # Piped output (a file, a pager, a test) gets a fixed, readable width instead of rich's 80.
    width = None if sys.stdout.isatty() else 120
    return Console(highlight=False, soft_wrap=False, width=width)


def _emit_json(payload: Mapping[str, Any]) -> None:
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


# -- JSON shapes (documented in docs/cli.md) --------------------------------------------------


def _stamp(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _proof_json(proof: RunFact | StateFact | None) -> dict[str, Any] | None:
    if proof is None:
        return None
    if isinstance(proof, RunFact):
        return {
            "kind": "run",
            "run_id": proof.run_id,
            "operation_type": proof.operation_type,
            "workspace_id": proof.workspace_id,
            "environment_id": proof.environment_id,
            "subject": proof.subject,
            "started_at": _stamp(proof.started_at),
            "completed_at": _stamp(proof.completed_at),
        }
    return {
        "kind": "state",
        "state_kind": proof.kind,
        "workspace_id": proof.workspace_id,
        "environment_id": proof.environment_id,
        "subject": proof.subject,
        "status": proof.status,
        "proven_at": _stamp(proof.proven_at),
    }


def _action_json(action: PrimaryAction | None) -> dict[str, Any] | None:
    if action is None:
        return None
    return {
        "kind": str(action.kind),
        "label": action.label,
        "target_kind": action.target_kind,
        "target_id": action.target_id,
    }


def _run_json(item: Assessment) -> dict[str, Any]:
    run, result = item.run, item.result
    return {
        "run_id": run.id,
        "operation_type": _plain(run.type),
        "canonical_type": result.operation_type,
        "family": result.family,
        "workspace_id": _plain(run.workspace_id),
        "environment_id": _plain(run.environment_id),
        "status": _plain(run.status),
        "outcome": _plain(run.outcome),
        "created_at": _stamp(run.created_at),
        "completed_at": _stamp(run.completed_at),
        "actionability": str(result.status),
        "needs_attention": result.needs_attention,
        "reason": str(result.reason),
        "explanation": result.explanation,
        "proof": _proof_json(result.proof),
        "primary_action": _action_json(item.primary_action),
        "eligible_actions": sorted(str(kind) for kind in item.eligible_actions),
        "active_run_id": item.active_run_id,
    }


def _counts_json(counts: StatusCounts) -> dict[str, Any]:
    return {
        "total": counts.total,
        "needs_attention": counts.needs_attention,
        "by_status": {str(status): counts.by_status[status] for status in Actionability},
    }


def _scopes_json(scopes: VisibleScopes) -> dict[str, Any]:
    return {
        "workspace_ids": sorted(scopes.workspace_ids),
        "environment_ids": None
        if scopes.environment_ids is None
        else sorted(scopes.environment_ids),
    }


def _header(command: str, as_of: datetime) -> dict[str, Any]:
    return {"schema": f"runactionability.{command}/{SCHEMA_VERSION}", "as_of": _stamp(as_of)}


def _report_json(summary: DashboardSummary) -> dict[str, Any]:
    return {
        **_header("report", summary.as_of),
        "scopes": _scopes_json(summary.scopes),
        **_counts_json(summary.counts),
        "by_family": [
            {"family": name, **_counts_json(counts)} for name, counts in summary.by_family.items()
        ],
        "by_environment": [
            {"workspace_id": ws, "environment_id": env, **_counts_json(counts)}
            for (ws, env), counts in summary.by_environment.items()
        ],
        "top": [_run_json(item) for item in summary.top],
        "active": {
            "queued": summary.active.queued,
            "running": summary.active.running,
            "by_type": dict(summary.active.by_type),
            "newest": [_run_json(item) for item in summary.active.newest],
        },
    }


# -- rich rendering ---------------------------------------------------------------------------


def _status_text(status: Actionability) -> Text:
    return Text(str(status), style=_STATUS_STYLE[status])


def _scope_label(workspace_id: object, environment_id: object) -> str:
    return f"{workspace_id}/{environment_id}" if environment_id is not None else f"{workspace_id}"


def _action_label(action: PrimaryAction | None) -> str:
    if action is None:
        return "-"
    target = f" ({action.target_kind} {action.target_id})" if action.target_id else ""
    return f"{action.label}{target}"


def _proof_lines(proof: RunFact | StateFact | None) -> str:
    if proof is None:
        return "none"
    if isinstance(proof, RunFact):
        subject = f", subject {proof.subject}" if proof.subject is not None else ""
        return (
            f"run {proof.run_id} ({proof.operation_type}) in "
            f"{_scope_label(proof.workspace_id, proof.environment_id)}{subject}: "
            f"succeeded, started {_stamp(proof.started_at)}, completed {_stamp(proof.completed_at)}"
        )
    return (
        f"{proof.kind} state of {proof.subject} in "
        f"{_scope_label(proof.workspace_id, proof.environment_id)}: {proof.status}, "
        f"proven {_stamp(proof.proven_at)}"
    )


def _counts_table(title: str, rows: Sequence[tuple[str, StatusCounts]], first: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(first)
    table.add_column("runs", justify="right")
    table.add_column("attention", justify="right", style="bold")
    short = {
        Actionability.ACTIONABLE: "actionable",
        Actionability.REQUIRES_MANUAL_REVIEW: "review",
        Actionability.SUPERSEDED_BY_LATER_SUCCESS: "superseded",
        Actionability.RESOLVED_BY_CURRENT_STATE: "resolved",
        Actionability.INFORMATIONAL_ONLY: "info",
        Actionability.NOT_TERMINAL: "active",
    }
    for status in Actionability:
        table.add_column(short[status], justify="right")
    for label, counts in rows:
        table.add_row(
            label,
            str(counts.total),
            str(counts.needs_attention),
            *(str(counts.by_status[status]) for status in Actionability),
        )
    return table


def _short_time(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%m-%d %H:%M")
    return "-" if value is None else str(value)


def _runs_table(title: str, items: Sequence[Assessment], *, history: bool = False) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("run", justify="right")
    table.add_column("type")
    table.add_column("scope")
    if history:
        table.add_column("created (UTC)")
        table.add_column("history")
    table.add_column("actionability")
    table.add_column("action")
    for item in items:
        run = item.run
        cells: list[Any] = [
            str(run.id),
            str(run.type),
            _scope_label(run.workspace_id, run.environment_id),
        ]
        if history:
            cells.append(_short_time(run.created_at))
            cells.append(str(run.outcome) if run.outcome is not None else str(run.status))
        cells.append(_status_text(item.status))
        action = item.primary_action
        cells.append("-" if action is None else str(action.kind))
        table.add_row(*cells)
    return table


def _render_report(console: Console, summary: DashboardSummary, database: str) -> None:
    scopes = summary.scopes
    where = ", ".join(sorted(scopes.workspace_ids))
    if scopes.environment_ids is not None:
        where += " (environments " + ", ".join(sorted(scopes.environment_ids)) + ")"
    console.print(
        f"[bold]Dashboard[/bold] for {where} as of {_stamp(summary.as_of)}  [dim]{database}[/dim]"
    )
    counts = summary.counts
    console.print(
        f"[bold red]{counts.needs_attention}[/bold red] of {counts.total} runs need attention "
        f"(actionable {counts.by_status[Actionability.ACTIONABLE]}, manual review "
        f"{counts.by_status[Actionability.REQUIRES_MANUAL_REVIEW]}); active work kept apart: "
        f"{summary.active.queued} queued, {summary.active.running} running."
    )
    console.print(
        _counts_table(
            "By family",
            [(name or "(unknown type)", c) for name, c in summary.by_family.items()],
            "family",
        )
    )
    console.print(
        _counts_table(
            "By environment",
            [(_scope_label(ws, env), c) for (ws, env), c in summary.by_environment.items()],
            "scope",
        )
    )
    if summary.top:
        console.print(Text("Needs attention now", style="bold"))
        for item in summary.top:
            run = item.run
            console.print(
                Text.assemble(
                    (f"  {run.id} ", "bold"),
                    f"{run.type} in {_scope_label(run.workspace_id, run.environment_id)}: ",
                    _status_text(item.status),
                )
            )
            console.print(f"      {item.result.explanation}", soft_wrap=True)
            console.print(f"      -> {_action_label(item.primary_action)}", soft_wrap=True)
    if summary.active.total:
        console.print(_runs_table("Active work (not follow-up)", list(summary.active.newest)))


# -- commands ---------------------------------------------------------------------------------


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.version_option(package_name="runactionability")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Which operation runs need an operator's attention now, and why."""
    ctx.obj = _Options(debug=debug)


@cli.command()
@_database_option
@_scope_options
@_evaluation_options
@click.option(
    "--top",
    default=10,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="How many runs needing attention to list (0-1000), and at most as many of the newest "
    "active runs; the counts, including the active ones, are never capped.",
)
@_json_option
def report(
    database: str,
    workspaces: tuple[str, ...],
    environments: tuple[str, ...],
    as_of_text: str | None,
    catalog_path: str | None,
    top: int,
    as_json: bool,
) -> None:
    """The dashboard summary of the visible scopes: counts, the runs needing attention, work."""
    with (
        _session(
            database,
            workspaces=workspaces,
            environments=environments,
            as_of_text=as_of_text,
            catalog_path=catalog_path,
        ) as session,
        _progress(not as_json, "Reading runs") as advance,
    ):
        summary = dashboard(
            session.backend.runs,
            session.resolver,
            scopes=session.scopes,
            as_of=session.as_of,
            top=top,
            on_page=advance,
            store=session.pushdown,
        )
    if as_json:
        _emit_json(_report_json(summary))
    else:
        _render_report(_console(), summary, database)


@cli.command("list")
@_database_option
@_scope_options
@_evaluation_options
@click.option(
    "--current-follow-up",
    "follow_up",
    is_flag=True,
    help="Only runs that need attention now (actionable, manual review).",
)
@click.option(
    "--history",
    "history_only",
    is_flag=True,
    help="Only runs that call for nothing now (superseded, resolved, informational). "
    "Contradicts --current-follow-up.",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="How many runs a page holds (1-1000000).",
)
@click.option("--cursor", help="The next_cursor printed by the previous page.")
@_json_option
def list_(
    database: str,
    workspaces: tuple[str, ...],
    environments: tuple[str, ...],
    as_of_text: str | None,
    catalog_path: str | None,
    follow_up: bool,
    history_only: bool,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Runs, newest first: historical status beside current actionability."""
    if follow_up and history_only:
        # Refused rather than letting the last flag win: the two views share no run.
        raise CliUsageError(
            "--current-follow-up and --history are contradictory: give at most one of them"
        )
    chosen = View.CURRENT_FOLLOW_UP if follow_up else View.HISTORY if history_only else View.ALL
    with (
        _session(
            database,
            workspaces=workspaces,
            environments=environments,
            as_of_text=as_of_text,
            catalog_path=catalog_path,
        ) as session,
        _progress(not as_json, "Scanning runs") as advance,
    ):
        page = list_assessed(
            session.backend.runs,
            session.resolver,
            scopes=session.scopes,
            as_of=session.as_of,
            view=chosen,
            limit=limit,
            cursor=cursor,
            on_scan=advance,
            store=session.pushdown,
        )
    if as_json:
        _emit_json(
            {
                **_header("list", session.as_of),
                "scopes": _scopes_json(session.scopes),
                "view": str(chosen),
                "limit": limit,
                "runs": [_run_json(item) for item in page.items],
                "next_cursor": page.next_cursor,
                "scanned": page.scanned,
            }
        )
        return
    console = _console()
    console.print(
        _runs_table(f"Runs ({chosen}) as of {_stamp(session.as_of)}", page.items, history=True)
    )
    if page.next_cursor:
        console.print(f"next page: --cursor {page.next_cursor}", soft_wrap=True)
    else:
        console.print("[dim]end of the list[/dim]")


def _explain_unscoped(session: _Session, run: OperationRun) -> Explanation:
    result = session.resolver.evaluate(run, as_of=session.as_of)
    # No action: every action targets something in the run's scope, and it has none.
    assessment = Assessment(
        run=run, result=result, primary_action=None, eligible_actions=frozenset()
    )
    registry = session.resolver.registry
    family = registry.families().get(result.family) if result.family else None
    return Explanation(
        assessment=assessment,
        risk=None if family is None else family.risk,
        plugin=None if family is None else registry.plugin_of(family.name),
        would_change=would_change(
            run,
            assessment,
            registry=session.resolver.registry,
            catalog=session.resolver.catalog,
            state_kinds=session.backend.states,
        ),
    )


@cli.command("explain")
@click.argument("run_id")
@_database_option
@_scope_options
@_evaluation_options
@_json_option
def explain_(
    run_id: str,
    database: str,
    workspaces: tuple[str, ...],
    environments: tuple[str, ...],
    as_of_text: str | None,
    catalog_path: str | None,
    as_json: bool,
) -> None:
    """Why RUN_ID has its status: decision, reason, proof, and what evidence would change it."""
    with _session(
        database,
        workspaces=workspaces,
        environments=environments,
        as_of_text=as_of_text,
        catalog_path=catalog_path,
    ) as session:
        run = session.backend.runs.get_run(run_id)
        whole_database = not workspaces and not environments
        if run is not None and whole_database and usable_id(run.workspace_id) is None:
            # The default scope is the whole database, so nothing is hidden from it; a run with
            # no usable workspace id is in no workspace's scope, but asked for by id it is shown,
            # flagged as the invalid record it is.
            told = _explain_unscoped(session, run)
        elif run is None or not session.scopes.admits_run(run):
            # A run outside the visible scopes is reported exactly like a missing one.
            raise CliError(f"no run {run_id!r} in the visible scopes of {database!r}")
        else:
            active = ActiveRuns.from_source(
                session.backend.runs,
                catalog=session.resolver.catalog,
                scopes=session.scopes,
                as_of=session.as_of,
            )
            told = explain(
                session.resolver,
                run,
                scopes=session.scopes,
                as_of=session.as_of,
                active=active,
                state_kinds=session.backend.states,
            )
    item = told.assessment
    if as_json:
        _emit_json(
            {
                **_header("explain", session.as_of),
                "run": _run_json(item),
                "risk": None if told.risk is None else str(told.risk),
                "plugin": told.plugin,
                "would_change": list(told.would_change),
            }
        )
        return
    result = item.result
    run = item.run
    history = f"{run.status}" + (
        f", {run.outcome} at {_stamp(run.completed_at)}" if run.outcome else ""
    )
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        "run", f"{run.id}  {run.type} in {_scope_label(run.workspace_id, run.environment_id)}"
    )
    grid.add_row(
        "context",
        json.dumps(dict(run.context)) if isinstance(run.context, Mapping) else str(run.context),
    )
    grid.add_row("history", history)
    grid.add_row(
        "decision", Text.assemble(_status_text(result.status), f"  (reason {result.reason})")
    )
    grid.add_row("why", result.explanation)
    grid.add_row("proof", _proof_lines(result.proof))
    grid.add_row("action", _action_label(item.primary_action))
    family = (
        f"{result.family} (risk {told.risk}, plugin {told.plugin})" if result.family else "none"
    )
    grid.add_row("family", family)
    grid.add_row("as of", _stamp(session.as_of) or "")
    change = Text("\n".join(f"- {line}" for line in told.would_change))
    _console().print(
        Panel(
            Group(grid, Text(""), Text("What would change it", style="bold"), change),
            title=f"run {run.id}",
            title_align="left",
        )
    )


@cli.command()
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False),
    help="An operation catalog TOML file (default: the reference catalog).",
)
@_json_option
def coverage(catalog_path: str | None, as_json: bool) -> None:
    """Check that every type of a catalog maps to a registered family (exit 3 if not)."""
    registry = Registry.default()
    catalog = (
        OperationCatalog.reference()
        if catalog_path is None
        else OperationCatalog.from_toml(catalog_path)
    )
    families = registry.families()
    uncovered = [(t.name, t.family) for t in catalog.inventory() if t.family not in families]
    if as_json:
        _emit_json(
            {
                "schema": f"runactionability.coverage/{SCHEMA_VERSION}",
                "catalog": catalog_path or "reference",
                "types": [
                    {"name": t.name, "family": t.family, "covered": t.family in families}
                    for t in catalog.inventory()
                ],
                "uncovered": [{"name": name, "family": family} for name, family in uncovered],
            }
        )
    else:
        table = Table(
            title=f"Catalog {catalog_path or 'reference'}",
            box=box.SIMPLE_HEAD,
            title_justify="left",
        )
        table.add_column("type")
        table.add_column("family")
        table.add_column("covered")
        for t in catalog.inventory():
            covered = t.family in families
            table.add_row(
                t.name,
                t.family,
                Text("yes", style="green") if covered else Text("NO", style="bold red"),
            )
        _console().print(table)
    if uncovered:
        raise UncoveredError(str(CoverageError(uncovered)))


@cli.command()
@_json_option
def families(as_json: bool) -> None:
    """The registered families, their risk and the plugin that registered each."""
    registry = Registry.default()
    catalog = registry.catalog()
    rows: list[dict[str, Any]] = []
    for name, family in sorted(registry.families().items()):
        rows.append(
            {
                "name": name,
                "risk": str(family.risk),
                "plugin": registry.plugin_of(name),
                "repeatable": is_repeatable(family),
                "state_kinds": sorted(family.state_kinds),
                "types": [t.name for t in catalog.inventory() if t.family == name],
                "description": family.description,
            }
        )
    if as_json:
        _emit_json({"schema": f"runactionability.families/{SCHEMA_VERSION}", "families": rows})
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("family", "risk", "plugin", "retry", "state kinds", "types"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["name"],
            Text(row["risk"], style="bold yellow" if row["risk"] == "high" else ""),
            row["plugin"],
            "yes" if row["repeatable"] else "no",
            ", ".join(row["state_kinds"]) or "-",
            ", ".join(row["types"]),
        )
    _console().print(table)


@cli.command()
@click.option(
    "--database",
    default=DEFAULT_DATABASE,
    show_default=True,
    help="Where to create the demo: a SQLite file path or a database URL.",
)
@click.option(
    "--size",
    type=click.Choice([size.value for size in Size]),
    default=Size.FULL.value,
    show_default=True,
    help="full: a few thousand runs over 30 days; small: a few hundred over 3 days.",
)
@_json_option
def demo(database: str, size: str, as_json: bool) -> None:
    """Create the demo database and show a raw reading beside current actionability."""
    data = generate(Size(size))
    engine = _engine(database, must_exist=False)
    try:
        with _progress(not as_json, "Loading the demo history"):
            replaced = load(engine, data)
            backend = open_backend(engine)
            resolver = Resolver(history=backend.history, states=backend.states)
            scopes = VisibleScopes(sorted({str(run.workspace_id) for run in data.runs}))
            runs = read_runs(backend.runs, scopes.query())
            items = assess(resolver, runs, scopes=scopes, as_of=data.as_of)
    finally:
        engine.dispose()
    comparison = compare(data, items)
    location = str(Path(database).resolve()) if "://" not in database else database
    if as_json:
        _emit_json(
            {
                **_header("demo", data.as_of),
                "database": location,
                "replaced": replaced,
                "seed": data.seed,
                "size": str(data.size),
                "runs": len(data.runs),
                "states": len(data.states),
                "raw": {
                    "needs_attention": comparison.raw_needs_attention,
                    "by_outcome": dict(comparison.raw_counts),
                },
                "actionability": _counts_json(comparison.counts),
                "headlines": [
                    {
                        "case": str(case),
                        "title": HEADLINE_TITLES[case],
                        "run": _run_json(item),
                        "success_elsewhere": (
                            None
                            if case not in comparison.elsewhere
                            else comparison.elsewhere[case].id
                        ),
                    }
                    for case, item in comparison.headlines
                ],
            }
        )
        return
    _render_demo(_console(), comparison, data, location, replaced, database)


def _render_demo(
    console: Console,
    comparison: Comparison,
    data: DemoData,
    location: str,
    replaced: bool,
    database: str,
) -> None:
    verb = "Recreated" if replaced else "Created"
    console.print(
        f"[bold]{verb}[/bold] the demo database [bold]{location}[/bold]: {len(data.runs)} runs and "
        f"{len(data.states)} current states in {len({r.workspace_id for r in data.runs})} "
        f"workspaces, evaluated as of {_stamp(data.as_of)}."
    )
    raw = Table(title='Raw reading: "the run failed"', box=box.SIMPLE_HEAD, title_justify="left")
    raw.add_column("stored outcome")
    raw.add_column("runs", justify="right")
    for label, count in comparison.raw_counts.items():
        style = "bold red" if label in {"failed", "blocked", "partially_succeeded"} else ""
        raw.add_row(Text(label, style=style), str(count))
    raw.add_row(
        Text("needs attention", style="bold"),
        Text(str(comparison.raw_needs_attention), style="bold red"),
    )
    current = Table(
        title="Actionability: needs attention now", box=box.SIMPLE_HEAD, title_justify="left"
    )
    current.add_column("status")
    current.add_column("runs", justify="right")
    for status in Actionability:
        current.add_row(_status_text(status), str(comparison.counts.by_status[status]))
    current.add_row(
        Text("needs attention", style="bold"),
        Text(str(comparison.counts.needs_attention), style="bold red"),
    )
    side = Table.grid(padding=(0, 4))
    side.add_row(raw, current)
    console.print(side)
    for case, item in comparison.headlines:
        run = item.run
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        grid.add_row(
            "run", f"{run.id}  {run.type} in {_scope_label(run.workspace_id, run.environment_id)}"
        )
        grid.add_row("raw reading", Text(f"{run.outcome}: on the follow-up list", style="red"))
        grid.add_row("actionability", _status_text(item.status))
        grid.add_row("why", item.result.explanation)
        grid.add_row("proof", _proof_lines(item.result.proof))
        grid.add_row("action", _action_label(item.primary_action))
        other = comparison.elsewhere.get(case)
        if other is not None:
            grid.add_row(
                "not evidence",
                f"run {other.id} ({other.type}) succeeded in "
                f"{_scope_label(other.workspace_id, other.environment_id)} at "
                f"{_stamp(other.completed_at)}: another workspace, so it proves nothing here",
            )
        console.print(Panel(grid, title=HEADLINE_TITLES[case], title_align="left"))
    option = "" if database == DEFAULT_DATABASE else f" --database {database}"
    loop = dict(comparison.headlines).get(next(iter(HEADLINE_TITLES)))
    console.print("Next:")
    console.print(f"  runactionability report{option}")
    if loop is not None:
        console.print(f"  runactionability explain {loop.run_id}{option}")
    console.print(f"  runactionability list --current-follow-up{option}")


def main() -> NoReturn:
    """The console script's entry point."""
    cli(prog_name="runactionability")
    raise SystemExit(0)
