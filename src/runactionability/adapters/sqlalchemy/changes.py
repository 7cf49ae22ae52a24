"""``SqlChangeCandidates``: the runs that new evidence in a window can affect, read in a fixed
number of statements.

A run's status at ``until`` can differ from its status at ``since`` only when something it
rests on arrived in between: the run itself was created or completed, a later success completed
in its scope, or a state of its scope was proven. So the candidates are read in three steps,
whatever the history's size: the visible runs created or completed in the window (one
statement, the window's successes among them); the rows of each state kind proven in the window
(one statement per kind); and the problem runs of the scopes those arrivals reach (one
statement). Python keeps, of the last, the runs an arrival can reach; the service compares
every candidate at both instants with the resolver.

A custom family's rules may ask for any type's success and any kind's state of the run's own
scope, so an arrival reaches every problem run of its scope (its workspace, for a
workspace-owned type), whatever the type or subject: the reading stays exact for every family,
at the cost of comparing runs that cannot have changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import read_transaction
from runactionability.adapters.sqlalchemy.ids import stored_id
from runactionability.adapters.sqlalchemy.instant_sql import (
    compare_to,
    instant_key,
    valid_timestamp,
)
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping
from runactionability.adapters.sqlalchemy.run_statements import _one_of, id_values
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.adapters.sqlalchemy.states import SqlStateSource
from runactionability.adapters.sqlalchemy.types import UtcTimestamp
from runactionability.catalog import OperationCatalog
from runactionability.changes import Arrival, ChangeCause
from runactionability.model import OperationRun, RunOutcome, RunStatus, usable_id
from runactionability.scopes import VisibleScopes


@attrs.frozen
class Candidates:
    """The runs to compare at both instants (as stored, each once) and what arrived meanwhile.

    ``reach`` gives, for each run id, the arrivals that can have moved that run.
    """

    runs: tuple[OperationRun, ...]
    arrivals: tuple[Arrival, ...]
    reach: Mapping[Any, tuple[Arrival, ...]]


def _placed(value: object) -> datetime | None:
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


class SqlChangeCandidates:
    """Reads the change candidates of one window through a run source and the state sources.

    ``catalog`` tells a workspace-owned type (whose evidence is the whole workspace's).
    """

    def __init__(
        self,
        runs: SqlRunSource,
        states: Mapping[str, SqlStateSource],
        catalog: OperationCatalog,
    ) -> None:
        self.source = runs
        self.states = states
        self.catalog = catalog
        self.mapping: RunTableMapping = runs.mapping
        # The run source's own columns, so that its listing select reads one table.
        self._c: dict[str, Any] = runs._c
        self._select = runs._select

    def read(
        self, scopes: VisibleScopes, *, since: datetime, until: datetime, start: datetime
    ) -> Candidates:
        """The candidates of evidence that arrived in [``start``, ``until``] (``start`` is
        ``since``, or a page's position), visible to ``scopes``."""
        bind = self.source.bind
        with read_transaction(bind, statements=2 + len(self.states)) as connection:
            window = self._window_runs(connection, scopes, start, until)
            arrivals = [a for run in window if (a := self._success(run, start, until))]
            for source in self.states.values():
                arrivals += self._proven(connection, source, scopes, start, until)
            problems = self._problems(connection, scopes, arrivals) if arrivals else []
        runs: dict[Any, OperationRun] = {run.id: run for run in window}
        reach: dict[Any, tuple[Arrival, ...]] = {}
        for run in problems:
            reaching = tuple(a for a in arrivals if self._reaches(a, run))
            if reaching:
                runs.setdefault(run.id, run)
                reach[run.id] = reaching
        return Candidates(runs=tuple(runs.values()), arrivals=tuple(arrivals), reach=reach)

    def _scoped(self, scopes: VisibleScopes) -> tuple[list[Any], dict[str, Any]]:
        c, mapping, dialect = self._c, self.mapping, self.source.bind.dialect.name
        workspaces = id_values(scopes.workspace_ids, mapping.ids.workspace, dialect)
        values: dict[str, Any] = {"workspace_ids": workspaces, "workspace_texts": workspaces}
        filters = [_one_of(c["workspace_id"], "workspace", mapping.ids.workspace, dialect)]
        if scopes.environment_ids is not None:
            environments = id_values(scopes.environment_ids, mapping.ids.environment, dialect)
            values["environment_ids"] = values["environment_texts"] = environments
            within = _one_of(c["environment_id"], "environment", mapping.ids.environment, dialect)
            if scopes.include_workspace_runs:
                within = sa.or_(within, c["environment_id"].is_(None))
            filters.append(within)
        return filters, values

    def _window_runs(
        self, connection: sa.Connection, scopes: VisibleScopes, start: datetime, until: datetime
    ) -> list[OperationRun]:
        dialect = connection.dialect.name
        filters, values = self._scoped(scopes)
        lower = sa.bindparam("window_start", start, type_=UtcTimestamp())
        upper = sa.bindparam("window_end", until, type_=UtcTimestamp())
        moved = [
            sa.and_(
                valid_timestamp(self._c[name], dialect),
                compare_to(self._c[name], ">=", lower, dialect),
                compare_to(self._c[name], "<=", upper, dialect),
            )
            for name in ("created_at", "completed_at")
        ]
        statement = self._select.where(*filters, sa.or_(*moved))
        rows = connection.execute(statement, values)
        return [run for row in rows if scopes.admits_run(run := self.source._run(row._mapping))]

    def _success(self, run: OperationRun, start: datetime, until: datetime) -> Arrival | None:
        completed = _placed(run.completed_at)
        if (
            run.status is not RunStatus.COMPLETED
            or run.outcome is not RunOutcome.SUCCEEDED
            or completed is None
            or not start <= completed <= until
        ):
            return None
        workspace = usable_id(run.workspace_id)
        if workspace is None:
            return None
        environment = usable_id(run.environment_id)
        return Arrival(completed, ChangeCause.LATER_SUCCESS, workspace, environment)

    def _proven(
        self,
        connection: sa.Connection,
        source: SqlStateSource,
        scopes: VisibleScopes,
        start: datetime,
        until: datetime,
    ) -> list[Arrival]:
        mapping = source.mapping
        dialect = connection.dialect.name
        table = mapping.table_clause()
        proven = table.c[mapping.proven_at]
        lower = sa.bindparam("window_start", start, type_=UtcTimestamp())
        upper = sa.bindparam("window_end", until, type_=UtcTimestamp())
        statement = sa.select(
            table.c[mapping.workspace_id].label("ws"),
            table.c[mapping.environment_id].label("env"),
            instant_key(proven, dialect).label("proven_at"),
        ).where(
            valid_timestamp(proven, dialect),
            compare_to(proven, ">=", lower, dialect),
            compare_to(proven, "<=", upper, dialect),
            *mapping.filters(table, dialect),
        )
        arrivals = []
        for ws, env, instant in connection.execute(statement):
            workspace, environment = usable_id(stored_id(ws)), usable_id(stored_id(env))
            placed = _placed(instant)
            # A state outside the actor's scopes does not exist for this reading.
            if workspace is None or placed is None or not scopes.admits(workspace, environment):
                continue
            arrivals.append(Arrival(placed, ChangeCause.STATE, workspace, environment))
        return arrivals

    def _problems(
        self, connection: sa.Connection, scopes: VisibleScopes, arrivals: Collection[Arrival]
    ) -> list[OperationRun]:
        c, mapping, dialect = self._c, self.mapping, connection.dialect.name
        filters, values = self._scoped(scopes)
        workspaces = id_values({a.workspace_id for a in arrivals}, mapping.ids.workspace, dialect)
        values["reached_workspace_ids"] = values["reached_workspace_texts"] = workspaces
        filters.append(
            _one_of(c["workspace_id"], "reached_workspace", mapping.ids.workspace, dialect)
        )
        owned = sorted(
            name
            for op_type in self.catalog
            if op_type.workspace_owned
            for name in self.catalog.stored_names(op_type.name)
        )
        environments = {a.environment_id for a in arrivals if a.environment_id is not None}
        env_ids = id_values(environments, mapping.ids.environment, dialect)
        values["reached_environment_ids"] = values["reached_environment_texts"] = env_ids
        reached_env = _one_of(
            c["environment_id"], "reached_environment", mapping.ids.environment, dialect
        )
        values["owned_types"] = owned
        filters.append(
            sa.or_(
                reached_env,
                c["environment_id"].is_(None),
                c["type"].in_(sa.bindparam("owned_types", expanding=True)),
            )
        )
        filters.append(c["status"].in_(sorted(mapping.stored_statuses(RunStatus.COMPLETED))))
        successes = sa.or_(
            *(sa.and_(c["status"] == s, c["outcome"] == o) for s, o in mapping.successes())
        )
        if mapping.lifecycle is None:
            filters.append(sa.or_(c["outcome"].is_(None), sa.not_(successes)))
        else:
            filters.append(sa.not_(successes))
        rows = connection.execute(self._select.where(*filters), values)
        return [run for row in rows if scopes.admits_run(run := self.source._run(row._mapping))]

    def _reaches(self, arrival: Arrival, run: OperationRun) -> bool:
        if usable_id(run.workspace_id) != arrival.workspace_id:
            return False
        op_type = self.catalog.resolve(run.type)
        if op_type is not None and op_type.workspace_owned:
            return True
        return usable_id(run.environment_id) in (arrival.environment_id, None) or (
            arrival.environment_id is None
        )
