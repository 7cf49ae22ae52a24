"""Where a host keeps the current states of one kind: ``StateTableMapping``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._fields import (
    IDENTIFIER,
    as_instants,
    frozen_mapping,
    identifier,
    optional_identifier,
)
from runactionability.adapters.sqlalchemy._reading import Bind
from runactionability.adapters.sqlalchemy.ids import IdColumn, StateIdTypes, as_state_id_types
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.types import JsonDocument, exact_equal, vocabulary_type
from runactionability.adapters.sqlalchemy.vocabulary import VALUE_TYPES, check_keys
from runactionability.errors import ConfigurationError


def _as_filters(value: Mapping[str, str | int]) -> Mapping[str, str | int]:
    for column, wanted in value.items():
        if not isinstance(column, str) or not IDENTIFIER.fullmatch(column):
            raise ConfigurationError(
                f"StateTableMapping.where keys must be SQL identifiers, not {column!r}"
            )
        if isinstance(wanted, bool) or not isinstance(wanted, str | int):
            raise ConfigurationError(
                f"StateTableMapping.where[{column!r}] must be a str or an int, not {wanted!r}"
            )
    return MappingProxyType(dict(value))


def _as_statuses(value: Mapping[Any, str]) -> Mapping[str, str]:
    # A stored value is read as text (an integer column's as its decimal text), so the keys
    # are too: ``{1: "healthy"}`` lists the stored 1, as TOML's ``{"1" = "healthy"}`` does.
    return frozen_mapping({str(key): word for key, word in value.items()})


@attrs.frozen(kw_only=True)
class StateTableMapping:
    """The host's table of current states of one kind (e.g. ``provider_connection``).

    ``statuses`` maps the host's stored status values to the ones the policies know (e.g.
    ``{"ok": "healthy"}``); a row whose stored value is missing from it proves nothing (the
    object then has no fact), so an unlisted value never counts as healthy or complete, even
    when it is one of the policies' words. When it is None, stored values are used as they are.
    A table
    that holds several rows per (workspace, environment, subject) is read under the rule of
    ``SqlStateSource``: its newest row, and no fact when that row proves nothing or is ambiguous.
    ``attributes`` names an optional JSON column returned with the fact. ``timestamps`` says
    how ``proven_at`` is stored (as for ``RunTableMapping``).

    A host's own domain table is read as it is: as ``subject`` the column holding the id the
    kind's runs name (a connection's own ``id``, but a backup set's ``backup_schedule_id``; see
    docs/adapters.md, "Which id is a state's subject"), or None for a kind whose objects are
    whole scopes, such as an environment's evidence snapshots (every row of the scope is a row
    of that one object, and a request naming a subject gets no fact),
    its own scope, status and proof-time columns (e.g. ``proven_at="verified_at"``), and no
    attributes column. ``where`` keeps only the rows whose columns equal the given values
    (AND-ed, bound as parameters, text compared byte for byte), so one table can hold several
    kinds: ``where={"kind": "baseline"}``.
    ``ids`` gives the type of the scope id and subject columns (``StateIdTypes``, or a mapping
    of its fields), each compared in its own type. ``status_type`` says what the status column
    holds, as for ``RunTableMapping``: an integer column needs ``statuses`` with integer keys.
    ``reflect`` derives it, and binds each ``where`` value in its column's type.
    """

    kind: str = attrs.field(validator=attrs.validators.instance_of(str))
    table: str = attrs.field(validator=identifier)
    schema: str | None = attrs.field(default=None, validator=optional_identifier)
    workspace_id: str = attrs.field(default="workspace_id", validator=identifier)
    environment_id: str = attrs.field(default="environment_id", validator=identifier)
    subject: str | None = attrs.field(default="subject", validator=optional_identifier)
    status: str = attrs.field(default="status", validator=identifier)
    proven_at: str = attrs.field(default="proven_at", validator=identifier)
    attributes: str | None = attrs.field(default="attributes", validator=optional_identifier)
    statuses: Mapping[str, str] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_as_statuses)
    )
    where: Mapping[str, str | int] = attrs.field(factory=dict, converter=_as_filters)
    ids: StateIdTypes = attrs.field(factory=StateIdTypes, converter=as_state_id_types)
    timestamps: Instants = attrs.field(factory=Instants.native, converter=as_instants)
    status_type: str = attrs.field(default="text", validator=attrs.validators.in_(VALUE_TYPES))

    def __attrs_post_init__(self) -> None:
        if self.status_type != "integer":
            return
        owner = f"StateTableMapping({self.kind!r}, {self.table!r})"
        if self.statuses is None:
            # The policies' words are text: an integer column could never hold one.
            raise ConfigurationError(
                f"{owner}: column {self.status!r} holds integers, which no policy word is: map "
                f"each stored integer to its word in statuses (e.g. {{1: 'healthy'}})"
            )
        check_keys(owner, self.status, self.status_type, self.statuses)

    @classmethod
    def reflect(
        cls,
        bind: Bind,
        kind: str,
        table: str,
        *,
        schema: str | None = None,
        zone: str | None = None,
        epoch_unit: str | None = None,
        **overrides: Any,
    ) -> StateTableMapping:
        """The mapping of ``kind`` in ``table``, its ids and instants read from its column types.

        As ``RunTableMapping.reflect``; a table without an ``attributes`` column is mapped
        without one.
        """
        from runactionability.adapters.sqlalchemy.reflect import reflect_state

        return reflect_state(
            bind, kind, table, schema=schema, zone=zone, epoch_unit=epoch_unit, **overrides
        )

    def table_clause(self) -> sa.TableClause:
        """A lightweight ``sa.table`` with the mapped columns under their host names."""
        columns: list[sa.ColumnClause[Any]] = [
            sa.column(self.workspace_id, IdColumn(self.ids.workspace)),
            sa.column(self.environment_id, IdColumn(self.ids.environment)),
            sa.column(self.status, vocabulary_type(self.status_type)),
            sa.column(self.proven_at, self.timestamps.column_type()),
        ]
        if self.subject is not None:
            columns.append(sa.column(self.subject, IdColumn(self.ids.subject)))
        if self.attributes is not None:
            columns.append(sa.column(self.attributes, JsonDocument()))
        named = {column.name for column in columns}
        for column, wanted in self.where.items():
            if column not in named:
                kind = sa.String() if isinstance(wanted, str) else sa.BigInteger()
                columns.append(sa.column(column, kind))
        return sa.table(self.table, *columns, schema=self.schema)

    def filters(self, table: Any, dialect: str) -> list[sa.ColumnElement[bool]]:
        """The ``where`` equalities over ``table`` (an alias of ``table_clause()``)."""
        return [
            exact_equal(table.c[column], sa.literal(wanted, sa.String()), dialect)
            if isinstance(wanted, str)
            else table.c[column] == sa.literal(wanted, sa.BigInteger())
            for column, wanted in sorted(self.where.items())
        ]

    def subject_of(self, table: Any) -> Any:
        """The stored subject of a row of ``table``: its column, or NULL when the kind has none."""
        return sa.null() if self.subject is None else table.c[self.subject]


STATE_KINDS: tuple[str, ...] = (
    "provider_connection",
    "baseline_snapshot",
    "evidence_snapshot",
    "environment_review",
    "review_pack",
    "backup_set",
)
"""The state kinds the built-in families read, each with a table in the reference schema."""


def reference_state_mappings() -> dict[str, StateTableMapping]:
    """The mappings of the reference schema's state tables, one per built-in state kind."""
    return {kind: StateTableMapping(kind=kind, table=f"{kind}_states") for kind in STATE_KINDS}
