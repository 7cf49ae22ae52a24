"""``SqlRunHistory``: every later-success request of a batch answered by one statement.

The requests travel as one parameter, and the statement text never changes, so it is compiled
once and reused: a JSON array read with ``json_each`` on SQLite and ``jsonb_to_recordset`` on
PostgreSQL. For each (request, allowed stored type, success status value) row, a correlated
subquery takes the newest matching success with one index seek (``ORDER BY ... LIMIT 1`` on the
index the reference schema defines); Python then keeps the best row of each request. Measured
alternatives were slower: a tuple ``IN`` list makes SQLite scan the whole index, and
``sa.values()`` is recompiled on every call.

The statement is a ``UNION ALL`` of one branch per request shape present (with or without an
environment, with or without a subject), so that each branch is a pure equality seek: an
``OR`` that makes a column optional would defeat the index.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import (
    SHAPES,
    AnyShape,
    Bind,
    check_bind,
    chunks,
    keyed_statement,
    postgresql_keys,
    read_transaction,
    shape_name,
    sqlite_field_reader,
    sqlite_keys,
)
from runactionability.adapters.sqlalchemy.context_check import refuse_text_context
from runactionability.adapters.sqlalchemy.history_rows import (
    Candidate,
    aware,
    comparable,
    environments,
    keep_best,
)
from runactionability.adapters.sqlalchemy.ids import id_equal, id_key, sql_type, stored_typed_id
from runactionability.adapters.sqlalchemy.instant_sql import (
    canonical_parameter,
    evidence_times,
    instant_key,
    order_key,
)
from runactionability.adapters.sqlalchemy.joint import JointStatements, read_jointly
from runactionability.adapters.sqlalchemy.mapping import REFERENCE_RUNS, RUN_FIELDS, RunTableMapping
from runactionability.adapters.sqlalchemy.types import (
    IntegerVocabulary,
    as_run_id,
    exact_equal,
    from_micros,
    json_subject,
)
from runactionability.errors import EvidenceFetchError
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.model import sound_run_times as sound_times
from runactionability.model import usable_id
from runactionability.ports import StateSource

KIND = "later success"
"""The evidence kind an ``EvidenceFetchError`` from this port names (as the resolver does)."""

_SHAPES: tuple[AnyShape, ...] = (*SHAPES, (None, True), (None, False))
_FIELDS = ("idx", "ws", "env", "type", "subject", "skey", "status", "outcome")
_TEXT_FIELDS = _FIELDS[1:]


class _Statement:
    """The compiled-once statement for one mapping on one dialect."""

    def __init__(self, mapping: RunTableMapping, dialect: str) -> None:
        self.dialect = dialect
        table = mapping.table_clause()
        self.columns = {name: table.c[mapping.column_name(name)] for name in RUN_FIELDS}
        self.mapping = mapping
        self.table = table
        self.id_types = mapping.key_id_types()
        self.branches = {shape: self._branch(*shape) for shape in _SHAPES}
        self._composed: dict[tuple[AnyShape, ...], sa.Executable] = {}

    def _conditions(self, table: Any, key: Any, has_env: bool | None, has_sub: bool) -> list[Any]:
        """What makes a row of ``table`` (the runs table, or an alias) evidence for ``key``."""
        c = {name: table.c[column.name] for name, column in self.columns.items()}
        dialect = self.dialect
        # Every id compares byte for byte: under a case-insensitive column collation 'ACME' is
        # another workspace than 'acme', and its runs are no evidence about 'acme's.
        # Ids compare in their column's type: the key list carries them converted (``_keys``).
        ids = self.id_types
        conditions = [
            id_equal(c["workspace_id"], key("ws"), ids["ws"], dialect),
            exact_equal(c["type"], key("type"), dialect),
            exact_equal(c["status"], key("status"), dialect),
            # A success with no id (a table without a primary key) cannot be cited as proof.
            c["id"].is_not(None),
        ]
        if self.mapping.lifecycle is None:
            # A lifecycle column is the status column too: its one value says both.
            conditions.append(exact_equal(c["outcome"], key("outcome"), dialect))
        if has_sub:
            subject = self._subject(table, key)
            conditions.append(id_equal(subject, key("subject"), ids["subject"], dialect))
        if has_env:
            conditions.append(id_equal(c["environment_id"], key("env"), ids["env"], dialect))
        elif has_env is None:
            conditions.append(c["environment_id"].is_(None))
        # Both bounds are range constraints the index seek itself applies, so no table row is
        # read: NULL fails any comparison and, on SQLite, stray text sorts above every integer.
        # A success with an unreadable instant is no evidence, and the seek passes over it to
        # the greatest readable one (docs/decisions.md), so it never fails the batch. The rest
        # of the validity rule reads columns the reference indexes also hold.
        conditions += evidence_times(
            c["created_at"],
            c["started_at"],
            c["completed_at"],
            canonical_parameter("as_of"),
            dialect,
        )
        return conditions

    def _subject(self, table: Any, key: Any) -> Any:
        """A row's subject as the exact text the core compares (NULL when it names none).

        With a JSON context the request's key (a path on SQLite, a member on PostgreSQL) picks
        the member; only text and integer members name a subject, as in the core.
        """
        mapping = self.mapping
        if mapping.subject is not None:
            return table.c[mapping.subject]
        return json_subject(table.c[mapping.context], key("skey"), self.dialect)[1]

    def _start(self, c: Mapping[str, Any]) -> Any:
        return sa.func.coalesce(c["started_at"], c["created_at"], type_=c["created_at"].type)

    def _instant(self, column: Any) -> Any:
        """A row's instant as the canonical value the ranking and ``instant`` read."""
        if self.mapping.timestamps.is_native:
            return column
        return instant_key(column, self.dialect)

    def _order(self) -> list[Any]:
        c = self.columns
        dialect = self.dialect
        return [
            order_key(self._start(c), dialect).desc(),
            order_key(c["completed_at"], dialect).desc(),
            c["id"].desc(),
        ]

    def _key_types(self, c: Mapping[str, Any]) -> dict[str, Any]:
        """PostgreSQL's key list types: each id in its column's type, and the status and outcome
        keys in theirs (an integer vocabulary column's as one)."""
        types = {field: sql_type(kind, self.dialect) for field, kind in self.id_types.items()}
        for field in ("status", "outcome"):
            if isinstance(c[field].type, IntegerVocabulary):
                types[field] = sa.BigInteger()
        return types

    def _branch(self, has_env: bool | None, has_subject: bool) -> sa.Select[Any]:
        name = shape_name((has_env, has_subject))
        c = self.columns
        start = self._start(c)
        if self.dialect == "postgresql":
            types = self._key_types(c)
            keys = postgresql_keys(name, _FIELDS, types)

            def key(field: str) -> Any:
                return keys.c[field]

            # A typed NULL: the branches are one UNION, and a uuid subject column is no text.
            no_subject = sa.cast(sa.null(), types["subject"])
            subject = self._subject(self.table, key) if has_subject else no_subject
            best = (
                sa.select(
                    c["id"].label("id"),
                    c["type"].label("type"),
                    c["workspace_id"].label("ws"),
                    c["environment_id"].label("env"),
                    subject.label("subject"),
                    self._instant(start).label("started"),
                    self._instant(c["completed_at"]).label("completed"),
                    self._instant(c["created_at"]).label("created"),
                )
                .where(*self._conditions(self.table, key, has_env, has_subject))
                .order_by(*self._order())
                .limit(1)
                .lateral(f"r_{name}")
            )
            return sa.select(keys.c.idx, *best.c).select_from(keys.join(best, sa.true()))
        keys_alias, sqlite_key = sqlite_keys(name, _FIELDS)

        # The id from the index alone, joined back for typed columns (instants as stored ints).
        best_id = (
            sa.select(c["id"])
            .where(*self._conditions(self.table, sqlite_key, has_env, has_subject))
            .order_by(*self._order())
            .limit(1)
            .scalar_subquery()
        )
        # Each request's id found once, before the join: joined on the subquery itself, a table
        # with no index on its id was scanned per row, the subquery run per (row, request) pair.
        winners = sa.select(keys_alias.c.value, best_id.label("rid")).cte(f"w_{name}")
        winners = winners.prefix_with("MATERIALIZED")
        won_key = sqlite_field_reader(winners.c.value, _FIELDS)
        found = self.table.alias(f"r_{name}")
        f = {name: found.c[column.name] for name, column in c.items()}
        found_start = self._start(f)
        found_subject = self._subject(found, won_key) if has_subject else sa.null()
        # Joined on the id and the seek's conditions again: without a unique id another row
        # holds it too (another workspace's, a failure), no evidence, not to be read.
        again = self._conditions(found, won_key, has_env, has_subject)
        return sa.select(
            won_key("idx").label("idx"),
            f["id"].label("id"),
            f["type"].label("type"),
            f["workspace_id"].label("ws"),
            f["environment_id"].label("env"),
            found_subject.label("subject"),
            sa.type_coerce(self._instant(found_start), sa.Integer()).label("started"),
            sa.type_coerce(self._instant(f["completed_at"]), sa.Integer()).label("completed"),
            sa.type_coerce(self._instant(f["created_at"]), sa.Integer()).label("created"),
        ).select_from(winners.join(found, sa.and_(f["id"] == winners.c.rid, *again)))

    def prepare(
        self, keys: Sequence[tuple[AnyShape, tuple[Any, ...]]], as_of: datetime
    ) -> tuple[sa.Executable, dict[str, Any]]:
        groups: dict[AnyShape, list[tuple[Any, ...]]] = {}
        for shape, row in keys:
            groups.setdefault(shape, []).append(row)
        statement, params = keyed_statement(
            self.dialect, _FIELDS, groups, self.branches, self._composed, _SHAPES
        )
        params["as_of"] = as_of
        return statement, params

    def instant(self, value: Any) -> datetime:
        return value if self.dialect == "postgresql" else from_micros(value)


