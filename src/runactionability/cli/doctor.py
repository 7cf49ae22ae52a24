"""``runactionability doctor``: does the mapping read the database as the host means it?

One line per finding of ``check`` (errors first, each with its fix), then exit 4 when any is an
error, so a deploy step or CI job can gate on it.
"""

from __future__ import annotations

import click
from rich.text import Text

from runactionability.adapters.sqlalchemy import DEFAULT_SAMPLE, check
from runactionability.cli._app import (
    SCHEMA_VERSION,
    FindingsError,
    cli,
    database_option,
    evaluation_options,
    json_option,
)
from runactionability.cli._output import emit_json, stdout_console, visible
from runactionability.cli._session import (
    as_of_of,
    cli_config,
    cli_renderer,
    database_of,
    engine_for,
    given_as_of,
)
from runactionability.findings import CheckReport, Severity
from runactionability.i18n import Renderer
from runactionability.jsonforms import to_json
from runactionability.messages import Message, msg, msgn
from runactionability.registry import Registry
from runactionability.service.configured import check_state_kinds

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}
_SEVERITIES: dict[Severity, Message] = {
    Severity.ERROR: msg("cli.doctor.severity_error", "error"),
    Severity.WARNING: msg("cli.doctor.severity_warning", "warning"),
    Severity.INFO: msg("cli.doctor.severity_info", "info"),
}


@cli.command()
@database_option
@evaluation_options
@click.option(
    "--sample",
    default=DEFAULT_SAMPLE,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="How many of the newest runs to read and judge.",
)
@json_option
def doctor(
    database: str | None,
    config_path: str | None,
    as_of_text: str | None,
    catalog_path: str | None,
    sample: int,
    as_json: bool,
) -> None:
    """Check that the mapping reads the database's tables as they are.

    The mapping is the configuration's (--config), else the reference schema's. Prints one line
    per finding with its fix, and exits 4 when any finding is an error.
    """
    given = given_as_of(as_of_text)
    config = cli_config(config_path, catalog_path)
    registry = Registry.default()
    check_state_kinds(config, registry)
    engine = engine_for(database_of(config, database), must_exist=True)
    try:
        report = check(
            engine,
            config.run_mapping(engine),
            states=config.state_mappings(engine),
            registry=registry,
            catalog=config.operation_catalog(registry),
            sample=sample,
            as_of=as_of_of(engine, given),
        )
    finally:
        engine.dispose()
    if as_json:
        emit_json({"schema": f"runactionability.doctor/{SCHEMA_VERSION}", **to_json(report)})
    else:
        _print(report, cli_renderer(config, registry))
    if not report.passed:
        count = len(report.errors)
        raise FindingsError(f"{_count(count, 'error finding')}; see the fixes above")


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _print(report: CheckReport, r: Renderer) -> None:
    # The findings' own words stay English (docs/decisions.md): codes and details are for the
    # developer who maps the tables; the summary and the labels are for whoever runs the check.
    console = stdout_console()
    summary = msg(
        "cli.doctor.summary",
        "Checked {table} on {dialect}: {runs}, {sampled} sampled; {errors}, {warnings}",
        table=report.table,
        dialect=report.dialect,
        runs=msgn("cli.doctor.runs", "{count} run", "{count} runs", count=report.total_runs),
        sampled=report.sampled,
        errors=msgn(
            "cli.doctor.errors", "{count} error", "{count} errors", count=len(report.errors)
        ),
        warnings=msgn(
            "cli.doctor.warnings", "{count} warning", "{count} warnings", count=len(report.warnings)
        ),
    )
    console.print(r.render(summary), markup=False)
    labels = {severity: r.render(label) for severity, label in _SEVERITIES.items()}
    width = max(len(label) for label in labels.values()) + 1
    fix = r.render(msg("cli.doctor.fix", "fix:"))
    for finding in report.findings:
        line = Text()
        line.append(f"{labels[finding.severity]:<{width}}", style=_STYLES[finding.severity])
        line.append(f"{finding.code}: ", style="bold")
        line.append(visible(finding.message))
        # One finding, one line (and its fix on the next), however long: a log keeps it whole.
        console.print(line, soft_wrap=True)
        if finding.fix is not None:
            console.print(Text(visible(f"{'':{width}}{fix} {finding.fix}")), soft_wrap=True)
