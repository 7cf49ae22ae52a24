"""The follow-up list: pages of the runs needing attention now, newest first, and their cursors."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import read_transaction
from runactionability.adapters.sqlalchemy.cursors import (
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from runactionability.adapters.sqlalchemy.ids import IdType, id_value
from runactionability.adapters.sqlalchemy.instant_rows import (
    cursor_value,
    stored_parameter,
    stored_type,
)
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.pushdown.common import EVALUATE, SupersedeForm
from runactionability.adapters.sqlalchemy.pushdown.prepared import (
    _prepare,
    _Prepared,
    _scope_key_of,
    _scope_values,
)
from runactionability.adapters.sqlalchemy.pushdown.walk import (
    Head,
    cursor_of,
    page_of,
    session_head,
)
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.model import OperationRun
from runactionability.result import Actionability
from runactionability.scopes import VisibleScopes
from runactionability.telemetry import FOLLOW_UP_PAGE, traced

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
    from runactionability.adapters.sqlalchemy.pushdown.classify import _Compiled


@attrs.frozen(kw_only=True)
class FollowUpItem:
    """A run on the current follow-up list and its status (actionable or manual review)."""

    run: OperationRun
    status: Actionability


@attrs.frozen(kw_only=True)
class FollowUpPage:
    """One page of the current follow-up list, newest first, and the cursor of the next one.

    ``scanned`` counts the problem runs read and classified to fill the page.
    """

    items: tuple[FollowUpItem, ...]
    next_cursor: str | None
    scanned: int

    @property
    def runs(self) -> tuple[OperationRun, ...]:
        return tuple(item.run for item in self.items)


@traced(
    FOLLOW_UP_PAGE, "runactionability.SqlPushdown.follow_up_page", runs=lambda page: len(page.items)
)
def follow_up_page(
    pushdown: SqlPushdown,
    scopes: VisibleScopes,
    *,
    as_of: datetime,
    limit: int,
    cursor: str | None,
) -> FollowUpPage:
    """The page ``SqlPushdown.follow_up_page`` returns, its arguments checked."""
    compiled = pushdown.compiled(pushdown.form or SupersedeForm.EXISTS, scopes, walk=True)
    source = pushdown._run_source()
    scope_values = _scope_values(scopes, pushdown.dialect, pushdown.mapping.ids)
    with read_transaction(pushdown.bind, statements=2) as connection:
        _prepare(connection, scopes)

        def read(after: str | None, chunk: int) -> Any:
            values: dict[str, Any] = {**scope_values, "as_of": as_of, "chunk": chunk}
            prepared = _walk_prepared(pushdown, compiled, scopes, values, after)
            rows = prepared.rows(connection, values)
            pending, judged = _judged(
                pushdown, connection, prepared, rows, as_of=as_of, scopes=scopes
            )
            return prepared, rows, pending, judged

        head = session_head(pushdown, scopes, as_of) if cursor is None else None
        if head is not None:
            # A session's walk from the newest: each row read once, whichever of its pages
            # (the dashboard's top runs are the head of the page it shows next) reads it first.
            head.read = read
            head.first_read(limit)
        else:
            head = Head(cursor, functools.partial(cursor_of, pushdown))
            head.read = read
        items: list[FollowUpItem] = []
        # The stored created_at of each item, which its cursor carries (see ``cursor_value``).
        stored: list[Any] = []

        def keep(index: int, status: Actionability) -> None:
            built = head.built.get(index)
            if built is None:
                row = head.prepared[index].read(head.raw[index])
                run = head.pending.get(index) or source._run(row)
                built = head.built[index] = (run, cursor_value(row, "created_at"))
            items.append(FollowUpItem(run=built[0], status=status))
            stored.append(built[1])

        _, scanned, full = page_of(head, limit, keep)
    if full:
        last = items[-1].run
        next_cursor = _encode(stored[-1], last.id, key=pushdown.cursor_key)
        return FollowUpPage(items=tuple(items), next_cursor=next_cursor, scanned=scanned)
    return FollowUpPage(items=tuple(items), next_cursor=None, scanned=scanned)


def _walk(pushdown: SqlPushdown, compiled: _Compiled, scopes: VisibleScopes) -> Any:
    """The problem rows of ``scopes``, newest first, each with its classification."""
    c = compiled.c
    created = c["created_at"]
    order = created.desc().nulls_last() if pushdown.dialect == "postgresql" else created.desc()
    base = compiled.select(
        *SqlRunSource.columns(c, pushdown.dialect),
        compiled.problem_status.label("actionability"),
    )
    if compiled.subject is not None:
        base = base.add_columns(compiled.subject.label("subject"))
    # Only problem rows can need attention: the walk reads them alone, newest first, on the
    # partial problem index, and classifies each row it reads once (in the select list; a
    # filter on the classification would evaluate it twice).
    return base.where(*compiled.scope_filter(scopes), compiled.problem).order_by(
        order, c["id"].desc()
    )


def _walk_prepared(
    pushdown: SqlPushdown,
    compiled: _Compiled,
    scopes: VisibleScopes,
    values: dict[str, Any],
    cursor: str | None,
) -> _Prepared:
    """The walk's statement after ``cursor``, whose values it adds to ``values``."""
    tag = None
    if cursor is not None:
        instants = pushdown.mapping.timestamps
        tag, created, run_id = _decode(
            cursor,
            id_type=pushdown.mapping.ids.run,
            instants=instants,
            dialect=pushdown.dialect,
            key=pushdown.cursor_key,
        )
        values["after_id"] = id_value(run_id, pushdown.mapping.ids.run, pushdown.dialect)
        if tag == "instant":
            values["after_created"] = (
                created if pushdown.dialect == "postgresql" else to_micros(created)
            )
        elif tag in {"stored", "naive"}:
            values["after_created"] = created
    key = ("page", tag, compiled.form, *_scope_key_of(scopes))
    return pushdown._prepare(key, lambda: _walk_after(pushdown, compiled, scopes, tag))


