"""PostgreSQL's later-success tests, one per shape of type, computed once a row in a ``LATERAL``.

Written as a correlated ``EXISTS`` per type, the classification held one subquery for each type
with a later-success rule (eleven for the reference catalog), and PostgreSQL plans every one of
them each time it plans the statement: most of the follow-up walk's planning (measured,
``docs/performance.md``, "Fifth round"). The tests of types that share an ownership and a
subject expression differ only in the names of the types whose success counts, so each such
group is one ``EXISTS`` whose type list is chosen by the row's type, and each type's branch reads
its group's result from a ``LATERAL`` subquery beside the row.

The subquery computes every group's test for each row the statement reads, where the ``CASE``
ran a type's test only for a row that reached it; a row of no type of a group has a NULL type
list there, which the index seek rejects before reading a page. Only PostgreSQL's follow-up walk
uses it (``SqlPushdown.compiled(walk=True)``): it reads problem rows alone, and few of them, and
its statement is planned on every execution. A statement that reads every row of a scope paid
the subquery for each (measured: ``classify`` in the seeking form, 20,000 runs, 1.45-1.62 s
against 0.70-0.82 s); SQLite has no ``LATERAL`` and plans a statement in far less time than it
runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy.pushdown.common import exists, in_values
from runactionability.adapters.sqlalchemy.pushdown.evidence import (
    seek_conditions,
    started_since_completed,
)
from runactionability.adapters.sqlalchemy.types import exact_text
from runactionability.catalog import OperationType
from runactionability.model import RunOutcome, RunStatus

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown.classify import _Compiled

_Shape = tuple[bool, str | bool | None]
"""A type's ownership (workspace-owned) and what its subject expression depends on."""


class SharedSuccesses:
    """The later-success tests of one classification, grouped by shape (see the module).

    Each ``test`` names its group's column of the ``LATERAL`` subquery; ``lateral`` builds that
    subquery once every type's branch is compiled. A group's type list is chosen by the same
    type tests, in the same order, as the classification's dispatch, so the branch that reads it
    is the one whose type the list is of.
    """

    def __init__(self, compiled: _Compiled) -> None:
        self.compiled = compiled
        self.name = compiled.alias("ev")
        self._groups: dict[_Shape, tuple[Any, list[OperationType]]] = {}

    def test(self, op_type: OperationType, subject: Any) -> Any:
        """Whether the row (of ``op_type``) has a later success: its group's column."""
        shape = self._shape(op_type)
        group = self._groups.setdefault(shape, (subject, []))
        if op_type not in group[1]:
            group[1].append(op_type)
        index = list(self._groups).index(shape)
        return sa.literal_column(f"{self.name}.succ{index}", sa.Boolean())

    def _shape(self, op_type: OperationType) -> _Shape:
        if self.compiled.pushdown.mapping.subject is not None:
            # Every type with a subject key correlates on the one subject column.
            return (op_type.workspace_owned, op_type.subject_key is not None)
        # Read from the context: the key is part of the expression.
        return (op_type.workspace_owned, op_type.subject_key)

    def lateral(self) -> Any:
        """The ``LATERAL`` subquery of every group's test, or None when no type has one.

        ``OFFSET 0`` keeps it a subquery of its own: pulled up into the statement, each reference
        to a column would be a copy of its ``EXISTS``, planned again.
        """
        if not self._groups:
            return None
        columns = [
            self._group_test(types[0], subject, types).label(f"succ{index}")
            for index, (subject, types) in enumerate(self._groups.values())
        ]
        return sa.select(*columns).offset(0).lateral(self.name)

    def _group_test(self, first: OperationType, subject: Any, types: list[OperationType]) -> Any:
        compiled = self.compiled
        mapping, catalog = compiled.pushdown.mapping, compiled.pushdown.catalog
        array = postgresql.ARRAY(sa.String())
        # NULL for a row of no type of the group: ``= ANY(NULL)`` seeks nothing.
        names = sa.case(
            *(
                (
                    in_values(compiled.c["type"], catalog.stored_names(op_type.name)),
                    sa.literal(sorted(catalog.superseding_names(op_type.name)), array),
                )
                for op_type in types
            ),
        )
        s = mapping.table_clause().alias(compiled.alias("s", "shared", first.name))
        # Byte for byte whatever the column's collation; the plain comparison is a seek key.
        of_type = exact_text(s.c[mapping.type], compiled.dialect) == sa.any_(names)
        terms = seek_conditions(compiled, s, first, subject, of_type)
        test = exists(
            *self._seek_keys(s, first, subject, names),
            # Every term of the test, as one: PostgreSQL matches each term of a WHERE against
            # every index of the table and estimates it, each time it plans the statement
            # (measured: ~0.25 ms of planning a test whose 23 terms hold the 7 the seek needs);
            # ``coalesce`` never changes a test in a WHERE.
            sa.func.coalesce(sa.and_(*terms), sa.false()),
        )
        # The row ``r`` is the statement's, outside the subquery that holds this test.
        return test.correlate(compiled.table)

    def _seek_keys(self, s: Any, first: OperationType, subject: Any, names: Any) -> list[Any]:
        """The plain comparisons the success index seeks on; ``seek_conditions`` holds each, or
        its byte-exact form, which implies it."""
        compiled = self.compiled
        mapping, c = compiled.pushdown.mapping, compiled.c
        succeeded = mapping.stored_outcomes(RunOutcome.SUCCEEDED)
        status, outcome = s.c[mapping.column_name("status")], s.c[mapping.column_name("outcome")]
        keys = [s.c[mapping.workspace_id] == c["workspace_id"], s.c[mapping.type] == sa.any_(names)]
        if mapping.lifecycle is not None:
            keys.append(in_values(status, succeeded))
        else:
            completed = mapping.stored_statuses(RunStatus.COMPLETED)
            keys += [in_values(status, completed), in_values(outcome, succeeded)]
        if subject is not None and mapping.subject is not None:
            keys.append(s.c[mapping.subject] == subject)
        if not first.workspace_owned:
            keys.append(s.c[mapping.environment_id] == c["environment_id"])
        keys.append(started_since_completed(compiled, s))
        return keys
