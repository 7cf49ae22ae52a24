"""How a host's table stores its instants, and how the adapter reads and binds them.

``Instants`` names the storage; ``column_type()`` is the SQLAlchemy type that reads a stored
value as an aware UTC datetime (an unreadable one as it was stored, for the core to flag) and
binds an aware datetime in the column's own storage. ``instant_sql`` holds the SQL that must
agree with these readers row by row (validity, exact comparisons, index-usable ranges).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from runactionability.adapters.sqlalchemy.types import (
    READABLE_FROM,
    READABLE_UNTIL,
    UtcTimestamp,
    from_micros,
    to_micros,
)
from runactionability.errors import ConfigurationError, UsageError

Form = Literal["native", "timestamptz", "iso_text", "epoch", "naive"]
Unit = Literal["s", "ms", "us"]

FORMS: tuple[Form, ...] = ("native", "timestamptz", "iso_text", "epoch", "naive")
UNIT_MICROS: dict[str, int] = {"s": 1_000_000, "ms": 1_000, "us": 1}

# The accepted ISO-8601 grammar, ASCII digits only (``\d`` would admit other scripts' digits);
# hour, minute and second ranges are checked as the SQL checks them, the calendar by ``datetime``.
ISO_TEXT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?",
    re.ASCII,
)


def _zone(instance: Instants, attribute: attrs.Attribute[str], value: str) -> None:
    if value == "UTC":
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigurationError(
            f"Instants.zone must be an IANA time zone such as 'UTC' or 'Europe/Berlin', "
            f"not {value!r}"
        ) from error


@attrs.frozen
class Instants:
    """How a table stores its instants (every timestamp column of one table stores alike).

    ``native`` is the reference storage: ``timestamptz`` on PostgreSQL, integer UTC microseconds
    on SQLite (``UtcTimestamp``). ``timestamptz`` is PostgreSQL's ``timestamptz`` (the same as
    native there). ``iso_text`` is ISO-8601 text, ``YYYY-MM-DD[ T]HH:MM:SS`` with an optional
    fraction of 1 to 6 digits and no offset, a wall-clock time in ``zone`` (SQLAlchemy's
    ``DateTime`` on SQLite stores it so; SQLite takes only ``zone="UTC"``). ``epoch`` is an
    integer count of ``unit`` since 1970-01-01 UTC. ``naive`` is PostgreSQL's ``timestamp
    without time zone`` holding wall-clock times in ``zone``: a wall time that occurs twice
    (clocks going back) is the later instant and one that never occurs (clocks going forward)
    is read with the offset before the change, as PostgreSQL's ``AT TIME ZONE`` reads them.
    See ``docs/adapters.md``, "How instants are stored".
    """

    form: Form = attrs.field(validator=attrs.validators.in_(FORMS))
    unit: Unit = attrs.field(default="us", validator=attrs.validators.in_(tuple(UNIT_MICROS)))
    zone: str = attrs.field(default="UTC", validator=_zone)

    @classmethod
    def native(cls) -> Instants:
        """The reference storage (the default of every mapping)."""
        return cls("native")

    @classmethod
    def timestamptz(cls) -> Instants:
        """PostgreSQL ``timestamptz``."""
        return cls("timestamptz")

    @classmethod
    def iso_text(cls, zone: str = "UTC") -> Instants:
        """ISO-8601 text holding wall-clock times in ``zone`` (only "UTC" on SQLite)."""
        return cls("iso_text", zone=zone)

    @classmethod
    def epoch(cls, unit: Unit = "us") -> Instants:
        """Integer seconds ("s"), milliseconds ("ms") or microseconds ("us") since 1970 UTC."""
        return cls("epoch", unit=unit)

    @classmethod
    def naive(cls, zone: str) -> Instants:
        """PostgreSQL ``timestamp without time zone`` holding wall-clock times in ``zone``."""
        return cls("naive", zone=zone)

    @classmethod
    def parse(cls, text: str) -> Instants:
        """The storage a configuration file names.

        ``native``, ``timestamptz``, ``iso_text``, ``iso_text:<zone>``, ``epoch_s``,
        ``epoch_ms``, ``epoch_us`` or ``naive:<zone>``.
        """
        if not isinstance(text, str):
            raise ConfigurationError(f"a timestamp storage is a string, not {text!r}")
        name, _, zone = text.partition(":")
        if name in {"native", "timestamptz"} and not zone:
            return cls(cast(Form, name))
        if name == "iso_text":
            return cls.iso_text(zone or "UTC")
        if name.startswith("epoch_") and name[6:] in UNIT_MICROS and not zone:
            return cls.epoch(cast(Unit, name[6:]))
        if name == "naive" and zone:
            return cls.naive(zone)
        raise ConfigurationError(
            f"unknown timestamp storage {text!r}: use 'native', 'timestamptz', 'iso_text', "
            f"'iso_text:<zone>', 'epoch_s', 'epoch_ms', 'epoch_us' or 'naive:<zone>'"
        )

    def __str__(self) -> str:
        if self.form == "epoch":
            return f"epoch_{self.unit}"
        if self.form == "naive" or (self.form == "iso_text" and self.zone != "UTC"):
            return f"{self.form}:{self.zone}"
        return self.form

    @property
    def is_native(self) -> bool:
        """Whether SQL reads this storage as the reference schema's (``UtcTimestamp``)."""
        return self.form in {"native", "timestamptz"}

    @property
    def micros(self) -> int:
        """Microseconds in one stored ``unit`` (epoch)."""
        return UNIT_MICROS[self.unit]

    def column_type(self) -> TypeDecorator[datetime]:
        """The SQLAlchemy type of a column in this storage (read and bind, see the class)."""
        if self.is_native:
            return UtcTimestamp()
        return StoredInstant(self)

    def check_dialect(self, dialect_name: str) -> None:
        """``ConfigurationError`` when ``dialect_name`` cannot store instants this way."""
        if dialect_name != "sqlite":
            return
        if self.form == "naive":
            raise ConfigurationError(
                "Instants.naive is PostgreSQL's 'timestamp without time zone'; on SQLite a "
                "SQLAlchemy DateTime column is ISO text: use Instants.iso_text()"
            )
        if self.form == "iso_text" and self.zone != "UTC":
            raise ConfigurationError(
                f"Instants.iso_text(zone={self.zone!r}) needs PostgreSQL; SQLite reads ISO text "
                f"only as UTC: store UTC wall times and use Instants.iso_text()"
            )

    # Reading and writing, exactly as ``instant_sql`` reads the same stored values.

    def to_wall(self, value: datetime) -> datetime:
        """The naive wall-clock time of aware ``value`` in ``zone``."""
        if self.zone == "UTC":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)

    def from_wall(self, wall: datetime) -> datetime | None:
        """The UTC instant of naive ``wall`` in ``zone`` as PostgreSQL reads it, or None.

        None when the instant falls outside ``datetime``'s years.
        """
        try:
            if self.zone == "UTC":
                return wall.replace(tzinfo=UTC)
            zone = ZoneInfo(self.zone)
            # PostgreSQL reads a repeated wall time as the later instant (fold=1) and a
            # skipped one with the offset before the change (fold=0, see PEP 495).
            later = wall.replace(tzinfo=zone, fold=1)
            if later.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
                return later.astimezone(UTC)
            return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        except OverflowError:
            return None

    def read(self, value: Any) -> Any:
        """A stored value as an aware UTC datetime, or as stored when it is unreadable.

        For the storages other than native, which ``UtcTimestamp`` reads per dialect.
        """
        instant: datetime | None = None
        if self.form == "epoch":
            if isinstance(value, int) and not isinstance(value, bool):
                instant = _from_micros(value * self.micros)
        elif self.form == "iso_text":
            if isinstance(value, str):
                wall = parse_iso_text(value)
                instant = None if wall is None else self.from_wall(wall)
        elif isinstance(value, datetime) and value.utcoffset() is None:
            instant = self.from_wall(value)
            if instant is None or not READABLE_FROM <= instant < READABLE_UNTIL:
                # Its text, so that every path flags the row alike (the core flags any text).
                return value.isoformat()
        if instant is None or not READABLE_FROM <= instant < READABLE_UNTIL:
            return value
        return instant

    def write(self, value: datetime) -> Any:
        """Aware ``value`` in this storage (epoch rounds down to whole ``unit``)."""
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise UsageError(f"a stored timestamp must be a timezone-aware datetime, not {value!r}")
        if self.form == "epoch":
            return to_micros(value) // self.micros
        wall = self.to_wall(value)
        if self.form == "naive":
            return wall
        return iso_wall_text(wall)


