"""What the sampled runs say, read exactly as the ports read them and judged by the core itself.

The sample comes through ``SqlRunSource`` and goes through ``Core.plan`` (the record checks of
rules 3 and 4), so a run the doctor calls invalid is one every answer shows as
``requires_manual_review``, for the same reason, and no other.
"""

from __future__ import annotations

import re
import reprlib
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import attrs

from runactionability.adapters.sqlalchemy.instants import Instants, Unit
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping
from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.checks import RECORD_CHECKS
from runactionability.core import Core
from runactionability.findings import Finding, FindingCode, Severity
from runactionability.model import OperationRun, RunOutcome, RunStatus, as_stored
from runactionability.result import Reason

TIMESTAMP_FIELDS = ("created_at", "started_at", "completed_at")
PLAUSIBLE_FROM = datetime(1990, 1, 1, tzinfo=UTC)
"""Instants before it (1970 and the years after, where epoch seconds read as microseconds land)
are taken as a storage the mapping misreads rather than as history."""
_FUTURE_MARGIN = timedelta(days=366)

Where = tuple[str, str, str]
"""(table, column, dialect) of a column whose values a fix names."""
_INVALID = frozenset(check.reason for check in RECORD_CHECKS)
_DECIDED = frozenset({Reason.RUN_NOT_TERMINAL, Reason.RUN_SUCCEEDED})
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?")
_ISO_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})")
# Where a reason's rows are fixed: the finding that names its cause.
_CAUSES: Mapping[str, str] = {
    Reason.INVALID_TIMESTAMP: "see unreadable_timestamp",
    Reason.NAIVE_TIMESTAMP: "see unreadable_timestamp",
    Reason.INVALID_STATUS: "see unmapped_value",
    Reason.INVALID_OUTCOME: "see unmapped_value",
    Reason.UNKNOWN_OPERATION_TYPE: "see uncovered_type",
    Reason.INVALID_SCOPE: "see id_type, or correct the rows' scope ids",
    Reason.MISSING_CORRELATION: (
        "map the subject column (RunTableMapping.subject) or write the type's subject_key "
        "into each run's context"
    ),
}


def _epoch_unit(value: int) -> Unit:
    magnitude = abs(value)
    if magnitude < 10**11:
        return "s"
    return "ms" if magnitude < 10**14 else "us"


def _offset_fix(where: Where | None) -> tuple[Instants | None, str]:
    """ISO-8601 text with an offset, which ``iso_text`` does not read (its SQL compares the text
    itself, which orders as the instants only without offsets): PostgreSQL converts the column
    in one statement; elsewhere the host rewrites each value as UTC text without one."""
    told = "the column holds ISO-8601 text with an offset, which iso_text does not read"
    if where is not None and where[2] == "postgresql":
        table, column, _ = where
        return Instants.timestamptz(), (
            f"{told}: convert it (ALTER TABLE {table} ALTER COLUMN {column} TYPE timestamptz "
            f"USING {column}::timestamptz;) and map timestamps=Instants.timestamptz()"
        )
    return None, (
        f"{told}: rewrite each value as UTC text without the offset, as "
        "datetime.fromisoformat(value).astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f') writes "
        "it (timestamps=Instants.iso_text() reads that)"
    )


def _suggested(
    example: object, *, typed: bool, where: Where | None = None
) -> tuple[Instants | None, str]:
    """The storage stored values like ``example`` look like, and what to do about them.

    ``typed``: the column is a PostgreSQL timestamp read as such, so text comes back only for an
    instant outside what the library reads (year 1, infinity), never because the column is text.
    ``where``: the table, the column and the dialect, for a fix that names them.
    """
    if isinstance(example, datetime):
        return Instants.naive("UTC"), (
            "the column has no time zone: declare the zone the host writes in, "
            "timestamps=Instants.naive(zone='UTC')"
        )
    if isinstance(example, str):
        text = example.strip()
        if typed:
            return None, "the stored instants lie outside the range read: correct these rows"
        if _ISO.fullmatch(text):
            return Instants.iso_text(), (
                "the column holds ISO-8601 text: map timestamps=Instants.iso_text()"
            )
        if _ISO_OFFSET.fullmatch(text):
            return _offset_fix(where)
        return None, "the stored text is no instant: correct these rows"
    if isinstance(example, int) and not isinstance(example, bool):
        unit = _epoch_unit(example)
        return Instants.epoch(unit), (
            f"the column holds integers: map timestamps=Instants.epoch({unit!r})"
        )
    if isinstance(example, float):
        return None, "the column holds real numbers: store integer epoch values (Instants.epoch)"
    return None, "correct these rows"


