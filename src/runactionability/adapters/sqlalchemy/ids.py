"""Ids compared in the column's own type: text, integer (``bigint``) or ``uuid``.

The core compares ids as ``model.usable_id`` does: as text, so ``42`` and ``"42"`` are one
workspace. A host's integer or ``uuid`` column is compared without ever casting the column
(which would defeat its index): the other side (a parameter, a key list's field, a JSON
context's subject, a column of another table) is converted to the column's type, and a value
that no stored value of that type equals under ``usable_id`` becomes NULL, which matches
nothing and never raises. The equality ``usable_id`` implies is the canonical text of the stored
value: ``str(42)`` is ``"42"``, so ``" 42"``, ``"042"``, ``"+42"`` and ``"-0"`` name no integer
id, and a ``uuid`` is named only by its lowercase hyphenated text (``str(uuid.UUID(...))``); a
caller who spells one otherwise is told so (``check_caller_ids``) rather than matching nothing.

SQLite has no uuid type: a ``uuid`` id there is stored as SQLAlchemy's ``Uuid`` stores it, 32
lowercase hex digits without hyphens (``uuid.hex``, in a ``CHAR(32)`` column). A caller's id is
bound in that form and a stored one is read back as its hyphenated text, so a host names it by
``str(uuid)`` on both engines.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from runactionability.adapters.sqlalchemy.types import exact_equal, exact_text
from runactionability.errors import ConfigurationError, UsageError
from runactionability.limits import integer_text

IdType = Literal["text", "integer", "uuid"]
"""How a host's id column stores its ids; ``bigint`` (and any integer width) is ``"integer"``."""

ID_TYPES: tuple[IdType, ...] = get_args(IdType)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,18}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The same grammars as SQL regular expressions (PostgreSQL), ASCII under the "C" collation.
_SHORT_INTEGER_SQL = "'^(0|-?[1-9][0-9]{0,17})$'"
_LONG_INTEGER_SQL = "'^-?[1-9][0-9]{18}$'"
_UUID_SQL = "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'"
_HEX = re.compile(r"[0-9a-f]{32}")
# The same grammars as SQLite GLOB patterns (GLOB ignores the column's collation).
_DIGIT_GLOB = "[0-9a-f]"
_HEX_GLOB = f"'{_DIGIT_GLOB * 32}'"
_UUID_GLOB = "'" + "-".join(_DIGIT_GLOB * n for n in (8, 4, 4, 4, 12)) + "'"


def _id_type(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ID_TYPES:
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be one of {', '.join(ID_TYPES)}, "
            f"not {value!r}"
        )


@attrs.frozen(kw_only=True)
class IdTypes:
    """The id types of a runs table: the run id, the scope ids and the ``subject`` column."""

    run: IdType = attrs.field(default="integer", validator=_id_type)
    workspace: IdType = attrs.field(default="text", validator=_id_type)
    environment: IdType = attrs.field(default="text", validator=_id_type)
    subject: IdType = attrs.field(default="text", validator=_id_type)


@attrs.frozen(kw_only=True)
class StateIdTypes:
    """The id types of a state table: its scope ids and its subject column."""

    workspace: IdType = attrs.field(default="text", validator=_id_type)
    environment: IdType = attrs.field(default="text", validator=_id_type)
    subject: IdType = attrs.field(default="text", validator=_id_type)


def _typed(cls: type[Any], value: object) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        try:
            return cls(**value)
        except TypeError as exc:
            raise ConfigurationError(f"{cls.__name__}: {exc}") from None
    raise ConfigurationError(f"ids must be a {cls.__name__} or a mapping, not {value!r}")


def as_id_types(value: IdTypes | Mapping[str, IdType]) -> IdTypes:
    """``RunTableMapping.ids`` from an ``IdTypes`` or a mapping of its fields."""
    return _typed(IdTypes, value)  # type: ignore[no-any-return]


def as_state_id_types(value: StateIdTypes | Mapping[str, IdType]) -> StateIdTypes:
    """``StateTableMapping.ids`` from a ``StateIdTypes`` or a mapping of its fields."""
    return _typed(StateIdTypes, value)  # type: ignore[no-any-return]


def storage(id_type: IdType, dialect: str) -> IdType:
    """The type the column stores on ``dialect``: SQLite has no ``uuid``, so it stores text
    (32 hex digits, see the module)."""
    return "text" if id_type == "uuid" and dialect != "postgresql" else id_type


def declared_kinds(id_type: IdType, dialect: str) -> frozenset[IdType]:
    """The reflected types (``reflect.id_type_of``) a column compared as ``id_type`` may have.

    A uuid on SQLite is text however the column is declared; its values tell (``doctor``).
    """
    if id_type == "uuid" and dialect != "postgresql":
        return frozenset({"uuid", "text"})
    return frozenset({id_type})


