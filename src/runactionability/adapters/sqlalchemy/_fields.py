"""Validators and converters the mapping classes share."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.errors import ConfigurationError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def identifier(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be a SQL identifier (letters, "
            f"digits and underscores, not starting with a digit, at most 63 characters), "
            f"not {value!r}"
        )


optional_identifier: Any = attrs.validators.optional(identifier)


def frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


def as_instants(value: Instants | str) -> Instants:
    return value if isinstance(value, Instants) else Instants.parse(value)
