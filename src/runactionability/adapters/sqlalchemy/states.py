"""``SqlStateSource``: the current states of one kind for a whole batch, in one statement.

The statement has the same form as the history's: the requests as one parameter, correlated
seeks per request (the object's greatest readable ``proven_at``, whether it has an unreadable
one, and its rows at that instant), and one branch per request shape so that a missing
environment or subject is an ``IS NULL`` seek rather than an ``OR``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy._reading import (
    SHAPES,
    Bind,
    Shape,
    check_bind,
    chunks,
    keyed_statement,
    postgresql_keys,
    read_transaction,
    shape_name,
    sqlite_keys,
)
from runactionability.adapters.sqlalchemy.ids import (
    IdType,
    id_equal,
    id_key,
    sql_type,
    stored_typed_id,
)
from runactionability.adapters.sqlalchemy.instant_sql import (
    instant_key,
    order_key,
    valid_timestamp,
)
from runactionability.adapters.sqlalchemy.json_depth import pg_readable, sqlite_shallow
from runactionability.adapters.sqlalchemy.json_text import decode_json, read_json_text
from runactionability.adapters.sqlalchemy.mapping import StateTableMapping
from runactionability.adapters.sqlalchemy.types import from_micros
from runactionability.errors import EvidenceFetchError
from runactionability.evidence import StateFact, StateRequest, current_state
from runactionability.model import usable_id

_FIELDS = ("idx", "ws", "env", "subject")
_COLUMNS = ("workspace_id", "environment_id", "subject", "status", "proven_at")

Row = tuple[Any, datetime, Any, Any, Any, Any]
"""(stored status, proven_at, attributes, workspace id, environment id, subject) of one row
proven at its object's greatest instant."""


