"""``SqlStateSource``: the current states of one kind for a whole batch, in one statement.

The statement has the same form as the history's: the requests as one parameter, one
correlated ``ORDER BY proven_at DESC LIMIT 1`` per request, and one branch per request shape so
that a missing environment or subject is an ``IS NULL`` seek rather than an ``OR``.
"""

from __future__ import annotations

import json
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
)
from runactionability.adapters.sqlalchemy.mapping import StateTableMapping
from runactionability.adapters.sqlalchemy.types import from_micros, valid_timestamp
from runactionability.errors import EvidenceFetchError
from runactionability.evidence import StateFact, StateRequest

_FIELDS = ("idx", "ws", "env", "subject")


class _Statement:
    def __init__(self, mapping: StateTableMapping, dialect: str) -> None:
        self.dialect = dialect
        self.mapping = mapping
        table = mapping.table_clause()
        self.c = {
            name: table.c[getattr(mapping, name)]
            for name in ("workspace_id", "environment_id", "subject", "status", "proven_at")
        }
        self.attributes = table.c[mapping.attributes] if mapping.attributes else None
        self.branches = {shape: self._branch(*shape) for shape in SHAPES}
        self._composed: dict[tuple[Shape, ...], sa.Executable] = {}

    def _conditions(self, key: Any, has_env: bool, has_subject: bool) -> list[Any]:
        c = self.c
        return [
            c["workspace_id"] == key("ws"),
            c["environment_id"] == key("env") if has_env else c["environment_id"].is_(None),
            c["subject"] == key("subject") if has_subject else c["subject"].is_(None),
            c["status"].is_not(None),
            valid_timestamp(c["proven_at"], self.dialect),
        ]

    def _branch(self, has_env: bool, has_subject: bool) -> sa.Select[Any]:
        name = shape_name((has_env, has_subject))
        c = self.c
        if self.dialect == "postgresql":
            keys = postgresql_keys(name, _FIELDS)
            coerced: Any = (
                sa.type_coerce(self.attributes, postgresql.JSONB)
                if self.attributes is not None
                else sa.null()
            )
            best = (
                sa.select(
                    c["status"].label("status"),
                    c["proven_at"].label("proven_at"),
                    coerced.label("attributes"),
                )
                .where(*self._conditions(lambda field: keys.c[field], has_env, has_subject))
                .order_by(c["proven_at"].desc())
                .limit(1)
                .lateral(f"s_{name}")
            )
            return sa.select(keys.c.idx, *best.c).select_from(keys.join(best, sa.true()))
        each = sa.func.json_each(sa.bindparam(name, type_=sa.Text())).table_valued("value")
        keys_alias = each.alias(f"k_{name}")

        def key(field: str) -> Any:
            path: Any = sa.literal_column(f"'$[{_FIELDS.index(field)}]'")
            return sa.func.json_extract(keys_alias.c.value, path)

        if self.attributes is not None:
            raw = self.attributes
            attributes: Any = sa.case((sa.func.json_valid(raw) == 1, sa.func.json(raw)))
        else:
            attributes = sa.null()
        hit = (
            sa.select(
                sa.func.json_array(
                    c["status"], sa.type_coerce(c["proven_at"], sa.Integer()), attributes
                )
            )
            .where(*self._conditions(key, has_env, has_subject))
            .order_by(c["proven_at"].desc())
            .limit(1)
            .scalar_subquery()
        )
        return sa.select(key("idx").label("idx"), hit.label("hit")).select_from(keys_alias)

    def prepare(self, requests: Sequence[StateRequest]) -> tuple[sa.Executable, dict[str, Any]]:
        groups: dict[Shape, list[tuple[Any, ...]]] = {}
        for index, request in enumerate(requests):
            shape = (request.environment_id is not None, request.subject is not None)
            groups.setdefault(shape, []).append(
                (index, request.workspace_id, request.environment_id, request.subject)
            )
        return keyed_statement(self.dialect, _FIELDS, groups, self.branches, self._composed)

    def rows(self, result: Iterable[Sequence[Any]]) -> list[tuple[int, Any, datetime, Any]]:
        if self.dialect == "postgresql":
            return [(idx, status, proven, attributes) for idx, status, proven, attributes in result]
        found = []
        for idx, hit in result:
            if hit is not None:
                status, proven, attributes = json.loads(hit)
                found.append((idx, status, from_micros(proven), attributes))
        return found


class SqlStateSource:
    """``StateSource`` for one kind over a host's state table.

    Differences from the port contract: a row with no status or no readable ``proven_at`` is
    not a fact (it proves nothing); attributes that are not a JSON object read as empty. The
    host's status values are translated through ``mapping.statuses``.
    """

    def __init__(self, bind: Bind, mapping: StateTableMapping) -> None:
        self.bind = check_bind(bind)
        self.mapping = mapping
        self.kind = mapping.kind
        self._statements: dict[str, _Statement] = {}

    def _statement(self, dialect: str) -> _Statement:
        statement = self._statements.get(dialect)
        if statement is None:
            statement = self._statements[dialect] = _Statement(self.mapping, dialect)
        return statement

    def current_states(
        self, requests: Collection[StateRequest]
    ) -> Mapping[StateRequest, StateFact]:
        ordered = [request for request in requests if request.kind == self.kind]
        if not ordered:
            return {}
        vocabulary = self.mapping.statuses
        answers: dict[StateRequest, StateFact] = {}
        try:
            statement = self._statement(self.bind.dialect.name)
            parts = chunks(ordered)
            with read_transaction(self.bind, statements=len(parts)) as connection:
                for part in parts:
                    composed, params = statement.prepare(part)
                    result = connection.execute(composed, params).all()
                    for idx, status, proven_at, attributes in statement.rows(result):
                        request = part[idx]
                        stored = str(status)
                        answers[request] = StateFact(
                            kind=self.kind,
                            workspace_id=request.workspace_id,
                            environment_id=request.environment_id,
                            subject=request.subject,
                            status=vocabulary.get(stored, stored) if vocabulary else stored,
                            proven_at=proven_at,
                            attributes=attributes if isinstance(attributes, dict) else {},
                        )
        except sa.exc.SQLAlchemyError as exc:
            raise EvidenceFetchError(self.kind, f"{type(exc).__name__}: {exc}") from exc
        return answers
