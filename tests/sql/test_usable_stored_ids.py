"""``usable_stored_id``: the SQL test a read of every workspace bounds its rows by, in place of a
list of every tenant, agrees with ``usable_id`` on each stored value."""

from __future__ import annotations

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.ids import PYTHON_BLANKS, usable_stored_id
from runactionability.model import usable_id

TEXTS = [
    "acme",
    "caf\u00e9",
    " padded ",
    "\u200b",
    "",
    "   ",
    "\t\n",
    "\u3000",
    "\u2003\u00a0\u2028",
    "\u3000x\u3000",
]
"""Usable ids and blanks, to SQL's trim or only to ``str.strip()``."""


def test_the_sql_test_of_a_usable_id_is_pythons(sql_engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    table = sa.Table("usable_ids", metadata, sa.Column("n", sa.Integer), sa.Column("w", sa.Text))
    metadata.create_all(sql_engine)
    values: list[str | None] = [*TEXTS, None]
    if sql_engine.dialect.name == "sqlite":
        # PostgreSQL cannot store a NUL; SQLite's length() would stop at it.
        values += ["w\x00", "\x00"]
    with sql_engine.begin() as connection:
        connection.execute(table.insert(), [{"n": n, "w": w} for n, w in enumerate(values)])
        usable = usable_stored_id(table.c.w, "text", sql_engine.dialect.name)
        found = set(connection.execute(sa.select(table.c.n).where(usable)).scalars())
    assert found == {n for n, w in enumerate(values) if usable_id(w) is not None}


def test_the_blanks_are_what_str_strip_removes() -> None:
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == PYTHON_BLANKS
