"""How the pushdown's calls fail: a bad ``as_of`` as a ``UsageError`` before any statement, a
database failure of its own statements as the ports' ``EvidenceFetchError``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import ParamSpec, TypeVar

import sqlalchemy as sa

from runactionability.errors import EvidenceFetchError, UsageError

KIND = "pushdown"
"""The evidence kind an ``EvidenceFetchError`` from the pushdown's own statements names."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _fetching(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Report a database failure of the pushdown's statements as the ports do.

    A host catches ``EvidenceFetchError`` around a resolver batch; a count or a page from the
    store must fail the same way, not with the driver's own exception.
    """

    @functools.wraps(method)
    def fetching(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sa.exc.SQLAlchemyError as exc:
            raise EvidenceFetchError.wrapping(KIND, exc) from exc

    return fetching


def _check_as_of(as_of: object) -> None:
    if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
        raise UsageError(f"as_of must be a timezone-aware datetime, not {as_of!r}")
