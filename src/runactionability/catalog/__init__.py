"""Operation types and the catalog that resolves stored type names (aliases) to them."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, overload

import attrs

from runactionability.catalog.profiles import TypeProfile
from runactionability.errors import CatalogError
from runactionability.model import Ownership


def _as_names(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _nonempty(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"OperationType.{attribute.name} must be a non-empty string")


def _names(instance: object, attribute: attrs.Attribute[Any], value: tuple[object, ...]) -> None:
    # A name that is not a string would never match a stored type, or break sorting later.
    for name in value:
        if not isinstance(name, str) or not name.strip():
            raise CatalogError(
                f"OperationType.{attribute.name} must hold non-empty strings, not {name!r}"
            )


def _optional_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise CatalogError(
            f"OperationType.{attribute.name} must be a non-empty string or None, not {value!r}"
        )


@attrs.frozen(kw_only=True)
class OperationType:
    """A kind of operation: its canonical name, family, ownership and correlation.

    A type is superseded only by a later success of its own canonical type unless
    ``superseded_by`` names more types. ``subject_key`` is the context key that correlates runs
    about the same thing (None for scope-wide types).
    """

    name: str = attrs.field(validator=_nonempty)
    family: str = attrs.field(validator=_nonempty)
    ownership: Ownership = attrs.field(default=Ownership.ENVIRONMENT, converter=Ownership)
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_as_names, validator=_names)
    subject_key: str | None = attrs.field(default=None, validator=_optional_text)
    superseded_by: tuple[str, ...] = attrs.field(default=(), converter=_as_names, validator=_names)
    label: str | None = attrs.field(default=None, validator=_optional_text)

    @property
    def workspace_owned(self) -> bool:
        return self.ownership is Ownership.WORKSPACE


class Profiles(Protocol):
    """What the catalog needs of a family to show a type's class: a ``Family`` is one."""

    def profile(
        self, op_type: OperationType, catalog: OperationCatalog | None = None
    ) -> TypeProfile: ...


@attrs.frozen(kw_only=True)
class InventoryEntry:
    """A catalog type beside the class its family's policy gives it (None: no such family)."""

    type: OperationType
    profile: TypeProfile | None

    @property
    def name(self) -> str:
        return self.type.name

    @property
    def family(self) -> str:
        return self.type.family

    @property
    def covered(self) -> bool:
        """Whether a registered family covers the type."""
        return self.profile is not None

    def describe(self) -> str:
        """The type's class in a few words (``TypeProfile.describe``), or that it is uncovered."""
        return "no family registered" if self.profile is None else self.profile.describe()


