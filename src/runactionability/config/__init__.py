"""One configuration file for a host: the database, its tables, the catalog, the locale.

``load_config`` reads ``runactionability.toml`` (or the ``[tool.runactionability]`` table of a
``pyproject.toml``) into a typed ``Config``; ``ActionabilityService.from_config`` and every CLI
command (``--config FILE``) read the same file. ``docs/configuration.md`` shows a complete one.

The file is checked whole when it is loaded: an unknown key, a value of the wrong type, a mapping
the adapter would refuse (a bad identifier, a vocabulary without a completed success) is a
``ConfigurationError`` that names the file and the key. Only what needs the database (reflecting
a table's column types) waits for it.
"""

from runactionability.config.reading import CONFIG_FILE, load_config
from runactionability.config.values import (
    REGISTRY_CATALOG,
    Config,
    GuardConfig,
    RunsConfig,
    StateConfig,
    canonical_locale,
)

__all__ = [
    "CONFIG_FILE",
    "REGISTRY_CATALOG",
    "Config",
    "GuardConfig",
    "RunsConfig",
    "StateConfig",
    "canonical_locale",
    "load_config",
]
