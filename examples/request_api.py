"""Serve a dashboard, a follow-up page and an explanation from one ``ActionabilityService``.

A web host builds the service once (at start-up) and opens one session per request; the three
functions below are the whole glue a Flask or Starlette view calls. Here they serve the demo
history from a SQLite file.

    .venv/bin/python examples/request_api.py
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from runactionability import ActionabilityService, VisibleScopes
from runactionability.demo import generate, load

# -- the host's glue: one service per process, one session per request ----------------------
AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a request would pass None: now


def dashboard_view(service: ActionabilityService, workspaces: set[str]) -> dict[str, object]:
    with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        summary = s.dashboard(top=5)
    return {"attention": summary.needs_attention, "top": [i.run.id for i in summary.top]}


def follow_up_view(
    service: ActionabilityService, workspaces: set[str], cursor: str | None
) -> dict[str, object]:
    with service.session(scopes=VisibleScopes(workspaces), as_of=AS_OF) as s:
        page = s.follow_up_page(limit=20, cursor=cursor)
    return {"runs": [i.run.id for i in page.items], "next": page.next_cursor}


def explain_view(
    service: ActionabilityService, workspaces: set[str], run_id: int, locale: str = "en"
) -> str | None:
    # The request's language (from the user's settings or Accept-Language) and time zone.
    with service.session(
        scopes=VisibleScopes(workspaces), as_of=AS_OF, locale=locale, time_zone="Europe/Berlin"
    ) as s:
        told = s.explain(run_id)  # None: missing, or outside the actor's scopes (a 404)
        return None if told is None else s.render(told.assessment.result.message)


# -- a process serving a few requests ------------------------------------------------------
if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        engine = sa.create_engine(f"sqlite:///{Path(folder) / 'demo.sqlite'}")
        load(engine, generate())
        service = ActionabilityService(engine)  # once; share it across threads
        board = dashboard_view(service, {"acme"})
        print(board)
        print(follow_up_view(service, {"acme", "globex"}, None)["next"])
        top = board["top"]
        assert isinstance(top, list)
        assert top
        print(explain_view(service, {"acme"}, top[0]))
        print(explain_view(service, {"acme"}, top[0], locale="de"))
        assert explain_view(service, {"globex"}, top[0]) is None  # not visible: as if missing
        engine.dispose()
