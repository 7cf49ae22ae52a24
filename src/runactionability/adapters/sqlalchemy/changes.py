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

An arrival reaches the problem runs of its scope (its workspace, for a workspace-owned type) of
the types it can settle (``Reach``): a success, the types it may supersede (the type itself and
those it is ``superseded_by``); a state, the types of the families that declare its kind. The
core fetches no other evidence for any rule, a plugin's own included, so this holds for every
family.

Of those, an arrival reaches only the runs of its subject: a success, the runs whose subject
(their context's value under their type's ``subject_key``, as the core reads it) equals the
success's subject column as the history port compares it (with a JSON-context subject, every
subject is reached); a state, the runs whose subject equals the state's subject column. Each
is compared the way the port's SQL compares it (``id_key`` of the run's subject against a
typed column), so no arrival that a port could return for a run is dropped. A scope-wide
type, and a run whose subject cannot be read (it is ``requires_manual_review`` at both
instants unless it moved itself), stay reached by every arrival of their scope.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import read_transaction
from runactionability.adapters.sqlalchemy.ids import (
    IdType,
    id_key,
    stored_typed_id,
)
from runactionability.adapters.sqlalchemy.instant_sql import (
    compare_to,
    instant_key,
    valid_timestamp,
)
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping
from runactionability.adapters.sqlalchemy.run_statements import (
    addressable,
    bound_ids,
    id_form,
    one_of,
    scope_filters,
    scope_shape,
    scope_values,
)
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.adapters.sqlalchemy.states import SqlStateSource
from runactionability.adapters.sqlalchemy.types import UtcTimestamp, vocabulary_equal, vocabulary_in
from runactionability.catalog import OperationCatalog
from runactionability.changes import Arrival, ChangeCause
from runactionability.model import OperationRun, RunOutcome, RunStatus, usable_id
from runactionability.policies.base import Family
from runactionability.scopes import VisibleScopes


class Reach:
    """Which stored type names a success of each type, or a state of each kind, can settle.

    The core fetches for a rule only its run's own requests (``Evidence``): the latest success
    of the run's type and the types it is ``superseded_by``, and the current state of each kind
    its family declares. So a success reaches the types it may supersede and a state the types
    of the families declaring its kind, whatever their rules, a plugin's own included.
    """

    def __init__(self, catalog: OperationCatalog, families: Mapping[str, Family]) -> None:
        by_success: dict[str, set[str]] = {}
        by_kind: dict[str, set[str]] = {}
        for op_type in catalog:
            family = families.get(op_type.family)
            if family is None:
                continue
            names = catalog.stored_names(op_type.name)
            for kind in family.state_kinds:
                by_kind.setdefault(kind, set()).update(names)
            for success in catalog.superseding_names(op_type.name):
                by_success.setdefault(success, set()).update(names)
        self.catalog = catalog
        self._by_success = {name: frozenset(types) for name, types in by_success.items()}
        self._by_kind = {kind: frozenset(types) for kind, types in by_kind.items()}

    def of_success(self, stored_type: object) -> frozenset[str]:
        """The stored type names a success of ``stored_type`` can supersede."""
        if not isinstance(stored_type, str):
            return frozenset()
        return self._by_success.get(stored_type, frozenset())

    def of_state(self, kind: str) -> frozenset[str]:
        """The stored type names a state of ``kind`` can resolve."""
        return self._by_kind.get(kind, frozenset())


@attrs.frozen
class _Reaching:
    """An arrival, the stored types it can settle, and the subject it is about.

    ``subject`` is the stored subject column's value (``id_type`` its type), or, with
    ``id_type`` None, the success's context, read under each run's own subject key.
    """

    arrival: Arrival
    types: frozenset[str]
    subject: Any
    id_type: IdType | None
    dialect: str

    def is_about(self, subject_key: str, subject: str) -> bool:
        """Whether a port could answer a request for ``subject`` with this arrival."""
        if self.id_type is None:
            # Not compared (yet) when subjects are read from the JSON context: the differential
            # test does not reliably catch a wrong comparison there.
            return True
        # Both sides in the column's stored form (a uuid is read as text, stored as hex on SQLite).
        wanted = id_key(subject, self.id_type, self.dialect)
        return wanted is not None and wanted == id_key(self.subject, self.id_type, self.dialect)


def _subject(run: OperationRun, subject_key: str) -> str | None:
    """The run's subject as the core reads it (None when it cannot be read)."""
    context = run.context
    return usable_id(context.get(subject_key)) if isinstance(context, Mapping) else None


