"""Where a host keeps its runs and states: table and column names, and its own vocabulary.

A mapping names tables and columns; the adapter builds ``sa.table``/``sa.column`` objects from
them, so SQLAlchemy quotes every identifier and every value is a bound parameter. Identifiers are
still validated when the mapping is built, so a typo or a hostile string fails at configuration
time rather than as a confusing database error mid-batch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.types import JsonDocument
from runactionability.errors import ConfigurationError
from runactionability.model import RunOutcome, RunStatus

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _identifier(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be a SQL identifier (letters, "
            f"digits and underscores, not starting with a digit, at most 63 characters), "
            f"not {value!r}"
        )


_optional_identifier: Any = attrs.validators.optional(_identifier)


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


def _as_status_vocabulary(value: Mapping[str, RunStatus | str]) -> Mapping[str, RunStatus]:
    return MappingProxyType({str(key): RunStatus(status) for key, status in value.items()})


def _as_outcome_vocabulary(value: Mapping[str, RunOutcome | str]) -> Mapping[str, RunOutcome]:
    return MappingProxyType({str(key): RunOutcome(outcome) for key, outcome in value.items()})


def _as_instants(value: Instants | str) -> Instants:
    return value if isinstance(value, Instants) else Instants.parse(value)


def _values_of(vocabulary: Mapping[str, Any], meaning: object) -> tuple[str, ...]:
    return tuple(sorted(value for value, known in vocabulary.items() if known == meaning))


@attrs.frozen(repr=False)
class UnmappedValue:
    """A stored status or outcome that the host's vocabulary does not list, as it was read.

    It is neither a string nor a ``RunStatus``/``RunOutcome``, so ``OperationRun`` keeps it as is
    and the core flags the run (``invalid_status``, ``invalid_outcome``), even when the stored
    text is one of the library's own words: a host that maps its own vocabulary gives such a
    word no meaning, and guessing one would turn a bad row into a confident verdict.
    """

    stored: Any

    def __repr__(self) -> str:
        return f"UnmappedValue({self.stored!r})"


_LIBRARY_STATUSES: Mapping[str, RunStatus] = {status.value: status for status in RunStatus}
_LIBRARY_OUTCOMES: Mapping[str, RunOutcome] = {outcome.value: outcome for outcome in RunOutcome}


def _read(stored: object, vocabulary: Mapping[str, Any], library: Mapping[str, Any]) -> object:
    if not isinstance(stored, str):
        return stored
    known = vocabulary.get(stored)
    if known is not None:
        return known
    # Under the library's own vocabulary an unlisted text is no library word, so it is passed
    # as stored; under a host vocabulary it could be one, and must not be read as it.
    return stored if vocabulary == library else UnmappedValue(stored)


RUN_FIELDS = (
    "id",
    "type",
    "workspace_id",
    "environment_id",
    "status",
    "outcome",
    "created_at",
    "started_at",
    "completed_at",
    "context",
)
"""The ``RunTableMapping`` attributes that name a column, in ``OperationRun`` field order."""


@attrs.frozen(kw_only=True)
class RunTableMapping:
    """The host's table of operation runs.

    Each column field names the host's column. ``subject`` names the column that holds the
    correlation value as a string; when it is None, the subject is read from the JSON ``context``
    column under the catalog type's ``subject_key`` (slower: such a lookup cannot use a plain
    index, see ``docs/adapters.md``). ``statuses`` and ``outcomes`` map the host's stored values to
    the library's. With the default (the library's own words) a stored value missing from them
    is passed to the core as stored, which flags it; with a host vocabulary it is passed as an
    ``UnmappedValue``, which the core flags even when the stored text is a library word
    (``"succeeded"`` means nothing to a host whose success is ``"ok"``). Scope ids and the
    subject are compared as text. ``timestamps`` says how the table stores its instants (an
    ``Instants`` or its ``Instants.parse`` name; by default the reference storage,
    ``timestamptz`` on PostgreSQL and integer UTC microseconds on SQLite). ``integer_ids`` says
    the id column is an integer, so ``SqlRunSource.get_run("42")`` looks up 42 (a CLI passes
    text).
    """

    table: str = attrs.field(validator=_identifier)
    schema: str | None = attrs.field(default=None, validator=_optional_identifier)
    id: str = attrs.field(default="id", validator=_identifier)
    type: str = attrs.field(default="type", validator=_identifier)
    workspace_id: str = attrs.field(default="workspace_id", validator=_identifier)
    environment_id: str = attrs.field(default="environment_id", validator=_identifier)
    status: str = attrs.field(default="status", validator=_identifier)
    outcome: str = attrs.field(default="outcome", validator=_identifier)
    created_at: str = attrs.field(default="created_at", validator=_identifier)
    started_at: str = attrs.field(default="started_at", validator=_identifier)
    completed_at: str = attrs.field(default="completed_at", validator=_identifier)
    context: str = attrs.field(default="context", validator=_identifier)
    subject: str | None = attrs.field(default="subject", validator=_optional_identifier)
    statuses: Mapping[str, RunStatus] = attrs.field(
        factory=lambda: {status.value: status for status in RunStatus},
        converter=_as_status_vocabulary,
    )
    outcomes: Mapping[str, RunOutcome] = attrs.field(
        factory=lambda: {outcome.value: outcome for outcome in RunOutcome},
        converter=_as_outcome_vocabulary,
    )
    integer_ids: bool = True
    timestamps: Instants = attrs.field(factory=Instants.native, converter=_as_instants)

    def __attrs_post_init__(self) -> None:
        if not _values_of(self.statuses, RunStatus.COMPLETED):
            raise ConfigurationError("RunTableMapping.statuses names no value for 'completed'")
        if not _values_of(self.outcomes, RunOutcome.SUCCEEDED):
            raise ConfigurationError("RunTableMapping.outcomes names no value for 'succeeded'")

    def table_clause(self) -> sa.TableClause:
        """A lightweight ``sa.table`` with the mapped columns under their host names."""
        columns: list[sa.ColumnClause[Any]] = [
            sa.column(self.id),
            sa.column(self.type, sa.String()),
            sa.column(self.workspace_id, sa.String()),
            sa.column(self.environment_id, sa.String()),
            sa.column(self.status, sa.String()),
            sa.column(self.outcome, sa.String()),
            sa.column(self.created_at, self.timestamps.column_type()),
            sa.column(self.started_at, self.timestamps.column_type()),
            sa.column(self.completed_at, self.timestamps.column_type()),
            sa.column(self.context, JsonDocument()),
        ]
        if self.subject is not None:
            columns.append(sa.column(self.subject, sa.String()))
        return sa.table(self.table, *columns, schema=self.schema)

    def read_status(self, stored: object) -> object:
        """What a stored status value means: a ``RunStatus``, or a value the core flags."""
        return _read(stored, self.statuses, _LIBRARY_STATUSES)

    def read_outcome(self, stored: object) -> object:
        """What a stored outcome value means: a ``RunOutcome``, None, or a value the core flags."""
        return _read(stored, self.outcomes, _LIBRARY_OUTCOMES)

    def stored_statuses(self, status: RunStatus) -> tuple[str, ...]:
        """The host values that mean ``status``, sorted."""
        return _values_of(self.statuses, status)

    def stored_outcomes(self, outcome: RunOutcome) -> tuple[str, ...]:
        """The host values that mean ``outcome``, sorted."""
        return _values_of(self.outcomes, outcome)


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
    """

    kind: str = attrs.field(validator=attrs.validators.instance_of(str))
    table: str = attrs.field(validator=_identifier)
    schema: str | None = attrs.field(default=None, validator=_optional_identifier)
    workspace_id: str = attrs.field(default="workspace_id", validator=_identifier)
    environment_id: str = attrs.field(default="environment_id", validator=_identifier)
    subject: str = attrs.field(default="subject", validator=_identifier)
    status: str = attrs.field(default="status", validator=_identifier)
    proven_at: str = attrs.field(default="proven_at", validator=_identifier)
    attributes: str | None = attrs.field(default="attributes", validator=_optional_identifier)
    statuses: Mapping[str, str] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_frozen_mapping)
    )
    timestamps: Instants = attrs.field(factory=Instants.native, converter=_as_instants)

    def table_clause(self) -> sa.TableClause:
        """A lightweight ``sa.table`` with the mapped columns under their host names."""
        columns: list[sa.ColumnClause[Any]] = [
            sa.column(self.workspace_id, sa.String()),
            sa.column(self.environment_id, sa.String()),
            sa.column(self.subject, sa.String()),
            sa.column(self.status, sa.String()),
            sa.column(self.proven_at, self.timestamps.column_type()),
        ]
        if self.attributes is not None:
            columns.append(sa.column(self.attributes, JsonDocument()))
        return sa.table(self.table, *columns, schema=self.schema)


STATE_KINDS: tuple[str, ...] = (
    "provider_connection",
    "baseline_snapshot",
    "evidence_snapshot",
    "environment_review",
    "review_pack",
    "backup_set",
)
"""The state kinds the built-in families read, each with a table in the reference schema."""

REFERENCE_RUNS = RunTableMapping(table="operation_runs")
"""The mapping of the reference schema's ``operation_runs`` table."""


def reference_state_mappings() -> dict[str, StateTableMapping]:
    """The mappings of the reference schema's state tables, one per built-in state kind."""
    return {kind: StateTableMapping(kind=kind, table=f"{kind}_states") for kind in STATE_KINDS}
