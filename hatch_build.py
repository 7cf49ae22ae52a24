"""The build hook that compiles the shipped message catalogs (``.po`` -> ``.mo``) with Babel.

Hatchling runs it for every wheel, editable ones included, so the compiled catalogs sit beside
their sources in ``src/`` (where an editable install reads them) and are added to the wheel as
artifacts (they are not committed). The library never compiles a catalog itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LOCALE_DIR = Path("src") / "runactionability" / "i18n" / "locale"


def compile_catalogs(root: Path) -> list[Path]:
    """Compile every ``.po`` under the package's locale directory; return the ``.mo`` paths."""
    compiled = []
    for source in sorted((root / LOCALE_DIR).glob("*/LC_MESSAGES/*.po")):
        locale = source.parent.parent.name
        with source.open("rb") as stream:
            catalog = read_po(stream, locale=locale)
        target = source.with_suffix(".mo")
        with target.open("wb") as stream:
            write_mo(stream, catalog)
        compiled.append(target)
    return compiled


class MessageCatalogsHook(BuildHookInterface[Any]):
    """Compiles the catalogs before hatchling collects the package's files."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        for target in compile_catalogs(root):
            build_data["artifacts"].append(target.relative_to(root).as_posix())
