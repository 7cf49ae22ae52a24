"""State mappings whose subject no request of their kind can match, told before any answer.

A state request names the run's subject or none (``policies.subjects``), and a state mapping's
statements follow it: a kind mapped without a subject column matches no request naming one
(``false``), and a request without a subject matches only rows whose subject column is NULL.
So ``subject=None`` for a kind asked by subject, or a subject column that is never NULL (a
primary key, ``id``) for a kind asked without one, leaves the kind silently never resolving a
run: every such run reads actionable, and nothing looked wrong. A service warns of each when it
is built (``warn_unmatchable_subjects``) and ``doctor`` reports each as an error
(``subject_findings``). The columns' nullability is reflected once per schema, only for the
mappings it decides; a table the database does not have is another check's to report.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping

import attrs
import sqlalchemy as sa
from sqlalchemy.engine.reflection import ObjectKind

from runactionability.adapters.sqlalchemy._reading import Bind, build_read, check_bind
from runactionability.adapters.sqlalchemy.mapping import StateTableMapping
from runactionability.errors import MappingMismatchWarning
from runactionability.findings import Finding, FindingCode, Severity
from runactionability.policies.subjects import AskedSubjects

_WHICH_ID = "docs/adapters.md, which id is a state's subject"


@attrs.frozen
class UnmatchableSubject:
    """A state mapping under which no state of ``kind`` can resolve the runs of ``types``.

    ``column`` is None for a mapping without a subject column (the types ask by their subject),
    else the subject column that is never NULL (the types ask without one).
    """

    kind: str
    table: str
    column: str | None
    types: tuple[str, ...]
    keys: tuple[str, ...] = ()
    """The subject keys the types' runs name (when ``column`` is None)."""
    both_ways: bool = False
    """Whether other types ask for the kind the other way (a plugin's kind may be asked so)."""

    @property
    def message(self) -> str:
        types = ", ".join(self.types)
        if self.column is None:
            return (
                f"{self.table}: the {self.kind} state mapping has no subject column, but the "
                f"runs of {types} ask for the {self.kind} state by their subject "
                f"({', '.join(self.keys)}): no {self.kind} state can resolve their runs"
            )
        return (
            f"{self.table}.{self.column}: the {self.kind} state mapping's subject is never NULL, "
            f"but the runs of {types} ask for the {self.kind} state without a subject (the "
            "scope's own object), which matches only rows whose subject is NULL: no "
            f"{self.kind} state can resolve their runs"
        )

    @property
    def fix(self) -> str:
        if self.both_ways:
            # Either one-sided fix would break the types asking the other way.
            return (
                f"its types ask both by subject and without one: map a nullable subject column "
                f"of {self.table} holding the object's id, NULL on the rows about a whole scope "
                f"({_WHICH_ID})"
            )
        if self.column is None:
            return (
                f"map as the subject the column of {self.table} holding the "
                f'{" or ".join(self.keys)} the runs name (subject="..." under '
                f"[states.{self.kind}]; {_WHICH_ID})"
            )
        return (
            f"map the {self.kind} state without a subject column (subject=None; subject = false "
            f"under [states.{self.kind}]): its objects are whole scopes ({_WHICH_ID})"
        )

    def __str__(self) -> str:
        return f"{self.message}; {self.fix}"


@build_read
def unmatchable_subjects(
    bind: Bind, states: Mapping[str, StateTableMapping], asked: Mapping[str, AskedSubjects]
) -> list[UnmatchableSubject]:
    """Every state mapping whose subject no request of its kind's types can match, by kind.

    ``asked`` is ``asked_subjects`` of the catalog and families; a kind no type asks for is not
    judged. A subject column is judged by its reflected nullability (and primary key), so only
    the mappings of kinds some type asks for without a subject are reflected.
    """
    found: list[UnmatchableSubject] = []
    reflect = [
        mapping
        for kind, mapping in states.items()
        if mapping.subject is not None and kind in asked and asked[kind].without_subject
    ]
    never_null = _never_null(bind, reflect) if reflect else set()
    for kind, mapping in sorted(states.items()):
        how = asked.get(kind)
        if how is None:
            continue
        if mapping.subject is None and how.by_subject:
            types = tuple(name for name, _ in how.by_subject)
            keys = tuple(sorted({key for _, key in how.by_subject}))
            found.append(
                UnmatchableSubject(
                    kind, mapping.table, None, types, keys, both_ways=bool(how.without_subject)
                )
            )
        elif how.without_subject and (mapping.schema, mapping.table, mapping.subject) in never_null:
            found.append(
                UnmatchableSubject(
                    kind,
                    mapping.table,
                    mapping.subject,
                    how.without_subject,
                    both_ways=bool(how.by_subject),
                )
            )
    return found


def _never_null(
    bind: Bind, mappings: Iterable[StateTableMapping]
) -> set[tuple[str | None, str, str | None]]:
    """(schema, table, column) of each mapping's subject column that is declared NOT NULL or
    is its table's primary key; one reflection per schema."""
    by_schema: dict[str | None, set[str]] = defaultdict(set)
    for mapping in mappings:
        by_schema[mapping.schema].add(mapping.table)
    inspector = sa.inspect(check_bind(bind))
    found: set[tuple[str | None, str, str | None]] = set()
    for schema, names in by_schema.items():
        # Not caught: on PostgreSQL a failed read would leave the snapshot's transaction
        # aborted for every statement after it, failing them with an unrelated error.
        reflected = inspector.get_multi_columns(
            schema=schema, filter_names=sorted(names), kind=ObjectKind.ANY
        )
        keys = inspector.get_multi_pk_constraint(
            schema=schema, filter_names=sorted(names), kind=ObjectKind.ANY
        )
        primary = {table: key["constrained_columns"] for (_, table), key in keys.items()}
        for (_, table), columns in reflected.items():
            keyed = set(primary.get(table) or ())
            for column in columns:
                if not column["nullable"] or column["name"] in keyed:
                    found.add((schema, table, column["name"]))
    return found


def warn_unmatchable_subjects(
    bind: Bind,
    states: Mapping[str, StateTableMapping],
    asked: Mapping[str, AskedSubjects],
    *,
    stacklevel: int = 2,
) -> list[UnmatchableSubject]:
    """``unmatchable_subjects``, issued as one ``MappingMismatchWarning`` when there is any."""
    found = unmatchable_subjects(bind, states, asked)
    if found:
        listed = "\n".join(f"- {one}" for one in found)
        warnings.warn(
            MappingMismatchWarning(
                "a state mapping's subject can never match its kind's requests, so those runs "
                f"are never resolved by state and silently read actionable:\n{listed}"
            ),
            stacklevel=stacklevel + 1,
        )
    return found


def subject_findings(
    bind: Bind, states: Mapping[str, StateTableMapping], asked: Mapping[str, AskedSubjects]
) -> list[Finding]:
    """``unmatchable_subjects`` as ``doctor`` findings: errors, since the host must remap."""
    return [
        Finding(
            code=FindingCode.UNMATCHABLE_SUBJECT,
            severity=Severity.ERROR,
            message=one.message,
            fix=one.fix,
            table=one.table,
            column=one.column,
        )
        for one in unmatchable_subjects(bind, states, asked)
    ]
