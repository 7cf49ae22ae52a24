"""A session renders every text of its answers in its locale and time zone, sync and async."""

from __future__ import annotations

import asyncio
import warnings
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from tests.support import async_engine_of

from runactionability import (
    ActionabilityService,
    AsyncActionabilityService,
    EveryWorkspace,
    Registry,
    UnknownLocaleWarning,
)
from runactionability.config import load_config

REGISTRY = Registry.default()


def test_a_german_session_renders_every_text_of_its_answers(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY)
    with service.session(
        scopes=EveryWorkspace(), as_of=as_of, locale="de", time_zone="Europe/Berlin"
    ) as session:
        summary = session.dashboard(top=3)
        top = summary.top[0]
        told = session.explain(top.run_id)
        assert told is not None
        explanation = session.render(top.result.message)
        document = session.to_json(told)
    assert explanation.startswith("Der Lauf vom Typ „")
    assert "MEZ" in explanation  # the demo's November instants, in Berlin time
    assert document["run"]["explanation"] == explanation
    assert document["run"]["explanation_message"]["id"] == top.result.message.id
    assert all(line.startswith(("Ein ", "Zustand ")) for line in document["would_change"])
    assert len(document["would_change_messages"]) == len(document["would_change"])
    # The values keep English for hosts that read the properties.
    assert top.result.explanation.startswith("The ")


def test_the_services_locale_is_every_sessions_default(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, locale="de")
    with service.session(scopes=EveryWorkspace(), as_of=as_of) as session:
        assert session.renderer.language == "de"
    with service.session(scopes=EveryWorkspace(), as_of=as_of, locale="en") as session:
        assert session.renderer.language == "en"


def test_an_unknown_locale_warns_once_per_service(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            with service.session(scopes=EveryWorkspace(), as_of=as_of, locale="fr") as session:
                assert session.renderer.language == "en"
    assert [w.category for w in caught] == [UnknownLocaleWarning]


def test_the_configuration_names_the_locale_the_zone_and_the_hosts_catalog(
    demo: tuple[sa.Engine, datetime], tmp_path: Path
) -> None:
    engine, as_of = demo
    folder = tmp_path / "copy" / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "runactionability.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgctxt "status.actionable"\nmsgid "actionable"\nmsgstr "zu erledigen"\n',
        encoding="utf-8",
    )
    path = tmp_path / "runactionability.toml"
    path.write_text('locale = "de-DE"\ntime_zone = "Europe/Berlin"\nmessages = "copy"\n')
    config = load_config(path)
    service = ActionabilityService.from_config(config, bind=engine, registry=REGISTRY)
    from runactionability.result import Actionability
    from runactionability.terms import status_name

    with service.session(scopes=EveryWorkspace(), as_of=as_of) as session:
        assert session.render(status_name(Actionability.ACTIONABLE)) == "zu erledigen"
        assert session.render(status_name(Actionability.NOT_TERMINAL)) == "aktiv"
        assert session.renderer.time_zone.key == "Europe/Berlin"  # type: ignore[attr-defined]


def test_the_async_session_renders_as_the_sync_one(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    with ActionabilityService(engine, registry=REGISTRY).session(
        scopes=EveryWorkspace(), as_of=as_of, locale="de"
    ) as session:
        expected = session.to_json(session.dashboard(top=3))

    async def work() -> object:
        async_engine = async_engine_of(engine)
        try:
            service = AsyncActionabilityService(async_engine, registry=REGISTRY)
            async with service.session(
                scopes=EveryWorkspace(), as_of=as_of, locale="de"
            ) as session:
                return session.to_json(await session.dashboard(top=3))
        finally:
            await async_engine.dispose()

    assert asyncio.run(work()) == expected


def test_a_service_shares_its_renderers_and_keeps_a_bounded_number(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, _ = demo
    service = ActionabilityService(engine, registry=REGISTRY)
    first = service.renderer("de", "UTC")
    assert service.renderer("de", "UTC") is first
    # Requests naming ever more locales and zones (Accept-Language passed through) do not keep
    # a renderer each: past 64 the kept ones are dropped and made again on demand.
    zones = [f"Etc/GMT{offset:+d}" for offset in range(-12, 13) if offset] + ["UTC"]
    for locale in ("en", "en_GB", "de_AT"):
        for zone in zones:
            service.renderer(locale, zone)
    again = service.renderer("de", "UTC")
    assert again is not first
    assert again.language == first.language == "de"
