"""``runactionability guard``: report every place a host's code reads raw follow-up.

One line per finding (``file:line:column``), then exit 4 when there is any, so CI can gate on
it. The rules come from the options, else from the ``[guard]`` table of the configuration, else
the defaults of ``runactionability.testing.guard``; options replace the table's entry of the
same name rather than adding to it.
"""

from __future__ import annotations

import attrs
import click

from runactionability.cli._app import (
    SCHEMA_VERSION,
    CliUsageError,
    FindingsError,
    cli,
    config_option,
    json_option,
)
from runactionability.cli._output import emit_json, stdout_console
from runactionability.cli._session import cli_config, cli_renderer
from runactionability.errors import ConfigurationError
from runactionability.i18n import Renderer
from runactionability.messages import msg
from runactionability.registry import Registry
from runactionability.testing.guard import GuardFinding, GuardRules, scan


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--attribute",
    "attributes",
    multiple=True,
    help="An attribute that holds raw follow-up, e.g. terminal_follow_up (repeatable).",
)
@click.option(
    "--predicate",
    "predicates",
    multiple=True,
    help='A raw comparison in Python, e.g. \'outcome in ("failed", "blocked")\' (repeatable).',
)
@click.option(
    "--allow",
    "allowed",
    multiple=True,
    help="Where raw reads are allowed: PATH-GLOB, PATH-GLOB::FUNCTION or ::FUNCTION (repeatable).",
)
@config_option
@json_option
def guard(
    paths: tuple[str, ...],
    attributes: tuple[str, ...],
    predicates: tuple[str, ...],
    allowed: tuple[str, ...],
    config_path: str | None,
    as_json: bool,
) -> None:
    """Check that no screen's code reads raw follow-up.

    Reports every read under PATH outside the allowed places and exits 4 if there is one. PATH
    defaults to the configuration's [guard] paths.
    """
    config = cli_config(config_path)
    table = config.guard
    given = {"attributes": attributes, "predicates": predicates, "allowed": allowed}
    table = attrs.evolve(table, **{key: list(value) for key, value in given.items() if value})
    try:
        rules = table.rules()
    except ConfigurationError as exc:
        raise CliUsageError(str(exc).removeprefix("[guard]: ")) from None
    targets = list(paths) or table.paths
    if not targets:
        raise CliUsageError("name a PATH to check, or paths in the configuration's [guard] table")
    try:
        findings = scan(targets, rules)
    except FileNotFoundError as exc:
        raise CliUsageError(str(exc)) from None
    if as_json:
        emit_json(_document(rules, findings))
    else:
        _print(findings, cli_renderer(config, Registry.default()))
    if findings:
        count = len(findings)
        raise FindingsError(f"{count} raw follow-up read{'' if count == 1 else 's'}")


def _document(rules: GuardRules, findings: list[GuardFinding]) -> dict[str, object]:
    return {
        "schema": f"runactionability.guard/{SCHEMA_VERSION}",
        "passed": not findings,
        "attributes": sorted(rules.checked_attributes),
        "predicates": [predicate.text for predicate in rules.checked_predicates],
        "allowed": list(rules.allowed),
        "findings": [attrs.asdict(finding) for finding in findings],
    }


def _print(findings: list[GuardFinding], r: Renderer) -> None:
    console = stdout_console()
    if not findings:
        console.print(r.render(msg("cli.guard.passed", "No raw follow-up read found.")))
    for finding in findings:
        # One finding, one line however long: editors and CI annotate file:line:column.
        console.print(str(finding), soft_wrap=True, markup=False)
