"""A batch's evidence in one statement: the history's read and its state sources' side by side.

``SqlRunHistory.latest_successes_with_states`` (the optional ``JointEvidence`` port) answers the
later-success requests and the requests of every ``SqlStateSource`` over the history's own bind
with one statement. Each port's statement, exactly as it runs alone (its parameters named apart
by a prefix), is one part, and each part's columns have slots of their own, NULL in the rows of
the other parts (a ``UNION ALL`` of the parts on SQLite, a ``FULL JOIN ... ON false`` of them on
PostgreSQL), so each port decodes its rows as it does alone and the answers cannot differ. The
database plans and runs the same per-port reads, in one round trip and one snapshot: a page of 50
runs reads its evidence in one statement instead of one per kind (four with the reference
families).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy import _reading
from runactionability.adapters.sqlalchemy.driver_sql import DriverStatement
from runactionability.adapters.sqlalchemy.history_rows import Candidate, keep_best
from runactionability.adapters.sqlalchemy.states import SqlStateSource
from runactionability.errors import EvidenceFetchError
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.ports import StateSource

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.history import SqlRunHistory

Prepared = tuple[sa.Executable, dict[str, Any]]
Composed = tuple[sa.Executable, list[slice]]


_COMPOSED_KEPT = 256


class JointStatements:
    """The composed statements of one history, by the identity of the statements they join.

    Each port composes a statement per set of request shapes and keeps it, so a batch of the
    same shapes finds its joint statement here and SQLAlchemy's compiled cache finds its SQL.
    """

    def __init__(self) -> None:
        self._composed: dict[tuple[Any, ...], tuple[Composed, tuple[sa.Executable, ...]]] = {}
        # Each composed statement as driver SQL, by its identity and its execution's parameter
        # names (bounded with the composed ones, which keep the statements alive).
        self._driver: dict[tuple[int, frozenset[str]], DriverStatement] = {}

    def driver(
        self, statement: sa.Executable, dialect: sa.Dialect, names: Collection[str]
    ) -> DriverStatement:
        """``statement`` (one ``compose`` made) compiled once, its ``names`` bound per call."""
        key = (id(statement), frozenset(names))
        known = self._driver.get(key)
        if known is None:
            known = self._driver[key] = DriverStatement(statement, dialect, key[1])
        return known

    def compose(self, parts: Sequence[sa.Executable], dialect: str) -> Composed:
        """One statement whose rows each hold one part's row in that part's columns, and where
        each part's columns sit; every part's first column (the request index) is never NULL.

        SQLite: a ``UNION ALL`` of one arm per part, NULL in the other parts' columns. PostgreSQL
        matches a ``UNION``'s columns pair by pair, so two arms of NULL make a text column that
        the third arm's integers cannot join; a ``FULL JOIN ... ON false`` of the parts gives
        the same rows with every column in its own type.
        """
        key = (dialect, *(id(part) for part in parts))
        known = self._composed.get(key)
        if known is not None:
            return known[0]
        subqueries = [part.subquery(f"joint_{index}") for index, part in enumerate(parts)]  # type: ignore[attr-defined]
        slots = [(index, column) for index, sub in enumerate(subqueries) for column in sub.c]
        places: list[slice] = []
        for sub in subqueries:
            start = places[-1].stop if places else 0
            places.append(slice(start, start + len(sub.c)))
        statement: sa.Executable
        if dialect == "postgresql":
            joined: Any = subqueries[0]
            for sub in subqueries[1:]:
                joined = joined.join(sub, sa.false(), full=True)
            labelled = (column.label(f"c{number}") for number, (_, column) in enumerate(slots))
            statement = sa.select(*labelled).select_from(joined)
        else:
            statement = sa.union_all(
                *(
                    sa.select(
                        *(
                            (column if owner == index else sa.null()).label(f"c{number}")
                            for number, (owner, column) in enumerate(slots)
                        )
                    ).select_from(sub)
                    for index, sub in enumerate(subqueries)
                )
            )
        # The parts are kept with it: their ids are the key, and must not be reused meanwhile.
        # Each set of kinds a batch asks for is one entry: bounded, as the pushdown's are.
        if len(self._composed) >= _COMPOSED_KEPT:
            self._composed.clear()
            self._driver.clear()
        self._composed[key] = ((statement, places), tuple(parts))
        return statement, places


def read_jointly(
    history: SqlRunHistory,
    requests: Collection[LaterSuccessRequest],
    states: Mapping[str, tuple[StateSource, Collection[StateRequest]]],
    as_of: datetime,
) -> tuple[dict[LaterSuccessRequest, RunFact], dict[str, Mapping[StateRequest, StateFact]]]:
    """``JointEvidence.latest_successes_with_states`` over SQL (see ``SqlRunHistory``)."""
    ordered = list(requests)
    joined = {
        kind: (source, [request for request in asked if request.kind == source.kind])
        for kind, (source, asked) in states.items()
        if isinstance(source, SqlStateSource) and source.bind is history.bind
    }
    # Read at call time: a test shrinks it to check the chunking.
    limit = _reading.CHUNK_SIZE
    if len(ordered) > limit or any(len(asked) > limit for _, asked in joined.values()):
        # Chunked reads are each port's own; the resolver asks the state sources itself.
        return dict(history.latest_successes(ordered, as_of=as_of)), {}
    parts: list[tuple[str | None, Prepared]] = []
    prepared = history._prepared(ordered, as_of) if ordered else None
    if prepared is not None:
        parts.append((None, prepared))
    for number, (kind, (source, asked)) in enumerate(joined.items()):
        prepared = source._prepared(asked, f"s{number}_") if asked else None
        if prepared is not None:
            parts.append((kind, prepared))
    rows = _execute(history, parts)
    best: dict[int, Candidate] = {}
    answers: dict[str, Mapping[StateRequest, StateFact]] = {kind: {} for kind in joined}
    for (read, _), found in zip(parts, rows, strict=True):
        if read is None:
            keep_best(best, found, 0)
        else:
            answers[read] = joined[read][0]._answers(joined[read][1], found)
    return history._answers(ordered, best.values()), answers


def _execute(
    history: SqlRunHistory, parts: Sequence[tuple[str | None, Prepared]]
) -> list[list[Sequence[Any]]]:
    """Each part's rows, read by one statement (none for no part)."""
    if not parts:
        return []
    kinds = ", ".join(kind or "later success" for kind, _ in parts)
    try:
        with _reading.read_transaction(history.bind) as connection:
            if len(parts) == 1:
                statement, params = parts[0][1]
                return [list(connection.execute(statement, params).all())]
            statement, places = history._joint.compose(
                [part[0] for _, part in parts], connection.dialect.name
            )
            merged: dict[str, Any] = {}
            for _, (_, params) in parts:
                merged.update(params)
            # Compiled once: through ``Connection.execute`` SQLAlchemy walked the whole joint
            # statement for its cache key on every call, and psycopg converted its placeholders.
            driver = history._joint.driver(statement, connection.dialect, merged)
            found: list[list[Sequence[Any]]] = [[] for _ in parts]
            for row in driver.rows(connection, merged):
                for rows, place in zip(found, places, strict=True):
                    if row[place.start] is not None:
                        rows.append(row[place])
                        break
            return found
    except sa.exc.SQLAlchemyError as exc:
        raise EvidenceFetchError.wrapping(kinds, exc) from exc
