"""One request API: a long-lived service per database and configuration, a session per request.

``ActionabilityService`` holds what does not change between requests (the engine, the mappings,
the registry, the catalog and the pushdown's compiled statements); ``service.session(...)`` reads
one snapshot for one actor's scopes at one instant and offers everything a screen shows.
``AsyncActionabilityService`` is the same for asyncio hosts, over an ``AsyncEngine``.

The async names are imported on first use: SQLAlchemy's asyncio layer needs greenlet (the
``async`` extra), which a sync host does not install.
"""

from typing import TYPE_CHECKING, Any

from runactionability.limits import MAX_LIMIT
from runactionability.service.every import EveryWorkspace, UnattributedRuns
from runactionability.service.request import RequestSession
from runactionability.service.session import ActionabilityService

if TYPE_CHECKING:
    from runactionability.service.aio import AsyncActionabilityService, AsyncRequestSession

_ASYNC = frozenset({"AsyncActionabilityService", "AsyncRequestSession"})


def __getattr__(name: str) -> Any:
    if name in _ASYNC:
        from runactionability.service import aio

        return getattr(aio, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MAX_LIMIT",
    "ActionabilityService",
    "AsyncActionabilityService",
    "AsyncRequestSession",
    "EveryWorkspace",
    "RequestSession",
    "UnattributedRuns",
]
