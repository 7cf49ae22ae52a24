"""``open_backend``: every SQL port over one database, wired the way the CLI and the demo use it."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import Bind
from runactionability.adapters.sqlalchemy.history import SqlRunHistory
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.adapters.sqlalchemy.states import SqlStateSource
from runactionability.catalog import OperationCatalog


@attrs.frozen(kw_only=True)
class SqlBackend:
    """The history, the state sources by kind, and the run source over one database.

    ``engine`` is set only when ``open_backend`` created it from a URL; ``close`` (or leaving a
    ``with`` block) disposes that engine and nothing else.
    """

    history: SqlRunHistory
    states: dict[str, SqlStateSource]
    runs: SqlRunSource
    engine: sa.Engine | None = None

    def close(self) -> None:
        """Dispose the engine this backend created, if any."""
        if self.engine is not None:
            self.engine.dispose()

    def __enter__(self) -> SqlBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_backend(
    bind_or_url: Bind | str,
    *,
    runs: RunTableMapping = REFERENCE_RUNS,
    states: Mapping[str, StateTableMapping] | None = None,
    catalog: OperationCatalog | None = None,
) -> SqlBackend:
    """The SQL ports over ``bind_or_url`` (an ``Engine``, a ``Connection`` or a database URL).

    The reference schema's mappings are used unless ``runs``/``states`` name the host's tables.
    To read one resolver batch in one snapshot, pass a ``Connection`` inside a transaction
    (``REPEATABLE READ`` on PostgreSQL): every port then reads through it.
    """
    engine: sa.Engine | None = None
    bind: Bind
    if isinstance(bind_or_url, str):
        engine = bind = sa.create_engine(bind_or_url)
    else:
        bind = bind_or_url
    state_mappings = reference_state_mappings() if states is None else dict(states)
    return SqlBackend(
        history=SqlRunHistory(bind, runs),
        states={kind: SqlStateSource(bind, mapping) for kind, mapping in state_mappings.items()},
        runs=SqlRunSource(bind, runs, catalog=catalog),
        engine=engine,
    )
