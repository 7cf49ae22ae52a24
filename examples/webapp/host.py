"""What the web host wires once: the async service over the database, the actors, the instant.

A real host has its own users and permissions; this example has a small actor table mapping each
actor to the workspaces it may see (``None``: every workspace that has runs). Whatever the table
says becomes the session's ``VisibleScopes``, so counts, pages and explanations never include,
and never hint at, a run outside them.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import sqlalchemy as sa

from runactionability import (
    AsyncActionabilityService,
    AsyncRequestSession,
    ConfigurationError,
    EveryWorkspace,
    Registry,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import async_database_url
from runactionability.config import Config, load_config
from runactionability.demo import read_marker

DEMO_DATABASE = "runactionability-demo.sqlite"


@attrs.frozen
class Actor:
    """Who is asking: a display name and the workspaces it may see (None: every workspace)."""

    name: str
    workspaces: tuple[str, ...] | None = None

    def scopes(self) -> VisibleScopes | EveryWorkspace:
        return EveryWorkspace() if self.workspaces is None else VisibleScopes(self.workspaces)


ACTORS: Mapping[str, Actor] = {
    "olivia": Actor("Olivia (operations, every workspace)"),
    "alex": Actor("Alex (Acme)", ("acme",)),
    "greta": Actor("Greta (Globex)", ("globex",)),
}
"""The demo's actors; ``--actor KEY=WORKSPACE[,WORKSPACE]`` adds one for a host's database."""

DEFAULT_ACTOR = "olivia"


def parse_actor(text: str) -> tuple[str, Actor]:
    """``key=ws1,ws2`` as an actor seeing those workspaces (``key=*``: every workspace)."""
    key, _, workspaces = text.partition("=")
    names = tuple(name.strip() for name in workspaces.split(",") if name.strip())
    if not key.strip() or not names:
        raise ValueError(f"--actor {text!r}: expected KEY=WORKSPACE[,WORKSPACE] or KEY=*")
    return key.strip(), Actor(key.strip(), None if names == ("*",) else names)


@attrs.frozen(kw_only=True)
class Host:
    """The service, the actors and the evaluation instant (None: now, per request).

    ``visit_key`` signs the last-visit cookie (``visits``); a real host keeps its own secret, the
    example draws one per process, so a restart reads every browser's next visit as its first.
    """

    service: AsyncActionabilityService
    actors: Mapping[str, Actor]
    as_of: datetime | None
    visit_key: bytes = attrs.field(factory=lambda: secrets.token_bytes(32), repr=False)

    @asynccontextmanager
    async def open_session(self, actor: Actor, locale: str) -> AsyncIterator[AsyncRequestSession]:
        """The one place a request opens its session: the actor's scopes, the request's locale
        (the library's explanations, labels and dates follow it, as the page chrome does)."""
        session_of = self.service.session(scopes=actor.scopes(), as_of=self.as_of, locale=locale)
        async with session_of as session:
            yield session

    async def close(self) -> None:
        await self.service.close()


def build_host(
    *,
    database: str | None = None,
    config_path: str | None = None,
    as_of: datetime | None = None,
    actors: Sequence[tuple[str, Actor]] = (),
) -> Host:
    """The host for ``database`` (default: the configuration's, else the demo's file).

    The mappings are read (and any table reflected) once, here, through a short-lived sync
    engine; requests read through the async one. On the demo database the instant defaults to
    the demo's own, so the pages agree with ``runactionability demo``.
    """
    config = load_config(config_path) if config_path is not None else Config()
    chosen = database or config.database or DEMO_DATABASE
    if "://" not in chosen and not Path(chosen).is_file():
        raise ConfigurationError(f"no database at {chosen!r}; run `make demo` first")
    url = attrs.evolve(config, database=chosen).database_url()
    registry = Registry.default()
    sync_engine = sa.create_engine(url)
    try:
        runs = config.run_mapping(sync_engine)
        states = config.state_mappings(sync_engine)
        marker = read_marker(sync_engine)
    finally:
        sync_engine.dispose()
    service = AsyncActionabilityService(
        async_database_url(url).render_as_string(hide_password=False),
        runs=runs,
        states=states,
        registry=registry,
        catalog=config.operation_catalog(registry),
        cursor_key=config.cursor_key(),
        locale=config.locale,
        time_zone=config.time_zone,
        message_catalogs=() if config.messages is None else (config.messages,),
    )
    if config.change_margin_seconds is not None:
        # The changes panel ends its window this far behind the request (visits.py).
        service.sync.change_margin = timedelta(seconds=config.change_margin_seconds)
    if as_of is None and marker is not None:
        as_of = marker.as_of
    return Host(service=service, actors={**ACTORS, **dict(actors)}, as_of=as_of)
