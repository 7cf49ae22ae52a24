"""A state table's epoch-second proof times mapped as milliseconds read as January 1970: no state
ever resolves a run, and each reads actionable (audit F1). ``check`` reports it as it reports the
runs' (``implausible_timestamp``, with the unit the integers look like) and the service warns
once when built, naming no value; the right unit raises neither."""

from __future__ import annotations

import asyncio
import warnings

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, T0, async_engine_of, run

from runactionability import (
    Actionability,
    ActionabilityService,
    FindingCode,
    MappingMismatchWarning,
    Severity,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import (
    StateTableMapping,
    check,
    create_schema,
    insert_runs,
    reference_state_mappings,
)
from runactionability.service import AsyncActionabilityService

ACME = VisibleScopes({"acme"})
PROVEN = int(T0.timestamp()) + 3600  # epoch seconds: fixed an hour after the failed check


def _host(engine: sa.Engine) -> None:
    create_schema(engine)
    insert_runs(engine, [run("1")])
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE pc_states (workspace_id text, environment_id text, subject text,"
                " status text, proven_at bigint)"
            )
        )
        connection.execute(
            sa.text(f"INSERT INTO pc_states VALUES ('acme', 'prod', '7', 'healthy', {PROVEN})")
        )


def _states(engine: sa.Engine, unit: str) -> dict[str, StateTableMapping]:
    mapping = StateTableMapping.reflect(
        engine, "provider_connection", "pc_states", attributes=None, epoch_unit=unit
    )
    return {**reference_state_mappings(), "provider_connection": mapping}


def test_check_reports_proof_times_read_in_1970_as_an_error(sql_engine: sa.Engine) -> None:
    _host(sql_engine)
    report = check(sql_engine, states=_states(sql_engine, "ms"), as_of=AS_OF)
    found = report.findings
    # What the table lacks for speed (an index, on PostgreSQL its first ANALYZE) is beside it.
    speed = {FindingCode.MISSING_INDEX, FindingCode.MISSING_STATISTICS}
    [finding] = [f for f in found if f.table == "pc_states" and f.code not in speed]
    assert finding.code is FindingCode.IMPLAUSIBLE_TIMESTAMP
    assert finding.severity is Severity.ERROR
    assert finding.column == "proven_at"
    assert finding.example is not None
    assert finding.example.startswith("1970-")
    assert finding.fix == "the integers look like epoch s: map timestamps=Instants.epoch('s')"
    assert not report.passed
    right = check(sql_engine, states=_states(sql_engine, "s"), as_of=AS_OF)
    assert not [f for f in right.findings if f.code is FindingCode.IMPLAUSIBLE_TIMESTAMP]


def test_the_service_warns_once_when_built_naming_no_value(sql_engine: sa.Engine) -> None:
    _host(sql_engine)
    with pytest.warns(MappingMismatchWarning, match="pc_states.proven_at") as caught:
        service = ActionabilityService(sql_engine, states=_states(sql_engine, "ms"))
    [warning] = [w for w in caught if w.category is MappingMismatchWarning]
    told = str(warning.message)
    assert "1 of the newest 1 provider_connection states' proof times" in told
    assert "look like epoch s" in told
    assert "1970" not in told
    with warnings.catch_warnings():
        warnings.simplefilter("error", MappingMismatchWarning)  # once per service
        with service.session(scopes=ACME, as_of=AS_OF) as session:
            # What the warning is about: the fixed connection's failure still reads actionable.
            explained = session.explain("1")
    assert explained is not None
    assert explained.assessment.status is Actionability.ACTIONABLE
    service.close()


def test_the_right_unit_is_not_warned_and_resolves_the_run(sql_engine: sa.Engine) -> None:
    _host(sql_engine)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MappingMismatchWarning)
        service = ActionabilityService(sql_engine, states=_states(sql_engine, "s"))
        with service.session(scopes=ACME, as_of=AS_OF) as session:
            explained = session.explain("1")
    assert explained is not None
    assert explained.assessment.status is Actionability.RESOLVED_BY_CURRENT_STATE
    service.close()


def test_the_async_service_warns_on_its_first_session(sql_engine: sa.Engine) -> None:
    _host(sql_engine)
    states = _states(sql_engine, "ms")

    async def sessions() -> None:
        engine = async_engine_of(sql_engine)
        service = AsyncActionabilityService(engine, states=states)
        try:
            with pytest.warns(MappingMismatchWarning, match="look like epoch s"):
                async with service.session(scopes=ACME, as_of=AS_OF):
                    pass
        finally:
            await engine.dispose()

    asyncio.run(sessions())
