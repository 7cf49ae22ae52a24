"""A mapping under which most of the newest problem runs read as invalid records is warned about
once, when the service is built (audit finding 6: silent is the worst failure): ISO-8601 text
with an offset reflected as ``iso_text``, an outcome word the vocabulary does not list. A few
stray bad rows, and a table whose rows the mapping reads, are not."""

from __future__ import annotations

import asyncio
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import async_engine_of

from runactionability import (
    Actionability,
    ActionabilityService,
    EvidenceFetchError,
    MappingMismatchWarning,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import Instants, RunTableMapping
from runactionability.service import AsyncActionabilityService
from runactionability.service.mapping_check import SAMPLE

BASE = datetime(2026, 11, 1, 12, tzinfo=UTC)
# No state kind is mapped: the resolver's warning about them is not under test.
pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")


def host_table(
    engine: sa.Engine,
    rows: int,
    *,
    outcome: str = "failed",
    text: bool = False,
    keyed: bool = True,
) -> None:
    """``rows`` completed runs, alternately failed (as ``outcome``) and succeeded; with
    ``text``, the timestamps are ``isoformat()``'s text, offset included; not ``keyed``, the
    id column has no key (so it may hold NULL)."""
    when: sa.types.TypeEngine[Any] = sa.Text() if text else sa.DateTime(timezone=True)
    metadata = sa.MetaData()
    table = sa.Table(
        "jobs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=keyed),
        sa.Column("type", sa.Text),
        sa.Column("workspace_id", sa.Text),
        sa.Column("environment_id", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("created_at", when),
        sa.Column("started_at", when),
        sa.Column("completed_at", when),
        sa.Column("context", sa.JSON),
    )
    metadata.create_all(engine)

    def stored(instant: datetime) -> object:
        return instant.isoformat() if text else instant

    values = []
    for run_id in range(1, rows + 1):
        created = BASE + timedelta(hours=run_id)
        values.append(
            {
                "id": run_id,
                "type": "inventory.sync",
                "workspace_id": "1",
                "environment_id": "2",
                "status": "completed",
                "outcome": outcome if run_id % 2 else "succeeded",
                "created_at": stored(created),
                "started_at": stored(created),
                "completed_at": stored(created + timedelta(minutes=5)),
                "context": {},
            }
        )
    with engine.begin() as connection:
        connection.execute(table.insert(), values)


def _mapping(engine: sa.Engine, *, text: bool = False) -> RunTableMapping:
    timestamps = (
        Instants.iso_text()
        if text
        else Instants.timestamptz()
        if engine.dialect.name == "postgresql"
        else Instants.iso_text()
    )
    return RunTableMapping(
        table="jobs",
        subject=None,
        timestamps=timestamps,
        outcomes={"failed": "failed", "succeeded": "succeeded"},
    )


def _built(engine: sa.Engine, runs: RunTableMapping) -> list[str]:
    """The ``MappingMismatchWarning``s building a service on ``engine`` issues."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ActionabilityService(engine, runs=runs, states={})
    return [str(w.message) for w in caught if issubclass(w.category, MappingMismatchWarning)]


def test_an_outcome_word_the_vocabulary_does_not_list_is_warned(sql_engine: sa.Engine) -> None:
    host_table(sql_engine, 20, outcome="error")
    (message,) = _built(sql_engine, _mapping(sql_engine))
    assert "jobs: 10 of the 10 problem runs among the newest 20 (100%) read as invalid" in message
    # No run is named: an async service may warn inside an actor's first session.
    assert "invalid_outcome 10;" in message
    assert "run 19" not in message
    assert "(see unmapped_value); jobs.outcome: 10 of the newest 20 runs hold" in message
    assert "\n" not in message


def test_iso_text_with_an_offset_read_as_iso_text_is_warned(sql_engine: sa.Engine) -> None:
    host_table(sql_engine, 20, text=True)
    (message,) = _built(sql_engine, _mapping(sql_engine, text=True))
    assert "10 of the 10 problem runs among the newest 20 (100%)" in message
    assert "invalid_timestamp 10" in message
    assert "run `runactionability doctor`" in message


def test_only_the_newest_runs_are_sampled(sql_engine: sa.Engine) -> None:
    host_table(sql_engine, SAMPLE + 40, outcome="error")
    (message,) = _built(sql_engine, _mapping(sql_engine))
    half = SAMPLE // 2
    assert f"{half} of the {half} problem runs among the newest {SAMPLE} (100%)" in message


def test_stray_bad_rows_and_a_readable_table_are_not_warned(sql_engine: sa.Engine) -> None:
    host_table(sql_engine, 20)
    with sql_engine.begin() as connection:
        # Four of ten failures read as invalid (missing_completed_at): fewer than most.
        connection.execute(sa.text("UPDATE jobs SET completed_at = NULL WHERE id IN (1, 3, 5, 7)"))
    assert _built(sql_engine, _mapping(sql_engine)) == []


def test_two_problem_runs_both_invalid_are_stray_rows(sql_engine: sa.Engine) -> None:
    host_table(sql_engine, 4)
    with sql_engine.begin() as connection:
        connection.execute(sa.text("UPDATE jobs SET completed_at = NULL WHERE id IN (1, 3)"))
    assert _built(sql_engine, _mapping(sql_engine)) == []


def test_a_status_word_the_vocabulary_misses_is_warned_at_any_count(sql_engine: sa.Engine) -> None:
    # Audit F9: the host's word for running left out of statuses (a typo) reads every active
    # run as invalid_status for good, yet active runs are too few of a sample for its share.
    host_table(sql_engine, 20)
    with sql_engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE jobs SET status = 'running', outcome = NULL, completed_at = NULL "
                "WHERE id IN (18, 19, 20)"
            )
        )
    statuses = {"queued": "queued", "runing": "running", "completed": "completed"}
    (message,) = _built(sql_engine, attrs.evolve(_mapping(sql_engine), statuses=statuses))
    assert message.startswith(
        "jobs.status: 3 of the newest 20 runs hold a value the mapping's statuses do not "
        "list: 'running' (3); every answer shows such a run as requires_manual_review"
    )
    assert "run `runactionability doctor`" in message


def test_unlisted_words_join_the_share_of_invalid_runs_in_one_warning(
    sql_engine: sa.Engine,
) -> None:
    host_table(sql_engine, 20, outcome="error")
    with sql_engine.begin() as connection:
        connection.execute(sa.text("UPDATE jobs SET outcome = 'err\nor' WHERE id = 1"))
    (message,) = _built(sql_engine, _mapping(sql_engine))
    assert "(100%) read as invalid records" in message
    assert (
        "(see unmapped_value); jobs.outcome: 10 of the newest 20 runs hold a value the "
        "mapping's outcomes do not list: 'error' (9), 'err\\nor' (1): run `runactionability"
    ) in message


def test_a_session_on_a_checked_service_reads_no_sample_again(sql_engine: sa.Engine) -> None:
    host_table(sql_engine, 20)
    service = ActionabilityService(sql_engine, runs=_mapping(sql_engine), states={})
    with sql_engine.begin() as connection:
        connection.execute(sa.text("UPDATE jobs SET outcome = 'error'"))
    # Every failure reads as invalid now; checked once, the service does not look again.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_of = BASE + timedelta(days=5)
        with service.session(scopes=VisibleScopes({"1"}), as_of=as_of) as session:
            counts = session.dashboard(top=0).counts
    assert counts.by_status[Actionability.REQUIRES_MANUAL_REVIEW] == 20


def test_the_async_service_warns_once_on_its_first_session(sql_engine: sa.Engine) -> None:
    host_table(sql_engine, 20, outcome="error")
    engine = async_engine_of(sql_engine)

    async def serve() -> None:
        service = AsyncActionabilityService(engine, runs=_mapping(sql_engine), states={})
        for _ in range(2):
            async with service.session(scopes=VisibleScopes({"1"}), as_of=BASE + timedelta(days=5)):
                pass
        await engine.dispose()

    with pytest.warns(MappingMismatchWarning, match="invalid_outcome 10") as caught:
        asyncio.run(serve())
    assert len([w for w in caught if issubclass(w.category, MappingMismatchWarning)]) == 1


def test_a_sample_that_fails_leaves_the_failure_to_the_requests(sql_engine: sa.Engine) -> None:
    host_table(sql_engine, 20, outcome="error")
    runs = attrs.evolve(_mapping(sql_engine), context="no_such_column")
    assert _built(sql_engine, runs) == []
    service = ActionabilityService(sql_engine, runs=runs, states={})
    with (
        pytest.raises(EvidenceFetchError, match="no_such_column"),
        service.session(scopes=VisibleScopes({"1"}), as_of=BASE) as session,
    ):
        session.dashboard(top=1)


def test_a_row_without_id_is_left_out_of_the_sample(sql_engine: sa.Engine) -> None:
    # A keyless host row with no id used to fail every build (and every CLI command) with a
    # TypeError from the sample, and then to leave the sample unread, so a mapping that
    # misreads every other row went unwarned. Every read now leaves such a row out (doctor
    # counts it), and the sample judges the rest.
    host_table(sql_engine, 20, outcome="error", keyed=False)
    mapping = _mapping(sql_engine)
    with sql_engine.begin() as connection:
        connection.execute(sa.text("UPDATE jobs SET id = NULL WHERE id = 19"))
    (message,) = _built(sql_engine, mapping)
    assert "jobs: 9 of the 9 problem runs among the newest 19 (100%) read as invalid" in message


def test_runs_in_no_workspace_are_left_to_the_unattributed_count(sql_engine: sa.Engine) -> None:
    host_table(sql_engine, 20)
    with sql_engine.begin() as connection:
        connection.execute(sa.text("UPDATE jobs SET workspace_id = ' ' WHERE outcome = 'failed'"))
    assert _built(sql_engine, _mapping(sql_engine)) == []


def legacy_table(engine: sa.Engine, recent: int, legacy: int, *, outcome: str = "failed") -> None:
    """``recent`` runs as ``host_table`` makes them but dated by ISO text without an offset
    (which ``iso_text`` reads), and ``legacy`` failed runs whose created_at is the text
    'legacy', which both databases sort after every such date."""
    host_table(engine, recent, outcome=outcome, text=True)
    rows = [{"id": recent + n, "created": "legacy", "done": "legacy"} for n in range(1, legacy + 1)]
    with engine.begin() as connection:
        for column in ("created_at", "started_at", "completed_at"):
            # Offsets off: '2026-11-01T13:00:00+00:00' -> '2026-11-01T13:00:00'.
            connection.execute(sa.text(f"UPDATE jobs SET {column} = substr({column}, 1, 19)"))
        connection.execute(
            sa.text(
                "INSERT INTO jobs (id, type, workspace_id, environment_id, status, outcome, "
                "created_at, started_at, completed_at, context) VALUES (:id, 'inventory.sync', "
                "'1', '2', 'completed', 'failed', :created, :created, :done, '{}')"
            ),
            rows,
        )


def _iso(engine: sa.Engine) -> RunTableMapping:
    return attrs.evolve(_mapping(engine), timestamps=Instants.iso_text("UTC"))


def test_legacy_rows_sorted_above_every_date_do_not_stand_for_recent_history(
    sql_engine: sa.Engine,
) -> None:
    # Before, the newest SAMPLE by created_at were the 250 legacy rows, all invalid: a warning
    # although every recent run reads fine.
    legacy_table(sql_engine, 150, 250)
    assert _built(sql_engine, _iso(sql_engine)) == []


def test_recent_invalid_rows_beside_legacy_rows_are_warned_with_the_legacy_count(
    sql_engine: sa.Engine,
) -> None:
    legacy_table(sql_engine, 150, 250, outcome="error")
    (message,) = _built(sql_engine, _iso(sql_engine))
    assert "75 of the 75 problem runs among the newest 150 (100%) read as invalid" in message
    assert "besides 250 runs whose created_at cannot be read as an instant" in message
    assert "invalid_outcome 75;" in message


def test_a_table_whose_created_at_is_never_readable_is_still_warned(sql_engine: sa.Engine) -> None:
    legacy_table(sql_engine, 2, 20)
    with sql_engine.begin() as connection:
        connection.execute(sa.text("UPDATE jobs SET created_at = 'legacy' WHERE id <= 2"))
    (message,) = _built(sql_engine, _iso(sql_engine))
    assert "21 of the 21 problem runs among the newest 22 (100%)" in message
    assert "besides" not in message


def test_one_readable_row_does_not_silence_a_misread_created_at(sql_engine: sa.Engine) -> None:
    # The dated sample is that one row; the 19 others, ISO text with an offset that
    # `iso_text` cannot read, once went unsaid although every answer misreads them.
    host_table(sql_engine, 20, text=True)
    with sql_engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE jobs SET created_at = substr(created_at, 1, 19) WHERE id = 1")
        )
    (message,) = _built(sql_engine, _mapping(sql_engine, text=True))
    assert "jobs: 19 of the newest 20 runs as stored hold a created_at" in message
    assert "run `runactionability doctor`" in message