class _Statement:
    """The compiled-once statement for one mapping on one dialect.

    Per request it returns every row of the object at the object's greatest ``proven_at``, or
    nothing when any row of the object has an unreadable ``proven_at``. Python then applies the
    rest of the rule (``current_state``), so both dialects and the memory source decide alike.
    """

    def __init__(self, mapping: StateTableMapping, dialect: str, prefix: str = "") -> None:
        self.dialect = dialect
        self.mapping = mapping
        # Names the parameters and aliases apart from other ports' in a joint read (``joint``).
        self.prefix = prefix
        ids = mapping.ids
        self.id_types: dict[str, IdType] = {
            "ws": ids.workspace,
            "env": ids.environment,
            "subject": ids.subject,
        }
        # The rows, the greatest instant and the unreadable rows are three correlated reads of
        # one table; each needs its own alias, or SQLAlchemy would correlate them to each other.
        self.tables = {
            role: mapping.table_clause().alias(f"{prefix}{role}_rows")
            for role in ("tied", "newest", "unreadable")
        }
        self.branches = {shape: self._branch(*shape) for shape in SHAPES}
        self._composed: dict[tuple[Shape, ...], sa.Executable] = {}

    def _column(self, role: str, name: str) -> Any:
        return self.tables[role].c[getattr(self.mapping, name)]

    def _object(self, role: str, key: Any, has_env: bool, has_subject: bool) -> list[Any]:
        env = self._column(role, "environment_id")
        dialect = self.dialect
        ids = self.id_types
        # In the column's own type (the key list carries the ids converted, see ``prepare``),
        # and text byte for byte whatever the column's collation: 'ACME' is not 'acme'.
        conditions = [
            id_equal(self._column(role, "workspace_id"), key("ws"), ids["ws"], dialect),
            id_equal(env, key("env"), ids["env"], dialect) if has_env else env.is_(None),
            *self.mapping.filters(self.tables[role], dialect),
        ]
        if self.mapping.subject is None:
            # A kind without a subject column holds scope-wide objects only.
            conditions += [sa.false()] if has_subject else []
        else:
            subject = self._column(role, "subject")
            conditions.append(
                id_equal(subject, key("subject"), ids["subject"], dialect)
                if has_subject
                else subject.is_(None)
            )
        return conditions

    def _readable(self, role: str) -> Any:
        # 'infinity' or a year after 9999 is no instant an event can be ordered against (nor
        # one psycopg reads): such a row makes its object unreadable, never a failed batch.
        return valid_timestamp(self._column(role, "proven_at"), self.dialect)

    def _tied(self, keys: Any, key: Any, has_env: bool, has_subject: bool) -> list[Any]:
        """The conditions that select the rows of the object proven at its greatest instant.

        The inner reads name the key list explicitly: SQLAlchemy correlates a subquery only to
        the query directly around it, and would otherwise add the key list to their own FROM.
        """
        newest = (
            sa.select(sa.func.max(order_key(self._column("newest", "proven_at"), self.dialect)))
            .where(*self._object("newest", key, has_env, has_subject), self._readable("newest"))
            .correlate(keys)
            .scalar_subquery()
        )
        unreadable = (
            sa.exists()
            .where(
                *self._object("unreadable", key, has_env, has_subject),
                sa.not_(self._readable("unreadable")),
            )
            .correlate(keys)
        )
        return [
            *self._object("tied", key, has_env, has_subject),
            order_key(self._column("tied", "proven_at"), self.dialect) == newest,
            sa.not_(unreadable),
        ]

    def _attributes(self) -> Any:
        if self.mapping.attributes is None:
            return sa.null()
        raw = self.tables["tied"].c[self.mapping.attributes]
        # Attributes nested deeper than a context may be are read as none, as attributes that are
        # no object are: Python's JSON reader (psycopg's jsonb loader, the tied rows' JSON text on
        # SQLite) recursed on them and failed the whole statement, every page of the workspace.
        # So are json attributes jsonb cannot hold, whose cast failed every such statement.
        # Read as text by the library's reader, as a context is (``JsonDocument``): psycopg's
        # raised on an integer of more than 4,300 digits.
        if self.dialect == "postgresql":
            return sa.case((pg_readable(raw), sa.cast(sa.cast(raw, postgresql.JSONB), sa.Text())))
        readable = sa.and_(sa.func.json_valid(raw) == 1, sqlite_shallow(raw))
        return sa.case((readable, sa.func.json(raw)))

    def _branch(self, has_env: bool, has_subject: bool) -> sa.Select[Any]:
        name = shape_name((has_env, has_subject), self.prefix)
        status, proven_at = self._column("tied", "status"), self._column("tied", "proven_at")
        if not self.mapping.timestamps.is_native:
            # Returned as the canonical instant, which both dialects' readers below take.
            proven_at = instant_key(proven_at, self.dialect)
        # The fact carries the row's own ids, never the request's.
        stored = [self._column("tied", name) for name in ("workspace_id", "environment_id")]
        stored.append(self.mapping.subject_of(self.tables["tied"]))
        if self.dialect == "postgresql":
            types = {field: sql_type(kind, self.dialect) for field, kind in self.id_types.items()}
            keys = postgresql_keys(name, _FIELDS, types)
            tied = (
                sa.select(
                    status.label("status"),
                    proven_at.label("proven_at"),
                    self._attributes().label("attributes"),
                    stored[0].label("ws"),
                    stored[1].label("env"),
                    stored[2].label("subject"),
                )
                .where(*self._tied(keys, lambda field: keys.c[field], has_env, has_subject))
                .lateral(f"s_{name}")
            )
            return sa.select(keys.c.idx, *tied.c).select_from(keys.join(tied, sa.true()))
        keys_alias, key = sqlite_keys(name, _FIELDS)

        # A scalar subquery returns one value per request, so the tied rows travel as one JSON
        # array (empty when there is no fact).
        hit = (
            sa.select(
                sa.func.json_group_array(
                    sa.func.json_array(
                        status,
                        sa.type_coerce(proven_at, sa.Integer()),
                        self._attributes(),
                        *stored,
                    )
                )
            )
            .where(*self._tied(keys_alias, key, has_env, has_subject))
            .scalar_subquery()
        )
        return sa.select(key("idx").label("idx"), hit.label("hit")).select_from(keys_alias)

    def prepare(
        self, requests: Sequence[StateRequest]
    ) -> tuple[sa.Executable, dict[str, Any]] | None:
        """The statement and parameters for ``requests``; None when none can be compared.

        A request naming an id with U+0000 is left out (it gets no fact): SQLite's JSON
        functions end a text there, so it would read as another id, and PostgreSQL cannot
        store one in text at all. So is one naming an id its column's type cannot hold.
        """
        groups: dict[Shape, list[tuple[Any, ...]]] = {}
        for index, request in enumerate(requests):
            ids = (request.workspace_id, request.environment_id, request.subject)
            if any(value is not None and "\x00" in value for value in ids):
                continue
            typed = tuple(
                id_key(value, self.id_types[field], self.dialect)
                for field, value in zip(_FIELDS[1:], ids, strict=True)
            )
            if any(
                (value is None) != (given is None) for value, given in zip(typed, ids, strict=True)
            ):
                continue
            shape = (request.environment_id is not None, request.subject is not None)
            groups.setdefault(shape, []).append((index, *typed))
        if not groups:
            return None
        return keyed_statement(
            self.dialect, _FIELDS, groups, self.branches, self._composed, prefix=self.prefix
        )

    def rows(self, result: Iterable[Sequence[Any]]) -> dict[int, list[Row]]:
        found: dict[int, list[Row]] = {}
        if self.dialect == "postgresql":
            for idx, status, proven, attributes, *ids in result:
                read = None if attributes is None else read_json_text(attributes)
                found.setdefault(idx, []).append((status, proven, read, *ids))
            return found
        for idx, hit in result:
            for status, proven, attributes, *ids in decode_json(hit) if hit else ():
                found.setdefault(idx, []).append((status, _instant(proven), attributes, *ids))
        return found


