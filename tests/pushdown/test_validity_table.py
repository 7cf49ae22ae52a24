"""The pushdown compiles the core's record check table: every check has SQL or says whose SQL.

A check added to ``checks.RECORD_CHECKS`` without an entry in ``validity.SQL_CHECKS`` or
``validity.WITHOUT_PREDICATE`` fails here, so the SQL cannot silently stop judging a record the
core flags.
"""

from __future__ import annotations

import pytest

from runactionability.adapters.sqlalchemy.pushdown.validity import SQL_CHECKS, WITHOUT_PREDICATE
from runactionability.checks import RECORD_CHECKS

NAMES = [check.name for check in RECORD_CHECKS]


@pytest.mark.parametrize("name", NAMES)
def test_every_record_check_has_a_sql_compilation_or_says_whose(name: str) -> None:
    compiled, covered = name in SQL_CHECKS, name in WITHOUT_PREDICATE
    assert compiled or covered, f"the record check {name!r} has no SQL compilation"
    assert not (compiled and covered), f"the record check {name!r} is compiled and covered"


def test_the_sql_names_only_checks_of_the_table() -> None:
    assert set(SQL_CHECKS) | set(WITHOUT_PREDICATE) <= set(NAMES)


@pytest.mark.parametrize("name", sorted(WITHOUT_PREDICATE))
def test_a_check_without_predicate_names_a_compiled_check_or_the_type_dispatch(name: str) -> None:
    # The reason starts with the check whose SQL decides this one (or the type dispatch), and
    # that check must itself be compiled: a chain of "covered by" would cover nothing.
    why = WITHOUT_PREDICATE[name]
    decider = why.split(":", 1)[0].split(",", 1)[0]
    assert decider in SQL_CHECKS or decider == "the classification's type dispatch", why


@pytest.mark.parametrize("name", sorted(SQL_CHECKS))
def test_every_compiled_check_yields_sql(name: str) -> None:
    sql = SQL_CHECKS[name]
    assert sql.review or sql.escape or sql.per_type, f"{name!r} compiles to nothing"
