"""The one check, when a service is built, of its mappings against the tables it reads.

First, psycopg must be able to read PostgreSQL's timestamps (``refuse_unreadable_datestyle``)
and every mapped table must exist (``refuse_missing_tables``): each a ``ConfigurationError``,
since every request would fail on it. A state mapping whose subject no request of its kind can
match is a ``MappingMismatchWarning`` (``subjects.warn_unmatchable_subjects``). Then two parts,
at most once per service (at build; in its first session when the database cannot be reached
then, or for an async service): the tables' declared column types against the mapping
(``warn_mapping_mismatches``), then the newest ``SAMPLE`` runs, read as every answer reads them
and judged by the core's own record checks (``validity``, as ``doctor`` judges its sample). When
most sampled problem runs read as invalid records the mapping, not a stray row, is what is
wrong, and every answer would quietly send those runs to manual review: the service says so in
one ``MappingMismatchWarning``. A sampled status or outcome value the vocabulary does not list
is said at any count, in the same warning or its own: it is no stray row but the host's word
(``running``), which reads invalid for every run that will ever hold it, and active runs are too
few of a sample for a share. The same check then reads each state kind's newest ``SAMPLE``
statuses (``warn_unlisted_states``) and proof times (``warn_implausible_proofs``): a state whose
status its mapping does not list, or proven before any run (1970), is silently no evidence, so
most of a kind's is one warning.

A sync service checks in its constructor. An async service's engine cannot be read outside the
event loop, so its check runs on the first connection it opens (``from_config`` opens one while
building, so it checks there).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import as_found
from runactionability.adapters.sqlalchemy.declared import warn_mapping_mismatches
from runactionability.adapters.sqlalchemy.doctor.sample import (
    Validity,
    looks_like_epoch,
    plausible,
    unlisted_words,
    validity,
)
from runactionability.adapters.sqlalchemy.doctor.states import (
    mostly_unlisted,
    newest_proof_times,
    newest_statuses,
    unlisted_statuses,
)
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping, StateTableMapping
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.adapters.sqlalchemy.subjects import warn_unmatchable_subjects
from runactionability.catalog import OperationCatalog
from runactionability.core import Core
from runactionability.errors import ConfigurationError, MappingMismatchWarning
from runactionability.model import usable_id
from runactionability.policies.subjects import asked_subjects
from runactionability.registry import Registry

T = TypeVar("T")

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
                    with as_found(bind) as connection:
                        self._check(connection, stacklevel=stacklevel + 1)
                except sa.exc.OperationalError:
                    if deferrable:
                        return
                    raise
        finally:
            self._lock.release()

    def _check(self, bind: sa.Engine | sa.Connection, *, stacklevel: int) -> None:
        runs = self._runs
        refuse_unreadable_datestyle(bind)
        refuse_missing_tables(bind, runs, self._states)
        families = self._registry.families()
        asked = asked_subjects(self._catalog, families)
        warn_unmatchable_subjects(bind, self._states, asked, stacklevel=stacklevel + 1)
        found = warn_mapping_mismatches(bind, runs, self._states, stacklevel=stacklevel + 1)
        self.pending = False
        # Misread column types were just named; the sample would only repeat them.
        if not found:
            core = Core(catalog=self._catalog, families=families)
            warn_invalid_sample(bind, runs, core, stacklevel=stacklevel + 1)
        warn_unlisted_states(bind, self._states, stacklevel=stacklevel + 1)
        warn_implausible_proofs(bind, self._states, stacklevel=stacklevel + 1)


def refuse_unreadable_datestyle(bind: sa.Engine | sa.Connection) -> None:
    """Raise ``ConfigurationError`` when psycopg would fail to read every timestamp.

    psycopg reads timestamps only in PostgreSQL's ISO output: under another ``DateStyle`` (a
    host database's ``ALTER DATABASE ... SET DateStyle = 'SQL, DMY'``) every request failed with
    its raw ``NotImplementedError``. One ``SHOW`` at build, never one per request; a session
    that changes it later is the host's own doing.
    """
    # psycopg's async engine reads through the same dialect driver name.
    if bind.dialect.name != "postgresql" or bind.dialect.driver != "psycopg":
        return
    if isinstance(bind, sa.Engine):
        with bind.connect() as connection:
            style = connection.exec_driver_sql("SHOW DateStyle").scalar()
    else:
        style = bind.exec_driver_sql("SHOW DateStyle").scalar()
    if isinstance(style, str) and not style.upper().startswith("ISO"):
        raise ConfigurationError(
            f"the PostgreSQL session's DateStyle is {style!r}, whose timestamps psycopg cannot "
            "read, so every request would fail: set DateStyle to ISO for the library's "
            "connections (ALTER ROLE ... SET DateStyle = 'ISO', or options=-cDateStyle%3DISO "
            "in the database URL)"
        )


def refuse_missing_tables(
    bind: sa.Engine | sa.Connection,
    runs: RunTableMapping,
    states: Mapping[str, StateTableMapping],
) -> None:
    """Raise ``ConfigurationError`` naming each mapped table the database does not have.

    Every request would fail on it (``no such table``, raw for the runs, an
    ``EvidenceFetchError`` for a state kind the pushdown reads on every page), so the service
    is refused where a configuration file's is: when it is built, or, when its database could
    not be reached then, at its first session. A view counts as a table.
    """
    inspector = sa.inspect(bind)
    named = [("the runs mapping", runs.table, runs.schema)] + [
        (f"the {kind} state mapping", mapping.table, mapping.schema)
        for kind, mapping in sorted(states.items())
    ]
    missing = [
        f"{table if schema is None else f'{schema}.{table}'!r} ({owner})"
        for owner, table, schema in named
        if not inspector.has_table(table, schema=schema)
    ]
    if missing:
        raise ConfigurationError(
            f"the database has no table {', '.join(missing)}: every request would fail on it; "
            "name the host's own tables in the mappings (and their schema, if not the "
            "default), or leave a state kind the database has no table for out of states"
        )


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
        unlisted = [word.told(runs.table, len(unique)) for word in unlisted_words(unique, runs)]
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
            MappingMismatchWarning(_told(runs.table, judged, len(unique), undated, unlisted)),
            stacklevel=stacklevel + 1,
        )
    elif unlisted:
        warnings.warn(MappingMismatchWarning(_unlisted(unlisted)), stacklevel=stacklevel + 1)
    if not warned and misdated[0] >= MINIMUM_INVALID and 2 * misdated[0] > misdated[1]:
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


def _unlisted(unlisted: list[str]) -> str:
    return (
        f"{'; '.join(unlisted)}; every answer shows such a run as requires_manual_review "
        "(invalid_status, invalid_outcome) and never as evidence, and so every later run that "
        "holds one: add each value to the mapping's vocabulary with the meaning it has; run "
        "`runactionability doctor` for every finding and its fix"
    )


def _told(table: str, judged: Validity, sampled: int, undated: int, unlisted: list[str]) -> str:
    """The warning's text; ``undated``: the runs a sample of datable runs left out;
    ``unlisted``: the sampled vocabulary values the mapping does not list, told in it."""
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
        f"cause ({judged.fix(example=False)}){''.join(f'; {told}' for told in unlisted)}: "
        "run `runactionability doctor` for every "
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
    actionable. One bounded statement per mapped kind; a kind whose statement fails (a column
    the mapping misnames) is left to ``doctor``. Like the runs' warning it names no row nor value.
    """
    told = []
    for kind, mapping in states.items():
        statuses: list[tuple[object, int]] = []
        if mapping.statuses is not None:
            statuses = _sampled(bind, partial(newest_statuses, mapping=mapping, sample=SAMPLE))
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