@attrs.frozen
class Candidates:
    """The runs to compare at both instants (as stored, each row once) and what arrived
    meanwhile.

    ``reach`` gives, for each run id, the arrivals that can have moved the runs of that id.
    """

    runs: tuple[OperationRun, ...]
    arrivals: tuple[Arrival, ...]
    reach: Mapping[Any, tuple[Arrival, ...]]


def _placed(value: object) -> datetime | None:
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


class SqlChangeCandidates:
    """Reads the change candidates of one window through a run source and the state sources.

    ``reach`` tells which types each arrival can settle, and a workspace-owned type (whose
    evidence is the whole workspace's).
    """

    def __init__(
        self, runs: SqlRunSource, states: Mapping[str, SqlStateSource], reach: Reach
    ) -> None:
        self.source = runs
        self.states = states
        self.reach = reach
        self.catalog = reach.catalog
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
            arrivals = [a for run, s in window if (a := self._success(run, s, start, until))]
            for kind, source in self.states.items():
                arrivals += self._proven(connection, kind, source, scopes, start, until)
            problems = self._problems(connection, scopes, arrivals) if arrivals else []
        # Each row once, and every row: two rows may share an id (a table without a unique id).
        # A row both reads return is in the window, with each of its identical copies.
        windowed: dict[Any, list[OperationRun]] = {}
        for run, _ in window:
            windowed.setdefault(run.id, []).append(run)
        runs = [run for run, _ in window]
        reach: dict[Any, tuple[Arrival, ...]] = {}
        for run in problems:
            reaching = tuple(a.arrival for a in arrivals if self._reaches(a, run))
            if reaching:
                if run not in windowed.get(run.id, ()):
                    runs.append(run)
                reach[run.id] = reach.get(run.id, ()) + reaching
        return Candidates(
            runs=tuple(runs), arrivals=tuple(a.arrival for a in arrivals), reach=reach
        )

    def reached_by(
        self, scopes: VisibleScopes, successes: Collection[tuple[OperationRun, datetime]]
    ) -> Candidates:
        """The problem runs ``successes`` may have settled, each success arriving at the instant
        given (when another row took its id, so that it stopped being evidence), in one read;
        every subject is reached, as the rows carry no subject column."""
        dialect = self.source.bind.dialect.name
        reaching = [
            _Reaching(Arrival(at, ChangeCause.NEW_RUN, ws, env), types, None, None, dialect)
            for run, at in successes
            if (ws := usable_id(run.workspace_id)) is not None
            and (types := self.reach.of_success(run.type))
            for env in (usable_id(run.environment_id),)
        ]
        runs: list[OperationRun] = []
        reach: dict[Any, tuple[Arrival, ...]] = {}
        if not reaching:
            return Candidates(runs=(), arrivals=(), reach=reach)
        with read_transaction(self.source.bind) as connection:
            problems = self._problems(connection, scopes, reaching)
        for run in problems:
            if hits := tuple(a.arrival for a in reaching if self._reaches(a, run)):
                runs.append(run)
                reach[run.id] = reach.get(run.id, ()) + hits
        return Candidates(runs=tuple(runs), arrivals=(), reach=reach)

    def _scoped(self, scopes: VisibleScopes) -> tuple[list[Any], dict[str, Any]]:
        dialect = self.source.bind.dialect.name
        values = scope_values(scopes.workspace_ids, scopes.environment_ids, self.mapping, dialect)
        filters = scope_filters(self._c, self.mapping, dialect, scope_shape(scopes, dialect))
        return [*filters, addressable(self._c)], values

    def _window_runs(
        self, connection: sa.Connection, scopes: VisibleScopes, start: datetime, until: datetime
    ) -> list[tuple[OperationRun, Any]]:
        """The window's visible runs, each with its subject column's value (None without one)."""
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
        column = self.source._subject is not None
        found = []
        for row in connection.execute(statement, values):
            run = self.source._run(row._mapping)
            if scopes.admits_run(run):
                subject = row._mapping["subject"] if column else None
                found.append((run, stored_typed_id(subject, self.source.mapping.ids.subject)))
        return found

    def _success(
        self, run: OperationRun, column: Any, start: datetime, until: datetime
    ) -> _Reaching | None:
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
        arrival = Arrival(completed, ChangeCause.LATER_SUCCESS, workspace, environment)
        types = self.reach.of_success(run.type)
        if self.source._subject is None:
            # The history port reads the subject from the JSON context, as the core does.
            return _Reaching(arrival, types, run.context, None, self.source.bind.dialect.name)
        id_type = self.mapping.ids.subject
        return _Reaching(arrival, types, column, id_type, self.source.bind.dialect.name)

    def _proven(
        self,
        connection: sa.Connection,
        kind: str,
        source: SqlStateSource,
        scopes: VisibleScopes,
        start: datetime,
        until: datetime,
    ) -> list[_Reaching]:
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
            mapping.subject_of(table).label("subject"),
        ).where(
            valid_timestamp(proven, dialect),
            compare_to(proven, ">=", lower, dialect),
            compare_to(proven, "<=", upper, dialect),
            *mapping.filters(table, dialect),
        )
        arrivals = []
        for ws, env, instant, subject in connection.execute(statement):
            workspace = usable_id(stored_typed_id(ws, mapping.ids.workspace))
            environment = usable_id(stored_typed_id(env, mapping.ids.environment))
            placed = _placed(instant)
            # A state outside the actor's scopes does not exist for this reading.
            if workspace is None or placed is None or not scopes.admits(workspace, environment):
                continue
            arrival = Arrival(placed, ChangeCause.STATE, workspace, environment)
            reached = self.reach.of_state(kind)
            id_type = mapping.ids.subject
            stored = stored_typed_id(subject, id_type)
            arrivals.append(_Reaching(arrival, reached, stored, id_type, dialect))
        return arrivals

    def _problems(
        self,
        connection: sa.Connection,
        scopes: VisibleScopes,
        reaching: Collection[_Reaching],
    ) -> list[OperationRun]:
        arrivals = [reached.arrival for reached in reaching]
        c, mapping, dialect = self._c, self.mapping, connection.dialect.name
        filters, values = self._scoped(scopes)
        ids = mapping.ids
        workspaces = {a.workspace_id for a in arrivals}
        values.update(bound_ids("reached_workspace", workspaces, ids.workspace, dialect))
        form = id_form(workspaces, dialect)
        filters.append(one_of(c["workspace_id"], "reached_workspace", ids.workspace, dialect, form))
        owned = sorted(
            name
            for op_type in self.catalog
            if op_type.workspace_owned
            for name in self.catalog.stored_names(op_type.name)
        )
        environments = {a.environment_id for a in arrivals if a.environment_id is not None}
        values.update(bound_ids("reached_environment", environments, ids.environment, dialect))
        form = id_form(environments, dialect)
        reached_env = one_of(
            c["environment_id"], "reached_environment", ids.environment, dialect, form
        )
        values["owned_types"] = owned
        values["reached_types"] = sorted(set().union(*(reached.types for reached in reaching)))
        filters.append(c["type"].in_(sa.bindparam("reached_types", expanding=True)))
        filters.append(
            sa.or_(
                reached_env,
                c["environment_id"].is_(None),
                c["type"].in_(sa.bindparam("owned_types", expanding=True)),
            )
        )
        # Byte for byte, as the source reads each stored value (a collated column's plain
        # comparison calls 'OK' and 'ok' equal).
        completed = mapping.stored_statuses(RunStatus.COMPLETED)
        filters.append(vocabulary_in(c["status"], completed, dialect))
        successes = sa.or_(
            *(
                sa.and_(
                    vocabulary_equal(c["status"], s, dialect),
                    vocabulary_equal(c["outcome"], o, dialect),
                )
                for s, o in mapping.successes()
            )
        )
        if mapping.lifecycle is None:
            filters.append(sa.or_(c["outcome"].is_(None), sa.not_(successes)))
        else:
            filters.append(sa.not_(successes))
        rows = connection.execute(self._select.where(*filters), values)
        return [run for row in rows if scopes.admits_run(run := self.source._run(row._mapping))]

    def _reaches(self, reaching: _Reaching, run: OperationRun) -> bool:
        arrival = reaching.arrival
        if run.type not in reaching.types or usable_id(run.workspace_id) != arrival.workspace_id:
            return False
        op_type = self.catalog.resolve(run.type)
        owned = op_type is not None and op_type.workspace_owned
        if not owned and usable_id(run.environment_id) != arrival.environment_id:
            return False
        key = None if op_type is None else op_type.subject_key
        subject = None if key is None else _subject(run, key)
        return key is None or subject is None or reaching.is_about(key, subject)
