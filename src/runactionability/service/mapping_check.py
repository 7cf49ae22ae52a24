"""The one check, when a service is built, of its mappings against the tables' column types.

A sync service checks in its constructor. An async service's engine cannot be read outside the
event loop, so its check runs on the first connection it opens (``from_config`` opens one while
building, so it checks there); either way it runs once per service, never per request.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.declared import warn_mapping_mismatches
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping, StateTableMapping


class MappingCheck:
    """Issues a service's ``MappingMismatchWarning`` (if any) the first time it is run."""

    def __init__(self, runs: RunTableMapping, states: Mapping[str, StateTableMapping]) -> None:
        self._runs = runs
        self._states = dict(states)
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
                    warn_mapping_mismatches(
                        bind, self._runs, self._states, stacklevel=stacklevel + 1
                    )
                except sa.exc.OperationalError:
                    if deferrable:
                        return
                    raise
                # A service built before the host's migrations ran has nothing to check yet:
                # until the runs table exists, each session checks again (a missing state table
                # alone does not keep it pending: its kind may never be asked, and every
                # request would pay for the reflection).
                self.pending = not sa.inspect(bind).has_table(
                    self._runs.table, schema=self._runs.schema
                )
        finally:
            self._lock.release()
