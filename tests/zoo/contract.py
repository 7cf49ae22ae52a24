"""The port contract suite (``tests/sql/test_contract.py``) over the zoo's hosts.

The contract tests speak in text ids ("w1", "e1", "c1") and integer run ids; a zoo host keeps
integer keys or uuids. ``zoo_loader`` stores a test's history in a host's own tables, every id
turned into the host's id space (as its reflected columns type it), and returns the host's SQL
ports behind ``HostIds``, which turns the ids of each request into the host's and the ids of each
fact and run back, so that the contract's assertions hold unchanged. A history the host's tables
cannot hold skips the test there, saying why.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, cast

import attrs
import pytest
import sqlalchemy as sa
from tests.support import CATALOG, Loader, Ports
from tests.zoo.canon import Host, Seeded, zoo_uuid

from runactionability import (
    LaterSuccessRequest,
    OperationRun,
    RunFact,
    RunHistory,
    RunPage,
    RunQuery,
    RunSource,
    StateFact,
    StateRequest,
    StateSource,
)
from runactionability.adapters.sqlalchemy.ids import IdType
from runactionability.model import RunId, usable_id
from runactionability.ports import JointEvidence


class IdSpace:
    """The ids of one kind (runs, workspaces, environments or subjects): the contract's value and
    the value a host column of ``kind`` stores for it, both ways."""

    def __init__(self, kind: IdType, label: int, dialect: str) -> None:
        # Each space has its own keys (no workspace's key is an environment's or a subject's), so
        # that a host column compared with the wrong one shows.
        self.kind, self.label, self.dialect = kind, label, dialect
        self.stored: dict[str, Any] = {}
        self.given: dict[str, Any] = {}
        self.fresh = itertools.count(label * 1_000_000 + 1)

    def encode(self, value: Any, *, column: bool = False) -> Any:
        """``value`` as the host stores it; in its own ``column`` (not in a JSON context) an id
        that is no id at all may not be storable: the test is skipped there."""
        text = usable_id(value)
        if text is None:
            # SQLite stores True as 1 in an integer column; PostgreSQL refuses every such value.
            refused = isinstance(value, bool) or self.dialect == "postgresql"
            if column and self.kind != "text" and value is not None and refused:
                pytest.skip(f"a {self.dialect} {self.kind} id column cannot hold {value!r}")
            return value  # stored as it is, for the core to judge
        if text not in self.stored:
            number = int(text) if re.fullmatch(r"0|[1-9][0-9]{0,17}", text) else None
            stored: Any = value
            if self.kind == "uuid":
                # A number keeps its order (ties of the contract break by the greater run id).
                name = zoo_uuid(f"{self.label}:{text}")
                stored = name if number is None else str(uuid.UUID(int=self.label << 120 | number))
            elif self.kind == "integer":
                stored = next(self.fresh) if number is None else number
            self.stored[text] = stored
            self.given.setdefault(str(stored), value)
        return self.stored[text]

    def decode(self, value: Any) -> Any:
        return value if value is None else self.given.get(str(value), value)

    def text(self, value: str | None, *, encode: bool = True) -> str | None:
        """A request's or a fact's id (text) into the host's id space, or back."""
        return usable_id(self.encode(value) if encode else self.decode(value))


@attrs.frozen
class HostIds:
    """One host's id spaces; wraps its ports (``ports``) to speak the contract's ids."""

    run: IdSpace
    workspace: IdSpace
    environment: IdSpace
    subject: IdSpace

    def run_view(self, run: OperationRun, *, encode: bool = True) -> OperationRun:
        def way(space: IdSpace, value: Any, column: bool = True) -> Any:
            return space.encode(value, column=column) if encode else space.decode(value)

        context = run.context
        op_type = CATALOG.resolve(run.type) if isinstance(run.type, str) else None
        key = op_type.subject_key if op_type is not None else None
        if key is not None and isinstance(context, Mapping) and key in context:
            subject = way(self.subject, context[key], column=False)
            # A JSON context keeps a text subject as text, whatever the subject columns' type.
            if encode and isinstance(context[key], str) and subject is not None:
                subject = str(subject)
            context = {**context, key: subject}
        return attrs.evolve(
            run,
            id=way(self.run, run.id),
            workspace_id=way(self.workspace, run.workspace_id),
            environment_id=way(self.environment, run.environment_id),
            context=context,
        )

    def scoped(self, value: Any, *, encode: bool = True) -> Any:
        """A request, a run fact or a state fact with its scope ids and subject translated."""
        fields: dict[str, Any] = {
            "workspace_id": self.workspace.text(value.workspace_id, encode=encode),
            "environment_id": self.environment.text(value.environment_id, encode=encode),
            "subject": self.subject.text(value.subject, encode=encode),
        }
        if isinstance(value, RunFact):
            fields["run_id"] = self.run.decode(value.run_id)
        if isinstance(value, LaterSuccessRequest) and value.visible_environment_ids is not None:
            visible = {self.environment.text(one) for one in value.visible_environment_ids}
            fields["visible_environment_ids"] = frozenset(visible)
        return attrs.evolve(value, **fields)

    def ports(self, inner: Ports) -> Ports:
        states: dict[str, StateSource] = {
            kind: _States(self, source) for kind, source in inner.states.items()
        }
        history, runs = _History(self, inner.history), _Runs(self, inner.runs)
        return attrs.evolve(inner, history=history, states=states, runs=runs)


