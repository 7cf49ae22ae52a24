"""The ``runactionability`` command line: the demo, the dashboard report, listings, explanations,
the doctor of a database's mapping and the raw-follow-up guard of a host's code.

Every command reads a database through the SQL adapter (the demo's SQLite file by default), takes
the actor's scopes with ``--workspace``/``--environment``, and prints either rich text or, with
``--json``, one JSON document whose schema ``docs/cli.md`` documents. Errors are one line on
stderr and a non-zero exit code; ``--debug`` shows the traceback instead.

One module per command registers it on the group in ``_app``; ``_session`` opens what a reading
command reads, ``_output`` writes, ``_shapes`` holds what several commands print, and
``_coverage_report`` is the one per-type report ``coverage`` and ``families`` share.
"""

from __future__ import annotations

from typing import NoReturn

# Each command module registers its command on ``cli`` when imported.
from runactionability.cli import (
    changes,
    coverage,
    demo,
    doctor,
    explain,
    families,
    guard,
    listing,
    report,
)
from runactionability.cli._app import (
    DEFAULT_DATABASE,
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_UNCOVERED,
    EXIT_USAGE,
    SCHEMA_VERSION,
    CliError,
    CliUsageError,
    FindingsError,
    UncoveredError,
    cli,
)

__all__ = [
    "DEFAULT_DATABASE",
    "EXIT_ERROR",
    "EXIT_FINDINGS",
    "EXIT_INTERRUPTED",
    "EXIT_UNCOVERED",
    "EXIT_USAGE",
    "SCHEMA_VERSION",
    "CliError",
    "CliUsageError",
    "FindingsError",
    "UncoveredError",
    "changes",
    "cli",
    "coverage",
    "demo",
    "doctor",
    "explain",
    "families",
    "guard",
    "listing",
    "main",
    "report",
]


def main() -> NoReturn:
    """The console script's entry point."""
    cli(prog_name="runactionability")
    raise SystemExit(0)
