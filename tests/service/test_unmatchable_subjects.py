"""A state mapping whose subject no request of its kind can match is said, not silent (audit M1).

``subject=None`` for a kind asked by subject compiles to ``false``; a subject column that is
never NULL for a kind asked without one compiles to ``subject IS NULL``: either way the kind
never resolves a run, and every such run reads actionable. The service warns once when it is
built, naming the kind, table, column and fix; ``doctor`` reports an error; a nullable subject
column on a scope-wide kind (the reference schema's shared form) is neither.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import attrs
import pytest
import sqlalchemy as sa
from tests.support import AS_OF, T0, run, state

from runactionability import (
    ActionabilityService,
    Family,
    FirstDecisive,
    MappingMismatchWarning,
    OperationType,
    Registry,
    ResolvedByState,
    VisibleScopes,
    hookimpl,
    to_json,
)
from runactionability.adapters.sqlalchemy import (
    StateTableMapping,
    check,
    create_schema,
    insert_runs,
    insert_states,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.subjects import unmatchable_subjects
from runactionability.findings import FindingCode, Severity
from runactionability.policies.subjects import AskedSubjects

ACME = VisibleScopes({"acme"})


def _mappings(**kinds: StateTableMapping) -> dict[str, StateTableMapping]:
    return {**reference_state_mappings(), **kinds}


def _without_subject(kind: str = "provider_connection") -> StateTableMapping:
    return attrs.evolve(reference_state_mappings()[kind], subject=None)


def _snapshots(engine: sa.Engine) -> StateTableMapping:
    """A host's evidence snapshots keyed by their own id, which the mapping names as subject."""
    sa.Table(
        "evidence_snapshots",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.Text),
        sa.Column("environment_id", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("proven_at", sa.DateTime(timezone=True)),
    ).create(engine)
    return StateTableMapping.reflect(
        engine, "evidence_snapshot", "evidence_snapshots", subject="id", attributes=None, zone="UTC"
    )


def test_a_kind_asked_by_subject_mapped_without_one_is_warned_once(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    insert_runs(sql_engine, [run(1, completed_at=T0)])
    insert_states(sql_engine, [state()])
    states = _mappings(provider_connection=_without_subject())
    with pytest.warns(MappingMismatchWarning, match="subject can never match") as caught:
        service = ActionabilityService(sql_engine, states=states)
    [warning] = [str(w.message) for w in caught if "subject can never" in str(w.message)]
    assert "provider_connection_states: the provider_connection state mapping has no subject" in (
        warning
    )
    assert "provider.connection.authorize, provider.connection.check" in warning
    assert "(provider_connection_id)" in warning
    assert 'subject="..." under [states.provider_connection]' in warning
    # What it warns of: the healthy connection 7 does not resolve connection 7's failed check.
    with warnings.catch_warnings():
        warnings.simplefilter("error", MappingMismatchWarning)
        with service.session(scopes=ACME, as_of=AS_OF) as s:
            assert to_json(s.explain(1))["run"]["actionability"] == "actionable"
    service.close()


def test_a_scope_wide_kind_mapped_by_a_key_is_warned(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    states = _mappings(evidence_snapshot=_snapshots(sql_engine))
    with pytest.warns(MappingMismatchWarning, match="subject can never match") as caught:
        ActionabilityService(sql_engine, states=states).close()
    [warning] = [str(w.message) for w in caught if "subject can never" in str(w.message)]
    assert "evidence_snapshots.id: the evidence_snapshot state mapping's subject is never NULL" in (
        warning
    )
    assert "the runs of evidence.snapshot.generate ask" in warning
    assert "subject = false under [states.evidence_snapshot]" in warning


def test_the_reference_mappings_and_a_nullable_shared_column_are_not_warned(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MappingMismatchWarning)
        ActionabilityService(sql_engine).close()
    report = check(sql_engine, states=reference_state_mappings())
    assert FindingCode.UNMATCHABLE_SUBJECT not in report.codes()


def test_doctor_reports_each_as_an_error(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    snapshots = _snapshots(sql_engine)
    states = _mappings(
        provider_connection=_without_subject(),
        evidence_snapshot=snapshots,
        # The same key column for a kind asked by subject can match: not reported.
        baseline_snapshot=attrs.evolve(snapshots, kind="baseline_snapshot"),
    )
    report = check(sql_engine, states=states)
    found = [f for f in report.findings if f.code is FindingCode.UNMATCHABLE_SUBJECT]
    assert [(f.severity, f.table, f.column) for f in found] == [
        (Severity.ERROR, "evidence_snapshots", "id"),
        (Severity.ERROR, "provider_connection_states", None),
    ]
    assert not report.passed
    assert found[0].fix is not None
    assert "subject=None" in found[0].fix


class _Quotas:
    """A plugin family whose runs ask for their quota's state by ``quota_id``."""

    @hookimpl
    def runactionability_families(self) -> Sequence[Family]:
        policy = FirstDecisive(rules=(ResolvedByState("quota", {"fresh"}),))
        return (Family(name="quota", state_kinds={"quota"}, policy=policy),)

    @hookimpl
    def runactionability_operation_types(self) -> Sequence[OperationType]:
        return (OperationType(name="quota.recalculate", family="quota", subject_key="quota_id"),)


def test_a_plugin_kind_is_judged_by_its_types_subject_keys(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    registry = Registry.default(entry_points=False)
    registry.register(_Quotas(), name="quotas")
    quota = attrs.evolve(_without_subject(), kind="quota")
    with pytest.warns(MappingMismatchWarning, match="subject can never match") as caught:
        ActionabilityService(sql_engine, states=_mappings(quota=quota), registry=registry).close()
    [warning] = [str(w.message) for w in caught if "subject can never" in str(w.message)]
    assert "the runs of quota.recalculate ask for the quota state by their subject (quota_id)" in (
        warning
    )


def test_a_kind_asked_both_ways_gets_the_fix_that_serves_both(sql_engine: sa.Engine) -> None:
    # Each one-sided fix ("map a subject column", "map none") would break the other types.
    create_schema(sql_engine)
    asked = {
        "evidence_snapshot": AskedSubjects(
            "evidence_snapshot", by_subject=(("acme.pack", "pack_id"),), without_subject=("x",)
        ),
        "provider_connection": AskedSubjects(
            "provider_connection", by_subject=(("y", "id"),), without_subject=("z",)
        ),
    }
    states = {
        "evidence_snapshot": _snapshots(sql_engine),
        "provider_connection": _without_subject(),
    }
    found = {one.kind: one for one in unmatchable_subjects(sql_engine, states, asked)}
    assert set(found) == {"evidence_snapshot", "provider_connection"}
    for one in found.values():
        assert one.both_ways
        assert "ask both by subject and without one: map a nullable subject column" in one.fix
