"""The Starlette application: a dashboard, the Operations list, a run's page and a login stub.

Every page opens one session (``Host.open_session``) with the actor's scopes and the request's
locale, asks it what the page shows, and renders a template. Nothing here reads a run's raw
outcome to decide what needs attention: counts, filters and actions come from the session; the
raw status and outcome are shown only as history, beside the current actionability.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from examples.webapp.chrome import CHROME, LOCALE_COOKIE, choose_locale
from examples.webapp.host import DEFAULT_ACTOR, Actor, Host
from examples.webapp.visits import (
    LOOK_BACK,
    VISIT_COOKIE,
    read_visit,
    visit_window,
    write_visit,
)
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from runactionability import (
    Assessment,
    InvalidCursorError,
    PrimaryAction,
    RunFact,
    StateFact,
    UsageError,
    View,
)
from runactionability.terms import (
    change_cause_name,
    family_name,
    risk_name,
    status_before_name,
    status_name,
)

ACTOR_HEADER = "x-actor"
ACTOR_COOKIE = "actor"
PAGE_SIZE = 20
CHANGES_SHOWN = 20
MAX_PAGE_SIZE = 100
VIEWS = (View.ALL, View.CURRENT_FOLLOW_UP, View.HISTORY)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _time(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _scope(workspace_id: object, environment_id: object) -> str:
    return f"{workspace_id}/{environment_id}" if environment_id is not None else str(workspace_id)


def _history(item: Assessment) -> str:
    # The run as it was recorded: its lifecycle status, and its outcome once it completed.
    run = item.run
    return str(run.outcome) if run.outcome is not None else str(run.status)


def _context(value: object) -> str:
    # A run's context is the host's data, shown as stored; what JSON cannot hold shows as text.
    plain = dict(value) if isinstance(value, Mapping) else value
    return json.dumps(plain, default=str, sort_keys=True)


def _action_href(item: Assessment, action: PrimaryAction) -> str:
    if action.target_kind == "run" and action.target_id is not None:
        return f"/runs/{action.target_id}"
    return f"/runs/{item.run.id}#action"


def _proof(proof: RunFact | StateFact | None, words: Mapping[str, str]) -> str:
    if proof is None:
        return words["run.no_proof"]
    if isinstance(proof, RunFact):
        return (
            f"{words['proof.run']} {proof.run_id} ({proof.operation_type}, "
            f"{_scope(proof.workspace_id, proof.environment_id)}), "
            f"{_time(proof.started_at)} - {_time(proof.completed_at)}"
        )
    subject = f" {proof.subject}" if proof.subject is not None else ""
    return (
        f"{words['proof.state']}: {proof.kind}{subject} "
        f"({_scope(proof.workspace_id, proof.environment_id)}) {proof.status}, "
        f"{words['proof.proven']} {_time(proof.proven_at)}"
    )


def _query(request: Request, **changes: str | None) -> str:
    """This page's query with ``changes`` (None drops a key), as a relative link: the page links
    only to what the client asked for, never echoing its path (a 404 reads the same for all)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urllib.parse.urlencode(params)


templates.env.filters.update(time=_time, history=_history, context=_context)
templates.env.globals.update(scope=_scope, action_href=_action_href, proof=_proof, query=_query)


def _host(request: Request) -> Host:
    host: Host = request.app.state.host
    return host


def _actor(request: Request) -> tuple[str, Actor]:
    """The actor a header names (an API client, a test), else the login stub's cookie."""
    actors = _host(request).actors
    named = request.headers.get(ACTOR_HEADER)
    if named is not None:
        if named not in actors:
            raise HTTPException(403, "unknown actor")
        return named, actors[named]
    key = request.cookies.get(ACTOR_COOKIE, DEFAULT_ACTOR)
    if key not in actors:
        # A stale or forged cookie signs nobody in: never fall back to a wider actor.
        raise HTTPException(403, "unknown actor: sign in again at /login")
    return key, actors[key]


