"""The later-success test shared by the types of one shape (PostgreSQL's seeking form).

Types that share an ownership and a subject expression share one ``EXISTS``, whose list of
superseding names the failed run's type picks (``pushdown/lateral.py``). A wrong list would let a
success of a sibling type supersede a failure, or keep an alias's or a superseding type's success
from doing so; random histories rarely hold such pairs, so each is written out here, on both
engines (SQLite keeps one test per type: the same answers are expected).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from tests.support import T0, stored_run

from runactionability.adapters.sqlalchemy import create_schema, insert_runs
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.consumers import VisibleScopes

AS_OF = T0 + timedelta(days=1)
SCOPES = VisibleScopes({"w1"})

# (failed type, later succeeded type, subject key or None, superseded?)
PAIRS = (
    ("provider.connection.authorize", "provider.connection.check", "provider_connection_id", True),
    ("provider.connection.authorize", "provider_connection.check", "provider_connection_id", True),
    ("provider.connection.check", "provider.connection.authorize", "provider_connection_id", False),
    ("baseline.capture", "baseline.compare", "baseline_profile_id", False),
    ("baseline.compare", "baseline_capture", "baseline_profile_id", False),
    ("backup.create", "backup.run", "backup_schedule_id", True),
    ("inventory.sync", "inventory_sync", None, True),
    ("policy.sync", "directory.sync", None, False),
    ("directory.sync", "identity.directory.sync", None, True),
)


def _history(engine: sa.Engine) -> set[int]:
    """The pairs, each in its own subject (or environment); the failed ids left to act on."""
    create_schema(engine)
    runs = []
    open_ids = set()
    for number, (failed, succeeded, key, superseded) in enumerate(PAIRS):
        scope = {"environment_id": f"e{number}"}
        context = {} if key is None else {key: f"s{number}"}
        runs.append(stored_run(2 * number + 1, failed, context=context, start=0, **scope))
        runs.append(
            stored_run(
                2 * number + 2, succeeded, context=context, start=2, outcome="succeeded", **scope
            )
        )
        if not superseded:
            open_ids.add(2 * number + 1)
    insert_runs(engine, runs)
    return open_ids


def test_a_shared_test_supersedes_exactly_as_each_types_own(sql_engine: sa.Engine) -> None:
    open_ids = _history(sql_engine)
    pushdown = SqlPushdown(sql_engine)
    resolver = pushdown.resolver()
    page = pushdown.follow_up_page(SCOPES, as_of=AS_OF, limit=50)
    assert {item.run.id for item in page.items} == open_ids
    seeking = SqlPushdown(sql_engine, resolver=resolver, form=SupersedeForm.EXISTS)
    assert seeking.needs_attention(SCOPES, as_of=AS_OF) == len(open_ids)
    runs = pushdown._run_source().list_runs(SCOPES.query(), limit=100).runs
    expected = {
        run.id
        for run, result in zip(runs, resolver.evaluate_many(runs, as_of=AS_OF), strict=True)
        if result.status.needs_attention
    }
    assert expected == open_ids
