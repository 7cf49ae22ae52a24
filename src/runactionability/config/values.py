"""The typed values of a configuration file: ``Config``, its ``[runs]`` and ``[states.KIND]``
tables, and how each becomes the adapter's mapping."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy._reading import as_found
from runactionability.adapters.sqlalchemy.backend import present_reference_states
from runactionability.adapters.sqlalchemy.cursors import MIN_KEY_LENGTH
from runactionability.catalog import OperationCatalog
from runactionability.errors import ConfigurationError, driver_message
from runactionability.registry import Registry
from runactionability.testing.guard import GuardRules

REGISTRY_CATALOG = "registry"
"""The ``catalog`` value naming the registry's catalog (every registered plugin's types)."""

_LOCALE = re.compile(
    r"(?P<language>[A-Za-z]{2,3}|[A-Za-z]{5,8})"
    r"(?:[-_](?P<script>[A-Za-z]{4}))?"
    r"(?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:[-_](?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)"
)
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""The name of an environment variable."""
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

    The column types are read from the table (``RunTableMapping.reflect``, given ``zone`` and
    ``epoch_unit`` where the types need them) and the other keys override; ``reflect = false``
    takes the keys alone, the library's defaults standing for what they do not say
    (docs/decisions.md, "Configuration files reflect their tables").
    ``subject = false`` says the table has no subject column. ``lifecycles`` maps each stored
    value of the ``lifecycle`` column to ``[status]`` or ``[status, outcome]``.
    ``status_type`` / ``outcome_type`` (``"text"``, ``"collated_text"``, ``"integer"``) say what
    the vocabulary columns hold where reflection cannot (``reflect = false``); a service refuses
    one its column's declared type contradicts.
    """

    table: str
    schema: str | None = None
    reflect: bool = True
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
    status_type: str | None = None
    outcome_type: str | None = None

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
    table has no attributes column, ``subject = false`` that it has no subject column (its
    objects are whole scopes). ``reflect`` (default true) and ``status_type`` as for ``[runs]``.
    """

    table: str
    schema: str | None = None
    reflect: bool = True
    zone: str | None = None
    epoch_unit: Literal["s", "ms", "us"] | None = None
    workspace_id: str | None = None
    environment_id: str | None = None
    subject: str | bool | None = None
    status: str | None = None
    proven_at: str | None = None
    attributes: str | bool | None = None
    statuses: dict[str, str] | None = None
    where: dict[str, str | int] | None = None
    timestamps: str | None = None
    ids: dict[str, str] | None = None
    status_type: str | None = None

    def mapping(
        self, kind: str, bind: sa.Engine | sa.Connection | None = None
    ) -> StateTableMapping:
        """The ``StateTableMapping`` of ``kind`` this table describes."""
        fields = _given(self, optional=("attributes", "subject"))
        return _built(StateTableMapping, self, bind, {"kind": kind, **fields}, f"states.{kind}")


@attrs.frozen(kw_only=True)
class GuardConfig:
    """The ``[guard]`` table: what ``runactionability guard`` checks and where (docs/testing.md).

    ``paths``: the files and folders checked when the command names none (relative to the
    file's folder). ``attributes``, ``predicates`` and ``allowed`` are ``GuardRules``'s.
    """

    paths: list[str] = attrs.field(factory=list)
    attributes: list[str] = attrs.field(factory=list)
    predicates: list[str] = attrs.field(factory=list)
    allowed: list[str] = attrs.field(factory=list)

    def rules(self) -> GuardRules:
        """The ``GuardRules`` of this table; raises ``ConfigurationError`` for a bad entry."""
        try:
            return GuardRules(
                attributes=self.attributes, predicates=self.predicates, allowed=self.allowed
            )
        except ValueError as exc:
            raise ConfigurationError(f"[guard]: {exc}") from None


