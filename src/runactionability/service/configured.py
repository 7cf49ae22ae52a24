"""What a configuration gives a service, shared by the sync and the async service."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from runactionability.config import Config
from runactionability.errors import ConfigurationError
from runactionability.registry import Registry
from runactionability.service.polling import DEFAULT_CHANGE_MARGIN


def configured(
    config: Config, registry: Registry, environ: Mapping[str, str] | None
) -> dict[str, Any]:
    """The service's arguments from ``config``, but for the bind and the tables' mappings."""
    check_state_kinds(config, registry)
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


def check_state_kinds(config: Config, registry: Registry) -> None:
    """Refuse a ``[states.KIND]`` section that no family of ``registry`` reads."""
    # A section for a kind no family reads is a misspelt kind (or a missing plugin): its table
    # would never be read and the kind meant would quietly lack its state, so it is refused.
    read = {kind for family in registry.families().values() for kind in family.state_kinds}
    unread = sorted(set(config.states) - read)
    if not unread:
        return
    hints = []
    for kind in unread:
        close = difflib.get_close_matches(kind, sorted(read), n=1)
        hints.append(f"[states.{kind}]" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ConfigurationError(
        f"{config.source or 'the configuration'}: no registered family reads the state kind of "
        + ", ".join(hints)
        + "; the kinds read are "
        + ", ".join(sorted(read))
        + " (a plugin's kind needs its plugin installed)"
    )
