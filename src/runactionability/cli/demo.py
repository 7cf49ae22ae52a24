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

from runactionability.adapters.sqlalchemy.backend import masked_url, redacted_url
from runactionability.cli._app import (
    DEFAULT_DATABASE,
    CliUsageError,
    cli,
    config_option,
    json_option,
)
from runactionability.cli._output import emit_json, progress, stdout_console
from runactionability.cli._session import cli_config, cli_renderer, database_of, engine_for
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
from runactionability.i18n import Renderer
from runactionability.messages import Message, msg, msgn
from runactionability.model import OperationRun
from runactionability.registry import Registry
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
    config = cli_config(config_path)
    database = database_of(config, database)
    r = cli_renderer(config, Registry.default())
    data = generate(Size(size))
    engine = engine_for(database, must_exist=False)
    try:
        with progress(not as_json, "Loading the demo history"):
            try:
                replaced = load(engine, data)
            except ConfigurationError as exc:
                raise CliUsageError(
                    f"--database {redacted_url(database)}: {exc}; name a new file or an earlier "
                    "demo database"
                ) from None
            service = ActionabilityService(engine)
            scopes = VisibleScopes(sorted({str(run.workspace_id) for run in data.runs}))
            with service.session(scopes=scopes, as_of=data.as_of) as session:
                items = every_assessment(session)
    finally:
        engine.dispose()
    comparison = compare(data, items)
    location = str(Path(database).resolve()) if "://" not in database else masked_url(database)
    if as_json:
        emit_json(_demo_json(comparison, data, location, replaced, r))
        return
    _render_demo(stdout_console(), comparison, data, location, replaced, database, r)


def _demo_json(
    comparison: Comparison, data: DemoData, location: str, replaced: bool, r: Renderer
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
                "title": r.render(HEADLINE_TITLES[case]),
                "run": run_json(item, r),
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
    r: Renderer,
) -> None:
    counts: dict[str, Message | str] = {
        "location": location,
        "runs": msgn("cli.demo.runs", "{count} run", "{count} runs", count=len(data.runs)),
        "states": msgn(
            "cli.demo.states",
            "{count} current state",
            "{count} current states",
            count=len(data.states),
        ),
        "workspaces": msgn(
            "cli.demo.workspaces",
            "{count} workspace",
            "{count} workspaces",
            count=len({run.workspace_id for run in data.runs}),
        ),
        "as_of": str(stamp(data.as_of)),
    }
    summary = (
        msg(
            "cli.demo.recreated",
            "Recreated the demo database {location}: {runs} and {states} in {workspaces}, "
            "evaluated as of {as_of}.",
            **counts,
        )
        if replaced
        else msg(
            "cli.demo.created",
            "Created the demo database {location}: {runs} and {states} in {workspaces}, "
            "evaluated as of {as_of}.",
            **counts,
        )
    )
    # One line whatever the path's length: a terminal wraps it, and a reader copies it.
    console.print(Text(r.render(summary)), soft_wrap=True)
    side = Table.grid(padding=(0, 4))
    side.add_row(_raw_table(comparison, r), _current_table(comparison, r))
    console.print(side)
    for case, item in comparison.headlines:
        panel = _headline(item, comparison.elsewhere.get(case), r)
        title = r.render(HEADLINE_TITLES[case])
        console.print(Panel(panel, title=Text(title), title_align="left"))
    _render_next(console, comparison, database, r)


def _needs_attention_row(table: Table, count: int, r: Renderer) -> None:
    table.add_row(
        Text(r.render(msg("cli.demo.needs_attention", "needs attention")), style="bold"),
        Text(str(count), style="bold red"),
    )


def _raw_table(comparison: Comparison, r: Renderer) -> Table:
    title = r.render(msg("cli.demo.raw_title", 'Raw reading: "the run failed"'))
    raw = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    raw.add_column(r.render(msg("cli.demo.column_stored_outcome", "stored outcome")))
    raw.add_column(r.render(msg("cli.demo.column_runs", "runs")), justify="right")
    # The stored outcomes are shown as stored: this column is what a raw reading reads.
    for label, count in comparison.raw_counts.items():
        style = "bold red" if label in {"failed", "blocked", "partially_succeeded"} else ""
        raw.add_row(Text(label, style=style), str(count))
    _needs_attention_row(raw, comparison.raw_needs_attention, r)
    return raw


def _current_table(comparison: Comparison, r: Renderer) -> Table:
    title = r.render(msg("cli.demo.current_title", "Actionability: needs attention now"))
    current = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    current.add_column(r.render(msg("cli.demo.column_status", "status")))
    current.add_column(r.render(msg("cli.demo.column_runs", "runs")), justify="right")
    for status in Actionability:
        current.add_row(status_text(status, r), str(comparison.counts.by_status[status]))
    _needs_attention_row(current, comparison.counts.needs_attention, r)
    return current


_LABELS: tuple[Message, ...] = (
    msg("cli.demo.label_run", "run"),
    msg("cli.demo.label_raw", "raw reading"),
    msg("cli.demo.label_actionability", "actionability"),
    msg("cli.demo.label_why", "why"),
    msg("cli.demo.label_proof", "proof"),
    msg("cli.demo.label_action", "action"),
)


def _headline(item: Assessment, other: OperationRun | None, r: Renderer) -> Table:
    run = item.run
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    labels = [r.render(label) for label in _LABELS]
    scope = scope_label(run.workspace_id, run.environment_id)
    raw = msg("cli.demo.raw_reading", "{outcome}: on the follow-up list", outcome=str(run.outcome))
    cells: tuple[str | Text, ...] = (
        r.render(
            msg(
                "cli.demo.run",
                "{run_id}  {type} in {scope}",
                run_id=str(run.id),
                type=str(run.type),
                scope=scope,
            )
        ),
        Text(r.render(raw), style="red"),
        status_text(item.status, r),
        r.render(item.result.message),
        proof_lines(item.result.proof, r),
        action_label(item.primary_action, r),
    )
    for label, cell in zip(labels, cells, strict=True):
        grid.add_row(label, cell if isinstance(cell, Text) else Text(cell))
    if other is not None:
        elsewhere = msg(
            "cli.demo.not_evidence",
            "run {run_id} ({type}) succeeded in {scope} at {completed_at}: another workspace, "
            "so it proves nothing here",
            run_id=str(other.id),
            type=str(other.type),
            scope=scope_label(other.workspace_id, other.environment_id),
            completed_at=str(stamp(other.completed_at)),
        )
        label = r.render(msg("cli.demo.label_not_evidence", "not evidence"))
        grid.add_row(label, Text(r.render(elsewhere)))
    return grid


def _render_next(console: Console, comparison: Comparison, database: str, r: Renderer) -> None:
    # The password is masked: the hint is printed where the password must not be.
    option = "" if database == DEFAULT_DATABASE else f" --database {masked_url(database)}"
    loop = dict(comparison.headlines).get(next(iter(HEADLINE_TITLES)))
    console.print(r.render(msg("cli.demo.next", "Next:")), markup=False)
    console.print(f"  runactionability report{option}", markup=False)
    if loop is not None:
        console.print(f"  runactionability explain {loop.run_id}{option}", markup=False)
    console.print(f"  runactionability list --current-follow-up{option}", markup=False)
