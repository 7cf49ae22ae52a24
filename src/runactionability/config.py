"""One configuration file for a host: the database, its tables, the catalog, the locale.

``load_config`` reads ``runactionability.toml`` (or the ``[tool.runactionability]`` table of a
``pyproject.toml``) into a typed ``Config``; ``ActionabilityService.from_config`` and every CLI
command (``--config FILE``) read the same file. ``docs/configuration.md`` shows a complete one.

The file is checked whole when it is loaded: an unknown key, a value of the wrong type, a mapping
the adapter would refuse (a bad identifier, a vocabulary without a completed success) is a
``ConfigurationError`` that names the file and the key. Only what needs the database (reflecting
a table's column types) waits for it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import attrs
import cattrs
import sqlalchemy as sa
from cattrs.gen import make_dict_structure_fn, override

from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.cursors import MIN_KEY_LENGTH
from runactionability.catalog import OperationCatalog
from runactionability.errors import ConfigurationError
from runactionability.registry import Registry

CONFIG_FILE = "runactionability.toml"
"""The file ``load_config`` looks for in the working directory."""

REGISTRY_CATALOG = "registry"
"""The ``catalog`` value naming the registry's catalog (every registered plugin's types)."""

_LOCALE = re.compile(
    r"(?P<language>[A-Za-z]{2,3}|[A-Za-z]{5,8})"
    r"(?:[-_](?P<script>[A-Za-z]{4}))?"
    r"(?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:[-_](?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)"
)
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFLECTION = ("reflect", "zone", "epoch_unit")
_NOT_MAPPED = ("table", "schema", *_REFLECTION)


def canonical_locale(tag: str) -> str:
    """``tag`` as a BCP 47 language tag in canonical case (``pt-BR``, ``zh-Hant-TW``).

    A language, then optionally a script, a region and variants; ``_`` is read as ``-``.
    Raises ``ConfigurationError`` for anything else.
    """
    match = _LOCALE.fullmatch(tag) if isinstance(tag, str) else None
    if match is None:
        raise ConfigurationError(f"{tag!r} is not a BCP 47 language tag (e.g. 'en', 'de-CH')")
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    parts += [variant.lower() for variant in re.split(r"[-_]", match["variants"]) if variant]
    return "-".join(parts)


@attrs.frozen(kw_only=True)
class RunsConfig:
    """The ``[runs]`` table: ``RunTableMapping``'s fields, each optional but ``table``.

    With ``reflect = true`` the column types are read from the table (``RunTableMapping.reflect``,
    given ``zone`` and ``epoch_unit`` where the types need them) and the other keys override.
    ``subject = false`` says the table has no subject column. ``lifecycles`` maps each stored
    value of the ``lifecycle`` column to ``[status]`` or ``[status, outcome]``.
    """

    table: str
    schema: str | None = None
    reflect: bool = False
    zone: str | None = None
    epoch_unit: Literal["s", "ms", "us"] | None = None
    id: str | None = None
    type: str | None = None
    workspace_id: str | None = None
    environment_id: str | None = None
    status: str | None = None
    outcome: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    context: str | None = None
    subject: str | bool | None = None
    statuses: dict[str, str] | None = None
    outcomes: dict[str, str] | None = None
    lifecycle: str | None = None
    lifecycles: dict[str, list[str]] | None = None
    timestamps: str | None = None
    ids: dict[str, str] | None = None

    def mapping(self, bind: sa.Engine | sa.Connection | None = None) -> RunTableMapping:
        """The ``RunTableMapping`` this table describes (reflected through ``bind`` if asked)."""
        fields = _given(self, optional=("subject",))
        if "lifecycles" in fields:
            fields["lifecycles"] = {
                value: _lifecycle_pair(value, pair) for value, pair in fields["lifecycles"].items()
            }
        return _built(RunTableMapping, self, bind, fields, "runs")


@attrs.frozen(kw_only=True)
class StateConfig:
    """A ``[states.KIND]`` table: ``StateTableMapping``'s fields, each optional but ``table``.

    ``where`` holds equality filters (several kinds in one table); ``attributes = false`` says the
    table has no attributes column. ``reflect`` as for ``[runs]``.
    """

    table: str
    schema: str | None = None
    reflect: bool = False
    zone: str | None = None
    epoch_unit: Literal["s", "ms", "us"] | None = None
    workspace_id: str | None = None
    environment_id: str | None = None
    subject: str | None = None
    status: str | None = None
    proven_at: str | None = None
    attributes: str | bool | None = None
    statuses: dict[str, str] | None = None
    where: dict[str, str | int] | None = None
    timestamps: str | None = None
    ids: dict[str, str] | None = None

    def mapping(
        self, kind: str, bind: sa.Engine | sa.Connection | None = None
    ) -> StateTableMapping:
        """The ``StateTableMapping`` of ``kind`` this table describes."""
        fields = _given(self, optional=("attributes",))
        return _built(StateTableMapping, self, bind, {"kind": kind, **fields}, f"states.{kind}")


@attrs.frozen(kw_only=True)
class Config:
    """A host's configuration, as ``load_config`` reads it (every field has a default).

    ``database``: a URL, or the path of a SQLite file (made absolute against the file's folder).
    ``runs``: the runs table (default: the reference schema's). ``states``: a table per state
    kind, plugin kinds included. ``reference_states``: whether the reference schema's tables
    serve the built-in kinds ``states`` does not name (default: only when ``states`` is empty).
    ``catalog``: ``"registry"`` (the registry's catalog) or the path of a catalog TOML file.
    ``locale``: a BCP 47 tag, in canonical case. ``cursor_key_env``: the name of the environment
    variable holding the key that signs cursors (the file never holds the key itself).
    ``source``: the file it was read from, if any.
    """

    database: str | None = None
    runs: RunsConfig | None = None
    states: dict[str, StateConfig] = attrs.field(factory=dict)
    reference_states: bool | None = None
    catalog: str = REGISTRY_CATALOG
    locale: str = "en"
    cursor_key_env: str | None = None
    source: Path | None = None

    def run_mapping(self, bind: sa.Engine | sa.Connection | None = None) -> RunTableMapping:
        """The runs table's mapping; ``bind`` is needed only to reflect it."""
        return REFERENCE_RUNS if self.runs is None else self.runs.mapping(bind)

    def state_mappings(
        self, bind: sa.Engine | sa.Connection | None = None
    ) -> dict[str, StateTableMapping]:
        """The state tables by kind; ``bind`` is needed only to reflect one."""
        with_reference = not self.states if self.reference_states is None else self.reference_states
        mappings = reference_state_mappings() if with_reference else {}
        mappings.update({kind: table.mapping(kind, bind) for kind, table in self.states.items()})
        return mappings

    def operation_catalog(self, registry: Registry) -> OperationCatalog:
        """The catalog the file names: ``registry``'s own, or the file's catalog TOML."""
        if self.catalog == REGISTRY_CATALOG:
            return registry.catalog()
        return OperationCatalog.from_toml(self.catalog)

    def cursor_key(self, environ: Mapping[str, str] | None = None) -> bytes | None:
        """The cursor key from the variable ``cursor_key_env`` names, or None if it names none.

        Raises ``ConfigurationError`` (naming the variable, never its value) when the variable
        is unset or shorter than ``MIN_KEY_LENGTH`` bytes.
        """
        if self.cursor_key_env is None:
            return None
        value = (os.environ if environ is None else environ).get(self.cursor_key_env, "")
        key = value.encode()
        if len(key) < MIN_KEY_LENGTH:
            state = "is not set" if not value else f"holds fewer than {MIN_KEY_LENGTH} bytes"
            raise ConfigurationError(
                f"{self._origin()}: cursor_key_env names {self.cursor_key_env}, which {state}"
            )
        return key

    def database_url(self) -> sa.URL:
        """``database`` as a URL (a SQLite file's path becomes a ``sqlite:///`` URL)."""
        if self.database is None:
            raise ConfigurationError(f"{self._origin()}: no database is named (key 'database')")
        if "://" not in self.database:
            return sa.URL.create("sqlite", database=self.database)
        return sa.make_url(self.database)

    def _origin(self) -> str:
        return str(self.source) if self.source is not None else "the configuration"


def load_config(path: str | os.PathLike[str] | None = None, *, cwd: Path | None = None) -> Config:
    """The configuration at ``path``; without one, the first found of ``./runactionability.toml``
    and the nearest ``pyproject.toml`` (from ``cwd`` up) with a ``[tool.runactionability]``
    table; without either, the defaults (the reference schema, the registry's catalog).

    Raises ``ConfigurationError`` naming the file and the key for a missing or unreadable file,
    an unknown key, a value of the wrong type or a mapping the adapter refuses.
    """
    if path is not None:
        chosen = Path(path)
        if not chosen.is_file():
            raise ConfigurationError(f"no configuration file at {str(chosen)!r}")
        document = _read(chosen)
        if chosen.name == "pyproject.toml":
            table = document.get("tool", {}).get("runactionability")
            if not isinstance(table, dict):
                raise ConfigurationError(f"{chosen}: no [tool.runactionability] table")
            document = table
        return _structured(document, chosen)
    here = (cwd or Path.cwd()).resolve()
    if (here / CONFIG_FILE).is_file():
        return _structured(_read(here / CONFIG_FILE), here / CONFIG_FILE)
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            table = _read(candidate).get("tool", {}).get("runactionability")
            if isinstance(table, dict):
                return _structured(table, candidate)
    return Config()


# -- reading ------------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: not a readable TOML file: {exc}") from None


def _structured(document: dict[str, Any], path: Path) -> Config:
    try:
        config = _CONVERTER.structure(document, Config)
    except cattrs.BaseValidationError as exc:
        problems = cattrs.transform_error(exc, path="", format_exception=_problem)
        raise ConfigurationError(f"{path}: " + "; ".join(_keyed(p) for p in problems)) from None
    folder = path.parent.resolve()
    config = attrs.evolve(config, source=path)
    if config.database is not None and "://" not in config.database:
        config = attrs.evolve(config, database=str(folder / config.database))
    if config.catalog != REGISTRY_CATALOG:
        config = attrs.evolve(config, catalog=str(folder / config.catalog))
    # Everything that can be checked without the database is checked now, naming the file.
    try:
        if config.runs is not None and not config.runs.reflect:
            config.runs.mapping()
        for kind, table in config.states.items():
            if not table.reflect:
                table.mapping(kind)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    return config


def _keyed(problem: str) -> str:
    message, _, where = problem.rpartition(" @ ")
    key = where.lstrip(".").replace("['", ".").replace("']", "")
    return f"{key}: {message}" if key else message


def _problem(exc: BaseException, expected: Any) -> str:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown key {', '.join(sorted(exc.extra_fields))!r}"
    if isinstance(exc, KeyError):
        return "required key missing"
    if isinstance(exc, _WrongType | ConfigurationError):
        return str(exc)
    return f"invalid value ({exc})"


class _WrongType(ValueError):
    pass


# -- structuring --------------------------------------------------------------------------------

_T = TypeVar("_T")


def _strictly(kind: type[_T], label: str) -> Callable[[object, object], _T]:
    def structure(value: object, _: object) -> _T:
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise _WrongType(f"expected {label}, not {value!r}")
        return value

    return structure


def _text_or_flag(value: object, _: object) -> str | bool:
    if isinstance(value, str) or value is False:
        return value
    raise _WrongType(f"expected a column name or false, not {value!r}")


def _text_or_integer(value: object, _: object) -> str | int:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _WrongType(f"expected a string or an integer, not {value!r}")


def _catalog(value: object, _: object) -> str:
    if isinstance(value, str) and (value == REGISTRY_CATALOG or value.endswith(".toml")):
        return value
    raise _WrongType(f"expected 'registry' or the path of a .toml catalog file, not {value!r}")


def _locale(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise _WrongType(f"expected a BCP 47 language tag, not {value!r}")
    return canonical_locale(value)


def _variable(value: object, _: object) -> str:
    if isinstance(value, str) and _VARIABLE.fullmatch(value):
        return value
    raise _WrongType(f"expected the name of an environment variable, not {value!r}")


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _strictly(str, "a string"))
    converter.register_structure_hook(bool, _strictly(bool, "true or false"))
    converter.register_structure_hook(str | bool | None, _text_or_flag)
    converter.register_structure_hook(str | int, _text_or_integer)
    converter.register_structure_hook(
        Config,
        make_dict_structure_fn(
            Config,
            converter,
            _cattrs_forbid_extra_keys=True,
            source=override(omit=True),
            catalog=override(struct_hook=_catalog),
            locale=override(struct_hook=_locale),
            cursor_key_env=override(struct_hook=_variable),
        ),
    )
    return converter


_CONVERTER = _converter()


# -- building mappings --------------------------------------------------------------------------


def _given(section: RunsConfig | StateConfig, *, optional: tuple[str, ...]) -> dict[str, Any]:
    """The mapping fields the section gives (``false`` for an optional column: None)."""
    fields = {
        name: value
        for name, value in attrs.asdict(section, recurse=False).items()
        if value is not None and name not in _NOT_MAPPED
    }
    for name in optional:
        if fields.get(name) is True:
            raise ConfigurationError(f"{name}: expected a column name or false, not true")
        if fields.get(name) is False:
            fields[name] = None
    return fields


def _lifecycle_pair(value: str, pair: list[str]) -> tuple[str, str | None]:
    if len(pair) == 1:
        return (pair[0], None)
    if len(pair) == 2:
        return (pair[0], pair[1])
    raise ConfigurationError(
        f"lifecycles.{value}: expected [status] or [status, outcome], not {pair!r}"
    )


_M = TypeVar("_M", RunTableMapping, StateTableMapping)


def _built(
    cls: type[_M],
    section: RunsConfig | StateConfig,
    bind: sa.Engine | sa.Connection | None,
    fields: dict[str, Any],
    name: str,
) -> _M:
    try:
        if section.reflect:
            return _reflected(cls, section, bind, fields)
        for key in ("zone", "epoch_unit"):
            if getattr(section, key) is not None:
                raise ConfigurationError(f"{key}: only read with reflect = true")
        return cls(table=section.table, schema=section.schema, **fields)
    except (ConfigurationError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"[{name}]: {exc}") from None


def _reflected(
    cls: type[_M],
    section: RunsConfig | StateConfig,
    bind: sa.Engine | sa.Connection | None,
    fields: dict[str, Any],
) -> _M:
    reflect = getattr(cls, "reflect", None)
    if reflect is None:
        raise ConfigurationError("reflect = true: this version cannot reflect a table")
    if bind is None:
        raise ConfigurationError("reflect = true needs the database to read the table")
    options = {"schema": section.schema, "zone": section.zone, "epoch_unit": section.epoch_unit}
    leading = (fields.pop("kind"),) if cls is StateTableMapping else ()
    mapping = reflect(bind, *leading, section.table, **options, **fields)
    assert isinstance(mapping, cls)
    return mapping
