"""Hostile input to the command line and the adapters: typed errors, one line, no side effects.

Crafted ids and cursors, malformed catalogs and URLs are refused by the library's own errors
before any database sees them, and the CLI prints one line with its documented exit code (1 for
a bad database, catalog or run; 2 for a bad option value or a contradictory option pair).
"""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.cli.test_cli import database, invoke, ok_json, one_line_error
from tests.support import AS_OF, database_option

from runactionability import (
    CatalogError,
    ConfigurationError,
    EvidenceFetchError,
    InvalidCursorError,
    OperationCatalog,
    RunQuery,
    UsageError,
    VisibleScopes,
)
from runactionability.adapters.memory import MemoryRunSource
from runactionability.adapters.sqlalchemy import SqlRunSource, create_schema, open_backend
from runactionability.adapters.sqlalchemy.backend import redacted_url
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.testing import count_statements

__all__ = ["database"]  # the demo fixture of test_cli, shared


def cursor_of(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


INSTANT = "2026-11-18T00:00:00+00:00"
CRAFTED_CURSORS = {
    "not base64": "%%%not-a-cursor%%%",
    "not json": base64.urlsafe_b64encode(b"\xff\xfe garbage").decode(),
    "short": cursor_of(["instant", INSTANT]),
    "long": cursor_of(["instant", INSTANT, 5, 6]),
    "a dict": cursor_of({"tag": "instant", "created": INSTANT, "id": 5}),
    "a list id": cursor_of(["instant", INSTANT, [1]]),
    "a dict id": cursor_of(["instant", INSTANT, {"a": 1}]),
    "a bool id": cursor_of(["instant", INSTANT, True]),
    "a float id": cursor_of(["instant", INSTANT, 5.5]),
    "an id beyond 64 bits": cursor_of(["instant", INSTANT, 10**40]),
    "a text id for an integer column": cursor_of(["instant", INSTANT, "abc"]),
    "a naive instant": cursor_of(["instant", "2026-11-18T00:00:00", 5]),
    "a naive tag on an aware column": cursor_of(["naive", "2026-11-18T00:00:00", 5]),
    "an unknown tag": cursor_of(["later", INSTANT, 5]),
    "null tag with an instant": cursor_of(["null", INSTANT, 5]),
    "instant tag with a number": cursor_of(["instant", 12345, 5]),
    "stored tag with a list": cursor_of(["stored", [1], 5]),
}


# -- cursors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CRAFTED_CURSORS))
def test_a_crafted_cursor_is_refused_before_any_statement(sql_engine: sa.Engine, name: str) -> None:
    cursor = CRAFTED_CURSORS[name]
    create_schema(sql_engine)
    scopes = VisibleScopes(["acme"])
    source = SqlRunSource(sql_engine)
    pushdown = SqlPushdown(sql_engine)
    pushdown.compiled()
    # A host's PostgreSQL column may be naive, so only there the run source pages on a naive
    # instant (tagged as one); the follow-up list reads the reference schema, always aware.
    naive_allowed = name == "a naive tag on an aware column" and sql_engine.dialect.name != "sqlite"
    with count_statements(sql_engine) as seen:
        if not naive_allowed:
            with pytest.raises(InvalidCursorError, match="not a cursor"):
                source.list_runs(scopes.query(), cursor=cursor)
        with pytest.raises(InvalidCursorError, match="not a cursor"):
            pushdown.follow_up_page(scopes, as_of=AS_OF, cursor=cursor)
    assert seen.statements == []
    # Still the error it used to be, for callers that catch that.
    assert issubclass(InvalidCursorError, UsageError)


@pytest.mark.parametrize("name", sorted(CRAFTED_CURSORS))
def test_a_crafted_cursor_is_refused_by_the_memory_source(name: str) -> None:
    if name == "a text id for an integer column":
        pytest.skip("the memory source holds str and int ids alike")
    with pytest.raises(InvalidCursorError):
        MemoryRunSource().list_runs(RunQuery(workspace_ids={"acme"}), cursor=CRAFTED_CURSORS[name])


def test_a_cursor_the_sources_issued_still_pages(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    source = SqlRunSource(sql_engine)
    for cursor in (cursor_of(["instant", INSTANT, 5]), cursor_of(["null", None, 5])):
        assert source.list_runs(VisibleScopes(["acme"]).query(), cursor=cursor).runs == []


def test_the_cli_refuses_a_crafted_cursor_as_a_usage_error(database: str) -> None:
    for name in ("not base64", "a list id", "a naive instant", "an id beyond 64 bits"):
        cursor = CRAFTED_CURSORS[name]
        for view in ((), ("--current-follow-up",)):
            result = invoke("list", *view, "--database", database, "--cursor", cursor)
            line = one_line_error(result, code=2)
            assert "--cursor: not a cursor" in line, name
            assert "unexpected" not in line


# -- ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("run_id", ["²", "--5", "1_000", "١٢", "1" * 40, "-" + "9" * 40])
def test_a_crafted_id_is_no_such_run(sql_engine: sa.Engine, run_id: str) -> None:
    create_schema(sql_engine)
    source = SqlRunSource(sql_engine)
    assert source.get_run(run_id) is None
    assert source.get_run(int("9" * 40)) is None


def test_a_run_id_of_the_wrong_kind_is_a_usage_error(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    source = SqlRunSource(sql_engine)
    for bad in (True, 1.5, None, [1]):
        with pytest.raises(UsageError):
            source.get_run(bad)  # type: ignore[arg-type]


def test_the_cli_says_no_such_run_for_a_crafted_id(database: str) -> None:
    for run_id in ("²", "--5", "1" * 40):
        line = one_line_error(invoke("explain", "--database", database, "--", run_id))
        assert f"no run {run_id!r}" in line


def test_a_blank_scope_option_is_a_usage_error(tmp_path: Path) -> None:
    for option in ("--workspace", "--environment"):
        line = one_line_error(invoke("report", option, "  ", "--database", "x.sqlite"), code=2)
        assert f"{option} '  ' is not a usable id" in line


# -- catalogs ---------------------------------------------------------------------------------

BAD_CATALOGS: dict[str, bytes] = {
    "types is a string": b'types = "inventory.sync"\n',
    "an entry is a number": b"types = [1, 2]\n",
    "an entry is a list": b"types = [[1, 2]]\n",
    "an alias is a number": b'[[types]]\nname = "x"\nfamily = "informational"\naliases = [1]\n',
    "a subject key is a number": (
        b'[[types]]\nname = "x"\nfamily = "informational"\nsubject_key = 5\n'
    ),
    "a label is a table": b'[[types]]\nname = "x"\nfamily = "informational"\nlabel = {a = 1}\n',
    "binary garbage": bytes(range(256)) * 4,
    "not toml": b"[[types]\nname = \n",
}


@pytest.mark.parametrize("name", sorted(BAD_CATALOGS))
def test_a_malformed_catalog_is_a_catalog_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "catalog.toml"
    path.write_bytes(BAD_CATALOGS[name])
    with pytest.raises(CatalogError, match="catalog"):
        OperationCatalog.from_toml(path)
    for command in (("coverage",), ("report", "--database", str(tmp_path / "none.sqlite"))):
        line = one_line_error(invoke(*command, "--catalog", str(path)))
        assert "catalog" in line
        assert "unexpected" not in line


def test_a_catalog_mapping_of_the_wrong_shape_is_a_catalog_error() -> None:
    data: object
    for data in ([], "types", {"types": [None]}, {"types": [{"name": "x", "family": 5}]}):
        with pytest.raises(CatalogError):
            OperationCatalog.from_mapping(data)  # type: ignore[arg-type]


# -- URLs and files ---------------------------------------------------------------------------

BAD_PORTS = [
    "postgresql+psycopg://reader:s3cret@db.example:abc/app",
    "postgresql+psycopg://reader:s3cret@db.example:0/app",
    "postgresql+psycopg://reader:s3cret@db.example:70000/app",
]


@pytest.mark.parametrize("url", BAD_PORTS)
def test_a_bad_port_is_a_configuration_error_naming_no_password(url: str) -> None:
    with pytest.raises(ConfigurationError, match="bad database URL") as raised:
        open_backend(url)
    assert "s3cret" not in str(raised.value)
    line = one_line_error(invoke("report", "--database", url))
    assert "bad database URL" in line
    assert "s3cret" not in line
    assert "unexpected" not in line


def test_a_read_command_never_creates_a_sqlite_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    for given in (
        str(missing),
        f"sqlite:///{missing}",
        f"sqlite:///file:{missing}?uri=true",
    ):
        for command in (("report",), ("list",), ("explain", "1")):
            result = invoke(*command, "--database", given)
            assert result.exit_code == 1, (given, result.output)
            assert not missing.exists(), given


def test_a_read_command_opens_sqlite_read_only(database: str, sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "sqlite":
        pytest.skip("a SQLite file")
    before = Path(database).read_bytes()
    ok_json("report", "--database", database)
    ok_json("report", "--database", f"sqlite:///{database}")
    assert Path(database).read_bytes() == before


def test_a_path_with_uri_characters_is_still_a_path(tmp_path: Path) -> None:
    odd = tmp_path / "a ?b#c%20.sqlite"
    result = invoke("demo", "--database", str(odd), "--size", "small", "--json")
    assert result.exit_code == 0, result.output
    assert ok_json("report", "--database", str(odd))["total"] > 0


def test_a_file_that_is_not_sqlite_is_named(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, just notes\n" * 200)
    for command in (("report",), ("list",), ("explain", "1")):
        line = one_line_error(invoke(*command, "--database", str(notes)))
        assert f"{str(notes)!r} is not a SQLite database" in line


# -- contradictory or out-of-range options ----------------------------------------------------


def test_current_follow_up_and_history_together_are_refused(tmp_path: Path) -> None:
    result = invoke("list", "--current-follow-up", "--history", "--database", "x.sqlite")
    line = one_line_error(result, code=2)
    assert "--current-follow-up and --history are contradictory" in line


@pytest.mark.parametrize("top", ["-1", "1001", "1" * 40])
def test_top_is_range_checked(top: str) -> None:
    result = invoke("report", "--top", top, "--database", "x.sqlite")
    assert result.exit_code == 2
    assert "--top" in result.stderr


@pytest.mark.parametrize("command", ["list", "changes"])
@pytest.mark.parametrize("limit", ["0", "10001", "1" * 40])
def test_limit_is_range_checked(command: str, limit: str) -> None:
    # The request API's own bound (MAX_LIMIT), so no --limit the command takes is refused later.
    result = invoke(command, "--limit", limit, "--database", "x.sqlite")
    assert result.exit_code == 2
    assert "--limit" in result.stderr
    assert "1<=x<=10000" in result.stderr


def test_top_says_it_caps_active_work_and_zero_lists_none(database: str) -> None:
    help_text = " ".join(invoke("report", "--help").stdout.split())
    assert "newest active runs" in help_text
    assert "never capped" in help_text
    payload = ok_json("report", "--database", database, "--top", "0")
    assert payload["top"] == []
    assert payload["active"]["newest"] == []
    assert payload["active"]["queued"] + payload["active"]["running"] > 0
    capped = ok_json("report", "--database", database, "--top", "1")
    assert len(capped["active"]["newest"]) == 1


# -- the default scope and a blank workspace id -----------------------------------------------


def test_a_blank_workspace_id_does_not_fail_the_default_scope(
    database: str, sql_engine: sa.Engine
) -> None:
    with sql_engine.begin() as connection:
        failed = connection.execute(
            sa.text(
                "SELECT id FROM operation_runs WHERE outcome = 'failed' AND workspace_id = 'acme' "
                "ORDER BY id LIMIT 2"
            )
        ).scalars()
        blank, spaces = list(failed)
        connection.execute(
            sa.text("UPDATE operation_runs SET workspace_id = '' WHERE id = :id"), {"id": blank}
        )
        connection.execute(
            sa.text("UPDATE operation_runs SET workspace_id = '   ' WHERE id = :id"),
            {"id": spaces},
        )
    report = ok_json("report", "--database", database)
    assert "" not in report["scopes"]["workspace_ids"]
    assert "acme" in report["scopes"]["workspace_ids"]
    listed = ok_json("list", "--database", database, "--limit", "500")
    assert blank not in {run["run_id"] for run in listed["runs"]}
    # Asked for by id with the default scope (the whole database), the run is answered, flagged.
    for run_id in (blank, spaces):
        told = ok_json("explain", str(run_id), "--database", database)["run"]
        assert told["actionability"] == "requires_manual_review"
        assert told["reason"] == "invalid_scope"
        assert told["primary_action"] is None
    # An actor's scope never admits it.
    line = one_line_error(
        invoke("explain", str(blank), "--database", database, "--workspace", "acme")
    )
    assert f"no run '{blank}'" in line


# -- database failures of the pushdown --------------------------------------------------------


def test_a_pushdown_database_error_is_an_evidence_fetch_error(sql_engine: sa.Engine) -> None:
    # No tables: every statement fails in the database.
    pushdown = SqlPushdown(sql_engine)
    scopes = VisibleScopes(["acme"])
    with pytest.raises(EvidenceFetchError, match="pushdown") as raised:
        pushdown.count(scopes, as_of=AS_OF)
    assert isinstance(raised.value.__cause__, sa.exc.DBAPIError)
    with pytest.raises(EvidenceFetchError, match="pushdown"):
        pushdown.follow_up_page(scopes, as_of=AS_OF)
    with pytest.raises(EvidenceFetchError, match="pushdown"):
        pushdown.classify(scopes, as_of=AS_OF)


def test_a_database_error_is_the_drivers_first_line(database: str, sql_engine: sa.Engine) -> None:
    # A host table under the demo marker's name, without the column the marker is read by:
    # PostgreSQL follows its message with the statement's line and a caret under it, SQL that
    # is no part of the one line a user reads.
    with sql_engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE runactionability_demo"))
        connection.execute(sa.text("CREATE TABLE runactionability_demo (seed INTEGER)"))
    line = one_line_error(invoke("report", "--database", database))
    missing = {
        "sqlite": "no such column: runactionability_demo.size",
        "postgresql": "column runactionability_demo.size does not exist",
    }[sql_engine.dialect.name]
    assert line == f"runactionability: error: {missing}"


# -- instants outside the calendar, drivers not installed, passwords --------------------------

OUT_OF_RANGE = ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"]
"""Instants Python parses whose UTC time falls outside the years 1 to 9999."""


@pytest.mark.parametrize("instant", OUT_OF_RANGE)
@pytest.mark.parametrize("command", [["report"], ["list"], ["explain", "5"], ["doctor"]])
def test_an_as_of_outside_the_calendar_is_refused_before_any_read(
    tmp_path: Path, command: list[str], instant: str
) -> None:
    # No database there: the option is refused before the command looks for one.
    missing = str(tmp_path / "none.sqlite")
    line = one_line_error(invoke(*command, "--as-of", instant, "--database", missing), code=2)
    assert line == (
        f"runactionability: error: --as-of '{instant}' is out of range: in UTC it falls outside "
        "the years 1 to 9999"
    )
    line = one_line_error(invoke(*command, "--as-of", "today", "--database", missing), code=2)
    assert line == "runactionability: error: --as-of 'today' is not an ISO 8601 instant"


def test_a_change_window_outside_the_calendar_is_a_usage_error(database: str) -> None:
    for option, instant in zip(("--until", "--since"), OUT_OF_RANGE, strict=True):
        window = {"--since": "2026-11-19T00:00:00", "--until": "2026-11-20T00:00:00"}
        window[option] = instant
        args = [part for pair in window.items() for part in pair]
        line = one_line_error(invoke("changes", "--database", database, *args), code=2)
        assert f"{option} '{instant}' is out of range" in line


def test_a_url_the_cli_cannot_open_names_no_password() -> None:
    if importlib.util.find_spec("pg8000") is not None:
        pytest.skip("pg8000 is installed here")
    line = one_line_error(invoke("report", "--database", "nosuch://reader:s3cret@db/app"))
    assert line == (
        "runactionability: error: bad database URL 'nosuch://reader:***@db/app': Can't load "
        "plugin: sqlalchemy.dialects:nosuch"
    )
    line = one_line_error(invoke("report", "--database", "postgresql+pg8000://reader:s3cret@db/a"))
    assert line == (
        "runactionability: error: the driver of 'postgresql+pg8000://reader:***@db/a' is not "
        "installed (No module named 'pg8000'); install it, or name an installed one "
        "(postgresql+psycopg://...)"
    )


def test_the_demo_prints_its_database_url_without_the_password(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name == "sqlite":
        pytest.skip("a SQLite file has no password")
    # The suite's server trusts its clients, so the password is never checked, only shown.
    url = sa.make_url(database_option(sql_engine)).set(password="s3/cr@t")
    given = url.render_as_string(hide_password=False)
    text = invoke("demo", "--database", given, "--size", "small")
    assert text.exit_code == 0, text.output + text.stderr
    shown = invoke("demo", "--database", given, "--size", "small", "--json")
    assert shown.exit_code == 0, shown.output + shown.stderr
    for output in (text.stdout, text.stderr, shown.stdout, shown.stderr):
        assert "s3" not in output
        assert "cr@t" not in output
    assert f"--database {url.render_as_string()}" in text.stdout.replace("\n", "")
    assert json.loads(shown.stdout)["database"] == url.render_as_string()


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("postgresql://reader:s3/cret@db/app", "'postgresql://reader:***@db/app'"),
        ("postgresql://reader:s3@cret@db/app", "'postgresql://reader:***@db/app'"),
        ("nosuch://reader:s3@c/ret@db/app", "'nosuch://reader:***@db/app'"),
        ("postgresql://reader@db/app", "'postgresql://reader@db/app'"),
        # A '?' before the '@' once hid it from the count: 'pa?s@s' showed its tail 's'.
        ("postgresql://reader:pa?s@s@db/app", "'postgresql://reader:***@db/app'"),
    ],
)
def test_a_password_holding_a_slash_or_an_at_is_masked_whole(given: str, shown: str) -> None:
    assert redacted_url(given) == shown


def test_an_error_naming_the_database_masks_its_password(
    database: str, sql_engine: sa.Engine
) -> None:
    if sql_engine.dialect.name == "sqlite":
        pytest.skip("a SQLite file has no password")
    # The suite's server trusts its clients, so the password is never checked, only shown.
    url = sa.make_url(database).set(password="s3cret").render_as_string(hide_password=False)
    for args in (["explain", "123456789"], ["report", "--workspace", "nosuch"]):
        line = one_line_error(invoke(*args, "--database", url))
        assert "s3cret" not in line
        assert ":***@" in line
