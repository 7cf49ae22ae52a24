"""Record validity in SQL: the checks that send a row to review or to Python before any rule.

The record checks are compiled from the core's table (``checks.RECORD_CHECKS``): one
``SqlCheck`` per check name in ``SQL_CHECKS``, or a line in ``WITHOUT_PREDICATE`` naming the
check whose SQL decides it; a test fails when a check has neither. In the core's order: ids the
SQL blank test may misjudge go to the Python resolver; an unknown status or outcome, an
unreadable or disordered timestamp, a context that is not an object or a blank workspace id is
an invalid record (manual review); per type, a blank environment of an environment-owned type
and a missing or unusable subject are as well.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy.ids import IdType, id_cast, storage
from runactionability.adapters.sqlalchemy.instant_sql import compare, valid_timestamp
from runactionability.adapters.sqlalchemy.json_depth import pg_readable, pg_shallow
from runactionability.adapters.sqlalchemy.pushdown.common import _REVIEW, EVALUATE
from runactionability.adapters.sqlalchemy.types import (
    exact_text,
    json_subject,
    short_integer,
    sqlite_json_text,
    vocabulary_in,
)
from runactionability.catalog import OperationType
from runactionability.checks import RECORD_CHECKS
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
    is judged by the Python resolver instead, and so is a SQLite BLOB. The patterns are
    constants of this module.
    PostgreSQL refuses a regular expression on a nondeterministic collation (a host's
    case-insensitive ICU column), so the operand is read in the ``"C"`` collation, which
    also makes the character range a range of code points.
    """
    if dialect == "postgresql":
        text = sa.type_coerce(column, sa.Text()).collate("C")
        return text.op("~")(sa.literal_column("'[^ -~]|^ | $'"))
    # A BLOB (SQLite stores whatever it is given) is bytes to Python, never a usable id, and
    # x'' passes every pattern and equals no text: the resolver judges it.
    return sa.or_(
        sa.func.typeof(column) == sa.literal_column("'blob'"),
        *(
            column.op("GLOB")(sa.literal_column(pattern))
            for pattern in ("'*[^ -~]*'", "' *'", "'* '")
        ),
    )


def blank_usual(compiled: _Compiled, column: Any, id_type: IdType) -> Any:
    """Whether an id of ``id_type`` that the ``unusual`` escape has let through is blank.

    An integer or a uuid is blank only when NULL (``usable_id`` reads every integer, and a
    uuid's text, as usable; trimming a number is an error on PostgreSQL). Text past the escape
    holds printable ASCII only and no space at either end, so it is blank exactly when it is
    empty: an exact comparison with '' replaces ``blank``'s trim (measured on SQLite: ~1,200
    instructions a row for the trim, ~400 for the comparison).
    """
    if not _is_text(compiled, id_type):
        return column.is_(None)
    return sa.or_(column.is_(None), exact_text(column, compiled.dialect) == "")


def _is_text(compiled: _Compiled, id_type: IdType) -> bool:
    return storage(id_type, compiled.dialect) == "text"


def _id_type_of(compiled: _Compiled, name: str) -> IdType:
    ids = compiled.pushdown.mapping.ids
    return {"workspace_id": ids.workspace, "environment_id": ids.environment}[name]


def invalid_context(compiled: _Compiled) -> Any:
    context = compiled.c["context"]
    if compiled.dialect == "postgresql":
        kind: Any = sa.func.jsonb_typeof(sa.cast(context, postgresql.JSONB))
        if compiled.pushdown.context_kind.jsonb():
            wrong = sa.or_(kind.not_in(["object", "null"]), sa.not_(pg_shallow(context)))
        else:
            # Its type is asked only of a document jsonb holds: the cast fails on any other.
            readable = pg_readable(context)
            wrong = sa.case((readable, kind.not_in(["object", "null"])), else_=sa.true())
        return sa.and_(context.is_not(None), wrong)
    raw = sa.type_coerce(context, sa.Text())
    valid = sqlite_json_text(raw)
    kind = sa.case((valid, sa.func.json_type(raw)), else_="invalid")
    # Valid JSON that starts with '{' is an object: a context written as one (every context the
    # reference schema writes) is settled without asking its type (measured: ~950 of ~2,600
    # instructions a row). The GLOB, cheaper than the parse, goes first.
    written_object = sa.and_(raw.op("GLOB")(sa.literal_column("'{*'")), valid)
    return sa.and_(raw.is_not(None), sa.not_(written_object), kind.not_in(["object", "null"]))