def _instant(micros: int) -> Any:
    try:
        return from_micros(micros)
    except OverflowError:
        # Beyond datetime's range: kept as the integer, which is no instant, so no fact.
        return micros


class SqlStateSource:
    """``StateSource`` for one kind over a host's state table.

    A table may hold several rows per object (workspace, environment, subject); the current
    state is the row with the greatest ``proven_at``, under the same rule as the memory source
    (``runactionability.adapters.memory.current_state``). There is no fact for an object when:

    - any of its rows has an unreadable ``proven_at`` (NULL, stray text on SQLite, infinite or
      without a time zone on PostgreSQL): its place in time is unknown, so no row is known to be
      the newest, and an older row is never taken instead;
    - a row at the greatest ``proven_at`` has no status, or, when ``mapping.statuses`` is given,
      a stored status it does not list (so such a value never counts as healthy or complete,
      even when it spells one of the policies' words);
    - the rows at the greatest ``proven_at`` disagree on the (translated) status.

    When tied rows agree, the one whose attributes come first as canonical JSON text is returned.
    Attributes that are not a JSON object read as empty.
    """

    def __init__(self, bind: Bind, mapping: StateTableMapping) -> None:
        self.bind = check_bind(bind)
        self.mapping = mapping
        self.kind = mapping.kind
        self._statements: dict[tuple[str, str], _Statement] = {}

    def _statement(self, dialect: str, prefix: str = "") -> _Statement:
        statement = self._statements.get((dialect, prefix))
        if statement is None:
            statement = self._statements[dialect, prefix] = _Statement(
                self.mapping, dialect, prefix
            )
        return statement

    def _prepared(
        self, requests: Sequence[StateRequest], prefix: str
    ) -> tuple[sa.Executable, dict[str, Any]] | None:
        """The statement for at most ``CHUNK_SIZE`` requests of this kind, its parameters named
        after ``prefix``; None when none can be compared."""
        return self._statement(self.bind.dialect.name, prefix).prepare(requests)

    def _answers(
        self, requests: Sequence[StateRequest], rows: Iterable[Sequence[Any]]
    ) -> dict[StateRequest, StateFact]:
        """The facts read by the statement of ``_prepared(requests, ...)``."""
        answers: dict[StateRequest, StateFact] = {}
        for idx, tied in self._statement(self.bind.dialect.name).rows(rows).items():
            fact = self._fact(requests[idx], tied)
            if fact is not None:
                answers[requests[idx]] = fact
        return answers

    def current_states(
        self, requests: Collection[StateRequest]
    ) -> Mapping[StateRequest, StateFact]:
        ordered = [request for request in requests if request.kind == self.kind]
        if not ordered:
            return {}
        answers: dict[StateRequest, StateFact] = {}
        try:
            statement = self._statement(self.bind.dialect.name)
            parts = chunks(ordered)
            with read_transaction(self.bind, statements=len(parts)) as connection:
                for part in parts:
                    prepared = statement.prepare(part)
                    if prepared is not None:
                        answers.update(self._answers(part, connection.execute(*prepared).all()))
        except sa.exc.SQLAlchemyError as exc:
            raise EvidenceFetchError.wrapping(self.kind, exc) from exc
        return answers

    def _fact(self, request: StateRequest, rows: Sequence[Row]) -> StateFact | None:
        vocabulary = self.mapping.statuses
        ids = self.mapping.ids
        types = (ids.workspace, ids.environment, ids.subject)
        facts = []
        for status, proven_at, attributes, *values in rows:
            if status is None or not _aware(proven_at):
                return None
            workspace_id, environment_id, subject = (
                usable_id(stored_typed_id(value, id_type))
                for value, id_type in zip(values, types, strict=True)
            )
            if workspace_id is None or (workspace_id, environment_id, subject) != (
                request.workspace_id,
                request.environment_id,
                request.subject,
            ):
                # The statement compares byte for byte already; a row that still differs from
                # the request (a collation it did not foresee) is no evidence.
                return None
            stored = str(status)
            if vocabulary is not None and stored not in vocabulary:
                return None
            facts.append(
                StateFact(
                    kind=self.kind,
                    workspace_id=workspace_id,
                    environment_id=environment_id,
                    subject=subject,
                    status=stored if vocabulary is None else vocabulary[stored],
                    proven_at=proven_at,
                    attributes=attributes if isinstance(attributes, dict) else {},
                )
            )
        return current_state(facts)


def _aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None
