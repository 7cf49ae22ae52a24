"""One request API: a long-lived service per database and configuration, a session per request.

``ActionabilityService`` holds what does not change between requests (the engine, the mappings,
the registry, the catalog and the pushdown's compiled statements); ``service.session(...)`` reads
one snapshot for one actor's scopes at one instant and offers everything a screen shows.
``AsyncActionabilityService`` is the same for asyncio hosts, over an ``AsyncEngine``.
"""

from runactionability.service.aio import AsyncActionabilityService, AsyncRequestSession
from runactionability.service.session import (
    ActionabilityService,
    EveryWorkspace,
    RequestSession,
)

__all__ = [
    "ActionabilityService",
    "AsyncActionabilityService",
    "AsyncRequestSession",
    "EveryWorkspace",
    "RequestSession",
]
