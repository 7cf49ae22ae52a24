"""``runactionability demo``: create the demo database, raw reading beside actionability."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runactionability.cli._app import (
    DEFAULT_DATABASE,
    CliUsageError,
    cli,
    config_option,
    json_option,
)
from runactionability.cli._output import emit_json, progress, stdout_console
from runactionability.cli._session import cli_config, database_of, engine_for
from runactionability.cli._shapes import (
    action_label,
    counts_json,
    header,
    proof_lines,
    run_json,
    scope_label,
    stamp,
    status_text,
)
from runactionability.consumers import Assessment, VisibleScopes
from runactionability.demo import (
    HEADLINE_TITLES,
    Comparison,
    DemoData,
    Size,
    compare,
    every_assessment,
    generate,
    load,
)
from runactionability.errors import ConfigurationError
from runactionability.model import OperationRun
from runactionability.result import Actionability
from runactionability.service import ActionabilityService


@cli.command()
@click.option(
    "--database",
    help="Where to create the demo: a SQLite file path or a database URL (overrides the "
    f"configuration's; default: {DEFAULT_DATABASE}).",
)
@config_option
@click.option(
    "--size",
    type=click.Choice([size.value for size in Size]),
    default=Size.FULL.value,
    show_default=True,
    help="How much history to load: full is a few thousand runs over 30 days, small a few "
    "hundred over 3 days.",
)
@json_option
def demo(database: str | None, config_path: str | None, size: str, as_json: bool) -> None:
    """Create the demo database and show what a raw reading gets wrong.

    Loads a fixed history into a new SQLite file (or an earlier demo database), then shows what
    a raw "the run failed" reading would flag beside what needs attention now.
    """
    database = database_of(cli_config(config_path), database)
    data = generate(Size(size))
    engine = engine_for(database, must_exist=False)
    try:
        with progress(not as_json, "Loading the demo history"):
            try:
                replaced = load(engine, data)
            except ConfigurationError as exc:
                raise CliUsageError(
                    f"--database {database!r}: {exc}; name a new file or an earlier demo database"
                ) from None
            service = ActionabilityService(engine)
            scopes = VisibleScopes(sorted({str(run.workspace_id) for run in data.runs}))
            with service.session(scopes=scopes, as_of=data.as_of) as session:
                items = every_assessment(session)
    finally:
        engine.dispose()
    comparison = compare(data, items)
    location = str(Path(database).resolve()) if "://" not in database else database
    if as_json:
        emit_json(_demo_json(comparison, data, location, replaced))
        return
    _render_demo(stdout_console(), comparison, data, location, replaced, database)


def _demo_json(
    comparison: Comparison, data: DemoData, location: str, replaced: bool
) -> dict[str, Any]:
    return {
        **header("demo", data.as_of),
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
        "actionability": counts_json(comparison.counts),
        "headlines": [
            {
                "case": str(case),
                "title": HEADLINE_TITLES[case],
                "run": run_json(item),
                "success_elsewhere": (
                    None if case not in comparison.elsewhere else comparison.elsewhere[case].id
                ),
            }
            for case, item in comparison.headlines
        ],
    }


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
        f"workspaces, evaluated as of {stamp(data.as_of)}.",
        # One line whatever the path's length: a terminal wraps it, and a reader copies it.
        soft_wrap=True,
    )
    side = Table.grid(padding=(0, 4))
    side.add_row(_raw_table(comparison), _current_table(comparison))
    console.print(side)
    for case, item in comparison.headlines:
        panel = _headline(item, comparison.elsewhere.get(case))
        console.print(Panel(panel, title=HEADLINE_TITLES[case], title_align="left"))
    _render_next(console, comparison, database)


def _raw_table(comparison: Comparison) -> Table:
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
    return raw


def _current_table(comparison: Comparison) -> Table:
    current = Table(
        title="Actionability: needs attention now", box=box.SIMPLE_HEAD, title_justify="left"
    )
    current.add_column("status")
    current.add_column("runs", justify="right")
    for status in Actionability:
        current.add_row(status_text(status), str(comparison.counts.by_status[status]))
    current.add_row(
        Text("needs attention", style="bold"),
        Text(str(comparison.counts.needs_attention), style="bold red"),
    )
    return current


def _headline(item: Assessment, other: OperationRun | None) -> Table:
    run = item.run
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        "run", f"{run.id}  {run.type} in {scope_label(run.workspace_id, run.environment_id)}"
    )
    grid.add_row("raw reading", Text(f"{run.outcome}: on the follow-up list", style="red"))
    grid.add_row("actionability", status_text(item.status))
    grid.add_row("why", item.result.explanation)
    grid.add_row("proof", proof_lines(item.result.proof))
    grid.add_row("action", action_label(item.primary_action))
    if other is not None:
        grid.add_row(
            "not evidence",
            f"run {other.id} ({other.type}) succeeded in "
            f"{scope_label(other.workspace_id, other.environment_id)} at "
            f"{stamp(other.completed_at)}: another workspace, so it proves nothing here",
        )
    return grid


def _render_next(console: Console, comparison: Comparison, database: str) -> None:
    option = "" if database == DEFAULT_DATABASE else f" --database {database}"
    loop = dict(comparison.headlines).get(next(iter(HEADLINE_TITLES)))
    console.print("Next:")
    console.print(f"  runactionability report{option}")
    if loop is not None:
        console.print(f"  runactionability explain {loop.run_id}{option}")
    console.print(f"  runactionability list --current-follow-up{option}")
