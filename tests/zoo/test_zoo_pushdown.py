"""The pushdown over every zoo host: the status the database computes for each run, the counts
and the follow-up pages equal the memory adapter's resolver over the same history."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import AS_OF, CATALOG, REGISTRY, STATE_KINDS, T0, at, follow_up_ids
from tests.zoo.canon import (
    ENVIRONMENTS,
    SUBJECTS,
    WORKSPACES,
    Host,
    Seeded,
    canonical_history,
    seed,
)

from runactionability import Actionability, run_as_of
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.testing import strategies as ras


def _expected(seeded: Seeded, as_of: datetime) -> tuple[list[Any], dict[Any, Actionability]]:
    memory = seeded.memory()
    stored = memory.runs.list_runs(seeded.scopes().query(), limit=10_000).runs
    listed = [then for run in stored if (then := run_as_of(run, as_of)) is not None]
    results = memory.resolver().evaluate_many(listed, as_of=as_of)
    return listed, {run.id: result.status for run, result in zip(listed, results, strict=True)}


def _pushdown(seeded: Seeded, form: SupersedeForm) -> SqlPushdown:
    return SqlPushdown(
        seeded.engine,
        runs=seeded.mapped.runs,
        states=seeded.mapped.states,
        registry=REGISTRY,
        catalog=CATALOG,
        form=form,
    )


def _check(seeded: Seeded, pushdown: SqlPushdown, as_of: datetime) -> None:
    listed, expected = _expected(seeded, as_of)
    scopes = seeded.scopes()
    assert pushdown.classify(scopes, as_of=as_of) == expected
    counts = pushdown.count(scopes, as_of=as_of)
    assert dict(counts.counts.by_status) == {
        s: Counter(expected.values())[s] for s in Actionability
    }
    follow_up = [run.id for run in listed if expected[run.id].needs_attention]
    paged = follow_up_ids(pushdown, scopes, as_of, expected, limit=3)
    # As SqlRunSource documents: a run whose created_at is unreadable sorts where the database
    # orders the stored value (memory lists it last); every other run in the same order.
    placed = {run.id for run in listed if _placed(run)}
    assert sorted(paged, key=repr) == sorted(follow_up, key=repr)
    assert [i for i in paged if i in placed] == [i for i in follow_up if i in placed]


def _placed(run: Any) -> bool:
    return isinstance(run.created_at, datetime) and run.created_at.utcoffset() is not None


@pytest.mark.parametrize("form", list(SupersedeForm))
@pytest.mark.parametrize("as_of", [at(35), at(125), AS_OF], ids=lambda value: value.isoformat())
def test_canonical_history_classifies_as_memory(
    zoo: tuple[Host, sa.Engine], form: SupersedeForm, as_of: datetime
) -> None:
    runs, facts = canonical_history()
    seeded = seed(*zoo, runs, facts)
    _check(seeded, _pushdown(seeded, form), as_of)


@settings(
    max_examples=min(settings().max_examples, 25),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_histories_classify_as_memory(
    zoo: tuple[Host, sa.Engine], data: st.DataObject
) -> None:
    runs = data.draw(
        ras.histories(
            max_size=15,
            base=T0,
            workspaces=WORKSPACES,
            environments=ENVIRONMENTS,
            subject_pool=SUBJECTS,
            run_id=st.integers(1, 10**6),
        )
    )
    facts = data.draw(
        st.lists(
            ras.state_facts(
                kinds=STATE_KINDS,
                workspaces=WORKSPACES,
                environments=(*ENVIRONMENTS, None),
                subject_pool=(*SUBJECTS, None),
                statuses=("healthy", "failing", "complete", "published"),
                base=T0,
            ),
            max_size=8,
        )
    )
    as_of = data.draw(ras.instants(base=T0, minutes=26 * 60))
    seeded = seed(*zoo, runs, facts, bad_rows=False)
    _check(seeded, _pushdown(seeded, data.draw(st.sampled_from(SupersedeForm))), as_of)
