"""Instants as a host stores them: SQL and Python read every stored value alike, row by row.

Each storage leg stores tricky values raw (grammar edge cases, impossible dates, fractions of one
to six digits and seven, offsets, the readable window's edges, integers past it, DST gaps and
repeats, one instant in several spellings) and checks that ``valid_timestamp`` holds exactly
for the rows ``Instants.read`` turns into an aware datetime, that SQL places each such row at the
same instant, and that comparisons in SQL (between rows, and with a parameter) say what
comparing the read datetimes says.
"""

from __future__ import annotations

import operator
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import (
    AS_OF,
    T0,
    executed_statements,
    query_plan,
    sql_ports,
    stored_copy,
    stored_run,
)

from runactionability import LaterSuccessRequest
from runactionability.adapters.sqlalchemy import Instants, SqlRunHistory
from runactionability.adapters.sqlalchemy.instant_rows import readable_columns, stored_instant
from runactionability.adapters.sqlalchemy.instant_sql import (
    canonical_parameter,
    compare,
    compare_to,
    instant_key,
    valid_timestamp,
)
from runactionability.errors import ConfigurationError

ISO_TEXTS = [
    "2024-02-29 10:00:00",
    "2024-02-30 10:00:00",
    "2023-02-29 00:00:00",
    "2024-04-31 00:00:00",
    "2024-01-00 00:00:00",
    "2024-13-01 00:00:00",
    "2024-01-01T10:00:00",
    "2024-01-01t10:00:00",
    "2024-01-01 10:00:00.5",
    "2024-01-01 10:00:00.50",
    "2024-01-01 10:00:00.123456",
    "2024-01-01 10:00:00.1234567",
    "2024-01-01 10:00:00.",
    "2024-01-01 10:00:00Z",
    "2024-01-01 10:00:00+00:00",
    "2024-01-01 24:00:00",
    "2024-01-01 23:59:60",
    "2024-01-01 23:60:00",
    "2024-01-01 10:00",
    "2024-1-01 10:00:00",
    " 2024-01-01 10:00:00",
    "2024-01-01 10:00:00\n",
    "\uff12\uff10\uff12\uff14-01-01 10:00:00",
    "abc",
    "",
    "0000-01-01 00:00:00",
    "0001-01-01 00:00:00",
    "0001-01-02 00:00:00",
    "0001-01-03 00:00:00",
    "9999-12-30 23:59:59.999999",
    "9999-12-31 00:00:00",
    # One instant in three spellings, and its neighbours a microsecond apart.
    "2026-11-10 12:00:00",
    "2026-11-10T12:00:00.000000",
    "2026-11-10 12:00:00.0",
    "2026-11-10 11:59:59.999999",
    "2026-11-10 12:00:00.000001",
    # Clocks going forward (no such wall time) and back (twice) in Europe and America.
    "2024-03-31 02:30:00",
    "2024-10-27 02:30:00",
    "2024-03-10 02:30:00",
    "2024-11-03 01:30:00",
]

EPOCHS = [0, -1, 1, 1_794_312_000, 1_794_312_000_000, 1_794_312_000_000_000, 2**62, -(2**62)]

NAIVE = [
    "2026-11-10 12:00:00",
    "2026-11-10 12:00:00.000001",
    "2024-03-10 02:30:00",
    "2024-03-10 03:30:00",
    "2024-11-03 01:30:00",
    "2024-11-03 01:59:59.999999",
    "2024-11-03 02:00:00",
    "2024-03-31 02:30:00",
    "2024-10-27 02:30:00",
    "0001-01-01 00:00:00",
    "0001-01-02 12:00:00",
    "9999-12-30 12:00:00",
    "9999-12-31 23:00:00",
    "infinity",
    "-infinity",
    "0044-03-15 12:00:00 BC",
]


