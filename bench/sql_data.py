"""A deterministic, realistic history of runs for the SQL benchmark and tests.

Several workspaces with a few environments each, every reference type, mostly successes with
failures, blocks and cancellations among them, correlated subjects drawn from small pools per
scope (so later successes exist), and timestamps that increase with the run id.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from runactionability import OperationCatalog, OperationRun, StateFact

START = datetime(2025, 1, 1, tzinfo=UTC)

# (canonical or alias name, weight): syncs and checks run far more often than restores.
TYPE_WEIGHTS = (
    ("inventory.sync", 30),
    ("inventory_sync", 5),
    ("directory.sync", 15),
    ("policy.sync", 10),
    ("provider.connection.check", 15),
    ("provider_connection.check", 3),
    ("provider.connection.authorize", 2),
    ("baseline.capture", 5),
    ("baseline.compare", 5),
    ("evidence.snapshot.generate", 2),
    ("review.environment.generate", 2),
    ("review_pack.generate", 1),
    ("backup.create", 4),
    ("restore.execute", 1),
    ("promotion.execute", 1),
    ("environment.destroy", 1),
    ("alerts.dispatch", 3),
    ("notifications.send", 3),
)

OUTCOMES = (
    ("succeeded", 80),
    ("failed", 10),
    ("blocked", 3),
    ("partially_succeeded", 3),
    ("cancelled", 2),
    (None, 2),
)

SUBJECTS_PER_SCOPE = 3


def scopes(workspaces: int, environments: int) -> list[tuple[str, str]]:
    """Every (workspace id, environment id) of the generated history."""
    return [(f"w{w:03d}", f"w{w:03d}-e{e}") for w in range(workspaces) for e in range(environments)]


def generate_runs(
    count: int,
    *,
    workspaces: int = 20,
    environments: int = 5,
    seed: int = 7,
    first_id: int = 1,
) -> Iterator[OperationRun]:
    """``count`` runs, ids from ``first_id``, one every ~30 seconds from 2025-01-01."""
    rng = random.Random(seed)
    catalog = OperationCatalog.reference()
    all_scopes = scopes(workspaces, environments)
    names = [name for name, _ in TYPE_WEIGHTS]
    type_weights = [weight for _, weight in TYPE_WEIGHTS]
    outcomes = [outcome for outcome, _ in OUTCOMES]
    outcome_weights = [weight for _, weight in OUTCOMES]
    for offset in range(count):
        run_id = first_id + offset
        workspace_id, environment_id = rng.choice(all_scopes)
        name = rng.choices(names, type_weights)[0]
        op_type = catalog.resolve(name)
        assert op_type is not None
        context: dict[str, object] = {}
        if op_type.subject_key is not None:
            context[op_type.subject_key] = (
                f"{op_type.subject_key[:-3]}-{rng.randrange(SUBJECTS_PER_SCOPE)}"
            )
        created = START + timedelta(seconds=30 * offset + rng.randrange(20))
        started = created + timedelta(seconds=rng.randrange(1, 10))
        outcome = rng.choices(outcomes, outcome_weights)[0]
        if outcome is None:
            yield OperationRun(
                id=run_id,
                type=name,
                workspace_id=workspace_id,
                environment_id=None if op_type.workspace_owned else environment_id,
                status=rng.choice(("queued", "running")),
                created_at=created,
                context=context,
            )
            continue
        yield OperationRun(
            id=run_id,
            type=name,
            workspace_id=workspace_id,
            environment_id=None if op_type.workspace_owned else environment_id,
            status="completed",
            outcome=outcome,
            created_at=created,
            started_at=started,
            completed_at=started + timedelta(seconds=rng.randrange(5, 600)),
            context=context,
        )


def generate_states(
    *, workspaces: int = 20, environments: int = 5, seed: int = 11, proven_at: datetime
) -> Iterator[StateFact]:
    """One current state per subject of each state kind, mostly healthy or complete."""
    rng = random.Random(seed)
    kinds = (
        ("provider_connection", "provider_connection", ("healthy", "healthy", "failing")),
        ("baseline_snapshot", "baseline_profile", ("complete", "complete", "partial")),
        ("backup_set", "backup_schedule", ("complete", "complete", "failed")),
    )
    for workspace_id, environment_id in scopes(workspaces, environments):
        for kind, prefix, statuses in kinds:
            for number in range(SUBJECTS_PER_SCOPE):
                yield StateFact(
                    kind=kind,
                    workspace_id=workspace_id,
                    environment_id=environment_id,
                    subject=f"{prefix}-{number}",
                    status=rng.choice(statuses),
                    proven_at=proven_at - timedelta(hours=rng.randrange(1, 2000)),
                )