class SqlRunHistory:
    """``RunHistory`` over a runs table, answering a batch with one statement.

    Differences from the port contract: none in results (a host's naive ``timestamp`` columns
    make every run of the table naive, so none is returned). Requests beyond ``CHUNK_SIZE`` (5,000)
    take one more statement per chunk, all in one transaction. With a JSON-context subject
    (``mapping.subject`` None) the subject is compared inside the JSON, which no plain index
    covers; map a subject column for large tables.
    """

    def __init__(self, bind: Bind, mapping: RunTableMapping = REFERENCE_RUNS) -> None:
        self.bind = check_bind(bind)
        refuse_text_context(self.bind, mapping)
        self.mapping = mapping
        self._statements: dict[str, _Statement] = {}
        self._successes = mapping.successes()
        self._joint = JointStatements()

    def _statement(self, dialect: str) -> _Statement:
        statement = self._statements.get(dialect)
        if statement is None:
            statement = self._statements[dialect] = _Statement(self.mapping, dialect)
        return statement

    def _keys(
        self, requests: Sequence[LaterSuccessRequest]
    ) -> list[tuple[AnyShape, tuple[Any, ...]]]:
        keys: list[tuple[AnyShape, tuple[Any, ...]]] = []
        dialect = self._dialect()
        ids = self.mapping.key_id_types()
        for index, request in enumerate(requests):
            if not comparable(request):
                continue
            skey = request.subject_key
            if skey is not None and self.mapping.subject is None:
                skey = self._path(skey)
            workspace_id = id_key(request.workspace_id, ids["ws"], dialect)
            subject = id_key(request.subject, ids["subject"], dialect)
            if workspace_id is None or (subject is None) != (request.subject is None):
                # An id the column's type cannot hold names no stored run.
                continue
            for given, has_env in environments(request):
                environment_id = id_key(given, ids["env"], dialect)
                if (environment_id is None) != (given is None):
                    continue
                shape = (has_env, subject is not None)
                for stored_type in request.operation_types:
                    for status, outcome in self._successes:
                        keys.append(
                            (
                                shape,
                                (
                                    index,
                                    workspace_id,
                                    environment_id,
                                    stored_type,
                                    subject,
                                    skey if subject is not None else None,
                                    status,
                                    outcome,
                                ),
                            )
                        )
        return keys

    def _path(self, subject_key: str) -> str:
        # SQLite addresses a JSON member by path; quoting the key keeps dots and spaces in it
        # from being read as path syntax. PostgreSQL takes the key itself.
        return subject_key if self._dialect() == "postgresql" else "$." + json.dumps(subject_key)

    def _dialect(self) -> str:
        return self.bind.dialect.name

    def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Mapping[LaterSuccessRequest, RunFact]:
        ordered = list(requests)
        if not ordered:
            return {}
        try:
            parts = chunks(ordered)
            best: dict[int, Candidate] = {}
            with read_transaction(self.bind, statements=len(parts)) as connection:
                offset = 0
                for part in parts:
                    prepared = self._prepared(part, as_of)
                    if prepared is not None:
                        keep_best(best, connection.execute(*prepared).all(), offset)
                    offset += len(part)
        except sa.exc.SQLAlchemyError as exc:
            raise EvidenceFetchError.wrapping(KIND, exc) from exc
        return self._answers(ordered, best.values())

    def _prepared(
        self, requests: Sequence[LaterSuccessRequest], as_of: datetime
    ) -> tuple[sa.Executable, dict[str, Any]] | None:
        """The statement and parameters for at most ``CHUNK_SIZE`` requests (None: none to seek)."""
        keys = self._keys(requests)
        return self._statement(self._dialect()).prepare(keys, as_of) if keys else None

    def latest_successes_with_states(
        self,
        requests: Collection[LaterSuccessRequest],
        states: Mapping[str, tuple[StateSource, Collection[StateRequest]]],
        *,
        as_of: datetime,
    ) -> tuple[Mapping[LaterSuccessRequest, RunFact], dict[str, Mapping[StateRequest, StateFact]]]:
        """See ``JointEvidence``: one statement for the successes and every ``SqlStateSource``
        over this history's bind; sources over another bind, or of another class, are left
        to the resolver."""
        return read_jointly(self, requests, states, as_of)

    def _answers(
        self, ordered: Sequence[LaterSuccessRequest], best: Iterable[Candidate]
    ) -> dict[LaterSuccessRequest, RunFact]:
        """The facts of the best candidate of each request (``ordered[candidate[0]]``)."""
        statement = self._statement(self._dialect())
        types = self.mapping.key_id_types().values()
        answers: dict[LaterSuccessRequest, RunFact] = {}
        for found in best:
            index, run_id, stored_type, ws, env, subject, started, completed, created = found
            request = ordered[index]
            # The fact carries the row's own ids, so the core's scope check compares the stored
            # run with the problem run. The statement compares byte for byte already; a row that
            # still differs from the request (a collation it did not foresee) is no evidence.
            ws, env, subject = (
                usable_id(stored_typed_id(value, id_type))
                for value, id_type in zip((ws, env, subject), types, strict=True)
            )
            if (
                ws is None
                or ws != request.workspace_id
                or (request.environment_id is not None and env != request.environment_id)
            ):
                continue
            if request.subject is not None and subject != request.subject:
                continue
            started_at, completed_at = statement.instant(started), statement.instant(completed)
            created_at = statement.instant(created)
            if not (aware(started_at) and sound_times(created_at, None, completed_at)):
                # Naive columns (PostgreSQL ``timestamp``): every run of the table is naive, so
                # skipping this one hides no valid success.
                continue
            answers[request] = RunFact(
                run_id=as_run_id(run_id),
                operation_type=stored_type,
                workspace_id=ws,
                environment_id=env,
                subject=subject if request.subject is not None else None,
                started_at=started_at,
                completed_at=completed_at,
                created_at=created_at,
            )
        return answers