def is_typed(instants: Instants, dialect: str) -> bool:
    """Whether the mapping reads the column as a PostgreSQL timestamp type (``unreadable_fix``)."""
    return dialect == "postgresql" and instants.form in {"native", "timestamptz", "naive"}


def unreadable_fix(
    unreadable: Sequence[object],
    mapped: Instants,
    *,
    typed: bool = False,
    where: Where | None = None,
) -> tuple[str, object]:
    """How to map (or correct) a column whose unreadable stored instants are ``unreadable``, and
    the value to quote: the storage most of them fit decides (one bad row must not turn a wrong
    mapping into "correct these rows"), and values that fit no storage are quoted apart."""
    fits = [(_suggested(value, typed=typed, where=where), value) for value in unreadable]
    chosen = Counter(suggestion for suggestion, _ in fits).most_common(1)[0][0]
    suggested, fix = chosen
    example = next(value for suggestion, value in fits if suggestion == chosen)
    if suggested is None:
        return fix, example
    if suggested.form == mapped.form:
        # Already mapped so: these rows are what is wrong (an impossible date, a bad spelling).
        return f"the mapping already reads {mapped}; correct these rows", example
    fix += f' (in runactionability.toml: timestamps = "{suggested}")'
    strays = [value for (storage, _), value in fits if storage is None]
    if strays:
        fix += f"; {len(strays)} of them fit no storage (e.g. {strays[0]!r}): correct those rows"
    return fix, example


def timestamp_findings(
    runs: Sequence[OperationRun],
    columns: Mapping[str, str],
    *,
    table: str,
    storage: str,
    instants: Instants,
    dialect: str,
    as_of: datetime,
) -> list[Finding]:
    """Per timestamp column, the sampled values the mapping cannot read, or misreads."""
    findings: list[Finding] = []
    for field in TIMESTAMP_FIELDS:
        column = columns[field]
        present = [value for run in runs if (value := getattr(run, field)) is not None]
        unreadable = [v for v in present if not isinstance(v, datetime) or v.utcoffset() is None]
        if unreadable:
            typed = is_typed(instants, dialect)
            fix, example = unreadable_fix(
                unreadable, instants, typed=typed, where=(table, column, dialect)
            )
            findings.append(
                Finding(
                    code=FindingCode.UNREADABLE_TIMESTAMP,
                    severity=Severity.ERROR,
                    message=(
                        f"{table}.{column}: {len(unreadable)} of {len(present)} sampled values "
                        f"cannot be read as instants under {storage} (e.g. {example!r}); "
                        "their problem runs need manual review, and none is ever evidence "
                        "(a succeeded one still reads informational_only: it supersedes nothing)"
                    ),
                    fix=fix,
                    table=table,
                    column=column,
                    count=len(unreadable),
                    example=str(example),
                )
            )
            continue
        strange = [v for v in present if not plausible(v, as_of)]
        if strange:
            findings.append(
                implausible_finding(
                    strange, len(present), table, column, storage, instants, dialect
                )
            )
    return findings


def plausible(instant: datetime, as_of: datetime) -> bool:
    """Whether ``instant`` can be history a host wrote: from ``PLAUSIBLE_FROM`` to a year after
    ``as_of``."""
    return PLAUSIBLE_FROM <= instant <= as_of + _FUTURE_MARGIN


