"""The problem-row predicate: the runs status and outcome alone do not decide (rule 2).

The reference schema's partial indexes and every pushdown statement write it the same way, with
the vocabulary as literals, so that both databases match the indexes to the statements.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from runactionability.adapters.sqlalchemy.mapping import REFERENCE_RUNS, RunTableMapping
from runactionability.adapters.sqlalchemy.types import CollatedText, exact_text
from runactionability.model import RunOutcome, RunStatus


class VocabularyLiteral(sa.ColumnElement[str]):
    """A vocabulary value written into the statement text as a literal any session reads alike.

    Literals, not bound parameters: both databases use a partial index only when the query's
    predicate repeats the index's, and a parameter's value is unknown when the plan is made; the
    index DDL takes no parameters at all. The values are the mapping's status vocabulary (host
    configuration, never a caller's value), and whatever they hold they stay one literal: quotes
    are doubled; on PostgreSQL a backslash is written in an escape string (``E'...'``), which
    means the same under either ``standard_conforming_strings``; on SQLite a ``%`` ends a piece
    of a concatenation, since SQLAlchemy would read ``%(name)s`` in the text as a parameter.
    """

    __visit_name__ = "vocabulary_literal"
    # SQLAlchemy's own declaration (a list); the value is part of the statement cache key.
    _traverse_internals = [("value", InternalTraversal.dp_string)]  # noqa: RUF012
    inherit_cache = True
    type = sa.String()

    def __init__(self, value: str) -> None:
        self.value = value


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@compiles(VocabularyLiteral)
def _compile_vocabulary(element: VocabularyLiteral, compiler: Any, **kw: Any) -> str:
    value = element.value
    if compiler.dialect.name == "postgresql":
        text = _quoted(value)
        if "\\" in value:
            text = "E" + _quoted(value.replace("\\", "\\\\"))
        # What SQLAlchemy does to any literal text for a driver that reads %-placeholders.
        return str(compiler.escape_literal_column(text))
    if "%" in value:
        return "(" + " || '%' || ".join(_quoted(piece) for piece in value.split("%")) + ")"
    return _quoted(value)


def _literals(values: Iterable[str]) -> list[Any]:
    return [VocabularyLiteral(value) for value in values]


def problem_rows(
    status: sa.ColumnElement[Any],
    outcome: sa.ColumnElement[Any],
    mapping: RunTableMapping = REFERENCE_RUNS,
    dialect: str | None = None,
) -> sa.ColumnElement[bool]:
    """True for a run that is neither succeeded nor active: the rows a policy or rule 3 judges.

    Status and outcome alone decide every other run (rule 2), so counts read those from an index
    and classify only these. Never NULL, so ``NOT`` of it is the exact complement. The pushdown
    repeats this predicate verbatim so that the partial indexes below apply. Given the
    ``dialect``, a collated text column (``CollatedText``) is matched byte for byte as well,
    as the readers match it: under ``NOCASE`` 'Running' is no status, so its run is a problem.
    """

    def _in(column: Any, values: Iterable[str]) -> Any:
        plain = column.in_(_literals(values))
        if dialect is None or not isinstance(column.type, CollatedText):
            return plain
        return sa.and_(plain, exact_text(column, dialect).in_(_literals(values)))

    completed = mapping.stored_statuses(RunStatus.COMPLETED)
    active = mapping.stored_statuses(RunStatus.QUEUED) + mapping.stored_statuses(RunStatus.RUNNING)
    succeeded = mapping.stored_outcomes(RunOutcome.SUCCEEDED)
    if mapping.lifecycle is not None:
        # One column says both: the values that mean a success, and those that mean active work.
        done = sa.and_(status.is_not(None), _in(status, succeeded))
    else:
        done = sa.and_(
            status.is_not(None),
            _in(status, completed),
            outcome.is_not(None),
            _in(outcome, succeeded),
        )
    if not active:
        return sa.not_(done)
    working = sa.and_(
        status.is_not(None),
        _in(status, active),
        mapping.no_outcome(outcome, _literals, dialect=dialect),
    )
    return sa.and_(sa.not_(done), sa.not_(working))