def _walk_after(
    pushdown: SqlPushdown, compiled: _Compiled, scopes: VisibleScopes, tag: str | None
) -> Any:
    """The walk's next chunk after a cursor of kind ``tag`` (None: from the newest)."""
    walk = _walk(pushdown, compiled, scopes)
    if tag is not None:
        walk = walk.where(_after(compiled, tag))
    return walk.limit(sa.bindparam("chunk"))


def _judged(
    pushdown: SqlPushdown,
    connection: sa.Connection,
    prepared: _Prepared,
    rows: Sequence[Any],
    *,
    as_of: datetime,
    scopes: VisibleScopes,
) -> tuple[dict[int, OperationRun], dict[int, Actionability]]:
    """The runs of the rows Python must judge, and their statuses, by row index."""
    # Runs are built only for what the page keeps or Python must judge.
    source = pushdown._run_source()
    at = prepared.position("actionability")
    pending = {
        index: source._run(prepared.read(row))
        for index, row in enumerate(rows)
        if row[at] == EVALUATE
    }
    if not pending:
        return pending, {}
    results = pushdown._resolver_on(connection).evaluate_many(
        list(pending.values()), as_of=as_of, scopes=scopes
    )
    return pending, {index: result.status for index, result in zip(pending, results, strict=True)}


def _after(compiled: _Compiled, tag: str) -> Any:
    c = compiled.c
    dialect = compiled.dialect
    column = c["created_at"]
    run_id = sa.bindparam("after_id", type_=c["id"].type)
    if tag == "null":
        return sa.and_(column.is_(None), c["id"] < run_id)
    instants = compiled.pushdown.mapping.timestamps
    value: Any = sa.bindparam("after_created", type_=sa.BigInteger())
    if not instants.is_native:
        # The cursor carries the stored value (or, crafted, an instant written in the storage),
        # compared as the database orders the stored values.
        column = sa.type_coerce(column, stored_type(instants))
        if dialect == "postgresql":
            value = stored_parameter(c["created_at"], "after_created", None)
        else:
            value = sa.bindparam("after_created", type_=sa.types.NullType())
    elif tag == "stored" and dialect == "postgresql":
        # An unreadable stored value as its text, which the server reads back as the very
        # value it ordered by ('infinity', a year after 9999).
        value = sa.cast(sa.bindparam("after_created", type_=sa.Text()), sa.DateTime(timezone=True))
    elif tag == "stored":
        # Stray text or an out-of-range number, compared as SQLite orders stored values.
        value = sa.bindparam("after_created", type_=sa.types.NullType())
    elif dialect != "postgresql":
        column = sa.type_coerce(column, sa.BigInteger())
    else:
        value = sa.bindparam("after_created", type_=sa.DateTime(timezone=True))
    return sa.or_(
        column < value, sa.and_(column == value, c["id"] < run_id), c["created_at"].is_(None)
    )


def _encode(created: object, run_id: object, *, key: bytes | None = None) -> str:
    return encode_cursor(created, run_id, key=key)


def _decode(
    cursor: str,
    *,
    id_type: IdType = "text",
    instants: Instants | None = None,
    dialect: str = "",
    key: bytes | None = None,
) -> tuple[str, Any, Any]:
    # Checked against the table's storage (``decode_cursor``). A naive cursor only from a table
    # of naive wall times (Instants.naive); in any other storage the follow-up list classifies
    # at as_of, which a naive instant cannot be placed against.
    tag, created, run_id = decode_cursor(
        cursor,
        id_type=id_type,
        issuer="the follow-up list",
        key=key,
        instants=instants,
        dialect=dialect,
    )
    if tag == "naive" and (instants is None or instants.form != "naive"):
        raise invalid_cursor(cursor, "the follow-up list")
    return tag, created, run_id
