"""A state kind whose ``statuses`` miss most of its newest states' words is warned about once,
when the service is built (audit F6): such a state silently proves nothing, so a run it would
resolve reads actionable. A few unlisted states and a kind without ``statuses`` are not warned
about; the warning names no value."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import AS_OF, async_engine_of, state

from runactionability import ActionabilityService, MappingMismatchWarning, VisibleScopes
from runactionability.adapters.sqlalchemy import (
    StateTableMapping,
    create_schema,
    insert_states,
    reference_state_mappings,
)
from runactionability.service import AsyncActionabilityService

ACME = VisibleScopes({"acme"})


def _states(engine: sa.Engine, *statuses: str) -> None:
    create_schema(engine)
    facts = [state(subject=str(n), status=word) for n, word in enumerate(statuses, start=1)]
    insert_states(engine, facts)


def _listing(**overrides: Any) -> dict[str, StateTableMapping]:
    mappings = reference_state_mappings()
    connection = attrs.evolve(mappings["provider_connection"], **overrides)
    return {**mappings, "provider_connection": connection}


def test_most_states_unlisted_are_warned_once_naming_no_value(sql_engine: sa.Engine) -> None:
    _states(sql_engine, "healthy", "healthy", "unhealthy")
    # The mapping says the host writes "ok" for healthy; it writes "healthy".
    states = _listing(statuses={"ok": "healthy", "unhealthy": "unhealthy"})
    with pytest.warns(MappingMismatchWarning, match="provider_connection") as caught:
        service = ActionabilityService(sql_engine, states=states)
    [warning] = [w for w in caught if w.category is MappingMismatchWarning]
    assert "2 of the newest 3 provider_connection states" in str(warning.message)
    assert "healthy" not in str(warning.message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MappingMismatchWarning)
        with service.session(scopes=ACME, as_of=AS_OF):
            pass
    service.close()


@pytest.mark.parametrize(
    "overrides",
    [
        {"statuses": {"healthy": "healthy"}},  # 1 of 3 unlisted: a stray word, doctor's warning
        {"statuses": None},  # the stored words are the policies' own
    ],
)
def test_a_few_unlisted_or_none_readable_are_not_warned(
    sql_engine: sa.Engine, overrides: dict[str, Any]
) -> None:
    _states(sql_engine, "healthy", "healthy", "weird")
    with warnings.catch_warnings():
        warnings.simplefilter("error", MappingMismatchWarning)
        service = ActionabilityService(sql_engine, states=_listing(**overrides))
        with service.session(scopes=ACME, as_of=AS_OF):
            pass
    service.close()


def test_the_async_service_warns_on_its_first_session(sql_engine: sa.Engine) -> None:
    _states(sql_engine, "healthy")
    states = _listing(statuses={"ok": "healthy"})

    async def sessions() -> None:
        engine = async_engine_of(sql_engine)
        service = AsyncActionabilityService(engine, states=states)
        try:
            with pytest.warns(MappingMismatchWarning, match="1 of the newest 1 provider_conn"):
                async with service.session(scopes=ACME, as_of=AS_OF):
                    pass
        finally:
            await engine.dispose()

    asyncio.run(sessions())