def _asked(ids: HostIds, requests: Iterable[Any]) -> dict[Any, list[Any]]:
    """The host's requests, each with the contract's requests it answers."""
    asked: dict[Any, list[Any]] = defaultdict(list)
    for request in requests:
        asked[ids.scoped(request)].append(request)
    return asked


def _answers(ids: HostIds, asked: dict[Any, list[Any]], found: Mapping[Any, Any]) -> dict[Any, Any]:
    return {mine: ids.scoped(fact, encode=False) for r, fact in found.items() for mine in asked[r]}


@attrs.frozen
class _History:
    ids: HostIds
    inner: RunHistory

    def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> dict[LaterSuccessRequest, RunFact]:
        asked = _asked(self.ids, requests)
        return _answers(self.ids, asked, self.inner.latest_successes(asked, as_of=as_of))

    def latest_successes_with_states(
        self,
        requests: Collection[LaterSuccessRequest],
        states: Mapping[str, tuple[StateSource, Collection[StateRequest]]],
        *,
        as_of: datetime,
    ) -> tuple[dict[LaterSuccessRequest, RunFact], dict[str, dict[StateRequest, StateFact]]]:
        """The host history's joint read (the resolver's path over the host's own ports)."""
        asked = _asked(self.ids, requests)
        kinds = {kind: _asked(self.ids, asking) for kind, (_, asking) in states.items()}
        inner = {
            kind: (source.inner if isinstance(source, _States) else source, kinds[kind])
            for kind, (source, _) in states.items()
        }
        joint = cast(JointEvidence, self.inner)
        found, read = joint.latest_successes_with_states(asked, inner, as_of=as_of)
        facts = {kind: _answers(self.ids, kinds[kind], answers) for kind, answers in read.items()}
        return _answers(self.ids, asked, found), facts


class _States:
    def __init__(self, ids: HostIds, inner: StateSource) -> None:
        self.ids, self.inner, self.kind = ids, inner, inner.kind

    def current_states(self, requests: Collection[StateRequest]) -> dict[StateRequest, StateFact]:
        asked = _asked(self.ids, requests)
        return _answers(self.ids, asked, self.inner.current_states(asked))


@attrs.frozen
class _Runs:
    ids: HostIds
    inner: RunSource

    def list_runs(self, query: RunQuery, *, limit: int = 100, cursor: str | None = None) -> RunPage:
        environments = query.environment_ids
        mine = attrs.evolve(
            query,
            workspace_ids=None
            if query.workspace_ids is None
            else {str(self.ids.workspace.text(one)) for one in query.workspace_ids},
            environment_ids=None
            if environments is None
            else {str(self.ids.environment.text(one)) for one in environments},
        )
        page = self.inner.list_runs(mine, limit=limit, cursor=cursor)
        runs = [self.ids.run_view(run, encode=False) for run in page.runs]
        return RunPage(runs=runs, next_cursor=page.next_cursor)

    def get_run(self, run_id: RunId) -> OperationRun | None:
        found = self.inner.get_run(self.ids.run.encode(run_id))
        return None if found is None else self.ids.run_view(found, encode=False)


def zoo_loader(host: Host, engine: sa.Engine) -> Loader:
    """Load a contract test's runs and facts into ``host``'s tables on ``engine``; returns the
    host's SQL ports, speaking the contract's ids."""

    def load(runs: Iterable[OperationRun], facts: Iterable[StateFact]) -> Ports:
        with engine.begin() as connection:
            host.drop(connection)
            host.create(connection)
        mapped = host.mapped(engine)
        subjects = {mapping.ids.subject for mapping in mapped.states.values()} - {"text"}
        kinds = mapped.runs.ids
        subject = subjects.pop() if len(subjects) == 1 else kinds.subject
        dialect = engine.dialect.name
        ids = HostIds(
            run=IdSpace(kinds.run, 1, dialect),
            workspace=IdSpace(kinds.workspace, 2, dialect),
            environment=IdSpace(kinds.environment, 3, dialect),
            subject=IdSpace(subject, 4, dialect),
        )
        stored = [ids.run_view(one) for one in runs]
        held = [ids.scoped(one) for one in host.holding(facts)]
        with engine.begin() as connection:
            host.write(connection, stored, held)
        return ids.ports(Seeded(host, engine, mapped, stored, held).sql())

    return load
