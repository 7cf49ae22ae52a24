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
from runactionability.cli._session import cli_config
from runactionability.consumers import is_repeatable
from runactionability.registry import Registry


@cli.command()
@config_option
@json_option
def families(config_path: str | None, as_json: bool) -> None:
    """List the registered families, their risk and the plugin of each.

    Also shows whether their runs may be retried, the state kinds they read and their types.
    """
    registry = Registry.default()
    rows = _family_rows(registry, cli_config(config_path).operation_catalog(registry))
    if as_json:
        emit_json({"schema": f"runactionability.families/{SCHEMA_VERSION}", "families": rows})
    else:
        stdout_console().print(_families_table(rows))


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


def _families_table(rows: list[dict[str, Any]]) -> Table:
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
    return table