def subject_of(compiled: _Compiled, table: Any, key: str) -> Any:
    """The usable subject of a row as text (NULL when missing or unusable)."""
    mapping = compiled.pushdown.mapping
    if mapping.subject is not None:
        column = table.c[mapping.subject]
        if not _is_text(compiled, mapping.ids.subject):
            return column
        return sa.case((blank(column, compiled.dialect), sa.null()), else_=column)
    return context_subject(compiled, table, key)[1]


def context_subject(
    compiled: _Compiled, table: Any, key: str, *, bounded: bool = True
) -> tuple[Any, Any, Any]:
    """Whether the context holds ``key``, its usable subject as text, and its text if a string.

    The subject is NULL when the value is unusable (as ``model.usable_id`` judges, for text
    the ASCII blank test, ``unusual`` sends the rest to Python; an integer too long if ``bounded``).
    """
    context = table.c[compiled.pushdown.mapping.context]
    if compiled.dialect == "postgresql":
        # No subject in a context nested too deep or one jsonb cannot hold, as Python reads none.
        readable = (pg_shallow if compiled.pushdown.context_kind.jsonb() else pg_readable)(context)
        context = sa.case((readable, sa.cast(context, postgresql.JSONB)))
        value: Any = sa.type_coerce(context.op("->>")(sa.literal(key, sa.Text())), sa.Text())
        kind: Any = sa.func.jsonb_typeof(context.op("->")(sa.literal(key, sa.Text())))
        text, number = kind == "string", kind == "number"
        # In the "C" collation: a regular expression works under any collation there.
        matched = sa.type_coerce(value, sa.Text()).collate("C").op("~")("^-?[0-9]+$")
        integer: Any = sa.and_(number, matched, *([short_integer(value)] if bounded else []))
        digits = value
    else:
        raw = sa.type_coerce(context, sa.Text())
        path = "$." + json.dumps(key)
        valid = sqlite_json_text(raw)
        kind = sa.case((valid, sa.func.json_type(raw, path)))
        value = sa.cast(sa.case((valid, sa.func.json_extract(raw, path))), sa.String())
        text, integer = kind == "text", kind == "integer"
        # The exact text the core compares: SQLite reads an integer beyond 64 bits as a
        # rounded REAL, which would make two different subjects equal.
        digits = json_subject(raw, sa.literal(path, sa.Text()), "sqlite", once=False)[1]
    usable = sa.and_(text, sa.not_(blank(value, compiled.dialect)))
    subject = sa.case((integer, digits), (usable, value))
    return kind.is_not(None), subject, sa.case((text, value))


def unusual_subject(compiled: _Compiled, key: str) -> Any:
    mapping = compiled.pushdown.mapping
    if mapping.subject is not None:
        if not _is_text(compiled, mapping.ids.subject):
            return sa.false()
        return unusual(compiled.table.c[mapping.subject], compiled.dialect)
    return unusual(context_subject(compiled, compiled.table, key)[2], compiled.dialect)


def subject_disagrees(compiled: _Compiled, key: str) -> Any:
    """True when the context names a subject other than the mapped subject column.

    The run source puts the column into the context only when the context lacks the key, so
    the resolver correlates on the context's value: where it is not the column's, the
    classification (which seeks on the column) leaves the row to Python.
    """
    mapping = compiled.pushdown.mapping
    assert mapping.subject is not None
    column = compiled.table.c[mapping.subject]
    # The column bounds a too long integer, not each type's context value (docs/decisions.md).
    present, subject, _ = context_subject(compiled, compiled.table, key, bounded=False)
    if _is_text(compiled, mapping.ids.subject):
        differs = sa.or_(exact_text(subject, compiled.dialect) != column, ~short_integer(column))
    else:
        # The context's text in the column's type: text that names no such id disagrees.
        typed = id_cast(subject, "text", mapping.ids.subject, compiled.dialect)
        differs = sa.or_(typed.is_(None), typed != column)
    disagrees = sa.and_(present, sa.or_(subject.is_(None), column.is_(None), differs))
    if compiled.dialect != "sqlite":
        return disagrees
    # The reference schema writes the context as compact JSON beside the column it derives,
    # so a text comparison settles most rows without parsing the context (measured: the
    # parse cost a third of the one-workspace count).
    written = sa.func.json_object(sa.literal(key, sa.Text()), column)
    return sa.and_(sa.type_coerce(compiled.c["context"], sa.Text()) != written, disagrees)


