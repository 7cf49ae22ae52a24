"""Where translations come from: the shipped catalogs, a plugin's, a host's override.

A catalog directory holds ``<locale>/LC_MESSAGES/<domain>.mo`` files, as gettext lays them out.
The shipped ones are compiled from their ``.po`` sources by the build (``hatch_build.py``, with
Babel); a plugin or a host may ship ``.po`` sources only, which Babel reads when no ``.mo`` is
beside them.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import attrs
from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from runactionability.errors import ConfigurationError

DOMAIN = "runactionability"
"""The gettext domain of the library's own messages."""

SHIPPED_DIRECTORY = Path(__file__).resolve().parent / "locale"
SHIPPED_LOCALES = ("de", "en")
"""The languages whose catalogs ship in the package."""
_ENDS = (".mo", ".po")


def _as_path(value: str | Path) -> Path:
    return Path(value)


@attrs.frozen
class MessageCatalogs:
    """A directory of gettext catalogs, ``<directory>/<locale>/LC_MESSAGES/<domain>.mo``.

    A plugin family returns one from ``runactionability_message_catalogs`` for its own messages;
    a host names one (``ActionabilityService(message_catalogs=...)``, or ``messages`` in the
    configuration) to override any message, the library's included. ``.po`` sources beside no
    ``.mo`` are read with Babel.
    """

    directory: Path = attrs.field(converter=_as_path)
    domain: str = DOMAIN
    # The shipped catalogs are compiled by the build; a missing .mo there is a broken install,
    # shown as English rather than papered over by compiling the source here.
    read_sources: bool = attrs.field(default=True, kw_only=True)

    def locales(self) -> frozenset[str]:
        """The locales this directory has a catalog for (``de``, ``de_CH``)."""
        if not self.directory.is_dir():
            return frozenset()
        return frozenset(
            entry.name
            for entry in self.directory.iterdir()
            if any((entry / "LC_MESSAGES" / f"{self.domain}{end}").is_file() for end in _ENDS)
        )

    def translations(self, candidates: Sequence[str]) -> gettext.GNUTranslations | None:
        """The catalog of the first of ``candidates`` (most specific first) this directory has."""
        for name in candidates:
            try:
                compiled = _compiled(self.directory, self.domain, name, self.read_sources)
                if compiled is not None:
                    # A fresh object each time: a chain links its catalogs through their
                    # fallbacks.
                    return gettext.GNUTranslations(io.BytesIO(compiled))
            except (OSError, ValueError, SyntaxError, LookupError) as exc:
                # A corrupt .mo or a bad Plural-Forms header: say which catalog, not an
                # unexpected error in whatever rendered first.
                folder = self.directory / name / "LC_MESSAGES"
                raise ConfigurationError(
                    f"the message catalog {self.domain!r} in {folder} cannot be read: {exc}"
                ) from exc
        return None


SHIPPED = MessageCatalogs(SHIPPED_DIRECTORY, read_sources=False)


@cache
def _compiled(directory: Path, domain: str, name: str, read_sources: bool) -> bytes | None:
    folder = directory / name / "LC_MESSAGES"
    compiled = folder / f"{domain}.mo"
    if compiled.is_file():
        return compiled.read_bytes()
    source = folder / f"{domain}.po"
    if not read_sources or not source.is_file():
        return None
    with source.open("rb") as stream:
        catalog = read_po(stream, locale=name, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def candidates(locale: Locale) -> tuple[str, ...]:
    """The catalog names to try for ``locale``, most specific first (``de_CH``, ``de``)."""
    names = [str(locale)]
    if locale.territory:
        names.append(f"{locale.language}_{locale.territory}")
    names.append(locale.language)
    return tuple(dict.fromkeys(names))


def parse_locale(tag: str) -> Locale | None:
    """``tag`` (``de``, ``de_DE``, ``de-CH``) as a Babel locale, or None when CLDR has none."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def chain(locale: Locale, catalogs: Iterable[MessageCatalogs]) -> gettext.NullTranslations | None:
    """The translations of ``locale`` from ``catalogs``, the first one asked first.

    None when no catalog has the locale's language.
    """
    names = candidates(locale)
    found = [t for catalog in catalogs if (t := catalog.translations(names)) is not None]
    if not found:
        return None
    first = found[0]
    for later in found[1:]:
        first.add_fallback(later)
    return first


def check_directory(catalogs: MessageCatalogs) -> MessageCatalogs:
    """``catalogs`` when its directory exists; a host naming a missing one is told at once."""
    if not catalogs.directory.is_dir():
        raise ConfigurationError(f"no message catalog directory at {str(catalogs.directory)!r}")
    return catalogs
