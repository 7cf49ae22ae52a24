"""Record validity in SQL: the checks that send a row to review or to Python before any rule.

In the core's order: ids the SQL blank test may misjudge go to the Python resolver; an unknown
status or outcome, an unreadable or disordered timestamp, a context that is not an object or a
blank workspace id is an invalid record (manual review); per type, a blank environment of an
environment-owned type and a missing or unusable subject are as well.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy.pushdown.common import _REVIEW, EVALUATE, in_values
from runactionability.adapters.sqlalchemy.types import exact_text, json_subject, valid_timestamp
from runactionability.catalog import OperationType
from runactionability.model import RunStatus

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown.classify import _Compiled

# ASCII whitespace: what ``str.strip()`` removes from any id a host realistically stores.
_BLANKS = " \t\n\r\x0b\x0c"


def blank(column: Any, dialect: str) -> Any:
    trim = sa.func.btrim if dialect == "postgresql" else sa.func.trim
    return sa.or_(column.is_(None), trim(column, _BLANKS) == "")


def unusual(column: Any, dialect: str) -> Any:
    """True for text the SQL blank test may judge differently from ``str.strip()``.

    ``str.strip()`` also removes Unicode spaces and the ASCII separators, which SQL's trim
    keeps: an id with any character outside printable ASCII, or with a space at either end,
    is judged by the Python resolver instead. The patterns are constants of this module.
    PostgreSQL refuses a regular expression on a nondeterministic collation (a host's
    case-insensitive ICU column), so the operand is read in the ``"C"`` collation, which
    also makes the character range a range of code points.
    """
    if dialect == "postgresql":
        text = sa.type_coerce(column, sa.Text()).collate("C")
        return text.op("~")(sa.literal_column("'[^ -~]|^ | $'"))
    return sa.or_(
        *(
            column.op("GLOB")(sa.literal_column(pattern))
            for pattern in ("'*[^ -~]*'", "' *'", "'* '")
        )
    )


def invalid_context(compiled: _Compiled) -> Any:
    context = compiled.c["context"]
    if compiled.dialect == "postgresql":
        kind: Any = sa.func.jsonb_typeof(sa.cast(context, postgresql.JSONB))
        return sa.and_(context.is_not(None), kind.not_in(["object", "null"]))
    raw = sa.type_coerce(context, sa.Text())
    kind = sa.case((sa.func.json_valid(raw) == 1, sa.func.json_type(raw)), else_="invalid")
    return sa.and_(raw.is_not(None), kind.not_in(["object", "null"]))


def subject_of(compiled: _Compiled, table: Any, key: str) -> Any:
    """The usable subject of a row as text (NULL when missing or unusable)."""
    mapping = compiled.pushdown.mapping
    if mapping.subject is not None:
        column = table.c[mapping.subject]
        return sa.case((blank(column, compiled.dialect), sa.null()), else_=column)
    return context_subject(compiled, table, key)[1]


def context_subject(compiled: _Compiled, table: Any, key: str) -> tuple[Any, Any, Any]:
    """Whether the context holds ``key``, its usable subject as text, and its text if a string.

    The subject is NULL when the value is unusable (as ``model.usable_id`` judges, for text
    the ASCII blank test; ``unusual`` sends the rest to Python).
    """
    context = table.c[compiled.pushdown.mapping.context]
    if compiled.dialect == "postgresql":
        context = sa.cast(context, postgresql.JSONB)
        value: Any = sa.type_coerce(context.op("->>")(sa.literal(key, sa.Text())), sa.Text())
        kind: Any = sa.func.jsonb_typeof(context.op("->")(sa.literal(key, sa.Text())))
        text, number = kind == "string", kind == "number"
        # In the "C" collation: a regular expression works under any collation there.
        integer: Any = sa.and_(
            number, sa.type_coerce(value, sa.Text()).collate("C").op("~")("^-?[0-9]+$")
        )
        digits = value
    else:
        raw = sa.type_coerce(context, sa.Text())
        path = "$." + json.dumps(key)
        valid = sa.func.json_valid(raw) == 1
        kind = sa.case((valid, sa.func.json_type(raw, path)))
        value = sa.cast(sa.case((valid, sa.func.json_extract(raw, path))), sa.String())
        text, integer = kind == "text", kind == "integer"
        # The exact text the core compares: SQLite reads an integer beyond 64 bits as a
        # rounded REAL, which would make two different subjects equal.
        digits = json_subject(raw, sa.literal(path, sa.Text()), compiled.dialect)[1]
    usable = sa.and_(text, sa.not_(blank(value, compiled.dialect)))
    subject = sa.case((integer, digits), (usable, value))
    return kind.is_not(None), subject, sa.case((text, value))


def unusual_subject(compiled: _Compiled, key: str) -> Any:
    mapping = compiled.pushdown.mapping
    if mapping.subject is not None:
        return unusual(compiled.table.c[mapping.subject], compiled.dialect)
    return unusual(context_subject(compiled, compiled.table, key)[2], compiled.dialect)


def subject_disagrees(compiled: _Compiled, key: str) -> Any:
    """True when the context names a subject other than the mapped subject column.

    The run source puts the column into the context only when the context lacks the key, so
    the resolver correlates on the context's value: where it is not the column's, the
    classification (which seeks on the column) leaves the row to Python.
    """
    name = compiled.pushdown.mapping.subject
    assert name is not None
    column = compiled.table.c[name]
    present, subject, _ = context_subject(compiled, compiled.table, key)
    differs = exact_text(subject, compiled.dialect) != column
    disagrees = sa.and_(present, sa.or_(subject.is_(None), column.is_(None), differs))
    if compiled.dialect != "sqlite":
        return disagrees
    # The reference schema writes the context as compact JSON beside the column it derives,
    # so a text comparison settles most rows without parsing the context (measured: the
    # parse cost a third of the one-workspace count).
    written = sa.func.json_object(sa.literal(key, sa.Text()), column)
    return sa.and_(sa.type_coerce(compiled.c["context"], sa.Text()) != written, disagrees)


def record_checks(compiled: _Compiled) -> list[tuple[Any, Any]]:
    """The branches for a problem row that is not a valid record of any type (before the type)."""
    mapping = compiled.pushdown.mapping
    dialect = compiled.dialect
    c = compiled.c
    status, outcome = c["status"], c["outcome"]
    completed = mapping.stored_statuses(RunStatus.COMPLETED)
    known_outcomes = tuple(mapping.outcomes)
    created, started, ended = c["created_at"], c["started_at"], c["completed_at"]
    return [
        (
            sa.or_(unusual(c["workspace_id"], dialect), unusual(c["environment_id"], dialect)),
            EVALUATE,
        ),
        (
            sa.or_(
                status.is_(None),
                sa.not_(in_values(status, completed)),
                outcome.is_(None),
                sa.not_(in_values(outcome, known_outcomes)),
                sa.not_(valid_timestamp(created, dialect)),
                sa.not_(valid_timestamp(ended, dialect)),
                sa.and_(started.is_not(None), sa.not_(valid_timestamp(started, dialect))),
                ended < created,
                ended < started,
                invalid_context(compiled),
                blank(c["workspace_id"], dialect),
            ),
            _REVIEW,
        ),
    ]


def type_checks(compiled: _Compiled, op_type: OperationType) -> tuple[list[tuple[Any, Any]], Any]:
    """The branches for a row of ``op_type`` whose scope or subject is unusable, and its subject.

    The subject is None for a type without a subject key; otherwise the expression the rules
    correlate evidence on.
    """
    whens: list[tuple[Any, Any]] = []
    if not op_type.workspace_owned:
        whens.append((blank(compiled.c["environment_id"], compiled.dialect), _REVIEW))
    subject = None
    if op_type.subject_key is not None:
        whens.append((unusual_subject(compiled, op_type.subject_key), EVALUATE))
        if compiled.pushdown.mapping.subject is not None:
            whens.append((subject_disagrees(compiled, op_type.subject_key), EVALUATE))
        subject = subject_of(compiled, compiled.table, op_type.subject_key)
        whens.append((subject.is_(None), _REVIEW))
        if compiled.pushdown.mapping.subject is not None:
            # Past the check the subject is usable, so the bare column compares the same
            # and keeps every seek on the subject index an equality.
            subject = compiled.subject
    return whens, subject
