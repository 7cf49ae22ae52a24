"""``check`` (``runactionability doctor``) on every zoo host, under the mappings its glue serves:
it finds exactly the rows the zoo stored badly, names no remapping (each glue maps its tables
right), and the ``CREATE INDEX`` statements it gives are the ones the tables lack."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY
from tests.zoo.canon import Host, Seeded, canonical_history, seed, zoo_uuid

from runactionability.adapters.sqlalchemy import check
from runactionability.findings import CheckReport, Finding, FindingCode

BAD = {
    "laravel": {
        (FindingCode.UNMAPPED_VALUE, "operation_runs", "outcome", "timed_out"),
        (FindingCode.UNREADABLE_TIMESTAMP, "operation_runs", "created_at", "0001-01-01 00:00:00"),
    },
    "jobs": {
        (FindingCode.UNMAPPED_VALUE, "jobs", "state", "paused"),
        # Two unreadable rows: 'yesterday' and ISO text with an offset; the first is quoted.
        (FindingCode.UNREADABLE_TIMESTAMP, "jobs", "created", "yesterday"),
    },
    "uuids": {
        (FindingCode.UNMAPPED_VALUE, "runs", "phase", "ZOMBIE"),
        (FindingCode.UNREADABLE_TIMESTAMP, "runs", "finished_ms", "1794315600000000"),
        # A run in no workspace (NULL) is in no actor's scope: named by its id.
        (FindingCode.UNATTRIBUTED_RUNS, "runs", "org_uuid", zoo_uuid(903)),
    },
    "reference": {
        (FindingCode.UNMAPPED_VALUE, "operation_runs", "status", "finished"),
        (FindingCode.UNMAPPED_VALUE, "operation_runs", "outcome", "exploded"),
        # A blank workspace id puts run 903 in no actor's scope.
        (FindingCode.UNATTRIBUTED_RUNS, "operation_runs", "workspace_id", "903"),
    },
}
"""The errors each host's bad rows (``Host.write_bad_rows``) must raise, and nothing else."""

INVALID = {"laravel": 2, "jobs": 4, "uuids": 3, "reference": 3}
"""How many bad rows read as invalid: all of them but Laravel's run 903, whose subject is no
connection id (a valid run whose state proof cannot be found, not an invalid record)."""


def _check(seeded: Seeded) -> CheckReport:
    mapped = seeded.mapped
    return check(
        seeded.engine,
        mapped.runs,
        states=mapped.states,
        registry=REGISTRY,
        catalog=CATALOG,
        as_of=AS_OF,
    )


def _missing_indexes(seeded: Seeded) -> list[Finding]:
    return [f for f in _check(seeded).findings if f.code is FindingCode.MISSING_INDEX]


@pytest.fixture
def seeded(zoo: tuple[Host, sa.Engine]) -> Seeded:
    runs, facts = canonical_history()
    return seed(*zoo, runs, facts)


def test_doctor_finds_exactly_the_bad_rows(seeded: Seeded) -> None:
    report = _check(seeded)
    name = seeded.host.name
    assert {(f.code, f.table, f.column, f.example) for f in report.errors} == BAD[name]
    for finding in report.errors:
        assert finding.fix is not None
        # Every glue maps its tables right: a bad row is to be corrected, not remapped.
        assert "map timestamps" not in finding.fix
        assert "runactionability.toml" not in finding.fix
    [invalid] = [f for f in report.findings if f.code is FindingCode.INVALID_ROWS]
    assert invalid.count == INVALID[name]
    assert not report.passed


def test_doctor_names_the_indexes_the_tables_lack(seeded: Seeded) -> None:
    missing = _missing_indexes(seeded)
    mapped = seeded.mapped
    if seeded.host.name == "reference":
        assert missing == []  # create_schema made every index the statements seek with
        return
    tables = {mapped.runs.table, *(mapping.table for mapping in mapped.states.values())}
    assert {finding.table for finding in missing} == tables
    fixes = {finding.fix or "" for finding in missing}
    assert all(fix.startswith("CREATE INDEX ") for fix in fixes)
    with seeded.engine.begin() as connection:
        for fix in sorted(fixes):
            connection.execute(sa.text(fix))
    # What it said to add is all the statements need.
    assert _missing_indexes(seeded) == []
