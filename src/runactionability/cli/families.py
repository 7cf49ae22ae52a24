"""``runactionability families``: the registered families, their risk, plugin and types."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from runactionability.catalog import OperationCatalog
from runactionability.cli._app import SCHEMA_VERSION, cli, config_option, json_option
from runactionability.cli._coverage_report import coverage_report
from runactionability.cli._output import emit_json, stdout_console
from runactionability.cli._session import cli_config, cli_renderer
from runactionability.cli._shapes import yes_no
from runactionability.consumers import is_repeatable
from runactionability.i18n import Renderer
from runactionability.messages import msg
from runactionability.registry import Registry
from runactionability.terms import risk_name, state_kind_name


@cli.command()
@config_option
@json_option
def families(config_path: str | None, as_json: bool) -> None:
    """List the registered families, their risk and the plugin of each.

    Also shows whether their runs may be retried, the state kinds they read and their types.
    """
    registry = Registry.default()
    config = cli_config(config_path)
    rows = _family_rows(registry, config.operation_catalog(registry))
    if as_json:
        emit_json({"schema": f"runactionability.families/{SCHEMA_VERSION}", "families": rows})
    else:
        stdout_console().print(_families_table(rows, cli_renderer(config, registry)))


def _family_rows(registry: Registry, catalog: OperationCatalog) -> list[dict[str, Any]]:
    report = coverage_report(registry, catalog)
    return [
        {
            "name": name,
            "risk": str(family.risk),
            "plugin": registry.plugin_of(name),
            "repeatable": is_repeatable(family),
            "state_kinds": sorted(family.state_kinds),
            "types": report.types_of(name),
            "classes": {row.name: row.type_class for row in report.types if row.family == name},
            "description": family.description,
        }
        for name, family in sorted(registry.families().items())
    ]


_COLUMNS = (
    msg("cli.families.column_family", "family"),
    msg("cli.families.column_risk", "risk"),
    msg("cli.families.column_plugin", "plugin"),
    msg("cli.families.column_retry", "retry"),
    msg("cli.families.column_state_kinds", "state kinds"),
    msg("cli.families.column_types", "types"),
)


def _families_table(rows: list[dict[str, Any]], r: Renderer) -> Table:
    # Family, plugin and type names stay as stored: an operator types them back into a catalog.
    table = Table(box=box.SIMPLE_HEAD)
    for column in _COLUMNS:
        table.add_column(r.render(column))
    for row in rows:
        table.add_row(
            row["name"],
            Text(
                r.render(risk_name(row["risk"])),
                style="bold yellow" if row["risk"] == "high" else "",
            ),
            row["plugin"],
            r.render(yes_no(row["repeatable"])),
            ", ".join(r.render(state_kind_name(kind)) for kind in row["state_kinds"]) or "-",
            ", ".join(row["types"]),
        )
    return table