@attrs.frozen(kw_only=True)
class Config:
    """A host's configuration, as ``load_config`` reads it (every field has a default).

    ``database``: a URL, or the path of a SQLite file (made absolute against the file's folder).
    ``runs``: the runs table (default: the reference schema's). ``states``: a table per state
    kind, plugin kinds included. ``reference_states``: whether the reference schema's tables
    serve the built-in kinds ``states`` does not name (default: only when ``states`` is empty;
    under a host's own ``runs`` table, only those of them the database has).
    ``catalog``: ``"registry"`` (the registry's catalog) or the path of a catalog TOML file.
    ``locale``: a BCP 47 tag, in canonical case: the language of every text a session renders.
    ``time_zone``: the IANA zone instants are shown in (default UTC). ``messages``: a directory of
    the host's own gettext catalogs (``<locale>/LC_MESSAGES/runactionability.po`` or ``.mo``),
    which override the library's and plugins' messages. ``cursor_key_env``: the name of the
    environment variable holding the key that signs cursors (the file never holds the key).
    ``change_margin_seconds``: how far behind the clock a poll of the change feed ends (the
    service's ``change_margin``; None: its default). ``guard``: the raw-follow-up guard's
    table. ``source``: the file it was read from, if any.
    """

    database: str | None = None
    runs: RunsConfig | None = None
    states: dict[str, StateConfig] = attrs.field(factory=dict)
    reference_states: bool | None = None
    catalog: str = REGISTRY_CATALOG
    locale: str = "en"
    time_zone: str | None = None
    messages: str | None = None
    cursor_key_env: str | None = None
    change_margin_seconds: float | None = None
    guard: GuardConfig = attrs.field(factory=GuardConfig)
    source: Path | None = None

    def run_mapping(self, bind: sa.Engine | sa.Connection | None = None) -> RunTableMapping:
        """The runs table's mapping; ``bind`` is needed only to reflect it."""
        return REFERENCE_RUNS if self.runs is None else self.runs.mapping(bind)

    def state_mappings(
        self, bind: sa.Engine | sa.Connection | None = None
    ) -> dict[str, StateTableMapping]:
        """The state tables by kind; ``bind`` is needed to reflect one, and to see which reference
        state tables a host's database has. A host's idle Connection is left idle."""
        if bind is None:
            return self._state_mappings(None)
        with as_found(bind) as bound:
            return self._state_mappings(bound)

    def _state_mappings(
        self, bind: sa.Engine | sa.Connection | None
    ) -> dict[str, StateTableMapping]:
        mappings = self._reference_states(bind)
        mappings.update({kind: table.mapping(kind, bind) for kind, table in self.states.items()})
        return mappings

    def _reference_states(
        self, bind: sa.Engine | sa.Connection | None
    ) -> dict[str, StateTableMapping]:
        """The reference state tables that serve the kinds ``states`` does not name."""
        if self.reference_states is not None or self.states or self.runs is None:
            wanted = not self.states if self.reference_states is None else self.reference_states
            return reference_state_mappings() if wanted else {}
        # A host's own runs table: only the reference state tables its database has, as the
        # Python API maps them (``present_reference_states``).
        if bind is None:
            return {}
        return present_reference_states(bind)

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
        # The variable's own bytes: os.environ holds bytes that are not UTF-8 (a random key) as
        # surrogate escapes, which str.encode() refuses and os.fsencode() turns back.
        key = os.fsencode(value)
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
        f"[runs]: lifecycles.{value}: expected [status] or [status, outcome], not {pair!r}"
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
                raise ConfigurationError(f"{key}: not read with reflect = false")
        return cls(table=section.table, schema=section.schema, **fields)
    except (ConfigurationError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"[{name}]: {exc}") from None
    except sa.exc.DBAPIError as exc:
        # Reflecting reads the database: one that cannot be read is the host's to fix (or
        # reflect = false with the storage named), not a raw driver error.
        said = driver_message(exc) or type(exc).__name__
        raise ConfigurationError(
            f"[{name}]: the table's column types could not be read ({said}); start the "
            "database first, or set reflect = false and name timestamps and ids"
        ) from exc


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
        raise ConfigurationError(
            "the table's column types are read from the database, which is not open here "
            "(reflect = false maps the keys alone)"
        )
    options = {"schema": section.schema, "zone": section.zone, "epoch_unit": section.epoch_unit}
    leading = (fields.pop("kind"),) if cls is StateTableMapping else ()
    mapping = reflect(bind, *leading, section.table, **options, **fields)
    assert isinstance(mapping, cls)
    return mapping