_Branch = tuple[Any, Any]


@attrs.frozen
class SqlCheck:
    """One record check of ``checks.RECORD_CHECKS`` in SQL, keyed by its name in ``SQL_CHECKS``.

    ``escape`` gives the terms true for a row whose value SQL may judge unlike the check's Python
    test: such a row is left to the resolver (``evaluate``). ``review`` gives the terms true for a
    row that fails the check (manual review). Both read the row alone; ``per_type`` gives the
    branches for a row of one type, for a check that depends on the type.
    """

    review: Callable[[_Compiled], list[Any]] | None = None
    escape: Callable[[_Compiled], list[Any]] | None = None
    per_type: Callable[[_Compiled, OperationType], list[_Branch]] | None = None


def _known_status(compiled: _Compiled) -> list[Any]:
    status = compiled.c["status"]
    completed = compiled.pushdown.mapping.stored_statuses(RunStatus.COMPLETED)
    return [status.is_(None), sa.not_(vocabulary_in(status, completed, compiled.dialect))]


def _known_outcome(compiled: _Compiled) -> list[Any]:
    mapping = compiled.pushdown.mapping
    known = mapping.known_outcomes()
    return [sa.not_(vocabulary_in(compiled.c["outcome"], known, compiled.dialect))]


def _outcome_recorded(compiled: _Compiled) -> list[Any]:
    return [compiled.pushdown.mapping.no_outcome(compiled.c["outcome"], dialect=compiled.dialect)]


def _completed_after_created(compiled: _Compiled) -> list[Any]:
    c = compiled.c
    return [compare(c["completed_at"], "<", c["created_at"], compiled.dialect)]


def _completed_after_started(compiled: _Compiled) -> list[Any]:
    c = compiled.c
    return [compare(c["completed_at"], "<", c["started_at"], compiled.dialect)]


def _context_mapping(compiled: _Compiled) -> list[Any]:
    return [invalid_context(compiled)]


def _unreadable_context(compiled: _Compiled) -> list[Any]:
    """A SQLite context with a ``\\u`` escape, which its JSON functions may read unlike Python
    (to the resolver).

    ``json_extract`` ends a text at an escaped U+0000 ("a\\u0000" reads as "a", which Python
    reads as unusable), returns an unpaired surrogate as bytes that are not UTF-8, which
    ``json_text.read_json_text`` does not read, and (SQLite 3.40) finds no member whose name is
    written with an escape, which Python decodes. So every ``\\u`` escape goes to Python; the
    GLOB also matches one under an escaped backslash, which Python then judges though SQL could
    have. Only text holding a backslash is searched (measured: ~580 instructions a row against
    ~920 for two searches on every row).
    """
    if compiled.dialect != "sqlite":
        return []
    raw = sa.type_coerce(compiled.c["context"], sa.Text())

    def glob(pattern: str) -> Any:
        return raw.op("GLOB")(sa.literal_column(pattern))

    return [sa.case((glob("'*\\*'"), glob("'*\\u*'")))]


def _unusual_id(name: str) -> Callable[[_Compiled], list[Any]]:
    def escape(compiled: _Compiled) -> list[Any]:
        if not _is_text(compiled, _id_type_of(compiled, name)):
            return []
        if name == "workspace_id" and compiled.usual_workspaces:
            return []
        return [unusual(compiled.c[name], compiled.dialect)]

    return escape


def _blank_workspace(compiled: _Compiled) -> list[Any]:
    # A visible id is usable, and a row's workspace id equals one byte for byte.
    if compiled.usual_workspaces:
        return []
    # After the row-level escapes (``record_checks`` puts every escape first).
    workspace = compiled.c["workspace_id"]
    return [blank_usual(compiled, workspace, _id_type_of(compiled, "workspace_id"))]


def _readable(name: str, *, optional: bool = False) -> Callable[[_Compiled], list[Any]]:
    def review(compiled: _Compiled) -> list[Any]:
        column = compiled.c[name]
        unreadable = sa.not_(valid_timestamp(column, compiled.dialect))
        return [sa.and_(column.is_not(None), unreadable) if optional else unreadable]

    return review


def _environment_per_type(compiled: _Compiled, op_type: OperationType) -> list[_Branch]:
    if op_type.workspace_owned:
        return []
    # The row-level escape of ``usable_environment`` came before every type's branches.
    environment = compiled.c["environment_id"]
    return [(blank_usual(compiled, environment, _id_type_of(compiled, "environment_id")), _REVIEW)]


