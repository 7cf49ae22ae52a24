"""Message catalogs and rendering: what a ``Message`` reads like in a locale and a time zone.

The library's catalogs (English and German) ship compiled in the package. A plugin family adds
its own through the ``runactionability_message_catalogs`` hook; a host overrides any message with
its own catalog directory. ``Renderer`` renders for one locale and zone; ``english`` is what
``ActionabilityResult.explanation`` and the other English properties read.
"""

from __future__ import annotations

import warnings
from functools import cache

from runactionability.i18n.catalogs import (
    DOMAIN,
    SHIPPED,
    SHIPPED_LOCALES,
    MessageCatalogs,
    candidates,
    parse_locale,
)
from runactionability.i18n.render import DEFAULT_LOCALE, Renderer, locale_asked, time_zone_of
from runactionability.messages import Message

__all__ = [
    "DEFAULT_LOCALE",
    "DOMAIN",
    "SHIPPED",
    "SHIPPED_LOCALES",
    "MessageCatalogs",
    "Renderer",
    "candidates",
    "english",
    "english_renderer",
    "locale_asked",
    "parse_locale",
    "time_zone_of",
]


@cache
def english_renderer() -> Renderer:
    """The shared renderer of the English properties: shipped catalogs, UTC."""
    with warnings.catch_warnings():
        # English always has a catalog, or the install is broken and the sources show as they are.
        warnings.simplefilter("ignore")
        return Renderer(DEFAULT_LOCALE)


def english(message: Message) -> str:
    """``message`` in English, instants in UTC."""
    return english_renderer().render(message)
