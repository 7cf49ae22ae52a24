"""A context nested deeper than ``MAX_CONTEXT_DEPTH``, read from SQL, is told as such.

The readers keep such a context as its text (``json_text.read_json_text``, PostgreSQL's text
branch), and the core said "The run's context is a str, not a mapping.": a host looked for a
type error in a column that holds JSON.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, insert_raw, raw_row

from runactionability import ActionabilityService, VisibleScopes
from runactionability.adapters.sqlalchemy import create_schema
from runactionability.limits import MAX_CONTEXT_DEPTH

pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")


@pytest.mark.parametrize("levels", [MAX_CONTEXT_DEPTH + 1, 5_000])
def test_a_context_too_deep_read_from_sql_has_its_own_message(
    sql_engine: sa.Engine, levels: int
) -> None:
    create_schema(sql_engine)
    deep = '{"deep": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"
    insert_raw(sql_engine, [raw_row(sql_engine, 1, context=deep), raw_row(sql_engine, 2)])
    service = ActionabilityService(sql_engine)
    with service.session(scopes=VisibleScopes({"w1"}), as_of=AS_OF) as session:
        told = session.explain(1)
        shallow = session.explain(2)
    assert told is not None
    assert shallow is not None
    assert told.assessment.result.reason == "invalid_context"
    assert str(told.assessment.result.message) == (
        f"The run's context nests arrays and objects deeper than {MAX_CONTEXT_DEPTH} levels."
    )
    assert shallow.assessment.result.reason != "invalid_context"
