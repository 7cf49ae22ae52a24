"""The validators and converters of the mapping fields: identifiers, vocabularies, filters.

Identifiers are checked when a mapping is built, so a typo or a hostile string fails at
configuration time rather than as a confusing database error mid-batch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.errors import ConfigurationError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def identifier(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
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


def as_filters(value: Mapping[str, str | int]) -> Mapping[str, str | int]:
    for column, wanted in value.items():
        if not isinstance(column, str) or not _IDENTIFIER.fullmatch(column):
            raise ConfigurationError(
                f"StateTableMapping.where keys must be SQL identifiers, not {column!r}"
            )
        if isinstance(wanted, bool) or not isinstance(wanted, str | int):
            raise ConfigurationError(
                f"StateTableMapping.where[{column!r}] must be a str or an int, not {wanted!r}"
            )
    return MappingProxyType(dict(value))