def warn_implausible_proofs(
    bind: sa.Engine | sa.Connection,
    states: Mapping[str, StateTableMapping],
    *,
    stacklevel: int = 2,
) -> None:
    """One ``MappingMismatchWarning`` naming each state kind most of whose newest ``SAMPLE``
    proof times read as instants no history holds (``plausible``, as ``doctor`` judges them).

    Epoch seconds mapped as milliseconds read as January 1970: older than every run, so no state
    ever resolves one and each such run silently reads actionable. One bounded statement per
    kind; one that fails is left to ``doctor``. Like the runs' warning it names no row nor value.
    """
    now = datetime.now(UTC)
    told = []
    for kind, mapping in states.items():
        read = _sampled(bind, partial(newest_proof_times, mapping=mapping, sample=SAMPLE))
        instants = [value for value in read if isinstance(value, datetime)]
        strange = [value for value in instants if not plausible(value, now)]
        if 2 * len(strange) > len(instants):
            told.append(
                f"{mapping.table}.{mapping.proven_at}: {len(strange)} of the newest "
                f"{len(instants)} {kind} states' proof times read under timestamps="
                f"{str(mapping.timestamps)!r} as instants no history holds"
                f"{_looks_like(strange[0], mapping, bind.dialect.name)}"
            )
    if told:
        warnings.warn(
            MappingMismatchWarning(
                f"{'; '.join(told)}; such a state resolves no run (every such run reads as if "
                "its state were unknown): the timestamps likely misread the table; run "
                "`runactionability doctor` for each column and its fix"
            ),
            stacklevel=stacklevel + 1,
        )


def _looks_like(instant: datetime, mapping: StateTableMapping, dialect: str) -> str:
    """The epoch unit integers read as ``instant`` look like, as ``doctor``'s fix names it."""
    unit = looks_like_epoch(instant, mapping.timestamps, dialect)
    return "" if unit is None else f" (the integers look like epoch {unit})"


def _sampled(bind: sa.Engine | sa.Connection, read: Callable[[sa.Connection], list[T]]) -> list[T]:
    """What ``read`` returns through ``bind``; nothing when its statement fails."""
    if isinstance(bind, sa.Engine):
        try:
            with bind.connect() as connection:
                return read(connection)
        except sa.exc.SQLAlchemyError:
            return []
    savepoint = _savepoint(bind)
    try:
        found = read(bind)
    except sa.exc.SQLAlchemyError:
        if savepoint is not None:
            savepoint.rollback()
        return []
    if savepoint is not None:
        savepoint.commit()
    return found


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
