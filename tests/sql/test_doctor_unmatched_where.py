"""A state mapping whose ``where`` none of a shared table's rows matches maps no state: every run
its kind would resolve reads actionable, and nothing said so (audit F2). ``check`` warns, naming
the values the where-columns hold; a where that matches, or an empty table, is no finding."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, T0

from runactionability import Severity
from runactionability.adapters.sqlalchemy import StateTableMapping, check, create_schema

PROVEN = int(T0.timestamp())


def _shared(engine: sa.Engine, *kinds: str) -> dict[str, StateTableMapping]:
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE host_states (kind text, workspace_id text, environment_id text,"
                " subject text, status text, proven_at bigint)"
            )
        )
        for n, kind in enumerate(kinds):
            connection.execute(
                sa.text(
                    "INSERT INTO host_states VALUES "
                    f"('{kind}', 'acme', 'prod', '{n}', 'healthy', {PROVEN})"
                )
            )
    mapping = StateTableMapping.reflect(
        engine,
        "provider_connection",
        "host_states",
        where={"kind": "provider_connection"},
        attributes=None,
        epoch_unit="s",
    )
    return {"provider_connection": mapping}


def test_a_where_matching_no_row_is_warned_naming_the_stored_values(sql_engine: sa.Engine) -> None:
    states = _shared(sql_engine, "ProviderConnection", "ProviderConnection", "BackupSet")
    report = check(sql_engine, states=states, as_of=AS_OF)
    [finding] = [f for f in report.findings if f.code == "unmatched_where"]
    assert finding.severity is Severity.WARNING
    assert (finding.table, finding.column) == ("host_states", "kind")
    assert "{'kind': 'provider_connection'}" in finding.message
    assert "kind holds 'ProviderConnection' (2), 'BackupSet' (1)" in finding.message
    assert finding.example == "ProviderConnection"


@pytest.mark.parametrize("kinds", [("provider_connection", "BackupSet"), ()])
def test_a_where_that_matches_or_an_empty_table_is_no_finding(
    sql_engine: sa.Engine, kinds: tuple[str, ...]
) -> None:
    report = check(sql_engine, states=_shared(sql_engine, *kinds), as_of=AS_OF)
    assert not [f for f in report.findings if f.code == "unmatched_where"]
