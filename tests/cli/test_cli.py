"""The command line through click's CliRunner, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from tests.support import AS_OF, at, database_option, run, sql_ports

from runactionability.adapters.sqlalchemy import create_schema
from runactionability.cli import cli
from runactionability.result import Actionability

STATUSES = [status.value for status in Actionability]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def ok_json(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def one_line_error(result: Result, code: int = 1) -> str:
    assert result.exit_code == code
    assert result.stdout == "" or code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("runactionability: error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def database(sql_engine: sa.Engine, demo_into: Callable[[sa.Engine], str]) -> str:
    """A small demo in the test database; returns the --database value."""
    return demo_into(sql_engine)


# -- a tiny checker for the documented JSON shapes ---------------------------------------------

OPT_STR = (str, type(None))
ID = (str, int)
PROOF_RUN = {
    "kind": str,
    "run_id": ID,
    "operation_type": str,
    "workspace_id": str,
    "environment_id": OPT_STR,
    "subject": OPT_STR,
    "started_at": str,
    "completed_at": str,
}
PROOF_STATE = {
    "kind": str,
    "state_kind": str,
    "workspace_id": str,
    "environment_id": OPT_STR,
    "subject": OPT_STR,
    "status": str,
    "proven_at": str,
}
MESSAGE = {"id": str, "params": dict}
ACTION = {
    "kind": str,
    "label": str,
    "label_message": MESSAGE,
    "target_kind": OPT_STR,
    "target_id": OPT_STR,
}
RUN = {
    "run_id": ID,
    "operation_type": OPT_STR,
    "canonical_type": OPT_STR,
    "family": OPT_STR,
    "workspace_id": (str, int, type(None)),
    "environment_id": (str, int, type(None)),
    "status": OPT_STR,
    "outcome": OPT_STR,
    "created_at": OPT_STR,
    "completed_at": OPT_STR,
    "actionability": str,
    "needs_attention": bool,
    "reason": str,
    "explanation": str,
    "explanation_message": MESSAGE,
    "proof": "proof",
    "primary_action": "action",
    "eligible_actions": [str],
    "active_run_id": (str, int, type(None)),
}
COUNTS = {"total": int, "needs_attention": int, "by_status": "by_status"}
SCOPES = {"workspace_ids": [str], "environment_ids": ([str], type(None))}


def check(value: Any, shape: Any, where: str = "$") -> None:
    if shape == "proof":
        if value is not None:
            check(value, PROOF_RUN if value.get("kind") == "run" else PROOF_STATE, where)
            assert value["kind"] in ("run", "state"), where
    elif shape == "action":
        if value is not None:
            check(value, ACTION, where)
    elif shape == "by_status":
        assert list(value) == STATUSES, where
        assert all(isinstance(n, int) for n in value.values()), where
    elif isinstance(shape, dict):
        assert isinstance(value, dict), where
        assert set(value) == set(shape), f"{where}: {sorted(set(value) ^ set(shape))}"
        for key, sub in shape.items():
            check(value[key], sub, f"{where}.{key}")
    elif isinstance(shape, list):
        assert isinstance(value, list), where
        for index, item in enumerate(value):
            check(item, shape[0], f"{where}[{index}]")
    elif isinstance(shape, tuple) and any(isinstance(s, list) for s in shape):
        if value is not None:
            check(value, next(s for s in shape if isinstance(s, list)), where)
    else:
        assert isinstance(value, shape), f"{where}: {value!r}"
        if shape is int:
            assert not isinstance(value, bool), where


REPORT = {
    "schema": str,
    "as_of": str,
    "scopes": SCOPES,
    **COUNTS,
    "by_family": [{"family": OPT_STR, **COUNTS}],
    "by_environment": [{"workspace_id": str, "environment_id": OPT_STR, **COUNTS}],
    "top": [RUN],
    "active": {"queued": int, "running": int, "by_type": dict, "newest": [RUN]},
    "unattributed": (int, type(None)),
}
LIST = {
    "schema": str,
    "as_of": str,
    "scopes": SCOPES,
    "view": str,
    "limit": int,
    "runs": [RUN],
    "next_cursor": OPT_STR,
    "scanned": int,
}
EXPLAIN = {
    "schema": str,
    "as_of": str,
    "run": RUN,
    "risk": OPT_STR,
    "plugin": OPT_STR,
    "would_change": [str],
    "would_change_messages": [MESSAGE],
}
DEMO = {
    "schema": str,
    "as_of": str,
    "database": str,
    "replaced": bool,
    "seed": int,
    "size": str,
    "runs": int,
    "states": int,
    "raw": {"needs_attention": int, "by_outcome": dict},
    "actionability": COUNTS,
    "headlines": [
        {"case": str, "title": str, "run": RUN, "success_elsewhere": (str, int, type(None))}
    ],
}
COVERAGE = {
    "schema": str,
    "catalog": str,
    "types": [{"name": str, "family": str, "covered": bool, "class": str}],
    "uncovered": [{"name": str, "family": str}],
}
FAMILIES = {
    "schema": str,
    "families": [
        {
            "name": str,
            "risk": str,
            "plugin": str,
            "repeatable": bool,
            "state_kinds": [str],
            "types": [str],
            "classes": dict,
            "description": str,
        }
    ],
}


# -- demo -------------------------------------------------------------------------------------


def test_demo_shows_raw_failures_beside_current_actionability(database: str) -> None:
    payload = ok_json("demo", "--database", database, "--size", "small")
    check(payload, DEMO)
    assert payload["schema"] == "runactionability.demo/1"
    assert payload["replaced"] is True  # the fixture already ran it once
    cases = {h["case"]: h for h in payload["headlines"]}
    assert cases["provider_loop"]["run"]["actionability"] == "resolved_by_current_state"
    assert cases["provider_loop"]["run"]["outcome"] == "blocked"
    assert cases["provider_loop"]["run"]["proof"]["state_kind"] == "provider_connection"
    assert cases["sync_recovered"]["run"]["actionability"] == "superseded_by_later_success"
    assert cases["restore_recovered"]["run"]["actionability"] == "requires_manual_review"
    cross = cases["cross_workspace"]
    assert cross["run"]["actionability"] == "actionable"
    assert cross["success_elsewhere"] is not None
    assert cases["retry_queued"]["run"]["primary_action"]["kind"] == "view_active_run"
    raw, current = payload["raw"], payload["actionability"]
    assert raw["needs_attention"] > current["needs_attention"] > 0
    assert sum(raw["by_outcome"].values()) == current["total"] == payload["runs"]


def test_demo_is_deterministic_and_safe_to_run_twice(tmp_path: Path) -> None:
    path = str(tmp_path / "demo.sqlite")
    first = ok_json("demo", "--database", path, "--size", "small")
    second = ok_json("demo", "--database", path, "--size", "small")
    assert (first["replaced"], second["replaced"]) == (False, True)
    first.pop("replaced")
    second.pop("replaced")
    assert first == second


def test_demo_refuses_a_database_it_did_not_create(tmp_path: Path) -> None:
    path = tmp_path / "host.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    create_schema(engine)
    engine.dispose()
    line = one_line_error(invoke("demo", "--database", str(path), "--size", "small"), code=2)
    assert "did not create" in line


def test_demo_leaves_a_hosts_database_with_unrelated_tables_as_it_was(
    sql_engine: sa.Engine,
) -> None:
    # The demo once added its eight tables beside a host's own; now it refuses, naming a few.
    with sql_engine.begin() as connection:
        for name in ("users", "orders", "invoices", "audit_log"):
            connection.execute(sa.text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)"))
    before = sorted(sa.inspect(sql_engine).get_table_names())
    url = database_option(sql_engine)
    line = one_line_error(invoke("demo", "--database", url, "--size", "small"), code=2)
    assert line == (
        f"runactionability: error: --database {url!r}: the database already holds tables the "
        "demo did not create: 'audit_log', 'invoices', 'orders' and 1 more; name a new file or "
        "an earlier demo database"
    )
    sql_engine.dispose()
    assert sorted(sa.inspect(sql_engine).get_table_names()) == before


def test_demo_accepts_an_empty_file_and_an_earlier_demo_with_a_table_added(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    assert ok_json("demo", "--database", str(path), "--size", "small")["replaced"] is False
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    assert ok_json("demo", "--database", str(path), "--size", "small")["replaced"] is True


def test_demo_text_output_names_the_database_and_the_next_steps(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    result = invoke("demo", "--database", str(path), "--size", "small")
    assert result.exit_code == 0, result.stderr
    assert str(path) in result.stdout.replace("\n", "")
    assert "needs attention" in result.stdout
    assert "runactionability explain" in result.stdout


# -- report -----------------------------------------------------------------------------------


def test_report_json_follows_the_schema_and_agrees_with_itself(database: str) -> None:
    payload = ok_json("report", "--database", database, "--top", "50")
    check(payload, REPORT)
    assert payload["schema"] == "runactionability.report/1"
    assert payload["as_of"] == "2026-11-20T12:00:00+00:00"  # the demo's own instant
    assert payload["scopes"]["workspace_ids"] == ["acme", "globex", "initech"]
    assert sum(f["needs_attention"] for f in payload["by_family"]) == payload["needs_attention"]
    assert sum(e["total"] for e in payload["by_environment"]) == payload["total"]
    assert len(payload["top"]) == payload["needs_attention"]
    assert all(item["needs_attention"] and item["primary_action"] for item in payload["top"])
    active = payload["active"]
    assert active["queued"] + active["running"] == payload["by_status"]["not_terminal"]
    assert not any(item["needs_attention"] for item in active["newest"])
    assert payload["unattributed"] == 0  # the whole database: counted, and the demo has none


def test_report_is_bounded_by_the_visible_scopes(database: str) -> None:
    everything = ok_json("report", "--database", database, "--top", "50")
    acme = ok_json("report", "--database", database, "--workspace", "acme", "--top", "50")
    assert {e["workspace_id"] for e in acme["by_environment"]} == {"acme"}
    assert all(item["workspace_id"] == "acme" for item in acme["top"])
    for item in acme["top"]:
        proof = item["proof"]
        assert proof is None or proof["workspace_id"] == "acme"
    assert acme["total"] < everything["total"]
    prod = ok_json("report", "--database", database, "--workspace", "acme", "--environment", "prod")
    assert {(e["workspace_id"], e["environment_id"]) for e in prod["by_environment"]} <= {
        ("acme", "prod"),
        ("acme", None),
    }


@pytest.mark.parametrize("command", [["report"], ["list"], ["explain", "2740"]])
def test_a_workspace_no_run_belongs_to_is_an_error_that_names_no_other(
    database: str, command: list[str]
) -> None:
    # Once an empty dashboard with exit 0: a typo looked like a quiet workspace.
    result = invoke(*command, "--database", database, "--workspace", "acme", "--workspace", "acm")
    line = one_line_error(result)
    assert line == (
        f"runactionability: error: --workspace 'acm': no run in the database {database!r} "
        "belongs to this workspace"
    )
    assert not {"globex", "initech"} & set(line.replace("'", " ").split())
    two = invoke(*command, "--workspace", "x", "--workspace", "y", "--database", database, "--json")
    assert one_line_error(two) == (
        f"runactionability: error: --workspace 'x', 'y': no run in the database {database!r} "
        "belongs to these workspaces"
    )


def test_a_workspace_known_by_its_runs_is_empty_before_they_began(database: str) -> None:
    # Known means "has runs in the database", not "has runs at --as-of": a workspace looked at
    # before its first run is a true, empty answer (docs/decisions.md).
    payload = ok_json(
        "report", "--database", database, "--workspace", "acme", "--as-of", "2000-01-01T00:00:00"
    )
    assert (payload["scopes"]["workspace_ids"], payload["total"]) == (["acme"], 0)


def test_report_text_explains_the_numbers(database: str) -> None:
    result = invoke("report", "--database", database)
    assert result.exit_code == 0, result.stderr
    assert "need attention" in result.stdout
    assert "By family" in result.stdout


@pytest.mark.parametrize(
    ("outcomes", "headline"),
    [
        (["failed", "succeeded", "succeeded"], "1 of 3 runs needs attention"),
        (["failed"], "1 of 1 run needs attention"),
        (["failed", "failed"], "2 of 2 runs need attention"),
    ],
)
def test_report_text_agrees_the_noun_with_the_total_and_the_verb_with_the_count(
    sql_engine: sa.Engine, outcomes: list[str], headline: str
) -> None:
    # It printed "1 of 3 run needs attention": one plural form served both words.
    types = ["provider.connection.check", "inventory.sync", "baseline.capture"][: len(outcomes)]
    runs = [
        run(n, type_, outcome=outcome, created_at=at(n))
        for n, (type_, outcome) in enumerate(zip(types, outcomes, strict=True), start=1)
    ]
    sql_ports(sql_engine, runs, [])
    result = invoke(
        "report", "--database", database_option(sql_engine), "--as-of", AS_OF.isoformat()
    )
    assert result.exit_code == 0, result.stderr
    assert headline in " ".join(result.stdout.split())


# -- list -------------------------------------------------------------------------------------


def _pages(database: str, *flags: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    cursor: list[str] = []
    while True:
        page = ok_json("list", "--database", database, "--limit", "7", *flags, *cursor)
        check(page, LIST)
        assert len(page["runs"]) <= 7
        runs += page["runs"]
        if page["next_cursor"] is None:
            return runs
        cursor = ["--cursor", page["next_cursor"]]


def test_list_current_follow_up_pages_match_the_report(database: str) -> None:
    follow_up = _pages(database, "--current-follow-up")
    report = ok_json("report", "--database", database, "--top", "500")
    assert [r["run_id"] for r in follow_up] == [r["run_id"] for r in report["top"]]
    assert {r["actionability"] for r in follow_up} <= {"actionable", "requires_manual_review"}


def test_piped_tables_keep_every_name_whole(database: str) -> None:
    # Rich fitted tables into 120 columns by cutting names short ("provider.connection.c…").
    listed = invoke("list", "--database", database, "--limit", "200")
    assert listed.exit_code == 0, listed.stderr
    rows = {
        line.split()[0]: line.split()
        for line in listed.stdout.splitlines()
        if line[:6].strip().isdigit()
    }
    runs = ok_json("list", "--database", database, "--limit", "200")["runs"]
    assert len(rows) == len(runs) == 200
    assert all(rows[str(r["run_id"])][1:3] == [r["operation_type"], _scope(r)] for r in runs)
    assert any(len(line) > 120 for line in listed.stdout.splitlines())
    for command in (["families"], ["coverage"]):
        shown = invoke(*command)
        assert shown.exit_code == 0, shown.stderr
        assert "…" not in shown.stdout


def _scope(run: dict[str, Any]) -> str:
    environment = run["environment_id"]
    return str(run["workspace_id"]) + ("" if environment is None else f"/{environment}")


def test_list_history_is_the_complement_among_terminal_runs(database: str) -> None:
    everything = ok_json("list", "--database", database, "--limit", "10000")
    history = ok_json("list", "--database", database, "--history", "--limit", "10000")
    assert history["view"] == "history"
    assert {r["actionability"] for r in history["runs"]} <= {
        "superseded_by_later_success",
        "resolved_by_current_state",
        "informational_only",
    }
    kept = {r["run_id"] for r in history["runs"]}
    rest = [r for r in everything["runs"] if r["run_id"] not in kept]
    assert all(r["needs_attention"] or r["actionability"] == "not_terminal" for r in rest)


def test_list_text_shows_history_beside_actionability(database: str) -> None:
    result = invoke("list", "--database", database, "--current-follow-up", "--limit", "3")
    assert result.exit_code == 0, result.stderr
    assert "actionability" in result.stdout
    assert "--cursor" in result.stdout


# -- explain ----------------------------------------------------------------------------------


def _headline(database: str, case: str) -> dict[str, Any]:
    payload = ok_json("demo", "--database", database, "--size", "small")
    return next(h["run"] for h in payload["headlines"] if h["case"] == case)


def test_explain_the_provider_loop(database: str) -> None:
    loop = _headline(database, "provider_loop")
    payload = ok_json("explain", str(loop["run_id"]), "--database", database)
    check(payload, EXPLAIN)
    assert payload["run"] == loop
    assert payload["plugin"] == "runactionability.provider_connection"
    assert payload["risk"] == "standard"
    assert payload["run"]["proof"]["status"] == "healthy"
    assert payload["would_change"][0].startswith("Nothing")


def test_explain_an_open_failure_names_the_evidence_that_would_close_it(database: str) -> None:
    cross = _headline(database, "cross_workspace")
    payload = ok_json("explain", str(cross["run_id"]), "--database", database)
    (sentence,) = payload["would_change"]
    assert "A later successful policy sync in environment prod of workspace globex" in sentence
    (change,) = payload["would_change_messages"]
    assert change["id"] == "would_change.later_success"
    assert change["params"]["after"] == cross["completed_at"]
    assert "November 19, 2026, 8:04:00\u202fPM UTC" in sentence
    text = invoke("explain", str(cross["run_id"]), "--database", database)
    assert "What would change it" in text.stdout


def test_explain_reports_an_unknown_or_hidden_run_as_one_line(database: str) -> None:
    line = one_line_error(invoke("explain", "99999999", "--database", database))
    assert "no run '99999999'" in line
    loop = _headline(database, "provider_loop")
    hidden = invoke("explain", str(loop["run_id"]), "--database", database, "--workspace", "globex")
    assert "no run" in one_line_error(hidden)


# -- coverage and families ----------------------------------------------------------------------


def test_coverage_of_the_reference_catalog_passes() -> None:
    payload = ok_json("coverage")
    check(payload, COVERAGE)
    assert payload["uncovered"] == []
    assert all(t["covered"] for t in payload["types"])


def test_coverage_lists_uncovered_types_and_exits_non_zero(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[[types]]\nname = "inventory.sync"\nfamily = "repeatable_sync"\n'
        '[[types]]\nname = "billing.export"\nfamily = "billing"\n'
    )
    line = one_line_error(invoke("coverage", "--catalog", str(catalog)), code=3)
    assert "billing.export" in line
    result = invoke("coverage", "--catalog", str(catalog), "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["uncovered"] == [
        {"name": "billing.export", "family": "billing"}
    ]


def test_families_name_their_risk_and_plugin() -> None:
    payload = ok_json("families")
    check(payload, FAMILIES)
    by_name = {f["name"]: f for f in payload["families"]}
    assert by_name["high_risk"]["risk"] == "high"
    assert by_name["provider_connection"]["plugin"] == "runactionability.provider_connection"
    assert {n for n, f in by_name.items() if f["repeatable"]} == {"repeatable_sync", "artifact"}
    assert "restore.execute" in by_name["high_risk"]["types"]


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["report", "list", "explain"])
def test_a_missing_file_is_one_line(tmp_path: Path, command: str) -> None:
    args = [command, "--database", str(tmp_path / "nope.sqlite")]
    if command == "explain":
        args.insert(1, "1")
    line = one_line_error(invoke(*args))
    assert "no database at" in line
    assert not (tmp_path / "nope.sqlite").exists()


def test_a_bad_url_is_one_line() -> None:
    assert "bad database URL" in one_line_error(invoke("report", "--database", "nosuch://x/y"))


def test_an_unreachable_database_is_one_line() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
    line = one_line_error(invoke("report", "--database", url))
    assert "127.0.0.1" in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--debug", "report", "--database", "nosuch://x/y"])
    assert result.exit_code == 1  # CliError raised before the database is touched
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
    result = CliRunner().invoke(cli, ["--debug", "report", "--database", url])
    assert isinstance(result.exception, sa.exc.OperationalError)


@pytest.mark.parametrize("command", [["report"], ["list"], ["changes", "--since", "3d"]])
def test_an_environment_no_run_belongs_to_is_an_error(database: str, command: list[str]) -> None:
    # Once a dashboard of the workspace-owned runs with exit 0: a typo looked like a quiet
    # environment.
    result = invoke(*command, "--database", database, "--environment", "prd")
    assert one_line_error(result) == (
        f"runactionability: error: --environment 'prd': no run in the database {database!r} "
        "belongs to this environment"
    )
    # globex's dev exists, but not in acme: the error names nothing else, as for a typo.
    named = invoke(
        *command, "--database", database, "--workspace", "acme", "--environment", "dev", "--json"
    )
    assert one_line_error(named) == (
        "runactionability: error: --environment 'dev': no run of the workspaces named in the "
        f"database {database!r} belongs to this environment"
    )
    assert ok_json(*command, "--database", database, "--environment", "dev")["scopes"][
        "environment_ids"
    ] == ["dev"]