def _subject_per_type(compiled: _Compiled, op_type: OperationType) -> list[_Branch]:
    key = op_type.subject_key
    if key is None:
        return []
    whens: list[_Branch] = [(unusual_subject(compiled, key), EVALUATE)]
    mapping = compiled.pushdown.mapping
    if mapping.subject is None:
        whens.append((compiled.subject_of(compiled.table, key).is_(None), _REVIEW))
        return whens
    whens.append((subject_disagrees(compiled, key), EVALUATE))
    # Past the escape above, so the column is blank exactly when empty (``blank_usual``).
    column = compiled.table.c[mapping.subject]
    whens.append((blank_usual(compiled, column, mapping.ids.subject), _REVIEW))
    return whens


SQL_CHECKS: dict[str, SqlCheck] = {
    "known_status": SqlCheck(review=_known_status),
    "outcome_recorded": SqlCheck(review=_outcome_recorded),
    "known_outcome": SqlCheck(review=_known_outcome),
    "created_at_datetime": SqlCheck(review=_readable("created_at")),
    "started_at_datetime": SqlCheck(review=_readable("started_at", optional=True)),
    "completed_at_datetime": SqlCheck(review=_readable("completed_at")),
    "completed_after_created": SqlCheck(review=_completed_after_created),
    "completed_after_started": SqlCheck(review=_completed_after_started),
    "context_mapping": SqlCheck(review=_context_mapping, escape=_unreadable_context),
    "usable_workspace": SqlCheck(escape=_unusual_id("workspace_id"), review=_blank_workspace),
    # The escape reads every row, whatever its type: an id SQL may misjudge goes to Python.
    "usable_environment": SqlCheck(
        escape=_unusual_id("environment_id"), per_type=_environment_per_type
    ),
    "usable_subject": SqlCheck(per_type=_subject_per_type),
}
"""The SQL of each record check that has a predicate of its own."""

WITHOUT_PREDICATE: dict[str, str] = {
    "outcome_on_active_run": (
        "known_status: a problem row with an active status fails `status IN completed` too, "
        "and the classification yields a status, not a reason"
    ),
    "known_type": (
        "the classification's type dispatch: only the stored names of a catalog type whose "
        "family is registered have a branch, and any other row falls to the CASE's else "
        "(manual review)"
    ),
    "created_at_aware": (
        "created_at_datetime: `valid_timestamp` is true only for a readable instant, which the "
        "reference columns (timestamptz, UTC microseconds) store with its zone"
    ),
    "started_at_aware": "started_at_datetime, as for created_at_aware",
    "completed_at_present": "completed_at_datetime: `valid_timestamp` is false for NULL",
    "completed_at_aware": "completed_at_datetime, as for created_at_aware",
    "environment_named": "usable_environment: the blank test is true for NULL",
}
"""The record checks another check's SQL decides, and why (a SQL status carries no reason)."""


def record_checks(compiled: _Compiled) -> list[_Branch]:
    """The branches for a problem row that is not a valid record of any type (before the type).

    Walked in table order: every row-level escape (to Python) first, then every row-level
    failure (to manual review).
    """
    escapes: list[Any] = []
    reviews: list[Any] = []
    for check in RECORD_CHECKS:
        sql = SQL_CHECKS.get(check.name)
        if sql is not None:
            escapes += sql.escape(compiled) if sql.escape is not None else []
            reviews += sql.review(compiled) if sql.review is not None else []
    branches = [(sa.or_(*escapes), EVALUATE)] if escapes else []
    return [*branches, (sa.or_(*reviews), _REVIEW)]


def type_checks(compiled: _Compiled, op_type: OperationType) -> tuple[list[_Branch], Any]:
    """The branches for a row of ``op_type`` whose scope or subject is unusable, and its subject.

    The branches come in table order. The subject is None for a type without a subject key;
    otherwise the expression the rules correlate evidence on.
    """
    whens: list[_Branch] = []
    for check in RECORD_CHECKS:
        sql = SQL_CHECKS.get(check.name)
        if sql is not None and sql.per_type is not None:
            whens += sql.per_type(compiled, op_type)
    key = op_type.subject_key
    if key is None:
        return whens, None
    if compiled.pushdown.mapping.subject is not None:
        # Past the check the subject is usable, so the bare column compares the same and keeps
        # every seek on the subject index an equality.
        return whens, compiled.subject
    return whens, subject_of(compiled, compiled.table, key)