def _from_micros(value: int) -> datetime | None:
    try:
        return from_micros(value)
    except OverflowError:
        return None


def parse_iso_text(text: str) -> datetime | None:
    """The naive wall time ``text`` spells in the accepted grammar, or None."""
    match = ISO_TEXT.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "").ljust(6, "0")),
        )
    except ValueError:
        return None


def iso_wall_text(wall: datetime) -> str:
    """``wall`` as SQLAlchemy's SQLite ``DateTime`` writes it: ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    return (
        f"{wall.year:04d}-{wall.month:02d}-{wall.day:02d} "
        f"{wall.hour:02d}:{wall.minute:02d}:{wall.second:02d}.{wall.microsecond:06d}"
    )


class StoredInstant(TypeDecorator[datetime]):
    """The column type of a non-native ``Instants`` storage (see ``Instants.column_type``)."""

    impl = sa.Text()
    cache_ok = True

    def __init__(self, instants: Instants) -> None:
        super().__init__()
        self.instants = instants

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        self.instants.check_dialect(dialect.name)
        form = self.instants.form
        if form == "epoch":
            return dialect.type_descriptor(sa.BigInteger())
        if form == "naive":
            return dialect.type_descriptor(sa.DateTime(timezone=False))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.instants.write(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.instants.read(value)


def instants_of(column: Any) -> Instants:
    """The storage of a column built by a mapping (native for any other column)."""
    found = getattr(column.type, "instants", None)
    return found if isinstance(found, Instants) else Instants.native()
