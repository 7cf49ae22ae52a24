"""``new_run`` (how the SQL adapters build a run from each row) makes the value the class does.

It fills the slots directly, through the class's own converters and id check; for any field
values, well-formed or not, the run must equal the one ``OperationRun(...)`` makes, field by
field with the same classes, and a bad id must be refused with the same error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runactionability.model import OperationRun, RunOutcome, RunStatus, new_run

FIELDS = [field.name for field in attrs.fields(OperationRun)]
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from([*RunStatus, *RunOutcome, "queued", "completed", "succeeded", "Failed"]),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.lists(st.integers()))),
    st.lists(st.integers(), max_size=3),
)


def _same(built: OperationRun, expected: OperationRun) -> None:
    assert built == expected
    for name in FIELDS:
        assert type(getattr(built, name)) is type(getattr(expected, name)), name


@given(
    run_id=st.one_of(st.integers(), st.text(max_size=8)),
    values=st.fixed_dictionaries(dict.fromkeys(FIELDS[1:], ANY_VALUE)),
)
def test_new_run_equals_the_class_for_any_fields(run_id: Any, values: dict[str, Any]) -> None:
    expected = OperationRun(id=run_id, **values)
    _same(new_run(run_id, *(values[name] for name in FIELDS[1:])), expected)


def test_a_context_is_frozen_as_the_class_freezes_it() -> None:
    context = {"meta": {"tags": ["a"]}, "seen": {1}}
    run = new_run(1, "t", "w1", None, "completed", "failed", datetime.now(UTC), None, None, context)
    assert (
        run.context
        == OperationRun(
            id=1, type="t", workspace_id="w1", status="completed", created_at=None, context=context
        ).context
    )
    with pytest.raises(TypeError):
        run.context["meta"]["tags"].append("b")


@pytest.mark.parametrize("bad", [None, True, 1.5, b"1", ("1",)])
def test_a_bad_id_is_refused_as_the_class_refuses_it(bad: object) -> None:
    with pytest.raises(TypeError) as by_class:
        OperationRun(id=bad, type="t", workspace_id="w1", status="completed", created_at=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError) as by_new_run:
        new_run(bad, "t", "w1", None, "completed", None, None, None, None, {})  # type: ignore[arg-type]
    assert str(by_new_run.value) == str(by_class.value)


@pytest.mark.parametrize("sign", [1, -1])
def test_an_int_id_too_long_to_write_is_refused_as_the_class_refuses_it(sign: int) -> None:
    too_long = sign * 10**4300  # 4,301 digits: no usable id (usable_id)
    with pytest.raises(ValueError, match="4,300 digits") as by_class:
        OperationRun(id=too_long, type="t", workspace_id="w1", status="completed", created_at=None)
    with pytest.raises(ValueError, match="4,300 digits") as by_new_run:
        new_run(too_long, "t", "w1", None, "completed", None, None, None, None, {})
    assert str(by_new_run.value) == str(by_class.value)
    longest = sign * (10**4300 - 1)
    assert new_run(longest, "t", "w1", None, "completed", None, None, None, None, {}).id == longest
