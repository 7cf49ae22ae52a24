"""Loading the demo history into a database, and recognizing a demo database later.

A small marker table records the seed, size and evaluation instant, so that running the demo
twice recreates the same database and other commands evaluate it at the demo's own ``as_of``.
A database that holds any table or view but no marker is someone else's, and is never touched:
the demo writes only to a new database or to one it created.
"""

from __future__ import annotations

from datetime import datetime

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy import create_schema, insert_runs, insert_states, metadata
from runactionability.demo.data import DemoData, Size
from runactionability.errors import ConfigurationError

# How many foreign tables a refusal names: enough to recognize the database, one line at most.
_NAMED = 3

_marker_metadata = sa.MetaData()
demo_marker = sa.Table(
    "runactionability_demo",
    _marker_metadata,
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("size", sa.String(20), nullable=False),
    sa.Column("as_of", sa.String(40), nullable=False),
)


@attrs.frozen(kw_only=True)
class DemoMarker:
    """What the marker table says about a demo database."""

    seed: int
    size: Size
    as_of: datetime


def read_marker(engine: sa.Engine) -> DemoMarker | None:
    """The demo marker of the database, or None when it is not a demo database."""
    if not sa.inspect(engine).has_table(demo_marker.name):
        return None
    with engine.connect() as connection:
        row = connection.execute(sa.select(demo_marker)).first()
    if row is None:
        return None
    return DemoMarker(seed=row.seed, size=Size(row.size), as_of=datetime.fromisoformat(row.as_of))


def load(engine: sa.Engine, data: DemoData) -> bool:
    """Create the reference schema and load ``data``; True when a previous demo was replaced.

    Raises ``ConfigurationError`` when the database is neither empty nor an earlier demo's: the
    demo would otherwise add its tables beside a host's own.
    """
    replaced = read_marker(engine) is not None
    if not replaced:
        inspector = sa.inspect(engine)
        present = sorted({*inspector.get_table_names(), *inspector.get_view_names()})
        if present:
            named = ", ".join(repr(name) for name in present[:_NAMED])
            more = f" and {len(present) - _NAMED} more" if len(present) > _NAMED else ""
            raise ConfigurationError(
                f"the database already holds tables the demo did not create: {named}{more}"
            )
    with engine.begin() as connection:
        if replaced:
            metadata.drop_all(connection)
            _marker_metadata.drop_all(connection)
        create_schema(connection)
        _marker_metadata.create_all(connection)
        insert_runs(connection, data.runs)
        insert_states(connection, data.states)
        connection.execute(
            demo_marker.insert().values(
                seed=data.seed, size=data.size.value, as_of=data.as_of.isoformat()
            )
        )
    return replaced