def id_value(value: object, id_type: IdType, dialect: str) -> Any:
    """A caller's id (a str or an int) as a column of ``id_type`` stores it.

    None when no stored value of that type equals it under ``usable_id`` (see the module): the
    comparison then matches nothing.
    """
    if isinstance(value, bool) or value is None:
        return None
    kind = storage(id_type, dialect)
    if id_type == "uuid" and kind == "text":
        if isinstance(value, _StoredHex):
            return value
        if isinstance(value, str) and _UUID.fullmatch(value):
            value = uuid.UUID(value)
        return _StoredHex(value.hex) if isinstance(value, uuid.UUID) else None
    if kind == "text":
        if isinstance(value, int):
            # An int too long to write is no usable id, so no stored text equals it.
            return integer_text(value)
        if isinstance(value, uuid.UUID):
            return str(value)
        return value if isinstance(value, str) and text_fits(value, dialect) else None
    if kind == "integer":
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            value = int(value)
        return value if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX else None
    if isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(value) if isinstance(value, str) and _UUID.fullmatch(value) else None


def text_fits(text: str, dialect: str) -> bool:
    """Whether a text column on ``dialect`` can hold ``text``, so that a driver binds it: UTF-8
    (no lone surrogate), and on PostgreSQL no NUL. Any other text is no stored id, decided
    before a statement rather than failing in the driver (on PostgreSQL leaving the
    transaction unusable)."""
    if "\x00" in text and dialect == "postgresql":
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_caller_ids(values: Iterable[object], id_type: IdType, name: str) -> None:
    """``UsageError`` for a caller's id that spells a uuid other than its stored text.

    A uuid column's ids are what the core compares (``usable_id``): the lowercase hyphenated
    text. Another spelling ``uuid.UUID`` accepts (upper case, braces, ``urn:uuid:``, 32 hex
    digits) would match no row in SQL and no run in Python, silently, so it is refused with the
    spelling to use. Text that names no uuid at all is no id of the column, as for any type.
    Only for ids a caller gives (scopes, a run id): a stored value is read, never refused.
    """
    if id_type != "uuid":
        return
    for value in values:
        if isinstance(value, str) and not _UUID.fullmatch(value):
            try:
                spelled = uuid.UUID(value)
            except ValueError:
                continue
            raise UsageError(
                f"{name} {value!r} spells a uuid other than its column's ids are compared: "
                f"pass {str(spelled)!r}"
            )


def check_scope_ids(
    workspace_ids: Iterable[object] | None, environment_ids: Iterable[object] | None, ids: IdTypes
) -> None:
    """``check_caller_ids`` of a caller's visible workspaces (None: every one) and
    environments."""
    if workspace_ids is not None:
        check_caller_ids(workspace_ids, ids.workspace, "workspace id")
    if environment_ids is not None:
        check_caller_ids(environment_ids, ids.environment, "environment id")


class _StoredHex(str):
    """A uuid's 32 hex digits as ``id_value`` made them: bound again (a value ``id_value``
    converted, then bound through an ``IdColumn``), it is kept, while a caller's own hex text
    names no uuid, as ``usable_id`` compares it with the hyphenated text the core reads."""

    __slots__ = ()


def id_key(value: object, id_type: IdType, dialect: str) -> Any:
    """``id_value`` as a JSON key-list field (a ``uuid`` as its text, which the list types)."""
    converted = id_value(value, id_type, dialect)
    return str(converted) if isinstance(converted, uuid.UUID) else converted


def stored_id(value: object) -> Any:
    """A stored id as the core reads it: a ``uuid`` as its lowercase text, anything else as is."""
    return str(value) if isinstance(value, uuid.UUID) else value


def stored_typed_id(value: object, id_type: IdType) -> Any:
    """``stored_id`` of a column of ``id_type``: a uuid stored as 32 hex digits as its text.

    Stored text that is no such uuid is read as it is, the text SQL compares.
    """
    if id_type == "uuid" and isinstance(value, str) and _HEX.fullmatch(value):
        return str(uuid.UUID(hex=value))
    return stored_id(value)


def sql_type(id_type: IdType, dialect: str) -> TypeEngine[Any]:
    """The SQL type of a column (or a bound array element) of ``id_type`` on ``dialect``."""
    kind = storage(id_type, dialect)
    if kind == "integer":
        return sa.BigInteger()
    if kind == "uuid":
        return postgresql.UUID(as_uuid=True)
    return sa.Text()


