"""Where a host keeps its runs and states: table and column names, and its own vocabulary.

A mapping names tables and columns; the adapter builds ``sa.table``/``sa.column`` objects from
them, so SQLAlchemy quotes every identifier and every value is a bound parameter. Identifiers are
still validated when the mapping is built, so a typo or a hostile string fails at configuration
time rather than as a confusing database error mid-batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._fields import (
    as_instants,
    identifier,
    optional_identifier,
)
from runactionability.adapters.sqlalchemy._reading import Bind
from runactionability.adapters.sqlalchemy.ids import (
    IdColumn,
    IdType,
    IdTypes,
    as_id_types,
)
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.state_mapping import (
    STATE_KINDS as STATE_KINDS,
)
from runactionability.adapters.sqlalchemy.state_mapping import (
    StateTableMapping as StateTableMapping,
)
from runactionability.adapters.sqlalchemy.state_mapping import (
    reference_state_mappings as reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.types import (
    CollatedText,
    JsonDocument,
    exact_text,
    vocabulary_type,
)
from runactionability.adapters.sqlalchemy.vocabulary import (
    LIBRARY_OUTCOMES,
    LIBRARY_STATUSES,
    VALUE_TYPES,
    Lifecycle,
    as_lifecycles,
    as_outcome_vocabulary,
    as_status_vocabulary,
    check_keys,
    lifecycle_problem,
    read_vocabulary,
    stored_key,
    values_of,
)
from runactionability.errors import ConfigurationError
from runactionability.model import RunOutcome, RunStatus
from runactionability.model import UnmappedValue as UnmappedValue

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
    (``"succeeded"`` means nothing to a host whose success is ``"ok"``).

    ``lifecycle`` names ONE column that holds the whole lifecycle, and ``lifecycles`` maps each
    stored value to its (status, outcome) pair, outcome None for no outcome yet (e.g.
    ``{"running": ("running", None), "done": ("completed", "succeeded")}``). Then ``status``,
    ``outcome``, ``statuses`` and ``outcomes`` are not read, and a stored value missing from
    ``lifecycles`` is an ``UnmappedValue`` status (``invalid_status``). Each pair must be a
    valid one (queued and running: no outcome; completed: an outcome), and one must mean a
    completed success; else ``ConfigurationError``.

    ``timestamps`` says how the table stores its instants (an ``Instants`` or its
    ``Instants.parse`` name; by default the reference storage, ``timestamptz`` on PostgreSQL and
    integer UTC microseconds on SQLite). ``ids`` gives the type of the id, scope id and subject
    columns (``IdTypes``, or a mapping of its fields): each is compared in its own type
    (``runactionability.adapters.sqlalchemy.ids``), so with the default integer run id
    ``SqlRunSource.get_run("42")`` looks up 42 (a CLI passes text).

    ``status_type`` and ``outcome_type`` say what the status and outcome (or lifecycle: the
    status's) columns hold, ``"text"`` or ``"integer"``: an integer column's vocabulary keys are
    integers (``{1: ...}`` or ``{"1": ...}``), bound as integers, and a stored integer is read
    as that key; text is matched byte for byte, whatever the column's collation. ``reflect``
    derives the ids, instants and value types from the table's column types.
    """

    table: str = attrs.field(validator=identifier)
    schema: str | None = attrs.field(default=None, validator=optional_identifier)
    id: str = attrs.field(default="id", validator=identifier)
    type: str = attrs.field(default="type", validator=identifier)
    workspace_id: str = attrs.field(default="workspace_id", validator=identifier)
    environment_id: str = attrs.field(default="environment_id", validator=identifier)
    status: str = attrs.field(default="status", validator=identifier)
    outcome: str = attrs.field(default="outcome", validator=identifier)
    lifecycle: str | None = attrs.field(default=None, validator=optional_identifier)
    lifecycles: Mapping[str, Lifecycle] = attrs.field(factory=dict, converter=as_lifecycles)
    created_at: str = attrs.field(default="created_at", validator=identifier)
    started_at: str = attrs.field(default="started_at", validator=identifier)
    completed_at: str = attrs.field(default="completed_at", validator=identifier)
    context: str = attrs.field(default="context", validator=identifier)
    subject: str | None = attrs.field(default="subject", validator=optional_identifier)
    statuses: Mapping[str, RunStatus] = attrs.field(
        factory=lambda: {status.value: status for status in RunStatus},
        converter=as_status_vocabulary,
    )
    outcomes: Mapping[str, RunOutcome] = attrs.field(
        factory=lambda: {outcome.value: outcome for outcome in RunOutcome},
        converter=as_outcome_vocabulary,
    )
    ids: IdTypes = attrs.field(factory=IdTypes, converter=as_id_types)
    timestamps: Instants = attrs.field(factory=Instants.native, converter=as_instants)
    status_type: str = attrs.field(default="text", validator=attrs.validators.in_(VALUE_TYPES))
    outcome_type: str = attrs.field(default="text", validator=attrs.validators.in_(VALUE_TYPES))

    def __attrs_post_init__(self) -> None:
        owner = f"RunTableMapping({self.table!r})"
        if self.lifecycle is not None or self.lifecycles:
            self._check_lifecycles()
            check_keys(owner, self.lifecycle or "", self.status_type, self.lifecycles)
            return
        check_keys(owner, self.status, self.status_type, self.statuses)
        check_keys(owner, self.outcome, self.outcome_type, self.outcomes)
        if not values_of(self.statuses, RunStatus.COMPLETED):
            raise ConfigurationError("RunTableMapping.statuses names no value for 'completed'")
        if not values_of(self.outcomes, RunOutcome.SUCCEEDED):
            raise ConfigurationError("RunTableMapping.outcomes names no value for 'succeeded'")

    def _check_lifecycles(self) -> None:
        if self.lifecycle is None:
            raise ConfigurationError(
                "RunTableMapping.lifecycles is given but lifecycle names no column: name the "
                "column that holds the lifecycle values"
            )
        if not self.lifecycles:
            raise ConfigurationError(
                f"RunTableMapping.lifecycle {self.lifecycle!r} needs lifecycles: the stored "
                f"values mapped to (status, outcome) pairs"
            )
        # Status and outcome are not read from a lifecycle table; a vocabulary given for them
        # would be silently ignored, so it is refused.
        if dict(self.statuses) != LIBRARY_STATUSES or dict(self.outcomes) != LIBRARY_OUTCOMES:
            raise ConfigurationError(
                "RunTableMapping.statuses and outcomes are not read when lifecycle is set: map "
                "the stored lifecycle values in lifecycles instead"
            )
        for stored, (status, outcome) in self.lifecycles.items():
            problem = lifecycle_problem(stored, status, outcome)
            if problem is not None:
                raise ConfigurationError(
                    f"RunTableMapping.lifecycles: {problem}; a queued or running run has no "
                    f"outcome yet (None), a completed one has one"
                )
        if not self.successes():
            raise ConfigurationError(
                "RunTableMapping.lifecycles names no value for ('completed', 'succeeded')"
            )

    def column_name(self, field: str) -> str:
        """The host column of a ``RUN_FIELDS`` field (the lifecycle column for both status and
        outcome, when it is set)."""
        if self.lifecycle is not None and field in {"status", "outcome"}:
            return self.lifecycle
        name: str = getattr(self, field)
        return name

    def table_clause(self) -> sa.TableClause:
        """A lightweight ``sa.table`` with the mapped columns under their host names."""
        # A lifecycle column is typed as the status column (``status_type``): it is read as both.
        status, outcome = vocabulary_type(self.status_type), vocabulary_type(self.outcome_type)
        lifecycle = (
            [sa.column(self.status, status), sa.column(self.outcome, outcome)]
            if self.lifecycle is None
            else [sa.column(self.lifecycle, status)]
        )
        columns: list[sa.ColumnClause[Any]] = [
            sa.column(self.id, IdColumn(self.ids.run)),
            sa.column(self.type, sa.String()),
            sa.column(self.workspace_id, IdColumn(self.ids.workspace)),
            sa.column(self.environment_id, IdColumn(self.ids.environment)),
            *lifecycle,
            sa.column(self.created_at, self.timestamps.column_type()),
            sa.column(self.started_at, self.timestamps.column_type()),
            sa.column(self.completed_at, self.timestamps.column_type()),
            sa.column(self.context, JsonDocument()),
        ]
        if self.subject is not None:
            columns.append(sa.column(self.subject, IdColumn(self.ids.subject)))
        return sa.table(self.table, *columns, schema=self.schema)

    @classmethod
    def reflect(
        cls,
        bind: Bind,
        table: str,
        *,
        schema: str | None = None,
        zone: str | None = None,
        epoch_unit: str | None = None,
        **overrides: Any,
    ) -> RunTableMapping:
        """The mapping of ``table`` with its ids and instants read from its column types.

        ``zone`` is the zone of ISO-text or ``timestamp without time zone`` columns, and
        ``epoch_unit`` ("s", "ms", "us") what integer timestamp columns count; ``overrides`` are
        the other fields. See ``runactionability.adapters.sqlalchemy.reflect``.
        """
        from runactionability.adapters.sqlalchemy.reflect import reflect_runs

        return reflect_runs(
            bind, table, schema=schema, zone=zone, epoch_unit=epoch_unit, **overrides
        )

    def key_id_types(self) -> dict[str, IdType]:
        """The id type of each id field of an evidence key list: ``ws``, ``env`` and
        ``subject`` (text when the subject is read from the JSON context)."""
        ids = self.ids
        subject: IdType = ids.subject if self.subject is not None else "text"
        return {"ws": ids.workspace, "env": ids.environment, "subject": subject}

    def read_status(self, stored: object) -> object:
        """What a stored status value means: a ``RunStatus``, or a value the core flags.

        With a lifecycle column ``stored`` is the lifecycle value; one that ``lifecycles`` does
        not list is an ``UnmappedValue`` (``invalid_status``).
        """
        stored = stored_key(stored, self.status_type)
        if self.lifecycle is not None:
            return self._lifecycle_of(stored)[0]
        return read_vocabulary(stored, self.statuses, LIBRARY_STATUSES)

    def read_outcome(self, stored: object) -> object:
        """What a stored outcome value means: a ``RunOutcome``, None, or a value the core flags.

        With a lifecycle column ``stored`` is the lifecycle value; an unlisted one has no
        outcome (its status is already flagged).
        """
        if self.lifecycle is not None:
            return self._lifecycle_of(stored_key(stored, self.status_type))[1]
        stored = stored_key(stored, self.outcome_type)
        return read_vocabulary(stored, self.outcomes, LIBRARY_OUTCOMES)

    def _lifecycle_of(self, stored: object) -> tuple[object, object]:
        if not isinstance(stored, str):
            return stored, None
        known = self.lifecycles.get(stored)
        return (UnmappedValue(stored), None) if known is None else known

    def stored_statuses(self, status: RunStatus) -> tuple[str, ...]:
        """The host values that mean ``status``, sorted (lifecycle values, when it is set)."""
        if self.lifecycle is not None:
            return values_of({k: v[0] for k, v in self.lifecycles.items()}, status)
        return values_of(self.statuses, status)

    def stored_outcomes(self, outcome: RunOutcome) -> tuple[str, ...]:
        """The host values that mean ``outcome``, sorted (lifecycle values, when it is set)."""
        if self.lifecycle is not None:
            return values_of({k: v[1] for k, v in self.lifecycles.items()}, outcome)
        return values_of(self.outcomes, outcome)

    def known_outcomes(self) -> tuple[str, ...]:
        """Every stored outcome value the mapping lists (every lifecycle value, when it is set:
        each one names its outcome, or names none)."""
        vocabulary = self.outcomes if self.lifecycle is None else self.lifecycles
        return tuple(sorted(vocabulary))

    def successes(self) -> tuple[tuple[str, str], ...]:
        """The stored (status, outcome) values of a completed success, sorted.

        With a lifecycle column both are the lifecycle value that means it, as the one column
        is read for both.
        """
        if self.lifecycle is not None:
            meaning = (RunStatus.COMPLETED, RunOutcome.SUCCEEDED)
            return tuple((v, v) for v, pair in sorted(self.lifecycles.items()) if pair == meaning)
        return tuple(
            (status, outcome)
            for status in self.stored_statuses(RunStatus.COMPLETED)
            for outcome in self.stored_outcomes(RunOutcome.SUCCEEDED)
        )

    def no_outcome(
        self,
        column: Any,
        literal: Callable[[Sequence[str]], Any] = list,
        *,
        dialect: str | None = None,
    ) -> sa.ColumnElement[bool]:
        """SQL true for a row that records no outcome (yet): a NULL outcome column, or a
        lifecycle value whose pair has none. ``literal`` renders the values (as bound
        parameters by default); given the ``dialect``, a collated text column is matched byte
        for byte as well, as the readers match it (``vocabulary_in``)."""
        if self.lifecycle is None:
            return sa.and_(column.is_(None))
        pending = tuple(v for v, (_, outcome) in sorted(self.lifecycles.items()) if outcome is None)
        if not pending:
            return sa.false()
        plain = column.in_(literal(pending))
        if dialect is None or not isinstance(column.type, CollatedText):
            return sa.and_(plain)
        return sa.and_(plain, exact_text(column, dialect).in_(literal(pending)))


REFERENCE_RUNS = RunTableMapping(table="operation_runs")
"""The mapping of the reference schema's ``operation_runs`` table."""
