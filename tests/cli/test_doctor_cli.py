"""``runactionability doctor``: one line per finding with its fix; exit 4 on any error."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from tests.support import AS_OF, analyze, at, database_option, form_validator, insert_raw, raw_row

from runactionability.adapters.sqlalchemy import create_schema, insert_runs, insert_states
from runactionability.cli import EXIT_FINDINGS, cli
from runactionability.demo import Size, generate

DEMO = generate(Size.SMALL)


def doctor(engine: sa.Engine, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["doctor", "--database", database_option(engine), *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def test_a_healthy_database_passes(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    insert_runs(sql_engine, DEMO.runs)
    insert_states(sql_engine, DEMO.states)
    analyze(sql_engine)  # as a live database is; a freshly filled one is warned of
    code, out, err = doctor(sql_engine, "--as-of", DEMO.as_of.isoformat())
    assert (code, err) == (0, "")
    assert f"{len(DEMO.runs)} runs, {len(DEMO.runs)} sampled; 0 errors, 0 warnings" in out
    code, out, _ = doctor(sql_engine, "--as-of", DEMO.as_of.isoformat(), "--json")
    document = json.loads(out)
    form_validator("doctor_document").validate(document)
    assert code == 0
    assert document["schema"] == "runactionability.doctor/1"
    assert document["passed"] is True


def test_an_error_finding_exits_4_with_the_column_and_the_fix(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    rows = [raw_row(sql_engine, n, status="done", outcome=None) for n in range(1, 4)]
    insert_raw(sql_engine, rows)
    code, out, err = doctor(sql_engine, "--as-of", AS_OF.isoformat(), "--sample", "2")
    assert code == EXIT_FINDINGS
    assert err == "runactionability: error: 2 error findings; see the fixes above\n"
    lines = out.splitlines()
    assert lines[0].startswith("Checked operation_runs on ")
    assert "3 runs, 2 sampled; 2 errors" in lines[0]
    unmapped = next(i for i, line in enumerate(lines) if "unmapped_value" in line)
    assert lines[unmapped].startswith("error   unmapped_value: operation_runs.status: 3 rows")
    assert lines[unmapped + 1].strip().startswith("fix: add each value to the mapping's statuses")
    code, out, _ = doctor(sql_engine, "--as-of", AS_OF.isoformat(), "--json")
    document = json.loads(out)
    form_validator("doctor_document").validate(document)
    assert code == EXIT_FINDINGS
    assert document["passed"] is False
    assert [f["code"] for f in document["findings"] if f["severity"] == "error"] == [
        "unmapped_value",
        "invalid_rows",
    ]


def test_a_database_without_the_runs_table_is_a_finding(sql_engine: sa.Engine) -> None:
    with sql_engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE hd_other (id integer)"))
    code, out, _ = doctor(sql_engine, "--json")
    assert code == EXIT_FINDINGS
    document = json.loads(out)
    assert "operation_runs" in document["findings"][0]["message"]
    assert {f["code"] for f in document["findings"]} == {"missing_table"}


CONFIG = """
database = "host.sqlite"
reference_states = false

[runs]
table = "hd_jobs"
subject = false
lifecycle = "state"
timestamps = "{timestamps}"

[runs.lifecycles]
pending = ["queued"]
running = ["running"]
done = ["completed", "succeeded"]
error = ["completed", "failed"]
"""


def test_the_configured_mapping_is_the_one_checked(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'host.sqlite'}")
    table = sa.Table(
        "hd_jobs",
        sa.MetaData(),
        *(sa.Column(name, sa.Text()) for name in ("type", "workspace_id", "environment_id")),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.Text()),
        sa.Column("context", sa.JSON()),
        *(sa.Column(name, sa.DateTime()) for name in ("created_at", "started_at", "completed_at")),
    )
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(
            table.insert(),
            [
                {
                    "id": n,
                    "type": "inventory.sync",
                    "workspace_id": "w1",
                    "environment_id": "e1",
                    "state": state,
                    "context": {},
                    "created_at": at(n),
                    "started_at": at(n),
                    "completed_at": at(n + 1),
                }
                for n, state in enumerate(["done", "error", "error"], start=1)
            ],
        )
    engine.dispose()
    config = tmp_path / "runactionability.toml"
    config.write_text(CONFIG.format(timestamps="native"))
    args = ["doctor", "--config", str(config), "--as-of", AS_OF.isoformat(), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_FINDINGS
    findings = json.loads(result.stdout)["findings"]
    unreadable = [f for f in findings if f["code"] == "unreadable_timestamp"]
    assert {f["column"] for f in unreadable} == {"created_at", "started_at", "completed_at"}
    config.write_text(CONFIG.format(timestamps="iso_text"))
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    assert document["table"] == "hd_jobs"
    assert document["errors"] == 0


def test_a_state_vocabulary_missing_most_of_its_words_exits_4(tmp_path: Path) -> None:
    # Audit F6: every provider connection state proves nothing under this mapping.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'host.sqlite'}")
    create_schema(engine)
    insert_runs(engine, DEMO.runs)
    insert_states(engine, DEMO.states)
    engine.dispose()
    config = tmp_path / "runactionability.toml"
    config.write_text(
        'database = "host.sqlite"\n[states.provider_connection]\n'
        'table = "provider_connection_states"\ntimestamps = "native"\n'
        'statuses = { up = "healthy", down = "unhealthy" }\n'
    )
    args = ["doctor", "--config", str(config), "--as-of", DEMO.as_of.isoformat(), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_FINDINGS, result.stdout
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "unmapped_value"]
    assert (finding["severity"], finding["table"]) == ("error", "provider_connection_states")
