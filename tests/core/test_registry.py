"""The plugin registry: built-ins, conflicts, coverage, missing state sources, entry points."""

from __future__ import annotations

import sys
import textwrap
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.support import AS_OF, MINUTE, STATE_KINDS, T0, resolver, run, state

from runactionability import (
    Actionability,
    AlwaysInformational,
    ConflictError,
    CoverageError,
    Family,
    FirstDecisive,
    MissingStateSourceError,
    MissingStateSourceWarning,
    OperationCatalog,
    OperationType,
    Registry,
    Resolver,
    hookimpl,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.testing import assert_catalog_covered

BUILTIN_FAMILIES = {
    "artifact",
    "backup",
    "baseline",
    "high_risk",
    "informational",
    "provider_connection",
    "repeatable_sync",
}


def family(name: str) -> Family:
    return Family(name=name, policy=FirstDecisive(rules=(AlwaysInformational(),)))


class FamilyPlugin:
    def __init__(self, *families: Family, types: Sequence[OperationType] = ()) -> None:
        self._families = families
        self._types = types

    @hookimpl
    def runactionability_families(self) -> Sequence[Family]:
        return self._families

    @hookimpl
    def runactionability_operation_types(self) -> Sequence[OperationType]:
        return self._types


def test_a_new_registry_is_empty() -> None:
    registry = Registry()
    assert registry.plugin_names() == ()
    assert dict(registry.families()) == {}
    assert registry.operation_types() == ()
    assert len(registry.catalog()) == 0


def test_the_default_registry_holds_the_built_ins_and_the_reference_catalog() -> None:
    registry = Registry.default()
    assert set(registry.families()) == BUILTIN_FAMILIES
    assert registry.catalog().inventory() == OperationCatalog.reference().inventory()
    assert registry.plugin_of("provider_connection") == "runactionability.provider_connection"
    assert_catalog_covered(registry, state_kinds=STATE_KINDS)


def test_registering_a_plugin_refreshes_the_answers() -> None:
    registry = Registry()
    name = registry.register(FamilyPlugin(family("alpha")), name="alpha-plugin")
    assert (name, set(registry.families())) == ("alpha-plugin", {"alpha"})
    registry.unregister("alpha-plugin")
    assert dict(registry.families()) == {}


def test_two_plugins_claiming_one_family_raise_naming_both() -> None:
    registry = Registry.default()
    registry.register(FamilyPlugin(family("provider_connection")), name="acme-provider")
    with pytest.raises(ConflictError) as raised:
        registry.families()
    message = str(raised.value)
    assert "runactionability.provider_connection" in message
    assert "acme-provider" in message
    assert raised.value.clashes == (
        (
            "family",
            "provider_connection",
            ("runactionability.provider_connection", "acme-provider"),
        ),
    )


def test_one_plugin_returning_a_family_twice_is_named_once() -> None:
    registry = Registry()
    registry.register(FamilyPlugin(family("alpha"), family("alpha")), name="doubled")
    with pytest.raises(ConflictError, match="family 'alpha' is claimed 2 times by doubled"):
        registry.families()


@pytest.mark.parametrize(
    ("mine", "claimed"),
    [
        pytest.param(OperationType(name="inventory.sync", family="x"), "inventory.sync", id="name"),
        pytest.param(
            OperationType(name="my.check", family="x", aliases=("provider_connection.check",)),
            "provider_connection.check",
            id="my alias is their alias",
        ),
        pytest.param(
            OperationType(name="inventory_sync", family="x"),
            "inventory_sync",
            id="my name is their alias",
        ),
    ],
)
def test_two_plugins_claiming_one_type_name_raise_naming_both(
    mine: OperationType, claimed: str
) -> None:
    registry = Registry.default()
    registry.register(FamilyPlugin(types=(mine,)), name="acme-types")
    with pytest.raises(ConflictError) as raised:
        registry.operation_types()
    assert raised.value.clashes == (
        ("operation type", claimed, ("runactionability.reference_types", "acme-types")),
    )
    assert "runactionability.reference_types and acme-types" in str(raised.value)


def test_every_clash_is_reported_at_once() -> None:
    registry = Registry()
    registry.register(FamilyPlugin(family("a"), family("b")), name="one")
    registry.register(FamilyPlugin(family("a"), family("b")), name="two")
    with pytest.raises(ConflictError) as raised:
        registry.families()
    assert [name for _, name, _ in raised.value.clashes] == ["a", "b"]


def test_a_catalog_type_without_a_family_fails_construction_listing_the_types() -> None:
    catalog = OperationCatalog(
        [
            *OperationCatalog.reference().inventory(),
            OperationType(name="quota.recalculate", family="quota"),
            OperationType(name="quota.audit", family="quota"),
            OperationType(name="ledger.close", family="ledger"),
        ]
    )
    with pytest.raises(CoverageError) as raised:
        resolver(catalog=catalog)
    assert raised.value.uncovered == (
        ("ledger.close", "ledger"),
        ("quota.audit", "quota"),
        ("quota.recalculate", "quota"),
    )
    assert "quota.recalculate (family 'quota')" in str(raised.value)
    with pytest.raises(AssertionError, match=r"ledger\.close"):
        assert_catalog_covered(Registry.default(), catalog)


def test_a_missing_state_source_warns_and_names_the_kind() -> None:
    with pytest.warns(MissingStateSourceWarning, match="provider_connection"):
        Resolver(history=MemoryRunHistory(), states={})
    with pytest.raises(
        AssertionError, match="'provider_connection' \\(family 'provider_connection'"
    ):
        assert_catalog_covered(Registry.default(), state_kinds=())


def test_a_missing_state_source_is_an_error_when_strict() -> None:
    kinds = set(STATE_KINDS) - {"backup_set"}
    with pytest.raises(MissingStateSourceError) as raised:
        resolver(kinds=kinds, strict=True)
    assert raised.value.missing == (("backup", "backup_set"),)


def test_only_families_the_catalog_uses_need_state_sources() -> None:
    catalog = OperationCatalog([OperationCatalog.reference()["inventory.sync"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Resolver(history=MemoryRunHistory(), catalog=catalog, strict=True)


def test_a_family_without_its_state_source_resolves_by_success_never_by_state() -> None:
    catalog = OperationCatalog([OperationCatalog.reference()["provider.connection.check"]])
    failed = run(1)
    later = run(2, outcome="succeeded", created_at=T0 + MINUTE * 5)
    healthy = state()
    with pytest.warns(MissingStateSourceWarning):
        blind = Resolver(history=MemoryRunHistory([failed, later]), catalog=catalog)
    assert blind.evaluate(later, as_of=AS_OF).status is Actionability.INFORMATIONAL_ONLY
    assert blind.evaluate(failed, as_of=AS_OF).status is (Actionability.SUPERSEDED_BY_LATER_SUCCESS)
    # The same failure, with the healthy state known to a source it was not given: unresolved.
    with pytest.warns(MissingStateSourceWarning):
        alone = Resolver(
            history=MemoryRunHistory([failed]),
            catalog=catalog,
            states={"unrelated": MemoryStateSource("unrelated", [])},
        )
    assert alone.evaluate(failed, as_of=AS_OF).status is Actionability.ACTIONABLE
    seeing = Resolver(
        history=MemoryRunHistory([failed]),
        catalog=catalog,
        states={"provider_connection": MemoryStateSource("provider_connection", [healthy])},
    )
    assert seeing.evaluate(failed, as_of=AS_OF).status is Actionability.RESOLVED_BY_CURRENT_STATE


# -- entry points, through a real dist-info directory on sys.path ------------------------------


def install_fake_distribution(root: Path, module_source: str) -> tuple[str, str]:
    """Write a module and a dist-info directory exposing it in the ``runactionability`` group."""
    token = uuid.uuid4().hex[:8]
    module = f"acme_ra_plugin_{token}"
    entry_point = f"acme-{token}"
    (root / f"{module}.py").write_text(textwrap.dedent(module_source))
    dist_info = root / f"acme_ra_plugin_{token}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: acme-ra-plugin-{token}\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[runactionability]\n{entry_point} = {module}\n")
    return module, entry_point


PLUGIN_SOURCE = """
    from runactionability import AlwaysManualReview, Family, FirstDecisive, OperationType, hookimpl

    @hookimpl
    def runactionability_families():
        return (Family(name={family!r}, policy=FirstDecisive(rules=(AlwaysManualReview(),))),)

    @hookimpl
    def runactionability_operation_types():
        return (OperationType(name={family!r} + ".recalculate", family={family!r}),)
"""


def test_registry_default_loads_plugins_of_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name of its own: another plugin installed in the environment may well say "quota".
    quota = f"quota_{uuid.uuid4().hex[:8]}"
    module, entry_point = install_fake_distribution(tmp_path, PLUGIN_SOURCE.format(family=quota))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = Registry.default(entry_points=True)
        assert entry_point in registry.plugin_names()
        assert registry.plugin_of(quota) == entry_point
        assert f"{quota}.recalculate" in registry.catalog()
        quota_run = run(1, f"{quota}.recalculate", context={})
        # Only its own type: other installed plugins may ask for state kinds with no source here.
        only = OperationCatalog([registry.catalog()[f"{quota}.recalculate"]])
        result = resolver(registry=registry, catalog=only).evaluate(quota_run, as_of=AS_OF)
        assert (result.family, result.status) == (quota, Actionability.REQUIRES_MANUAL_REVIEW)
        assert Registry().load_entry_points() >= 1
    finally:
        sys.modules.pop(module, None)


def test_an_entry_point_plugin_that_claims_a_built_in_family_conflicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, entry_point = install_fake_distribution(
        tmp_path, PLUGIN_SOURCE.format(family="high_risk")
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(ConflictError, match=f"runactionability.high_risk and {entry_point}"):
            Registry.default(entry_points=True).families()
    finally:
        sys.modules.pop(module, None)
