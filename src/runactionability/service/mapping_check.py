"""The one check, when a service is built, of its mappings against the tables it reads.

Two parts, at most once per service (at build; in its first session when the runs table or an
async service's connection is not there yet): the tables' declared column types against
the mapping (``warn_mapping_mismatches``), then the newest ``SAMPLE`` runs, read as every answer
reads them and judged by the core's own record checks (``validity``, as ``doctor`` judges its
sample). When most sampled problem runs read as invalid records the mapping, not a
stray row, is what is wrong, and every answer would quietly send those runs to manual review:
the service says so in one ``MappingMismatchWarning``. The same check then reads each state
kind's newest ``SAMPLE`` statuses (``warn_unlisted_states``): a state whose status its mapping
does not list is silently no evidence, so most of a kind's unlisted is one warning too.

A sync service checks in its constructor. An async service's engine cannot be read outside the
event loop, so its check runs on the first connection it opens (``from_config`` opens one while
building, so it checks there).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.declared import warn_mapping_mismatches
from runactionability.adapters.sqlalchemy.doctor.sample import Validity, validity
from runactionability.adapters.sqlalchemy.doctor.states import (
    mostly_unlisted,
    newest_statuses,
    unlisted_statuses,
)
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping, StateTableMapping
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.catalog import OperationCatalog
from runactionability.core import Core
from runactionability.errors import MappingMismatchWarning
from runactionability.model import usable_id
from runactionability.registry import Registry

SAMPLE = 200
"""How many of the newest runs a service judges once, when it is built."""
MINIMUM_INVALID = 3
"""Fewer invalid sampled runs than this are stray rows (each already flagged with its own
reason), not a mapping that misreads the table."""


class MappingCheck:
    """Issues a service's ``MappingMismatchWarning`` (if any) the first time it is run."""

    def __init__(
        self,
        runs: RunTableMapping,
        states: Mapping[str, StateTableMapping],
        *,
        registry: Registry,
        catalog: OperationCatalog,
    ) -> None:
        self._runs = runs
        self._states = dict(states)
        self._registry = registry
        self._catalog = catalog
        self._lock = threading.Lock()
        self.pending = True

    def run(
        self, bind: sa.Engine | sa.Connection, *, stacklevel: int = 2, deferrable: bool = False
    ) -> None:
        """Check through ``bind`` unless already checked (an async engine's sync facade is
        skipped: it is read through a connection of the event loop instead).

        ``deferrable``: a database that cannot be reached leaves the check to the first
        session, so a service built before its database is up (at a host's start-up) is not
        refused for it; the session then checks through its own connection.
        """
        if not self.pending or (isinstance(bind, sa.Engine) and bind.dialect.is_async):
            return
        # Never waited for: async sessions run this on the event loop's thread, where a task
        # waiting for the lock would block the task holding it (which awaits the database).
        # A request that finds the check under way goes on; the first one warns.
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self.pending:
                try:
                    with _as_found(bind) as connection:
                        self._check(connection, stacklevel=stacklevel + 1)
                except sa.exc.OperationalError:
                    if deferrable:
                        return
                    raise
        finally:
            self._lock.release()

    def _check(self, bind: sa.Engine | sa.Connection, *, stacklevel: int) -> None:
        runs = self._runs
        found = warn_mapping_mismatches(bind, runs, self._states, stacklevel=stacklevel + 1)
        # A service built before the host's migrations ran has nothing to check yet: until the
        # runs table exists, each session checks again (a missing state table alone does not
        # keep it pending: its kind may never be asked, and every request would pay for the
        # reflection).
        self.pending = not sa.inspect(bind).has_table(runs.table, schema=runs.schema)
        # Misread column types were just named; the sample would only repeat them.
        if not self.pending and not found:
            core = Core(catalog=self._catalog, families=self._registry.families())
            warn_invalid_sample(bind, runs, core, stacklevel=stacklevel + 1)
        if not self.pending:
            warn_unlisted_states(bind, self._states, stacklevel=stacklevel + 1)


def warn_invalid_sample(
    bind: sa.Engine | sa.Connection, runs: RunTableMapping, core: Core, *, stacklevel: int = 2
) -> None:
    """One ``MappingMismatchWarning`` when most of the newest ``SAMPLE`` runs' problem runs
    (failed, blocked, partially succeeded, cancelled, or unreadable) read as invalid records.

    Problem runs, not all runs: a success is informational whatever its timestamps read as
    (rule 2), so a table of mostly successes would hide a mapping that misreads every failure.
    A statement that fails, or a row it cannot read, is left to the requests. The warning
    names no run: on an async service it may be issued inside an actor's first session.
    """
    savepoint = _savepoint(bind)
    try:
        source = SqlRunSource(bind, runs, catalog=core.catalog)
        # The newest runs the mapping can date: a legacy row whose created_at is unreadable
        # text the database sorts above every date ('legacy' > '2026-...') is no recent
        # history, and only counted. A table with no readable created_at at all is sampled
        # as stored, so that a mapping misreading every timestamp is still told.
        readable = source.newest(SAMPLE, readable=True)
        sampled = readable or source.newest(SAMPLE)
        # A host table without a key may repeat an id; the core judges each run once. A run in
        # no workspace is in no actor's answers (the unattributed count names it): left out.
        attributed = [run for run in sampled if usable_id(run.workspace_id) is not None]
        unique = list({run.id: run for run in reversed(attributed)}.values())[::-1]
        judged = validity(unique, core, as_of=datetime.now(UTC))
        invalid, problems = judged.invalid, judged.problems
        warned = 2 * invalid > problems and invalid >= MINIMUM_INVALID
        undated = source.count_undated() if warned and readable else 0
        # A dated sample that reads fine may still be a few rows beside many the mapping
        # misreads (one row written without the offset the others carry): judged apart.
        misdated = source.count_misdated(SAMPLE) if readable and not warned else (0, 0)
    except Exception:
        # A diagnostic never takes the service down: a row it cannot read, or a statement
        # that fails, is the requests' to meet and report as they always have.
        if savepoint is not None:
            savepoint.rollback()
        return
    if savepoint is not None:
        savepoint.commit()
    if warned:
        warnings.warn(
            MappingMismatchWarning(_told(runs.table, judged, len(unique), undated)),
            stacklevel=stacklevel + 1,
        )
    elif misdated[0] >= MINIMUM_INVALID and 2 * misdated[0] > misdated[1]:
        warnings.warn(
            MappingMismatchWarning(_misdated(runs.table, *misdated)), stacklevel=stacklevel + 1
        )


