"""The ``runactionability`` console script: the command line, or one line saying what to install.

The command line needs click and rich, which only the ``cli`` extra installs. Importing
``runactionability.cli`` without them would end the script in a traceback; this module imports it
inside ``main`` so that a missing extra is one line on stderr and exit code 1 instead.
"""

from __future__ import annotations

import sys
from typing import NoReturn

# What the ``cli`` extra installs (pyproject.toml); any other missing module is a real bug and
# keeps its traceback.
CLI_EXTRA = frozenset({"click", "rich"})
EXIT_ERROR = 1


def main() -> NoReturn:
    """Run the command line, or say in one line that the ``cli`` extra is missing."""
    try:
        from runactionability.cli import main as cli_main
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in CLI_EXTRA:
            raise
        print(
            f"runactionability: error: the command line needs {exc.name}: "
            "install runactionability[cli]",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_ERROR) from None
    cli_main()
