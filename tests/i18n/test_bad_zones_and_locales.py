"""A time zone or locale a host passes through from its users (a stored preference, a form
field) is either used or refused with the documented ``UsageError``: a tzdata folder
(``"Europe"``) or a name too long for a file used to escape as a raw ``IsADirectoryError`` or
``OSError``, and a locale that is no text as an ``AttributeError``; sync and async alike, and
in the configuration file as a ``ConfigurationError`` naming the key. A service given one is
refused when it is built, not at its first session."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import async_engine_of

from runactionability import (
    ActionabilityService,
    AsyncActionabilityService,
    ConfigurationError,
    EveryWorkspace,
    Registry,
    UsageError,
)
from runactionability.config import load_config
from runactionability.i18n import Renderer

REGISTRY = Registry.default()
BAD_ZONES = ["Europe", "America/Argentina", "x" * 300, "Mars/Phobos"]
REFUSALS: list[tuple[dict[str, Any], str]] = [
    *(({"time_zone": zone}, "is not an IANA time zone") for zone in BAD_ZONES),
    ({"time_zone": 5}, "time_zone must be an IANA name or a tzinfo, not 5"),
    ({"locale": 5}, r"locale must be a language tag \('de', 'de-CH'\), not 5"),
    ({"locale": b"de"}, "locale must be a language tag"),
]


@pytest.mark.parametrize(("given", "says"), REFUSALS)
def test_a_renderer_refuses_them_with_a_usage_error(given: dict[str, Any], says: str) -> None:
    with pytest.raises(UsageError, match=says):
        Renderer(**given)


@pytest.mark.parametrize(("given", "says"), REFUSALS)
def test_a_session_refuses_them_with_a_usage_error(
    demo: tuple[sa.Engine, datetime], given: dict[str, Any], says: str
) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY)
    opened = service.session(scopes=EveryWorkspace(), as_of=as_of, **given)
    with pytest.raises(UsageError, match=says), opened as session:
        session.dashboard(top=1)
    # The service still serves a good session afterwards.
    with service.session(scopes=EveryWorkspace(), as_of=as_of, time_zone="Europe/Berlin") as ok:
        assert ok.dashboard(top=1).counts.total > 0


def test_an_async_session_refuses_them_with_a_usage_error(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, as_of = demo

    async def refusals() -> list[str]:
        async_engine = async_engine_of(engine)
        said: list[str] = []
        try:
            service = AsyncActionabilityService(async_engine, registry=REGISTRY)
            for given, _ in REFUSALS:
                try:
                    async with service.session(scopes=EveryWorkspace(), as_of=as_of, **given):
                        pass
                except UsageError as refused:
                    said.append(str(refused))
        finally:
            await async_engine.dispose()
        return said

    assert len(asyncio.run(refusals())) == len(REFUSALS)


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_the_configuration_file_names_the_key(tmp_path: Path, zone: str) -> None:
    path = tmp_path / "runactionability.toml"
    path.write_text(f"time_zone = {zone!r}\n")
    with pytest.raises(ConfigurationError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}: time_zone: expected an IANA time zone (e.g. 'Europe/Berlin'), not {zone!r}"
    )


@pytest.mark.parametrize(("given", "says"), REFUSALS)
def test_a_service_refuses_them_when_it_is_built(
    demo: tuple[sa.Engine, datetime], given: dict[str, Any], says: str
) -> None:
    # Before, the service was built and every one of its sessions failed instead.
    engine, _ = demo
    with pytest.raises(UsageError, match=says):
        ActionabilityService(engine, registry=REGISTRY, **given)


@pytest.mark.parametrize(("given", "says"), REFUSALS)
def test_an_async_service_refuses_them_when_it_is_built(
    demo: tuple[sa.Engine, datetime], given: dict[str, Any], says: str
) -> None:
    engine, _ = demo

    async def build() -> None:
        async_engine = async_engine_of(engine)
        try:
            AsyncActionabilityService(async_engine, registry=REGISTRY, **given)
        finally:
            await async_engine.dispose()

    with pytest.raises(UsageError, match=says):
        asyncio.run(build())
