"""The renderers a service shares across its sessions, one per locale and time zone."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from runactionability.i18n import MessageCatalogs, Renderer

_KEPT = 64  # a host passing Accept-Language through may name any number of tags


class Renderers:
    """One renderer per (locale, time zone), shared by every session: its cache then serves
    every request, and an unknown locale is warned about once, not once per request. At most
    64 are kept; past that the cache starts afresh."""

    def __init__(self, catalogs: Sequence[MessageCatalogs]) -> None:
        self._catalogs = tuple(catalogs)
        self._kept: dict[tuple[str | None, Any], Renderer] = {}
        self._lock = threading.Lock()

    def get(self, locale: str | None, time_zone: str | tzinfo | None) -> Renderer:
        key = (locale, time_zone)
        with self._lock:
            renderer = self._kept.get(key)
            if renderer is None:
                if len(self._kept) >= _KEPT:
                    self._kept.clear()
                renderer = Renderer(locale, time_zone=time_zone, catalogs=self._catalogs)
                self._kept[key] = renderer
        return renderer