def looks_like_epoch(example: datetime, instants: Instants, dialect: str) -> Unit | None:
    """The epoch unit an integer column read as the implausible ``example`` looks like, if the
    mapping reads integers and the instant lies before ``PLAUSIBLE_FROM``."""
    integers = instants.form == "epoch" or (instants.is_native and dialect == "sqlite")
    if not integers or example >= PLAUSIBLE_FROM:
        return None
    # Read as this many units since 1970: the integer stored is that count.
    return _epoch_unit(to_micros(example) // instants.micros)


def implausible_finding(
    strange: Sequence[datetime],
    present: int,
    table: str,
    column: str,
    storage: str,
    instants: Instants,
    dialect: str,
) -> Finding:
    """The error (when most of ``present`` sampled values are ``strange``) or warning for a
    column's implausible instants, with the epoch unit the integers look like when it tells."""
    example = strange[0]
    fix = "check which storage the column uses (Instants) and correct the mapping or the rows"
    unit = looks_like_epoch(example, instants, dialect)
    if unit is not None:
        fix = f"the integers look like epoch {unit}: map timestamps=Instants.epoch({unit!r})"
    return Finding(
        code=FindingCode.IMPLAUSIBLE_TIMESTAMP,
        severity=Severity.ERROR if 2 * len(strange) > present else Severity.WARNING,
        message=(
            f"{table}.{column}: {len(strange)} of {present} sampled values read under {storage} "
            f"as instants no history holds (e.g. {example.isoformat()})"
        ),
        fix=fix,
        table=table,
        column=column,
        count=len(strange),
        example=example.isoformat(),
    )


@attrs.frozen
class Validity:
    """How many sampled problem runs the core reads as invalid records, by reason."""

    problems: int
    """Sampled runs neither active nor succeeded (rule 2 decides those whatever they hold)."""
    reasons: Counter[str]
    examples: Mapping[str, object]
    """The first sampled run id of each reason."""

    @property
    def invalid(self) -> int:
        return sum(self.reasons.values())

    def told(self, *, example: bool = True) -> str:
        """The three most frequent reasons with their counts, then (``example``) the first
        one's example run."""
        main = self.reasons.most_common(3)
        listed = ", ".join(f"{reason} {count}" for reason, count in main)
        if not example:
            return listed
        return f"{listed} (e.g. run {self.examples[main[0][0]]!r})"

    def fix(self, *, example: bool = True) -> str:
        """Where the most frequent reason's rows are fixed (without ``example``, no run named)."""
        first = self.reasons.most_common(1)[0][0]
        if first in _CAUSES or not example:
            return _CAUSES.get(first, "`runactionability doctor` names an example run")
        return f"`runactionability explain {self.examples[first]}` says why"


def validity(runs: Sequence[OperationRun], core: Core, *, as_of: datetime) -> Validity:
    """The core's record checks (rules 3 and 4) over ``runs``, as every answer applies them."""
    plan = core.plan(runs, as_of=as_of)
    reasons: Counter[str] = Counter()
    examples: dict[str, object] = {}
    problems = 0
    for run, result in zip(runs, plan.results, strict=True):
        if result is not None and result.reason in _DECIDED:
            continue
        problems += 1
        if result is not None and result.reason in _INVALID:
            reasons[result.reason] += 1
            examples.setdefault(result.reason, run.id)
    return Validity(problems=problems, reasons=reasons, examples=examples)


def validity_finding(
    runs: Sequence[OperationRun], core: Core, *, table: str, as_of: datetime
) -> Finding:
    """The share of sampled problem runs the core reads as invalid records, and why."""
    judged = validity(runs, core, as_of=as_of)
    invalid, problems = judged.invalid, judged.problems
    if not invalid:
        return Finding(
            code=FindingCode.INVALID_ROWS,
            severity=Severity.INFO,
            message=f"{table}: none of {problems} sampled problem runs reads as invalid",
            table=table,
            count=0,
        )
    first = judged.reasons.most_common(1)[0][0]
    return Finding(
        code=FindingCode.INVALID_ROWS,
        severity=Severity.ERROR if 2 * invalid > problems else Severity.WARNING,
        message=(
            f"{table}: {invalid} of {problems} sampled problem runs "
            f"({100 * invalid // problems}%) read as invalid and need manual review: "
            f"{judged.told()}"
        ),
        fix=judged.fix(),
        table=table,
        count=invalid,
        example=str(judged.examples[first]),
    )


@attrs.frozen
class Unlisted:
    """A vocabulary column's sampled values that the mapping does not list."""

    column: str
    setting: str
    """The mapping's vocabulary that should list them: statuses, outcomes or lifecycles."""
    words: tuple[tuple[str, int], ...]
    """Each value as shown (a bounded repr) with its count of runs, most frequent first."""

    def told(self, table: str, sampled: int) -> str:
        rows = sum(count for _, count in self.words)
        shown = ", ".join(f"{word} ({count})" for word, count in self.words[:3])
        more = f" and {len(self.words) - 3} more" if len(self.words) > 3 else ""
        return (
            f"{table}.{self.column}: {rows} of the newest {sampled} runs hold a value the "
            f"mapping's {self.setting} do not list: {shown}{more}"
        )


def unlisted_words(runs: Sequence[OperationRun], mapping: RunTableMapping) -> list[Unlisted]:
    """Per vocabulary column, the values of ``runs`` (read through ``mapping``) that mean no
    status or outcome, as ``unmapped_value`` finds them over the whole table: each such run
    reads ``invalid_status`` or ``invalid_outcome``, and so does every later run holding it.

    Shown as bounded reprs: a host column may hold any value, even one no set can count.
    """
    fields: list[tuple[str, str, str, type]]
    if mapping.lifecycle is not None:
        fields = [("status", mapping.lifecycle, "lifecycles", RunStatus)]
    else:
        fields = [
            ("status", mapping.status, "statuses", RunStatus),
            ("outcome", mapping.outcome, "outcomes", RunOutcome),
        ]
    found = []
    for field, column, setting, meaning in fields:
        counted = Counter(
            reprlib.repr(as_stored(value))
            for run in runs
            if (value := getattr(run, field)) is not None and not isinstance(value, meaning)
        )
        if counted:
            found.append(Unlisted(column, setting, tuple(counted.most_common())))
    return found