def _epoch_values(instants: Instants) -> list[int]:
    unit = instants.micros
    low = (datetime(1, 1, 2, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        microseconds=unit
    )
    high = (datetime(9999, 12, 31, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        microseconds=unit
    )
    return [*EPOCHS, low - 1, low, high - 1, high]


def _table(engine: sa.Engine, instants: Instants) -> tuple[sa.TableClause, list[Any]]:
    """A probe table whose column ``v`` holds the storage's tricky values, stored raw."""
    dialect = engine.dialect.name
    if instants.form == "epoch":
        raw: Any = sa.BigInteger()
        values: list[Any] = _epoch_values(instants)
        if dialect == "sqlite":
            # SQLite stores whatever it is given: a REAL and text are no epoch counts.
            values += [1.5, "123"]
    elif instants.form == "naive":
        raw = sa.DateTime()
        values = NAIVE
    else:
        raw = sa.Text()
        values = list(ISO_TEXTS)
        if dialect == "sqlite":
            values += [5, 2.5]
    table = sa.Table(
        "instant_probe_m1",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("v", raw),
    )
    with engine.begin() as connection:
        table.drop(connection, checkfirst=True)
        table.create(connection)
        rows = [{"id": index, "v": value} for index, value in enumerate(values)]
        if instants.form == "naive":
            # Raw text the server reads as a timestamp ('infinity', a year BC).
            connection.execute(
                sa.text("INSERT INTO instant_probe_m1 (id, v) VALUES (:id, CAST(:v AS timestamp))"),
                rows,
            )
        else:
            connection.execute(table.insert(), rows)
    typed = sa.table(
        "instant_probe_m1", sa.column("id", sa.Integer()), sa.column("v", instants.column_type())
    )
    return typed, values


def _read(engine: sa.Engine, typed: Any) -> dict[int, tuple[Any, bool, Any]]:
    """Per row: what Python reads, whether SQL finds it valid, and the instant SQL places it at."""
    dialect = engine.dialect.name
    v = typed.c.v
    valid = valid_timestamp(v, dialect)
    statement = sa.select(
        typed.c.id,
        *readable_columns(v, "v", dialect),
        valid.label("valid"),
        sa.case((valid, instant_key(v, dialect))).label("key"),
    )
    with engine.connect() as connection:
        rows = [row._mapping for row in connection.execute(statement)]
    return {row["id"]: (stored_instant(row, "v"), bool(row["valid"]), row["key"]) for row in rows}


def _aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def test_sql_validity_and_python_reading_agree_row_by_row(
    storage_leg: tuple[sa.Engine, str],
) -> None:
    engine, storage = storage_leg
    for instants in _forms(engine, storage):
        typed, values = _table(engine, instants)
        read = _read(engine, typed)
        disagree = {
            values[index]: python
            for index, (python, valid, _) in read.items()
            if valid != _aware(python)
        }
        assert disagree == {}, instants
        misplaced = {
            values[index]: (python, key)
            for index, (python, valid, key) in read.items()
            if valid and python != key
        }
        assert misplaced == {}, instants
        # Something of each kind was stored: readable rows and unreadable ones.
        assert any(valid for _, valid, _ in read.values())
        assert not all(valid for _, valid, _ in read.values())


def _forms(engine: sa.Engine, storage: str) -> list[Instants]:
    """The leg's storage, and its other units or zones on the same engine."""
    instants = Instants.parse(storage)
    if instants.form == "epoch":
        return [Instants.epoch("s"), Instants.epoch("ms"), Instants.epoch("us")]
    if engine.dialect.name == "sqlite":
        return [instants]
    return [
        instants,
        Instants(instants.form, zone="UTC"),
        Instants(instants.form, zone="America/New_York"),
    ]


OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def test_sql_comparisons_agree_with_the_read_instants(storage_leg: tuple[sa.Engine, str]) -> None:
    engine, storage = storage_leg
    dialect = engine.dialect.name
    for instants in _forms(engine, storage):
        typed, _ = _table(engine, instants)
        read = {i: python for i, (python, valid, _) in _read(engine, typed).items() if valid}
        a, b = typed.alias("a"), typed.alias("b")
        pairs = (
            sa.select(
                a.c.id,
                b.c.id,
                compare(a.c.v, "<", b.c.v, dialect),
                compare(a.c.v, "==", b.c.v, dialect),
                compare(a.c.v, ">=", b.c.v, dialect),
            )
            .select_from(a.join(b, sa.true()))
            .where(a.c.id.in_(read), b.c.id.in_(read))
        )
        with engine.connect() as connection:
            found = {
                (x, y): (bool(lt), bool(eq), bool(ge))
                for x, y, lt, eq, ge in connection.execute(pairs)
            }
        expected = {
            (x, y): (read[x] < read[y], read[x] == read[y], read[x] >= read[y])
            for x in read
            for y in read
        }
        assert found == expected, instants
        # Parameters: every read instant, and a microsecond either side of it.
        parameters = _parameters(read.values())
        param = canonical_parameter("p")
        statement = sa.select(
            typed.c.id, *(compare_to(typed.c.v, op, param, dialect) for op in OPERATORS)
        ).where(typed.c.id.in_(read))
        with engine.connect() as connection:
            for moment in parameters:
                got = {
                    row[0]: tuple(bool(x) for x in row[1:])
                    for row in connection.execute(statement, {"p": moment})
                }
                want = {
                    i: tuple(test(read[i], moment) for test in OPERATORS.values()) for i in read
                }
                assert got == want, (instants, moment)


def _parameters(instants: Any) -> list[datetime]:
    tick = timedelta(microseconds=1)
    moments = {T0}
    for moment in instants:
        for shift in (-tick, timedelta(0), tick):
            try:
                moments.add(moment + shift)
            except OverflowError:
                continue
    return sorted(moments)


def test_storages_a_dialect_cannot_hold_are_refused(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL holds every storage")
    for instants in (Instants.naive("UTC"), Instants.iso_text("Europe/Berlin")):
        typed = sa.table("t", sa.column("v", instants.column_type()))
        with pytest.raises(ConfigurationError, match="SQLite"):
            sa.select(typed.c.v).compile(dialect=sql_engine.dialect)


def test_the_later_success_seek_uses_the_success_index_in_every_storage(
    storage_leg: tuple[sa.Engine, str],
) -> None:
    engine, storage = storage_leg
    successes = [
        stored_run(index, outcome="succeeded", start=index, end=index + 1) for index in range(1, 40)
    ]
    sql_ports(engine, successes, [])
    runs, _ = stored_copy(engine, storage)
    request = LaterSuccessRequest(
        operation_types=("inventory.sync",),
        workspace_id="w1",
        environment_id="e1",
        subject_key=None,
        subject=None,
    )
    with executed_statements(engine) as seen:
        found = SqlRunHistory(engine, runs).latest_successes([request], as_of=AS_OF)
    assert found[request].run_id == 39
    text = query_plan(engine, *seen[-1])
    tag = runs.table.removeprefix("operation_runs_")
    # Either success index serves a request without a subject (both lead with its columns).
    assert re.search(f"ix_operation_runs_success_(scope|subject)_{tag}\\b", text), text


@pytest.mark.parametrize(
    ("name", "instants"),
    [
        ("native", Instants.native()),
        ("timestamptz", Instants.timestamptz()),
        ("iso_text", Instants.iso_text()),
        ("iso_text:Europe/Berlin", Instants.iso_text("Europe/Berlin")),
        ("epoch_s", Instants.epoch("s")),
        ("epoch_ms", Instants.epoch("ms")),
        ("epoch_us", Instants.epoch("us")),
        ("naive:UTC", Instants.naive("UTC")),
        ("naive:America/New_York", Instants.naive("America/New_York")),
    ],
)
def test_a_configuration_names_each_storage(name: str, instants: Instants) -> None:
    assert Instants.parse(name) == instants
    assert str(instants) == name


@pytest.mark.parametrize(
    "name", ["", "epoch", "epoch_ns", "naive", "native:UTC", "iso_text:Mars/Base", "ISO_TEXT"]
)
def test_an_unknown_storage_name_is_a_configuration_error(name: str) -> None:
    with pytest.raises(ConfigurationError):
        Instants.parse(name)


@st.composite
def spellings(draw: st.DrawFn) -> str:
    """ISO-ish text: a real or impossible calendar time, spelt in an accepted way or nearly."""
    year = draw(st.integers(0, 9999))
    fields = [draw(st.integers(0, 13)), draw(st.integers(0, 32))]
    fields += [draw(st.integers(0, 24)), draw(st.integers(0, 60)), draw(st.integers(0, 60))]
    month, day, hour, minute, second = fields
    separator = draw(st.sampled_from([" ", "T", "t", "_"]))
    fraction = draw(st.sampled_from(["", ".", ".0", ".5", ".123456", ".1234567", ".000000"]))
    suffix = draw(st.sampled_from(["", "", "", "Z", "+00:00", " "]))
    return (
        f"{year:04d}-{month:02d}-{day:02d}{separator}{hour:02d}:{minute:02d}:{second:02d}"
        f"{fraction}{suffix}"
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_values_read_alike_in_sql_and_python(
    storage_leg: tuple[sa.Engine, str], data: st.DataObject
) -> None:
    engine, storage = storage_leg
    instants = Instants.parse(storage)
    if instants.form == "naive":
        moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23))
        values: list[Any] = data.draw(st.lists(moments, min_size=1, max_size=20))
    elif instants.form == "epoch":
        values = data.draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20))
    else:
        values = data.draw(st.lists(spellings(), min_size=1, max_size=20))
    table = sa.Table(
        "instant_generated_m1",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("v", _stored_type(instants)),
    )
    with engine.begin() as connection:
        table.drop(connection, checkfirst=True)
        table.create(connection)
        connection.execute(table.insert(), [{"id": i, "v": v} for i, v in enumerate(values)])
    typed = sa.table(
        "instant_generated_m1",
        sa.column("id", sa.Integer()),
        sa.column("v", instants.column_type()),
    )
    for index, (python, valid, key) in _read(engine, typed).items():
        assert valid == _aware(python), values[index]
        assert not valid or python == key, values[index]


def _stored_type(instants: Instants) -> Any:
    if instants.form == "epoch":
        return sa.BigInteger()
    return sa.DateTime() if instants.form == "naive" else sa.Text()
