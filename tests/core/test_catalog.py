"""The operation catalog: alias resolution, loading, and the mistakes it refuses to accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from runactionability import CatalogError, OperationCatalog, OperationType, Ownership


def check(name: str, **fields: object) -> OperationType:
    return OperationType(name=name, family="provider_connection", **fields)  # type: ignore[arg-type]


def test_aliases_resolve_to_their_canonical_type() -> None:
    catalog = OperationCatalog.reference()
    assert catalog.resolve("provider_connection.check") is catalog["provider.connection.check"]
    assert catalog.resolve("no.such.type") is None
    assert catalog.resolve(42) is None
    assert "provider_connection.check" in catalog
    assert catalog.stored_names("provider.connection.check") == (
        "provider.connection.check",
        "provider_connection.check",
    )


def test_superseding_names_list_every_stored_name_of_the_allowed_types() -> None:
    catalog = OperationCatalog.reference()
    assert catalog.superseding_names("provider.connection.authorize") == (
        "provider.connection.authorize",
        "provider.connection.check",
        "provider_connection.check",
    )


def test_the_inventory_is_sorted_by_canonical_name() -> None:
    names = [op_type.name for op_type in OperationCatalog.reference().inventory()]
    assert names == sorted(names)
    assert len(names) == len(OperationCatalog.reference())


@pytest.mark.parametrize(
    "types",
    [
        pytest.param([check("a"), check("a")], id="a name twice"),
        pytest.param([check("a", aliases=["x"]), check("b", aliases=["x"])], id="an alias twice"),
        pytest.param([check("a"), check("b", aliases=["a"])], id="an alias equal to a name"),
    ],
)
def test_a_name_claimed_twice_is_refused(types: list[OperationType]) -> None:
    with pytest.raises(CatalogError, match="claimed by"):
        OperationCatalog(types)


def test_superseded_by_must_name_a_known_type() -> None:
    with pytest.raises(CatalogError, match="unknown type 'b'"):
        OperationCatalog([check("a", superseded_by=["b"])])


@pytest.mark.parametrize(
    ("own", "other"),
    [
        pytest.param({"subject_key": "connection_id"}, {"subject_key": "schedule_id"}, id="key"),
        pytest.param({"subject_key": "connection_id"}, {}, id="scope-wide target"),
        pytest.param({}, {"ownership": Ownership.WORKSPACE}, id="ownership"),
    ],
)
def test_superseded_by_must_share_subject_key_and_ownership(
    own: dict[str, object], other: dict[str, object]
) -> None:
    # Otherwise a success about schedule 42 would "supersede" a failure about connection 42.
    with pytest.raises(CatalogError, match="differ"):
        OperationCatalog([check("a", superseded_by=["b"], **own), check("b", **other)])


def test_a_catalog_loads_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(
        '[[types]]\nname = "sync"\nfamily = "repeatable_sync"\naliases = ["sync.run"]\n'
        '[[types]]\nname = "alerts"\nfamily = "informational"\nownership = "workspace"\n'
    )
    catalog = OperationCatalog.from_toml(path)
    assert catalog.resolve("sync.run") is catalog["sync"]
    assert catalog["alerts"].workspace_owned


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("types = 3", "list of", id="no types table"),
        pytest.param('[[types]]\nname = "a"\nfamily = "f"\ncolour = "red"', "unknown keys"),
        pytest.param('[[types]]\nname = ""\nfamily = "f"', "non-empty"),
        pytest.param("[[types]\n", "cannot read", id="not TOML"),
    ],
)
def test_a_bad_catalog_file_is_a_catalog_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=message):
        OperationCatalog.from_toml(path)


def test_a_missing_catalog_file_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        OperationCatalog.from_toml(tmp_path / "missing.toml")
