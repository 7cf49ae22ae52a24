"""Issue 10, item 5 on the command line: every command takes ``--config FILE``, ``--database``
overrides its database, a bad file is one error line, a plugin's state kind without a table is
one warning line (gone once the file names its table), and cursors are signed with the key the
file names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from tests.cli.test_cli import database, invoke, ok_json, one_line_error
from tests.sql import test_host_mapping as host_mapping
from tests.support import AS_OF, database_option, registry_replacing

from runactionability import Registry
from runactionability.adapters.sqlalchemy import JsonDocument, UtcTimestamp
from runactionability.cli import cli
from runactionability.policies import provider_connection
from runactionability.policies.rules import FirstDecisive, OpenRelatedAction, ResolvedByState

__all__ = ["database"]  # the demo fixture of test_cli, shared

KEY = "a cursor key the host keeps secret"
COMMANDS = ["demo", "report", "list", "explain", "families", "coverage", "changes"]


def config_file(folder: Path, text: str) -> str:
    path = folder / "runactionability.toml"
    path.write_text(text)
    return str(path)


def toml_string(value: str) -> str:
    return json.dumps(value)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_a_config_file(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "--config" in result.stdout


def test_the_files_database_is_read_and_database_overrides_it(
    database: str, tmp_path: Path
) -> None:
    expected = ok_json("report", "--database", database)
    config = config_file(tmp_path, f"database = {toml_string(database)}\n")
    assert ok_json("report", "--config", config) == expected
    elsewhere = config_file(tmp_path, 'database = "nowhere.sqlite"\n')
    assert ok_json("report", "--config", elsewhere, "--database", database) == expected
    line = one_line_error(invoke("report", "--config", elsewhere))
    assert "nowhere.sqlite" in line


def test_a_bad_file_is_one_error_line_naming_the_file_and_the_key(tmp_path: Path) -> None:
    config = config_file(tmp_path, '[runs]\ntable = "jobs"\ntimestamp = "iso_text"\n')
    for command in (("report",), ("list",), ("explain", "1"), ("families",), ("coverage",)):
        line = one_line_error(invoke(*command, "--config", config))
        assert f"{config}: runs: unknown key 'timestamp'" in line
        assert "unexpected" not in line
    line = one_line_error(invoke("report", "--config", str(tmp_path / "missing.toml")))
    assert "no configuration file at" in line


def test_coverage_reads_the_registrys_catalog_or_the_files(tmp_path: Path) -> None:
    payload = ok_json("coverage")
    assert payload["catalog"] == "registry"
    registered = {operation_type.name for operation_type in Registry.default().catalog()}
    assert {row["name"] for row in payload["types"]} == registered
    catalog = tmp_path / "ops.toml"
    catalog.write_text('[[types]]\nname = "billing.export"\nfamily = "billing"\n')
    config = config_file(tmp_path, 'catalog = "ops.toml"\n')
    result = invoke("coverage", "--config", config, "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["uncovered"] == [
        {"name": "billing.export", "family": "billing"}
    ]


def test_the_files_cursor_key_signs_the_listings_cursors(database: str, tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        f'database = {toml_string(database)}\ncursor_key_env = "HOST_CURSOR_KEY"\n',
    )
    runner = CliRunner(env={"HOST_CURSOR_KEY": KEY})

    def listing(*args: str) -> Result:
        return runner.invoke(cli, ["list", "--config", config, "--limit", "5", *args, "--json"])

    first = listing()
    assert first.exit_code == 0, first.stderr
    cursor = json.loads(first.stdout)["next_cursor"]
    assert "." in cursor
    assert listing("--cursor", cursor).exit_code == 0
    unsigned = json.loads(invoke("list", "--database", database, "--limit", "5", "--json").stdout)
    line = one_line_error(listing("--cursor", unsigned["next_cursor"]), code=2)
    assert "--cursor: not a cursor" in line
    unset = one_line_error(invoke("list", "--config", config))
    assert "HOST_CURSOR_KEY, which is not set" in unset


# -- a plugin's state kind -----------------------------------------------------------------------

WIDGET = "widget"


def widget_registry() -> Registry:
    family = provider_connection.FAMILY
    assert isinstance(family.policy, FirstDecisive)
    rules = (*family.policy.rules[:2], ResolvedByState(WIDGET, {"healthy"}))
    policy = FirstDecisive(rules=rules, action=OpenRelatedAction(WIDGET, "Fix the widget"))
    return registry_replacing(attrs.evolve(family, state_kinds=frozenset({WIDGET}), policy=policy))


def widget_table(engine: sa.Engine) -> None:
    table = sa.Table(
        "cfg_widget_states",
        sa.MetaData(),
        sa.Column("workspace_id", sa.String(200), nullable=False),
        sa.Column("environment_id", sa.String(200)),
        sa.Column("subject", sa.String(200)),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("proven_at", UtcTimestamp(), nullable=False),
        sa.Column("attributes", JsonDocument(), nullable=False),
    )
    table.create(engine)


def warnings_of(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line]


def test_a_plugins_state_kind_without_a_table_is_one_line_until_the_file_names_it(
    database: str, sql_engine: sa.Engine, tmp_path: Path, monkeypatch: Any
) -> None:
    registry = widget_registry()
    monkeypatch.setattr(Registry, "default", classmethod(lambda cls, **_: registry))
    result = invoke("report", "--database", database, "--json")
    assert result.exit_code == 0, result.stderr
    (line,) = warnings_of(result)
    assert line.startswith("runactionability: warning: no state source for state kinds: 'widget'")
    assert "[states.KIND]" in line
    assert "Warning:" not in result.stderr
    widget_table(sql_engine)
    config = config_file(
        tmp_path,
        f"database = {toml_string(database)}\nreference_states = true\n"
        f'[states.{WIDGET}]\ntable = "cfg_widget_states"\ntimestamps = "native"\n',
    )
    named = invoke("report", "--config", config, "--json")
    assert named.exit_code == 0, named.stderr
    assert warnings_of(named) == []
    assert json.loads(named.stdout)["by_status"] == json.loads(result.stdout)["by_status"]


# -- a host's own tables ---------------------------------------------------------------------------

HOST_CONFIG = """
[runs]
table = "job_log"
id = "job_id"
type = "job_kind"
workspace_id = "tenant"
environment_id = "env"
status = "state"
outcome = "result"
created_at = "queued_at"
started_at = "began_at"
completed_at = "ended_at"
context = "payload"
subject = false
timestamps = "native"
statuses = { waiting = "queued", active = "running", done = "completed" }
outcomes = { ok = "succeeded", error = "failed", refused = "blocked", stopped = "cancelled" }