class IdColumn(TypeDecorator[Any]):
    """A host's id column of ``id_type``: binds a caller's id in that type, reads a uuid as text.

    A bound value that no stored id equals (``id_value``) is bound as NULL, so a hostile or
    mistyped id matches nothing instead of raising a driver error mid-batch.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, id_type: IdType = "text") -> None:
        super().__init__()
        self.id_type = id_type

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(sql_type(self.id_type, dialect.name))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return id_value(value, self.id_type, dialect.name)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return stored_typed_id(value, self.id_type)


def id_equal(column: Any, value: Any, id_type: IdType, dialect: str) -> sa.ColumnElement[bool]:
    """``column = value`` for a column of ``id_type``, ``value`` already of that type.

    Text compares byte for byte whatever the column's collation (``exact_equal``); an integer or
    a uuid has no collation, and one would be refused.
    """
    if storage(id_type, dialect) == "text":
        return exact_equal(column, value, dialect)
    return sa.and_(column == value)


def id_exact(column: Any, id_type: IdType, dialect: str) -> Any:
    """``column`` to group or join by exact value (``exact_text`` for text, else as it is)."""
    return exact_text(column, dialect) if storage(id_type, dialect) == "text" else column


# What ``str.strip()`` removes, and so what ``usable_id`` reads as blank: every character
# ``str.isspace`` holds (a test compares the two).
PYTHON_BLANKS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def usable_stored_id(column: Any, id_type: IdType, dialect: str) -> sa.ColumnElement[bool]:
    """The rows whose ``column`` holds an id ``usable_id`` reads that binds back as itself: the
    ids a list of every stored one would hold (``VisibleScopes.every_workspace``), tested on the
    row, so that a read of every workspace lists none of them.

    An integer or a uuid is usable unless NULL; text unless blank to ``str.strip()``. SQLite
    holds any type in any column: there a text id is text (or an integer, which the core reads
    as its digits) with no NUL, an integer id an integer, and a uuid its 32 hex digits
    (``_StoredHex``); a BLOB, a real or other text names no id of the column.
    """
    kind = storage(id_type, dialect)
    if dialect == "postgresql":
        if kind != "text":
            return sa.and_(column.is_not(None))
        return sa.and_(sa.func.length(sa.func.btrim(column, PYTHON_BLANKS)) > 0)
    typed = sa.func.typeof(column)
    if kind == "integer":
        return typed == sa.literal_column("'integer'")
    text = typed == sa.literal_column("'text'")
    if id_type == "uuid":
        return sa.and_(text, column.op("GLOB")(sa.literal_column(_HEX_GLOB)))
    # SQLite's length() stops at a NUL, so the NUL is looked for in the bytes (instr).
    unblank = sa.func.length(sa.func.trim(column, PYTHON_BLANKS)) > 0
    without_nul = sa.func.instr(column, sa.func.char(0)) == 0
    return sa.or_(typed == sa.literal_column("'integer'"), sa.and_(text, unblank, without_nul))


def id_cast(value: Any, source: IdType, target: IdType, dialect: str) -> Any:
    """SQL ``value`` (an expression of ``source``) as ``target``; NULL when no id of it equals it.

    Applied to the side that is not the column an index seeks, never to that column.
    """
    if dialect != "postgresql" and source != target and "uuid" in (source, target):
        return _hex_uuid_cast(value, source, target)
    source, target = storage(source, dialect), storage(target, dialect)
    if source == target:
        return value
    if target == "text":
        # The canonical text of an integer or a uuid is what usable_id compares.
        return sa.cast(value, sa.Text())
    if source != "text":
        # No integer is any uuid.
        return sa.null()
    text: Any = sa.cast(value, sa.Text())
    if dialect == "postgresql":
        text = text.collate("C")
        if target == "uuid":
            return sa.case(
                (
                    text.op("~")(sa.literal_column(_UUID_SQL)),
                    sa.cast(text, sql_type("uuid", dialect)),
                )
            )
        # CASE evaluates in order, so the casts only ever read text the patterns admit, and a
        # nineteen-digit number is compared as numeric before it may be cast to bigint.
        in_range = sa.cast(text, sa.Numeric()).between(
            sa.literal_column(str(INT64_MIN)), sa.literal_column(str(INT64_MAX))
        )
        number = sa.cast(text, sa.BigInteger())
        return sa.case(
            (text.op("~")(sa.literal_column(_SHORT_INTEGER_SQL)), number),
            (text.op("~")(sa.literal_column(_LONG_INTEGER_SQL)), sa.case((in_range, number))),
        )
    # SQLite casts any text to an integer (a prefix, 0, or the nearest bound): only text that
    # is the integer's own decimal form names it.
    number = sa.cast(text, sa.BigInteger())
    return sa.case((sa.cast(number, sa.Text()).collate("BINARY") == text, number))


def _hex_uuid_cast(value: Any, source: IdType, target: IdType) -> Any:
    """``id_cast`` to or from a uuid stored as 32 hex digits (SQLite)."""
    if "integer" in (source, target):
        return sa.null()
    text: Any = sa.cast(value, sa.Text())
    if target == "uuid":
        # Only the canonical text of a uuid names one, as ``id_value`` binds it.
        return sa.case(
            (text.op("GLOB")(sa.literal_column(_UUID_GLOB)), sa.func.replace(text, "-", ""))
        )
    hyphenated: Any = sa.func.substr(text, 1, 8)
    for start, length in ((9, 4), (13, 4), (17, 4), (21, 12)):
        hyphenated = hyphenated.concat("-").concat(sa.func.substr(text, start, length))
    # Stored text that is no uuid reads as it is (``stored_typed_id``).
    return sa.case((text.op("GLOB")(sa.literal_column(_HEX_GLOB)), hyphenated), else_=text)


def id_match(
    column: Any, column_type: IdType, value: Any, value_type: IdType, dialect: str
) -> sa.ColumnElement[bool]:
    """``column`` (of ``column_type``) equals the expression ``value`` (of ``value_type``)."""
    return id_equal(column, id_cast(value, value_type, column_type, dialect), column_type, dialect)
