"""What ``check`` (and ``runactionability doctor``) reports about a host's tables under a mapping.

Each problem is one ``Finding``: a stable code, a severity, a one-line message naming the table
and column, and the fix. A ``CheckReport`` fails when any finding is an error: a mapping under
which rows read as something they are not (unreadable timestamps, unmapped vocabulary, ids of
another type, types no family judges) never passes silently. These are plain values, free of
any adapter, so a host can show them and ``to_json`` can serialise them without SQLAlchemy.
"""

from __future__ import annotations

import enum

import attrs


class Severity(enum.StrEnum):
    """How much a finding matters: an error fails the check (the doctor exits non-zero)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class FindingCode(enum.StrEnum):
    """What a finding is about; stable, so a host or a CI job can match on it."""

    UNREADABLE_TIMESTAMP = "unreadable_timestamp"
    """Stored instants the mapping cannot read (or reads without a time zone)."""
    IMPLAUSIBLE_TIMESTAMP = "implausible_timestamp"
    """Readable instants that cannot be what the host meant (1970, for epoch seconds read as
    microseconds): the storage the mapping names is not the column's."""
    MIXED_TIMESTAMP_SPELLINGS = "mixed_timestamp_spellings"
    """ISO-text ``created_at`` values with both a ``'T'`` and a ``' '`` separator, which the
    pages' stored-text order lists out of their creation order."""
    UNMAPPED_VALUE = "unmapped_value"
    """A stored status, outcome or lifecycle value the mapping's vocabulary does not list."""
    UNMATCHED_WHERE = "unmatched_where"
    """A state mapping's ``where`` that none of its non-empty table's rows matches: the kind
    has no state, so no run is resolved by one."""
    UNMATCHABLE_SUBJECT = "unmatchable_subject"
    """A state mapping whose subject no request of its kind can match (no subject column for a
    kind asked by subject; a column never NULL for a kind asked without one): the kind never
    resolves those types' runs."""
    INVALID_ROWS = "invalid_rows"
    """The share of sampled problem runs that read as invalid records, and the main reasons."""
    ID_TYPE = "id_type"
    """An id column (or its stored values) of another type than the mapping compares it as."""
    UNATTRIBUTED_RUNS = "unattributed_runs"
    """Runs whose workspace id no actor can name (NULL, blank, or not of the column's type):
    every scope, the whole database's included, leaves them out."""
    RUNS_WITHOUT_ID = "runs_without_id"
    """Rows of the runs table whose run id is NULL (a table without a primary key): no page,
    count, explanation or proof reads them, as none could name them."""
    DUPLICATE_RUN_IDS = "duplicate_run_ids"
    """Run ids that more than one row of a runs table without a unique id holds: every row
    sharing an id reads as needing manual review (``duplicate_run_id``)."""
    MISSING_INDEX = "missing_index"
    """No index serves a seek the library's statements make on the table."""
    MISSING_STATISTICS = "missing_statistics"
    """A PostgreSQL table (or partition) holding rows that was never analyzed: its plans may
    read a whole workspace per problem run."""
    UNCOVERED_TYPE = "uncovered_type"
    """A run type in the history that no registered family covers."""
    MISSING_TABLE = "missing_table"
    """A mapped table or column the database does not have."""
    READ_FAILED = "read_failed"
    """A statement the ports make on the table failed: the mapping cannot read it at all."""
    SAMPLE = "sample"
    """What was read: how many runs, how many sampled."""


@attrs.frozen(kw_only=True)
class Finding:
    """One line of a check: what is wrong (or was seen), where, and how to fix it."""

    code: FindingCode
    severity: Severity
    message: str
    fix: str | None = None
    table: str | None = None
    column: str | None = None
    count: int | None = None
    """How many rows (of the table, or of the sample when the message says so) it concerns."""
    example: str | None = None
    """One stored value it concerns, as text (a timestamp the mapping cannot read, ...)."""


@attrs.frozen(kw_only=True)
class CheckReport:
    """Everything ``check`` found in one database under one mapping, errors first."""

    dialect: str
    table: str
    total_runs: int
    sampled: int
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def passed(self) -> bool:
        """Whether no finding is an error (warnings and information pass)."""
        return not self.errors

    def codes(self) -> set[str]:
        """The codes of every finding, for matching in a host's own checks."""
        return {str(f.code) for f in self.findings}