[states.provider_connection]
table = "connections"
workspace_id = "tenant"
environment_id = "env"
subject = "connection_id"
status = "health"
proven_at = "checked_at"
attributes = false
timestamps = "native"
statuses = { up = "healthy", down = "failing" }
"""


def test_the_cli_reads_a_hosts_own_tables_through_the_file(
    sql_engine: sa.Engine, tmp_path: Path
) -> None:
    host_mapping.host.create_all(sql_engine)
    job, connection = host_mapping.job, host_mapping.connection
    with sql_engine.begin() as db:
        db.execute(
            host_mapping.job_log.insert(),
            [
                job("j1", "refused", 0),
                job("j2", "error", 10, payload={"provider_connection_id": "42"}),
                job("j3", "ok", 20, payload={"provider_connection_id": 42}),
                job("j4", "error", 30, payload={"provider_connection_id": "c3"}),
                job("j5", "exploded", 40),
                job("j6", None, 50),
            ],
        )
        db.execute(
            host_mapping.connections.insert(),
            [connection("c1", "up", 5), connection("c3", "down", 35)],
        )
    config = config_file(
        tmp_path, f"database = {toml_string(database_option(sql_engine))}\n{HOST_CONFIG}"
    )
    as_of = ("--as-of", AS_OF.isoformat())
    result = invoke("list", "--config", config, *as_of, "--limit", "50", "--json")
    assert result.exit_code == 0, result.stderr
    listed = {run["run_id"]: run["actionability"] for run in json.loads(result.stdout)["runs"]}
    assert listed == {
        "j1": "resolved_by_current_state",
        "j2": "superseded_by_later_success",
        "j3": "informational_only",
        "j4": "actionable",
        "j5": "requires_manual_review",
        "j6": "not_terminal",
    }
    # The host keeps only connection states: the other kinds are named once, on one line; so
    # is the outcome (j5's) that the vocabulary does not list.
    lines = warnings_of(result)
    assert len(lines) == 2
    (line,) = [said for said in lines if "no state source" in said]
    assert "'baseline_snapshot'" in line
    assert any("do not list: 'exploded' (1)" in said for said in lines)
    report = ok_json("report", "--config", config, *as_of)
    assert report["by_status"]["actionable"] == 1


def test_a_hosts_runs_table_without_states_names_the_missing_kinds(
    sql_engine: sa.Engine, tmp_path: Path
) -> None:
    """With no ``[states]``, a host's own runs table is not given the reference state tables
    it does not have (which failed every request with the statement dumped); each kind without
    a table is named once, and the command answers."""
    host_mapping.host.create_all(sql_engine)
    with sql_engine.begin() as db:
        db.execute(host_mapping.job_log.insert(), [host_mapping.job("j1", "error", 0)])
    runs_only = HOST_CONFIG.split("[states.")[0]
    config = config_file(
        tmp_path, f"database = {toml_string(database_option(sql_engine))}\n{runs_only}"
    )
    result = invoke("report", "--config", config, "--as-of", AS_OF.isoformat(), "--json")
    assert result.exit_code == 0, result.stderr
    (line,) = warnings_of(result)
    assert line.startswith("runactionability: warning: no state source for state kinds:")
    assert "'provider_connection'" in line
    assert "[states.KIND]" in line
    assert json.loads(result.stdout)["total"] == 1


@pytest.mark.parametrize("command", ["report", "doctor"])
def test_a_state_section_no_family_reads_is_one_error_line(
    database: str, tmp_path: Path, command: str
) -> None:
    # A misspelt kind: its table was read by nothing and doctor passed (exit 0) without a word.
    config = config_file(
        tmp_path,
        f"database = {toml_string(database)}\nreference_states = true\n"
        '[states.provider_conection]\ntable = "provider_connection_states"\n'
        'timestamps = "native"\n',
    )
    line = one_line_error(invoke(command, "--config", config))
    assert "[states.provider_conection] (did you mean 'provider_connection'?)" in line