class OperationCatalog:
    """Every known operation type, resolving each stored name (canonical or alias) to its type.

    Construction checks that no name is claimed twice and that every ``superseded_by`` entry is a
    known type with the same subject key and ownership, so lookups later cannot be ambiguous and a
    later success is always about the same subject in the same kind of scope.
    """

    def __init__(self, types: Iterable[OperationType]) -> None:
        self._types: dict[str, OperationType] = {}
        self._by_stored_name: dict[str, OperationType] = {}
        for op_type in types:
            if not isinstance(op_type, OperationType):
                raise CatalogError(f"not an OperationType: {op_type!r}")
            for stored in (op_type.name, *op_type.aliases):
                claimed = self._by_stored_name.get(stored)
                if claimed is not None:
                    raise CatalogError(
                        f"type name {stored!r} is claimed by {claimed.name!r} and {op_type.name!r}"
                    )
                self._by_stored_name[stored] = op_type
            self._types[op_type.name] = op_type
        self._superseding: dict[str, tuple[str, ...]] = {}
        for op_type in self._types.values():
            names: set[str] = set()
            for allowed in (op_type.name, *op_type.superseded_by):
                target = self._by_stored_name.get(allowed)
                if target is None:
                    raise CatalogError(
                        f"{op_type.name!r} is superseded_by unknown type {allowed!r}"
                    )
                # A later success proves something about this run only when it names the same
                # subject under the same key and lives in the same kind of scope; otherwise a run
                # about one connection could be "superseded" by a run about another.
                if (target.subject_key, target.ownership) != (
                    op_type.subject_key,
                    op_type.ownership,
                ):
                    raise CatalogError(
                        f"{op_type.name!r} is superseded_by {target.name!r}, whose subject key "
                        f"and ownership ({target.subject_key!r}, {target.ownership.value}) differ "
                        f"from its own ({op_type.subject_key!r}, {op_type.ownership.value})"
                    )
                names.update(self.stored_names(target.name))
            self._superseding[op_type.name] = tuple(sorted(names))

    @classmethod
    def reference(cls) -> OperationCatalog:
        """The reference catalog shipped with the library (``catalog/reference.toml``)."""
        text = resources.files(__package__).joinpath("reference.toml").read_text("utf-8")
        return cls.from_mapping(tomllib.loads(text))

    @classmethod
    def from_toml(cls, path: str | Path) -> OperationCatalog:
        """Load a catalog from a TOML file with one ``[[types]]`` table per operation type."""
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            # UnicodeDecodeError: a binary file given as the catalog.
            raise CatalogError(f"cannot read catalog {str(path)!r}: {exc}") from exc
        try:
            return cls.from_mapping(data)
        except CatalogError as exc:
            raise CatalogError(f"catalog {str(path)!r}: {exc}") from exc

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> OperationCatalog:
        """Build a catalog from parsed TOML: ``{"types": [{"name": ..., "family": ...}, ...]}``."""
        entries = data.get("types") if isinstance(data, Mapping) else None
        if not isinstance(entries, list):
            raise CatalogError("a catalog needs a list of [[types]] tables")
        fields = {field.name for field in attrs.fields(OperationType)}
        types = []
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise CatalogError(f"a catalog entry must be a [[types]] table, not {entry!r}")
            unknown = set(entry) - fields
            if unknown:
                raise CatalogError(
                    f"unknown keys {sorted(unknown)} in catalog entry {entry.get('name')!r}"
                )
            try:
                types.append(OperationType(**entry))
            except (TypeError, ValueError) as exc:
                raise CatalogError(f"bad catalog entry {entry.get('name')!r}: {exc}") from exc
        return cls(types)

    def resolve(self, stored_name: object) -> OperationType | None:
        """The type a stored name (canonical or alias) refers to, or None when it is unknown."""
        if not isinstance(stored_name, str):
            return None
        return self._by_stored_name.get(stored_name)

    def stored_names(self, name: str) -> tuple[str, ...]:
        """Every name a run of this type may be stored under: canonical first, then aliases."""
        op_type = self._types[name]
        return (op_type.name, *op_type.aliases)

    def superseding_names(self, name: str) -> tuple[str, ...]:
        """Every stored name of the types whose later success supersedes this type, sorted."""
        return self._superseding[name]

    @overload
    def inventory(self) -> tuple[OperationType, ...]: ...

    @overload
    def inventory(self, families: Mapping[str, Profiles]) -> tuple[InventoryEntry, ...]: ...

    def inventory(
        self, families: Mapping[str, Profiles] | None = None
    ) -> tuple[OperationType, ...] | tuple[InventoryEntry, ...]:
        """Every type, sorted by canonical name.

        Given the families by name (``Registry.families()``), each type comes with the class
        its family's policy gives it (``InventoryEntry``, ``TypeProfile``), derived from the
        policy's rules; a type whose family is not among them has no profile. The families are
        a parameter so the catalog never imports a policy.
        """
        types = tuple(sorted(self._types.values(), key=lambda op_type: op_type.name))
        if families is None:
            return types
        entries = []
        for op_type in types:
            family = families.get(op_type.family)
            profile = None if family is None else family.profile(op_type, self)
            entries.append(InventoryEntry(type=op_type, profile=profile))
        return tuple(entries)

    def families(self) -> frozenset[str]:
        """The names of every family some type belongs to."""
        return frozenset(op_type.family for op_type in self._types.values())

    def __getitem__(self, name: str) -> OperationType:
        return self._types[name]

    def __contains__(self, stored_name: object) -> bool:
        return isinstance(stored_name, str) and stored_name in self._by_stored_name

    def __iter__(self) -> Iterator[OperationType]:
        return iter(self.inventory())

    def __len__(self) -> int:
        return len(self._types)

    def __repr__(self) -> str:
        return f"OperationCatalog({len(self)} types)"
