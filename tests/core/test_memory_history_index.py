"""The memory history's lazy index answers exactly as a scan of every run would.

``MemoryRunHistory`` indexes the successes of a stored type only when a request names it, and
builds a ``RunFact`` only for a run that answers. The reference below restates the port's rule
from scratch (a clean success of an asked type, in the request's scope and subject, completed by
``as_of``, visible to the actor; the latest by event start, completion, then id) and scans every
run for every request; for random histories, bad rows included, the two must agree, also after
runs are added to a history whose index was already built.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support import T0

from runactionability.adapters import memory, memory_index
from runactionability.adapters.memory import MemoryRunHistory
from runactionability.evidence import LaterSuccessRequest, RunFact
from runactionability.model import OperationRun, RunOutcome, RunStatus, usable_id

TYPES = ("sync", "sync", "sync_alias", "backup", 7)
# Mostly clean successes in a few scopes, so requests find runs; now and then a bad field.
IDS = st.sampled_from(["w1", "w1", "w2", "w2", " ", 1, True, None])
ENVIRONMENTS = st.sampled_from(["e1", "e1", "e2", "", 2, None, None])
SUBJECTS = st.sampled_from(["s1", "s1", "s2", 1, "1", " ", None])
BAD_INSTANTS = st.sampled_from([None, (T0 + timedelta(days=2)).replace(tzinfo=None), "2026-11-12"])


@st.composite
def histories(draw: st.DrawFn) -> list[OperationRun]:
    size = draw(st.integers(0, 30))
    runs = []
    for run_id in range(size):
        context: Any = draw(
            st.one_of(
                st.fixed_dictionaries({}, optional={"key": SUBJECTS, "other": SUBJECTS}),
                st.just(["not", "a", "mapping"]),
            )
            if draw(st.integers(0, 9)) == 0
            else st.fixed_dictionaries({"key": SUBJECTS}, optional={"other": SUBJECTS})
        )
        created = T0 + timedelta(days=draw(st.integers(0, 10)))
        started = draw(st.sampled_from([None, created, created + timedelta(days=1)]))
        completed = created + timedelta(days=draw(st.integers(-1, 4)))
        times: list[Any] = [created, started, completed]
        if draw(st.integers(0, 5)) == 0:
            times[draw(st.integers(0, 2))] = draw(BAD_INSTANTS)
        runs.append(
            OperationRun(
                id=run_id if draw(st.booleans()) else f"r{run_id}",
                type=draw(st.sampled_from(TYPES)),  # type: ignore[arg-type]
                workspace_id=draw(IDS),
                environment_id=draw(ENVIRONMENTS),
                status=draw(st.sampled_from([*RunStatus, RunStatus.COMPLETED, "completed"])),
                outcome=draw(st.sampled_from([RunOutcome.SUCCEEDED] * 4 + [None, "succeeded"])),
                created_at=times[0],
                started_at=times[1],
                completed_at=times[2],
                context=context,
            )
        )
    return runs


REQUESTS = st.builds(
    LaterSuccessRequest,
    operation_types=st.lists(
        st.sampled_from(["sync", "sync_alias", "backup", "none"]), min_size=1
    ).map(lambda names: tuple(sorted(set(names)))),
    workspace_id=st.sampled_from(["w1", "w2", "1"]),
    environment_id=st.sampled_from(["e1", "e2", "2", None]),
    subject_key=st.sampled_from(["key", "key", "other", None]),
    subject=st.sampled_from(["s1", "s2", "1", None]),
    visible_environment_ids=st.sampled_from([None, None, frozenset(), frozenset({"e1"})]),
    visible_workspace_runs=st.booleans(),
)


def _aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def _reference(
    runs: list[OperationRun], request: LaterSuccessRequest, as_of: datetime
) -> RunFact | None:
    """The latest success answering ``request``, by a scan of every run."""
    subject_key = request.subject_key if request.subject is not None else None
    found: list[tuple[tuple[Any, ...], RunFact]] = []
    for run in runs:
        created, started, completed = run.created_at, run.started_at, run.completed_at
        if run.type not in request.operation_types or not isinstance(run.type, str):
            continue
        if run.status is not RunStatus.COMPLETED or run.outcome is not RunOutcome.SUCCEEDED:
            continue
        if not (_aware(created) and _aware(completed)) or not (started is None or _aware(started)):
            continue
        assert completed is not None
        start = created if started is None else started
        if completed < created or completed < start or completed > as_of:
            continue
        workspace, environment = usable_id(run.workspace_id), usable_id(run.environment_id)
        subject = None
        if subject_key is not None:
            if not isinstance(run.context, Mapping):
                continue
            subject = usable_id(run.context.get(subject_key))
            if subject is None:
                continue
        if workspace is None or workspace != request.workspace_id or subject != request.subject:
            continue
        if request.environment_id is not None and environment != request.environment_id:
            continue
        if not request.admits_environment(environment):
            continue
        order = (start, completed, (isinstance(run.id, str), run.id))
        fact = RunFact(
            run_id=run.id,
            operation_type=run.type,
            workspace_id=workspace,
            environment_id=environment,
            subject=subject,
            started_at=start,
            completed_at=completed,
            created_at=created,
        )
        found.append((order, fact))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def _answers(
    runs: list[OperationRun], requests: list[LaterSuccessRequest], as_of: datetime
) -> dict[LaterSuccessRequest, RunFact]:
    expected = {request: _reference(runs, request, as_of) for request in requests}
    return {request: fact for request, fact in expected.items() if fact is not None}


def _requests_for(data: st.DataObject, runs: list[OperationRun]) -> list[LaterSuccessRequest]:
    """Random requests, and requests aimed at the scopes and subjects of some stored runs."""
    requests = data.draw(st.lists(REQUESTS, max_size=4))
    for run in data.draw(st.lists(st.sampled_from(runs), max_size=6)) if runs else ():
        workspace = usable_id(run.workspace_id)
        context = run.context if isinstance(run.context, Mapping) else {}
        subject = usable_id(context.get("key"))
        if workspace is None:
            continue
        requests.append(
            data.draw(
                st.builds(
                    LaterSuccessRequest,
                    operation_types=st.sampled_from([("sync", "sync_alias"), ("backup",)]),
                    workspace_id=st.just(workspace),
                    environment_id=st.sampled_from([usable_id(run.environment_id), None]),
                    subject_key=st.just("key"),
                    subject=st.sampled_from([subject, None]),
                    visible_environment_ids=st.sampled_from([None, frozenset({"e1"})]),
                )
            )
        )
    return requests


@given(runs=histories(), later=histories(), data=st.data())
def test_the_lazy_index_answers_as_a_scan_of_every_run(
    runs: list[OperationRun], later: list[OperationRun], data: st.DataObject
) -> None:
    requests = _requests_for(data, runs)
    history = MemoryRunHistory(runs)
    for days in (data.draw(st.integers(0, 15)), 30):
        as_of = T0 + timedelta(days=days)
        assert history.latest_successes(requests, as_of=as_of) == _answers(runs, requests, as_of)
    # The first batch filed only the keys it asked for; a batch asking for others finds them.
    requests += _requests_for(data, runs)
    as_of = T0 + timedelta(days=30)
    assert history.latest_successes(requests, as_of=as_of) == _answers(runs, requests, as_of)
    # Runs added after the index was built are found (each type's index is rebuilt).
    added = [
        OperationRun(**{**_fields(run), "id": f"later-{index}"}) for index, run in enumerate(later)
    ]
    for run in added:
        history.add(run)
    everything = runs + added
    requests += _requests_for(data, added)
    as_of = T0 + timedelta(days=30)
    assert history.latest_successes(requests, as_of=as_of) == _answers(everything, requests, as_of)


def _fields(run: OperationRun) -> dict[str, Any]:
    return {
        name: getattr(run, name)
        for name in (
            "type",
            "workspace_id",
            "environment_id",
            "status",
            "outcome",
            "created_at",
            "started_at",
            "completed_at",
            "context",
        )
    }


def test_the_first_pass_judges_only_the_successes_a_batch_may_find(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 40 clean successes of one type over 20 subjects; a batch asking for subject 3 judges the
    # two filed under it, not all 40 (a plain success under another key is passed over).
    runs = [
        OperationRun(
            id=index,
            type="sync",
            workspace_id="w1",
            environment_id="e1",
            status=RunStatus.COMPLETED,
            outcome=RunOutcome.SUCCEEDED,
            created_at=T0,
            started_at=None,
            completed_at=T0 + timedelta(minutes=index + 1),
            context={"key": index % 20 if index < 20 else str(index % 20)},
        )
        for index in range(40)
    ]
    judged: list[int] = []
    judge = memory_index.success_key

    def counting(run: OperationRun, subject_key: str | None) -> Any:
        judged.append(int(run.id))
        return judge(run, subject_key)

    monkeypatch.setattr(memory, "success_key", counting)
    history = MemoryRunHistory(runs)
    request = LaterSuccessRequest(
        operation_types=("sync",),
        workspace_id="w1",
        environment_id="e1",
        subject_key="key",
        subject="3",
    )
    answers = history.latest_successes([request], as_of=T0 + timedelta(days=1))
    assert sorted(judged) == [3, 23]
    assert answers[request].run_id == 23