def _render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    locale = choose_locale(request)
    key, actor = _actor(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": CHROME[locale],
            # The library's messages (explanations, labels, statuses) in the page's language.
            "say": _host(request).service.renderer(locale).render,
            "status_name": status_name,
            "status_before_name": status_before_name,
            "change_cause_name": change_cause_name,
            "family_name": family_name,
            "risk_name": risk_name,
            "locale": locale,
            "locales": sorted(CHROME),
            "actor_key": key,
            "actor": actor,
            "as_of": _host(request).as_of,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in CHROME:
        response.set_cookie(LOCALE_COOKIE, locale, samesite="lax")
    return response


async def dashboard(request: Request) -> Response:
    _, actor = _actor(request)
    host = _host(request)
    last_visit = read_visit(request.cookies.get(VISIT_COOKIE), host.visit_key)
    async with host.open_session(actor, choose_locale(request)) as session:
        summary = await session.dashboard(top=5)
        visited = session.as_of - host.service.sync.change_margin
        changes = window = None
        if last_visit is not None:
            window = visit_window(last_visit, visited)
            visited = window.until
            if not window.empty:
                # What changed since the last visit, for this actor's scopes only.
                changes = await session.changes(
                    since=window.since, until=window.until, limit=CHANGES_SHOWN
                )
    context = {
        "summary": summary,
        "changes": changes,
        "first_visit": last_visit is None,
        "capped": window is not None and window.capped,
        "look_back_days": str(LOOK_BACK.days),
    }
    response = _render(request, "dashboard.html", context)
    response.set_cookie(
        VISIT_COOKIE, write_visit(visited, host.visit_key), httponly=True, samesite="lax"
    )
    return response


async def runs(request: Request) -> Response:
    try:
        view = View(request.query_params.get("view", View.ALL.value))
    except ValueError:
        raise HTTPException(400, "unknown view") from None
    cursor = request.query_params.get("cursor") or None
    try:
        limit = min(max(int(request.query_params.get("limit", PAGE_SIZE)), 1), MAX_PAGE_SIZE)
    except ValueError:
        raise HTTPException(400, "limit is not a number") from None
    _, actor = _actor(request)
    try:
        async with _host(request).open_session(actor, choose_locale(request)) as session:
            page = await session.page(view, limit=limit, cursor=cursor)
    except InvalidCursorError:
        raise HTTPException(400, "invalid cursor") from None
    return _render(request, "runs.html", {"page": page, "view": view, "views": VIEWS})


async def run_detail(request: Request) -> Response:
    _, actor = _actor(request)
    try:
        async with _host(request).open_session(actor, choose_locale(request)) as session:
            told = await session.explain(request.path_params["run_id"])
    except UsageError as refused:
        # A uuid spelled otherwise than the run ids are stored (upper case, 32 hex digits): the
        # library refuses it before reading anything, so a hidden run and a missing one read the
        # same here too, and its message names the spelling to pass.
        raise HTTPException(400, str(refused)) from None
    if told is None:
        # Missing and hidden read the same: the actor learns nothing about runs it may not see.
        raise HTTPException(404)
    return _render(request, "run.html", {"told": told, "item": told.assessment})


async def login(request: Request) -> Response:
    if request.method == "POST":
        # The one field of the stub's form, parsed by hand: Starlette's form parser would need
        # one more package (python-multipart) for a single radio button.
        form = urllib.parse.parse_qs((await request.body()).decode(errors="replace"))
        key = form.get("actor", [""])[0]
        if key not in _host(request).actors:
            raise HTTPException(400, "unknown actor")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(ACTOR_COOKIE, key, samesite="lax")
        return response
    return _render(request, "login.html", {"actors": _host(request).actors})


async def not_found(request: Request, exc: Exception) -> Response:
    try:
        return _render(request, "not_found.html", {}, status_code=404)
    except HTTPException as refused:
        # An unknown actor on an unknown path: the actor's refusal, not a crash of this page.
        return Response(refused.detail, status_code=refused.status_code, media_type="text/plain")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await not_found(request, exc)
    return Response(exc.detail, status_code=exc.status_code, media_type="text/plain")


def create_app(host: Host) -> Starlette:
    """The application over ``host``, whose service it closes on shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await host.close()

    app = Starlette(
        routes=[
            Route("/", dashboard),
            Route("/runs", runs),
            Route("/runs/{run_id}", run_detail),
            Route("/login", login, methods=["GET", "POST"]),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.host = host
    return app