def _misdated(table: str, misdated: int, looked: int) -> str:
    return (
        f"{table}: {misdated} of the newest {looked} runs as stored hold a created_at that "
        "looks like a date but that the mapping cannot read as an instant, so every answer "
        "shows them as requires_manual_review and never as evidence: the mapping's "
        "timestamps likely misread the table; run `runactionability doctor` for every "
        "finding and its fix"
    )


def _told(table: str, judged: Validity, sampled: int, undated: int) -> str:
    """The warning's text; ``undated``: the runs a sample of datable runs left out."""
    invalid, problems = judged.invalid, judged.problems
    besides = (
        f" (besides {undated} runs whose created_at cannot be read as an instant, left out "
        "of the sample)"
        if undated
        else ""
    )
    return (
        f"{table}: {invalid} of the {problems} problem runs among the newest {sampled} "
        f"({100 * invalid // problems}%) read as invalid records{besides}, so every answer "
        f"shows them as requires_manual_review and never as evidence: "
        f"{judged.told(example=False)}; a mapping that misreads the table is the likely "
        f"cause ({judged.fix(example=False)}): run `runactionability doctor` for every "
        "finding and its fix"
    )


def warn_unlisted_states(
    bind: sa.Engine | sa.Connection,
    states: Mapping[str, StateTableMapping],
    *,
    stacklevel: int = 2,
) -> None:
    """One ``MappingMismatchWarning`` naming each state kind whose ``statuses`` miss most of
    its newest ``SAMPLE`` states' stored statuses (``mostly_unlisted``, as ``doctor`` judges).

    Such a state proves nothing: no answer flags it, a run it would resolve just reads
    actionable. One bounded statement per mapped kind; a kind whose statement fails (its table
    not there yet) is left to ``doctor``. Like the runs' warning it names no row nor value.
    """
    told = []
    for kind, mapping in states.items():
        statuses = _newest_statuses(bind, mapping)
        read = sum(1 for value, _ in statuses if value is not None)
        unlisted = len(unlisted_statuses(mapping, statuses))
        if unlisted and mostly_unlisted(unlisted, read):
            told.append(
                f"{mapping.table}.{mapping.status}: {unlisted} of the newest {read} {kind} "
                "states hold a status the mapping's statuses do not list"
            )
    if told:
        warnings.warn(
            MappingMismatchWarning(
                f"{'; '.join(told)}; such a state proves nothing, so no run is resolved by it "
                "(every such run reads as if its state were unknown): the statuses likely miss "
                "the host's words; run `runactionability doctor` for each value and its fix"
            ),
            stacklevel=stacklevel + 1,
        )


def _newest_statuses(
    bind: sa.Engine | sa.Connection, mapping: StateTableMapping
) -> list[tuple[object, int]]:
    """The kind's newest statuses (``newest_statuses``); none when the statement fails."""
    if mapping.statuses is None:
        return []
    if isinstance(bind, sa.Engine):
        try:
            with bind.connect() as connection:
                return newest_statuses(connection, mapping, SAMPLE)
        except sa.exc.SQLAlchemyError:
            return []
    savepoint = _savepoint(bind)
    try:
        found = newest_statuses(bind, mapping, SAMPLE)
    except sa.exc.SQLAlchemyError:
        if savepoint is not None:
            savepoint.rollback()
        return []
    if savepoint is not None:
        savepoint.commit()
    return found


@contextmanager
def _as_found(bind: sa.Engine | sa.Connection) -> Iterator[sa.Engine | sa.Connection]:
    """``bind``, inside a transaction of the check's own when it is a host's idle Connection:
    read as is, SQLAlchemy would autobegin one and leave it open, so the host's ``begin()``
    would fail and its snapshots read at READ COMMITTED."""
    if isinstance(bind, sa.Connection) and not bind.in_transaction():
        with bind.begin():
            yield bind
    else:
        yield bind


def _savepoint(bind: sa.Engine | sa.Connection) -> sa.NestedTransaction | None:
    """A savepoint to roll a failing statement back to, where one is needed: a PostgreSQL
    connection in a transaction (a session's snapshot) would refuse every later statement."""
    if (
        isinstance(bind, sa.Connection)
        and bind.dialect.name == "postgresql"
        and bind.in_transaction()
    ):
        return bind.begin_nested()
    return None
