"""``runactionability coverage``: every catalog type maps to a registered family, or exit 3."""

from __future__ import annotations

from typing import Any

import click
from rich import box
from rich.table import Table
from rich.text import Text

from runactionability.cli._app import (
    SCHEMA_VERSION,
    UncoveredError,
    cli,
    config_option,
    json_option,
)
from runactionability.cli._coverage_report import CoverageReport, coverage_report
from runactionability.cli._output import emit_json, stdout_console
from runactionability.cli._session import cli_config, cli_renderer
from runactionability.cli._shapes import yes_no
from runactionability.errors import CoverageError
from runactionability.i18n import Renderer
from runactionability.messages import msg
from runactionability.registry import Registry


@cli.command()
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False),
    help="An operation catalog TOML file (default: the configuration's, else the registered "
    "types, as every other command reads).",
)
@config_option
@json_option
def coverage(catalog_path: str | None, config_path: str | None, as_json: bool) -> None:
    """Check that every type of a catalog maps to a registered family.

    Prints each type with its family and class, and exits 3 when some type maps to none.
    """
    config = cli_config(config_path, catalog_path)
    registry = Registry.default()
    report = coverage_report(registry, config.operation_catalog(registry))
    label = catalog_path or config.catalog
    if as_json:
        emit_json(_coverage_json(report, label))
    else:
        stdout_console().print(_coverage_table(report, label, cli_renderer(config, registry)))
    if report.uncovered:
        uncovered = [(row.name, row.family) for row in report.uncovered]
        raise UncoveredError(str(CoverageError(uncovered)))


def _coverage_json(report: CoverageReport, label: str) -> dict[str, Any]:
    return {
        "schema": f"runactionability.coverage/{SCHEMA_VERSION}",
        "catalog": label,
        "types": [
            {
                "name": row.name,
                "family": row.family,
                "covered": row.covered,
                "class": row.type_class,
            }
            for row in report.types
        ],
        "uncovered": [{"name": row.name, "family": row.family} for row in report.uncovered],
    }


def _coverage_table(report: CoverageReport, label: str, r: Renderer) -> Table:
    title = r.render(msg("cli.coverage.title", "Catalog {catalog}", catalog=label))
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(r.render(msg("cli.coverage.column_type", "type")))
    table.add_column(r.render(msg("cli.coverage.column_family", "family")))
    table.add_column(r.render(msg("cli.coverage.column_covered", "covered")))
    table.add_column(r.render(msg("cli.coverage.column_class", "class")))
    for row in report.types:
        table.add_row(
            row.name,
            row.family,
            Text(r.render(yes_no(True)), style="green")
            if row.covered
            else Text(r.render(yes_no(False)).upper(), style="bold red"),
            # The class words are the documented vocabulary of TypeClass (docs/catalog.md).
            row.type_class
            if row.covered
            else r.render(msg("cli.coverage.no_family", "no family registered")),
        )
    return table
