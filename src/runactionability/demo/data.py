"""A realistic, deterministic history for the demo: several workspaces, every built-in family.

Most of it is generated: periodic runs of every reference type in every environment, with a few
failures, most of which a later run supersedes. Four headline cases are written by hand, because
they are the cases a raw "the run failed" reading gets wrong (or, for the last one, right):

- the provider loop: a blocked connection check, the connection fixed and verified healthy
  afterwards, and no new check since;
- a repeatable sync that failed and later succeeded;
- a restore that failed and later succeeded, which still needs a person to review it;
- a failure in one workspace beside a later success of the same type in another, which still
  needs attention because evidence never crosses scopes.

The same seed, size and ``AS_OF`` always give the same runs, ids and states.
"""

from __future__ import annotations

import enum
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from runactionability.catalog import OperationCatalog
from runactionability.evidence import StateFact
from runactionability.messages import Message, msg
from runactionability.model import OperationRun, RunId, RunOutcome, RunStatus

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
"""The demo's evaluation instant: fixed, so every reader sees the same numbers."""

SEED = 20261120

SCOPES: tuple[tuple[str, str], ...] = (
    ("acme", "prod"),
    ("acme", "staging"),
    ("globex", "prod"),
    ("globex", "dev"),
    ("initech", "prod"),
    ("initech", "test"),
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class Size(enum.StrEnum):
    """How much history the demo loads: ``small`` keeps test suites fast."""

    SMALL = "small"
    FULL = "full"

    @property
    def days(self) -> int:
        return 3 if self is Size.SMALL else 30


class Headline(enum.StrEnum):
    """The hand-written cases the demo explains one by one."""

    PROVIDER_LOOP = "provider_loop"
    SYNC_RECOVERED = "sync_recovered"
    RESTORE_RECOVERED = "restore_recovered"
    CROSS_WORKSPACE = "cross_workspace"
    RETRY_QUEUED = "retry_queued"


HEADLINE_TITLES: dict[Headline, Message] = {
    Headline.PROVIDER_LOOP: msg(
        "demo.headline.provider_loop",
        "Provider connection fixed and verified healthy, no new check since",
    ),
    Headline.SYNC_RECOVERED: msg(
        "demo.headline.sync_recovered", "Repeatable sync failed, then a later sync succeeded"
    ),
    Headline.RESTORE_RECOVERED: msg(
        "demo.headline.restore_recovered", "Restore failed, then a later restore succeeded"
    ),
    Headline.CROSS_WORKSPACE: msg(
        "demo.headline.cross_workspace",
        "Sync failed here; the same sync succeeded in another workspace",
    ),
    Headline.RETRY_QUEUED: msg(
        "demo.headline.retry_queued", "Sync failed and its retry is already queued"
    ),
}


@attrs.frozen(kw_only=True)
class DemoData:
    """The generated history: runs (ids assigned by creation time), states, headline run ids."""

    runs: tuple[OperationRun, ...]
    states: tuple[StateFact, ...]
    headlines: dict[Headline, RunId]
    as_of: datetime
    seed: int
    size: Size


@attrs.frozen
class _Series:
    """A periodic operation about one subject in one scope."""

    type: str
    every: timedelta
    subject_key: str | None = None
    subject: str | None = None


# Failure odds per run of a generated series: most runs succeed, as in a healthy fleet.
_OUTCOMES = (
    (RunOutcome.SUCCEEDED, 0.90),
    (RunOutcome.FAILED, 0.055),
    (RunOutcome.PARTIALLY_SUCCEEDED, 0.02),
    (RunOutcome.BLOCKED, 0.01),
    (RunOutcome.CANCELLED, 0.015),
)

# The state kind each producing type leaves behind, and the status a success leaves it in.
_STATE_OF_TYPE = {
    "provider.connection.check": ("provider_connection", "healthy"),
    "baseline.capture": ("baseline_snapshot", "complete"),
    "backup.create": ("backup_set", "complete"),
    "evidence.snapshot.generate": ("evidence_snapshot", "complete"),
    "review.environment.generate": ("environment_review", "complete"),
    "review_pack.generate": ("review_pack", "published"),
}
_FAILED_STATE = {"provider_connection": "unhealthy"}


class _Builder:
    def __init__(self, rng: random.Random, catalog: OperationCatalog, start: datetime) -> None:
        self.rng = rng
        self.catalog = catalog
        self.start = start
        self.rows: list[dict[str, Any]] = []
        self.states: dict[tuple[str, str, str | None, str | None], StateFact] = {}

    def add(
        self,
        type_: str,
        workspace_id: str,
        environment_id: str | None,
        created_at: datetime,
        outcome: RunOutcome | None,
        *,
        status: RunStatus = RunStatus.COMPLETED,
        duration: timedelta = timedelta(minutes=4),
        context: dict[str, Any] | None = None,
        tag: Headline | None = None,
    ) -> None:
        done = status is RunStatus.COMPLETED
        started = created_at + timedelta(seconds=30) if status is not RunStatus.QUEUED else None
        self.rows.append(
            {
                "type": type_,
                "workspace_id": workspace_id,
                "environment_id": environment_id,
                "status": status,
                "outcome": outcome if done else None,
                "created_at": created_at,
                "started_at": started,
                "completed_at": created_at + duration if done else None,
                "context": context or {},
                "tag": tag,
            }
        )
        if done and outcome is not None:
            self._record_state(
                type_, workspace_id, environment_id, created_at + duration, outcome, context or {}
            )

    def _record_state(
        self,
        type_: str,
        workspace_id: str,
        environment_id: str | None,
        completed_at: datetime,
        outcome: RunOutcome,
        context: dict[str, Any],
    ) -> None:
        produced = _STATE_OF_TYPE.get(type_)
        if produced is None:
            return
        kind, healthy = produced
        op_type = self.catalog[type_]
        subject = None if op_type.subject_key is None else str(context[op_type.subject_key])
        if outcome is RunOutcome.SUCCEEDED:
            status = healthy
        elif kind in _FAILED_STATE and outcome is not RunOutcome.CANCELLED:
            status = _FAILED_STATE[kind]
        else:
            return
        env = None if op_type.workspace_owned else environment_id
        self.state(kind, workspace_id, env, subject, status, completed_at)

    def state(
        self,
        kind: str,
        workspace_id: str,
        environment_id: str | None,
        subject: str | None,
        status: str,
        proven_at: datetime,
    ) -> None:
        self.states[(kind, workspace_id, environment_id, subject)] = StateFact(
            kind=kind,
            workspace_id=workspace_id,
            environment_id=environment_id,
            subject=subject,
            status=status,
            proven_at=proven_at,
        )

    def outcome(self) -> RunOutcome:
        roll = self.rng.random()
        for outcome, odds in _OUTCOMES:
            if roll < odds:
                return outcome
            roll -= odds
        return RunOutcome.SUCCEEDED

    def series(
        self, series: _Series, workspace_id: str, environment_id: str | None, until: datetime
    ) -> None:
        at = self.start + timedelta(seconds=self.rng.randrange(int(series.every.total_seconds())))
        context = {series.subject_key: series.subject} if series.subject_key else {}
        while at < until:
            jitter = timedelta(minutes=self.rng.randint(0, 20))
            self.add(
                series.type,
                workspace_id,
                environment_id,
                at + jitter,
                self.outcome(),
                context=context,
            )
            at += series.every


def _environment_series(index: int) -> list[_Series]:
    connection_a, connection_b = 2 * index + 7, 2 * index + 8
    return [
        _Series(
            "provider.connection.check", 12 * HOUR, "provider_connection_id", str(connection_a)
        ),
        _Series(
            "provider.connection.check", 12 * HOUR, "provider_connection_id", str(connection_b)
        ),
        _Series("inventory.sync", 6 * HOUR),
        _Series("directory.sync", 12 * HOUR),
        _Series("policy.sync", DAY),
        _Series("baseline.capture", DAY, "baseline_profile_id", str(100 + index)),
        _Series("baseline.compare", DAY, "baseline_profile_id", str(100 + index)),
        _Series("evidence.snapshot.generate", 7 * DAY),
        _Series("review.environment.generate", 7 * DAY),
        _Series("backup.create", DAY, "backup_schedule_id", str(200 + index)),
    ]


def _workspace_series(index: int) -> list[_Series]:
    return [
        _Series("alerts.dispatch", 12 * HOUR),
        _Series("notifications.send", 12 * HOUR),
        _Series("review_pack.generate", 7 * DAY, "review_pack_id", str(300 + index)),
    ]


# Hand-written histories replace these generated series, so nothing random supersedes them.
_HAND_WRITTEN = {
    ("acme", "prod", "provider.connection.check", "7"),
    ("acme", "prod", "inventory.sync", None),
    ("acme", "prod", "policy.sync", None),
    ("globex", "prod", "policy.sync", None),
    ("globex", "prod", "directory.sync", None),
}


def _headlines(build: _Builder, start: datetime) -> None:
    check = {"provider_connection_id": 7}
    at = start
    while at < AS_OF - 3 * DAY:
        build.add(
            "provider.connection.check", "acme", "prod", at, RunOutcome.SUCCEEDED, context=check
        )
        at += 12 * HOUR
    blocked_at = AS_OF - 2 * DAY - 3 * HOUR
    build.add(
        "provider.connection.check",
        "acme",
        "prod",
        blocked_at,
        RunOutcome.BLOCKED,
        context=check,
        tag=Headline.PROVIDER_LOOP,
    )
    # An operator re-authorized the connection; the host's health probe proved it healthy.
    build.state("provider_connection", "acme", "prod", "7", "healthy", AS_OF - DAY - 6 * HOUR)

    at = start
    while at < AS_OF - DAY:
        build.add("inventory.sync", "acme", "prod", at, RunOutcome.SUCCEEDED)
        at += 6 * HOUR
    build.add(
        "inventory.sync",
        "acme",
        "prod",
        AS_OF - 20 * HOUR,
        RunOutcome.FAILED,
        tag=Headline.SYNC_RECOVERED,
    )
    build.add("inventory.sync", "acme", "prod", AS_OF - 14 * HOUR, RunOutcome.SUCCEEDED)

    restore = {"backup_set_id": 4711}
    build.add(
        "restore.execute",
        "acme",
        "prod",
        AS_OF - 30 * HOUR,
        RunOutcome.FAILED,
        context=restore,
        tag=Headline.RESTORE_RECOVERED,
    )
    build.add(
        "restore.execute", "acme", "prod", AS_OF - 28 * HOUR, RunOutcome.SUCCEEDED, context=restore
    )

    at = start
    while at < AS_OF - DAY:
        build.add("policy.sync", "globex", "prod", at, RunOutcome.SUCCEEDED)
        build.add("policy.sync", "acme", "prod", at + HOUR, RunOutcome.SUCCEEDED)
        at += DAY
    build.add(
        "policy.sync",
        "globex",
        "prod",
        AS_OF - 16 * HOUR,
        RunOutcome.FAILED,
        tag=Headline.CROSS_WORKSPACE,
    )
    build.add("policy.sync", "acme", "prod", AS_OF - 10 * HOUR, RunOutcome.SUCCEEDED)

    at = start
    while at < AS_OF - DAY:
        build.add("directory.sync", "globex", "prod", at, RunOutcome.SUCCEEDED)
        at += 12 * HOUR
    build.add(
        "directory.sync",
        "globex",
        "prod",
        AS_OF - 5 * HOUR,
        RunOutcome.FAILED,
        tag=Headline.RETRY_QUEUED,
    )
    build.add(
        "directory.sync",
        "globex",
        "prod",
        AS_OF - 10 * timedelta(minutes=1),
        None,
        status=RunStatus.QUEUED,
    )


def _active_work(build: _Builder) -> None:
    # A little work in flight, as on any live system: never counted as needing attention.
    for index, (workspace_id, environment_id) in enumerate(SCOPES[1:4]):
        created_at = AS_OF - (index + 1) * 7 * timedelta(minutes=1)
        build.add(
            "inventory.sync",
            workspace_id,
            environment_id,
            created_at,
            None,
            status=RunStatus.RUNNING,
        )


def generate(
    size: Size = Size.FULL, *, seed: int = SEED, catalog: OperationCatalog | None = None
) -> DemoData:
    """Generate the demo history: the same ``size`` and ``seed`` always give the same data."""
    catalog = OperationCatalog.reference() if catalog is None else catalog
    rng = random.Random(seed)
    start = AS_OF - size.days * DAY
    build = _Builder(rng, catalog, start)
    generated_until = AS_OF - 2 * HOUR
    for index, (workspace_id, environment_id) in enumerate(SCOPES):
        for series in _environment_series(index):
            if (workspace_id, environment_id, series.type, series.subject) in _HAND_WRITTEN:
                continue
            build.series(series, workspace_id, environment_id, generated_until)
        if rng.random() < 0.7 or size is Size.SMALL:
            restore = {"backup_set_id": 5000 + index}
            at = start + timedelta(
                seconds=rng.randrange(int((generated_until - start).total_seconds()))
            )
            build.add(
                "restore.execute",
                workspace_id,
                environment_id,
                at,
                build.outcome(),
                context=restore,
            )
        if environment_id != "prod":
            at = start + timedelta(
                seconds=rng.randrange(int((generated_until - start).total_seconds()))
            )
            build.add("promotion.execute", workspace_id, environment_id, at, build.outcome())
        if environment_id == "dev":
            build.add(
                "environment.destroy",
                workspace_id,
                environment_id,
                AS_OF - 3 * DAY,
                RunOutcome.FAILED,
            )
    for index, workspace_id in enumerate(sorted({ws for ws, _ in SCOPES})):
        for series in _workspace_series(index):
            build.series(series, workspace_id, None, generated_until)
    _headlines(build, start)
    _active_work(build)
    build.rows.sort(
        key=lambda row: (
            row["created_at"],
            row["workspace_id"],
            row["environment_id"] or "",
            row["type"],
        )
    )
    runs = []
    headlines: dict[Headline, RunId] = {}
    for run_id, row in enumerate(build.rows, start=1):
        tag = row.pop("tag")
        if tag is not None:
            headlines[tag] = run_id
        runs.append(OperationRun(id=run_id, **row))
    states = tuple(
        sorted(
            build.states.values(),
            key=lambda s: (s.kind, s.workspace_id, s.environment_id or "", s.subject or ""),
        )
    )
    return DemoData(
        runs=tuple(runs), states=states, headlines=headlines, as_of=AS_OF, seed=seed, size=size
    )
