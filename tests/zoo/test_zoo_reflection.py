"""What reflection derives for each zoo host from its tables' own column types, and what it
refuses to guess (the zone of a wall clock, the unit of an epoch) with an error naming the fix."""

from __future__ import annotations

import attrs
import pytest
import sqlalchemy as sa
from tests.zoo.canon import Host, canonical_history, seed

from runactionability.adapters.sqlalchemy import IdTypes, Instants, StateIdTypes
from runactionability.errors import ConfigurationError

DERIVED = {
    "laravel": (
        Instants.naive("UTC"),
        IdTypes(run="integer", workspace="integer", environment="integer", subject="text"),
        StateIdTypes(workspace="integer", environment="integer", subject="integer"),
    ),
    "jobs": (
        Instants.iso_text("UTC"),
        IdTypes(run="integer", workspace="integer", environment="text", subject="text"),
        StateIdTypes(workspace="integer", environment="text", subject="text"),
    ),
    "uuids": (
        Instants.epoch("ms"),
        IdTypes(run="uuid", workspace="uuid", environment="uuid", subject="uuid"),
        StateIdTypes(workspace="uuid", environment="uuid", subject="uuid"),
    ),
    "reference": (
        None,  # integer microseconds on SQLite, timestamptz on PostgreSQL: the contract legs
        IdTypes(run="integer", workspace="text", environment="text", subject="text"),
        StateIdTypes(workspace="text", environment="text", subject="text"),
    ),
}


def test_reflection_reads_each_hosts_types(zoo: tuple[Host, sa.Engine]) -> None:
    host, engine = zoo
    runs, facts = canonical_history()
    mapped = seed(host, engine, runs, facts).mapped
    instants, ids, state_ids = DERIVED[host.name]
    if instants is not None:
        assert mapped.runs.timestamps == instants
    assert mapped.runs.ids == ids
    # A kind mapped without a subject column keeps the default (text) subject type.
    with_subject = [mapping for mapping in mapped.states.values() if mapping.subject is not None]
    assert {mapping.ids for mapping in with_subject} == {state_ids}


def test_reflection_asks_for_what_the_types_cannot_say(zoo: tuple[Host, sa.Engine]) -> None:
    host, engine = zoo
    runs, facts = canonical_history()
    seeded = seed(host, engine, runs, facts)
    told = host.told(engine.dialect.name)
    reflected = host.reflect_runs(engine, **told)
    if host.name == "reference":
        # Its glue maps nothing: the reference storage, which reflection names by its form
        # (integer microseconds on SQLite) and the default mapping as "native".
        assert seeded.mapped.runs.timestamps == Instants.native()
        reflected = attrs.evolve(reflected, timestamps=Instants.native())
    assert reflected == seeded.mapped.runs
    for name in told:
        # Without it, the error names what to add rather than guessing a zone or a unit.
        with pytest.raises(ConfigurationError, match=name):
            host.reflect_runs(engine, **{key: v for key, v in told.items() if key != name})
