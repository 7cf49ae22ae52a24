"""What a host's stored status, outcome and lifecycle values mean to the library.

``RunTableMapping`` reads its vocabularies through these; an unlisted value becomes an
``UnmappedValue``, which the core flags rather than guessing a meaning for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from runactionability.errors import ConfigurationError
from runactionability.model import RunOutcome, RunStatus, UnmappedValue


def as_status_vocabulary(value: Mapping[str, RunStatus | str]) -> Mapping[str, RunStatus]:
    return MappingProxyType({str(key): RunStatus(status) for key, status in value.items()})


def as_outcome_vocabulary(value: Mapping[str, RunOutcome | str]) -> Mapping[str, RunOutcome]:
    return MappingProxyType({str(key): RunOutcome(outcome) for key, outcome in value.items()})


def values_of(vocabulary: Mapping[str, Any], meaning: object) -> tuple[str, ...]:
    return tuple(sorted(value for value, known in vocabulary.items() if known == meaning))


Lifecycle = tuple[RunStatus, RunOutcome | None]
"""What one stored lifecycle value means: a status, and the outcome (None: no outcome yet)."""


def as_lifecycles(value: Mapping[str, Any]) -> Mapping[str, Lifecycle]:
    lifecycles: dict[str, Lifecycle] = {}
    for stored, pair in value.items():
        try:
            status, outcome = pair
            meaning = (RunStatus(status), None if outcome is None else RunOutcome(outcome))
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"RunTableMapping.lifecycles[{stored!r}] must be a (status, outcome) pair of the "
                f"library's words (outcome None for no outcome yet), not {pair!r}"
            ) from None
        lifecycles[str(stored)] = meaning
    return MappingProxyType(lifecycles)


def lifecycle_problem(stored: str, status: RunStatus, outcome: RunOutcome | None) -> str | None:
    if status is RunStatus.COMPLETED and outcome is None:
        return f"{stored!r} means completed but names no outcome"
    if status is not RunStatus.COMPLETED and outcome is not None:
        return f"{stored!r} means {status.value} yet names the outcome {outcome.value!r}"
    return None


LIBRARY_STATUSES: Mapping[str, RunStatus] = {status.value: status for status in RunStatus}
LIBRARY_OUTCOMES: Mapping[str, RunOutcome] = {outcome.value: outcome for outcome in RunOutcome}


def read_vocabulary(
    stored: object, vocabulary: Mapping[str, Any], library: Mapping[str, Any]
) -> object:
    """What ``stored`` means under ``vocabulary`` (``library``: the library's own words)."""
    if not isinstance(stored, str):
        return stored
    known = vocabulary.get(stored)
    if known is not None:
        return known
    # Under the library's own vocabulary an unlisted text is no library word, so it is passed
    # as stored; under a host vocabulary it could be one, and must not be read as it.
    return stored if vocabulary == library else UnmappedValue(stored)


VALUE_TYPES = ("text", "collated_text", "integer")
"""What a vocabulary column holds: text under a byte-exact collation; text under a collation that
calls distinct texts equal (matched byte for byte all the same, at a cost); or integers, whose
vocabulary keys are their decimal text (``{1: "healthy"}`` and TOML's ``{"1" = "healthy"}``)."""


def stored_key(stored: object, value_type: str) -> object:
    """The vocabulary key of a stored value: an integer column's integer as its decimal text
    (the readers get it so from any statement, typed or not), anything else as stored."""
    if value_type == "integer" and isinstance(stored, int) and not isinstance(stored, bool):
        return str(stored)
    return stored


def check_keys(
    owner: str, column: str, value_type: str, keys: Iterable[str], stored_as: str = "integer"
) -> None:
    """Refuse a key an integer column can never hold: no row would ever be read as it.

    ``stored_as`` describes the column's type for the message (its reflected SQL type).
    """
    if value_type != "integer":
        return
    for key in keys:
        try:
            canonical = str(int(key)) == key
        except ValueError:
            canonical = False
        if not canonical:
            raise ConfigurationError(
                f"{owner}: column {column!r} is {stored_as}, so each stored value it maps "
                f"must be an integer such as 1 or '1', not {key!r}: map each integer it stores"
            )
