"""What a configuration gives a service, shared by the sync and the async service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from runactionability.config import Config
from runactionability.registry import Registry
from runactionability.service.polling import DEFAULT_CHANGE_MARGIN


def configured(
    config: Config, registry: Registry, environ: Mapping[str, str] | None
) -> dict[str, Any]:
    """The service's arguments from ``config``, but for the bind and the tables' mappings."""
    margin = config.change_margin_seconds
    return {
        "registry": registry,
        "catalog": config.operation_catalog(registry),
        "cursor_key": config.cursor_key(environ),
        "locale": config.locale,
        "time_zone": config.time_zone,
        "message_catalogs": () if config.messages is None else (config.messages,),
        "change_margin": DEFAULT_CHANGE_MARGIN if margin is None else timedelta(seconds=margin),
    }
