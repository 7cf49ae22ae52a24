"""Serve a dashboard, a follow-up page and an explanation from one ``AsyncActionabilityService``.

The asyncio twin of ``request_api.py``: a Starlette or FastAPI host builds the service once (at
start-up) over an ``AsyncEngine`` and opens one session per request; the three coroutines below
are the whole glue its endpoints await. Here they serve the demo history from a SQLite file
through aiosqlite (``pip install 'runactionability[async]'``); on PostgreSQL the URL is
``postgresql+psycopg_async://…``.

    .venv/bin/python examples/request_api_async.py
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from runactionability import AsyncActionabilityService, VisibleScopes
from runactionability.demo import generate, load

# -- the host's glue: one service per process, one session per request ----------------------
AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a request would pass None: now


async def dashboard_view(
    service: AsyncActionabilityService, workspaces: set[str]
) -> dict[str, object]:
    async with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        summary = await s.dashboard(top=5)
    return {"attention": summary.needs_attention, "top": [i.run.id for i in summary.top]}


async def follow_up_view(
    service: AsyncActionabilityService, workspaces: set[str], cursor: str | None
) -> dict[str, object]:
    async with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        page = await s.follow_up_page(limit=20, cursor=cursor)
    return {"runs": [i.run.id for i in page.items], "next": page.next_cursor}


async def explain_view(
    service: AsyncActionabilityService, workspaces: set[str], run_id: int
) -> str | None:
    async with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        told = await s.explain(run_id)  # None: missing, or outside the actor's scopes (a 404)
    return None if told is None else told.assessment.result.explanation


# -- a process serving a few requests at once ----------------------------------------------
async def serve(path: Path) -> None:
    service = AsyncActionabilityService(f"sqlite+aiosqlite:///{path}")  # once; share it
    try:
        boards = await asyncio.gather(
            dashboard_view(service, {"acme"}), dashboard_view(service, {"globex"})
        )
        print(boards[0])
        print((await follow_up_view(service, {"acme", "globex"}, None))["next"])
        top = boards[0]["top"]
        assert isinstance(top, list)
        assert top
        print(await explain_view(service, {"acme"}, top[0]))
        assert await explain_view(service, {"globex"}, top[0]) is None  # not visible: missing
    finally:
        await service.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "demo.sqlite"
        engine = sa.create_engine(f"sqlite:///{database}")
        load(engine, generate())  # the demo history, written once with a sync engine
        engine.dispose()
        asyncio.run(serve(database))
