"""Rendering messages at the edge: one ``Renderer`` per locale and time zone, cached text."""

from __future__ import annotations

import gettext
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal

from runactionability.errors import UnknownLocaleWarning, UsageError
from runactionability.i18n.catalogs import SHIPPED, MessageCatalogs, chain, parse_locale
from runactionability.messages import COUNT, Listing, Message, Param

DEFAULT_LOCALE = "en"
_ENGLISH = Locale("en")
# A long-lived service renders many distinct sentences (each names its runs and instants);
# the cache is dropped whole when it grows past this, which a screen never reaches.
_CACHE_LIMIT = 20_000
_LIST_STYLES: dict[str, Literal["or", "standard"]] = {"or": "or", "and": "standard"}


def time_zone_of(name: str | tzinfo | None) -> tzinfo:
    """The zone instants are shown in: an IANA name or a tzinfo (None: UTC)."""
    if name is None:
        return UTC
    if isinstance(name, tzinfo):
        return name
    if not isinstance(name, str):
        raise UsageError(f"time_zone must be an IANA name or a tzinfo, not {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # ZoneInfo opens the name as a file under tzdata: a folder of zones ("Europe") or a
        # name too long for a file is an OSError, and is no more a zone than "Mars/Phobos".
        raise UsageError(f"{name!r} is not an IANA time zone (e.g. 'Europe/Berlin')") from exc


def locale_asked(locale: str | None) -> str:
    """The tag a renderer of ``locale`` looks up (None: English). Any text is a tag: one with no
    catalog is English, with a warning, when the renderer is made."""
    asked = DEFAULT_LOCALE if locale is None else locale
    if not isinstance(asked, str):
        raise UsageError(f"locale must be a language tag ('de', 'de-CH'), not {asked!r}")
    return asked


class Renderer:
    """Renders messages for one locale and time zone, from a chain of catalogs.

    ``catalogs`` are asked first to last, and the shipped catalogs after them: a host's override
    first, then plugins' catalogs. A locale with no catalog in the chain (or unknown to CLDR) is
    rendered in English, with one ``UnknownLocaleWarning`` when the renderer is made. Instants
    are shown in ``time_zone`` (default UTC); counts, lists and durations per the locale.
    A renderer is cheap to share: it only caches what it rendered.
    """

    def __init__(
        self,
        locale: str | None = None,
        *,
        time_zone: str | tzinfo | None = None,
        catalogs: Sequence[MessageCatalogs] = (),
    ) -> None:
        self.time_zone = time_zone_of(time_zone)
        asked = locale_asked(locale)
        parsed = parse_locale(asked)
        translations = None if parsed is None else chain(parsed, (*catalogs, SHIPPED))
        if parsed is None or translations is None:
            warnings.warn(
                f"no message catalog for locale {asked!r}; showing English",
                UnknownLocaleWarning,
                stacklevel=2,
            )
            parsed = _ENGLISH
            translations = chain(_ENGLISH, (*catalogs, SHIPPED))
        self.locale: Locale = parsed
        self._translations = translations or gettext.NullTranslations()
        self._names = _names_by_id(self._translations)
        self._cache: dict[Message, str] = {}

    @property
    def language(self) -> str:
        """The locale rendered, as a tag (``de``, ``de_CH``)."""
        return str(self.locale)

    def render(self, message: Message) -> str:
        """``message`` in this renderer's locale, its parameters formatted."""
        text = self._cache.get(message)
        if text is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            text = self._cache[message] = self._render(message)
        return text

    __call__ = render

    def _render(self, message: Message) -> str:
        source = message.text
        if message.plural is None:
            template = self._translations.pgettext(message.id, message.text)
            if template is message.text and not message.params:
                # A display name is keyed by its id alone: a type's English text is its label
                # where the catalog knows it, its stored name where a fact names it.
                template = self._names.get(message.id, template)
        else:
            count = dict(message.params).get(COUNT, 0)
            number = count if isinstance(count, int) else 0
            template = self._translations.npgettext(
                message.id, message.text, message.plural, number
            )
            if number != 1:
                source = message.plural
        values = {name: self.value(value) for name, value in message.params}
        try:
            return template.format_map(values)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError):
            # A host's or plugin's catalog entry with a placeholder the message lacks (or an
            # attribute or index of one): the English source is always consistent (the
            # catalog tests check every shipped entry, and display names escape their braces).
            return source.format_map(values)

    def value(self, value: Param) -> str:
        """One parameter as this locale shows it."""
        if isinstance(value, Message):
            return self.render(value)
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return format_decimal(value, locale=self.locale)
        if isinstance(value, datetime):
            return self.instant(value)
        if isinstance(value, timedelta):
            return format_timedelta(value, locale=self.locale)
        if isinstance(value, Listing):
            items = [self.value(item) for item in value.items]
            return format_list(items, style=_LIST_STYLES[value.style], locale=self.locale)
        return str(value)

    def instant(self, value: datetime, format: str = "long") -> str:
        """An aware instant in this renderer's zone and locale (Babel's ``format``: short,
        medium, long); a naive one is shown as stored, ISO-8601."""
        if value.utcoffset() is None:
            return value.isoformat()
        return format_datetime(value, format, tzinfo=self.time_zone, locale=self.locale)

    def number(self, value: int) -> str:
        """A count in this locale."""
        return format_decimal(value, locale=self.locale)


def _names_by_id(translations: gettext.NullTranslations) -> dict[str, str]:
    """Every singular entry of the chain by its context alone, the first catalog's winning."""
    names: dict[str, str] = {}
    current: gettext.NullTranslations | None = translations
    while current is not None:
        # GNUTranslations keeps a context's entries under "context\x04msgid".
        entries = getattr(current, "_catalog", {})
        for key, value in entries.items():
            if isinstance(key, str) and "\x04" in key:
                names.setdefault(key.split("\x04", 1)[0], value)
        current = getattr(current, "_fallback", None)
    return names
