"""Issue 10, item 5: one configuration file, read into a typed ``Config``, checked whole when it is
loaded (errors name the file and the key), and the same service from it as from code."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from runactionability import (
    ActionabilityService,
    ConfigurationError,
    Registry,
    VisibleScopes,
    load_config,
)
from runactionability.adapters.sqlalchemy import REFERENCE_RUNS, create_schema
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.config import Config, RunsConfig, canonical_locale
from runactionability.demo import Size, generate, load
from runactionability.model import RunStatus

REGISTRY = Registry.default()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
KEY = "k" * 32


def write(folder: Path, text: str, name: str = "runactionability.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


# -- finding the file ----------------------------------------------------------------------------


def test_the_working_directory_file_comes_first(tmp_path: Path) -> None:
    write(tmp_path, 'locale = "fr"\n')
    write(tmp_path, '[tool.runactionability]\nlocale = "de"\n', "pyproject.toml")
    assert load_config(cwd=tmp_path).locale == "fr"


def test_else_the_nearest_pyproject_with_the_table(tmp_path: Path) -> None:
    inner = tmp_path / "app" / "web"
    inner.mkdir(parents=True)
    table = '[tool.runactionability]\nlocale = "de"\ndatabase = "db.sqlite"\n'
    write(tmp_path, table, "pyproject.toml")
    # The nearer pyproject.toml has no table of ours: it is passed over.
    write(tmp_path / "app", '[project]\nname = "web"\n', "pyproject.toml")
    config = load_config(cwd=inner)
    assert config.locale == "de"
    assert config.source == tmp_path / "pyproject.toml"
    # A relative SQLite path is read against the file's folder, not the working directory.
    assert config.database == str(tmp_path.resolve() / "db.sqlite")


def test_without_a_file_the_defaults(tmp_path: Path) -> None:
    config = load_config(cwd=tmp_path)
    assert config == Config()
    assert config.run_mapping() == REFERENCE_RUNS
    assert set(config.state_mappings()) >= {"provider_connection", "backup_set"}
    assert config.operation_catalog(REGISTRY).families() == REGISTRY.catalog().families()
    assert config.cursor_key() is None


def test_a_named_pyproject_must_hold_the_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[project]\nname = "web"\n', "pyproject.toml")
    with pytest.raises(ConfigurationError, match=r"pyproject\.toml: no \[tool\.runactionability\]"):
        load_config(path)
    with pytest.raises(ConfigurationError, match="no configuration file at"):
        load_config(tmp_path / "missing.toml")


# -- what the file says ---------------------------------------------------------------------------


def test_a_host_table_and_its_states(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
catalog = "ops.toml"
locale = "pt_br"
cursor_key_env = "HOST_CURSOR_KEY"
reference_states = true

[runs]
table = "jobs"
reflect = false
id = "job_id"
environment_id = "env"
subject = false
timestamps = "epoch_ms"
statuses = { waiting = "queued", busy = "running", over = "completed" }
outcomes = { ok = "succeeded", bad = "failed" }

[states.widget]
table = "widgets"
reflect = false
subject = "id"
proven_at = "checked_at"
attributes = false
statuses = { up = "healthy" }
""",
    )
    config = load_config(path)
    runs = config.run_mapping()
    assert (runs.table, runs.id, runs.environment_id) == ("jobs", "job_id", "env")
    assert runs.subject is None
    assert runs.read_status("busy") is RunStatus.RUNNING
    assert runs.timestamps == Instants.parse("epoch_ms")
    states = config.state_mappings()
    widget = states["widget"]
    assert (widget.table, widget.subject, widget.proven_at, widget.attributes) == (
        "widgets",
        "id",
        "checked_at",
        None,
    )
    assert "provider_connection" in states
    assert config.catalog == str(tmp_path.resolve() / "ops.toml")
    assert config.locale == "pt-BR"
    assert config.cursor_key({"HOST_CURSOR_KEY": KEY}) == KEY.encode()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[runs]\ntable = 5\n", "runs.table: expected a string, not 5"),
        ('[runs]\ntable = "jobs"\ntimestamp = "iso_text"\n', "runs: unknown key 'timestamp'"),
        ('databse = "x.sqlite"\n', "unknown key 'databse'"),
        ('[runs]\nid = "job_id"\n', "runs.table: required key missing"),
        ('locale = "english!"\n', "locale: 'english!' is not a BCP 47 language tag"),
        ('catalog = "mine"\n', "catalog: expected 'registry' or the path of a .toml"),
        ('cursor_key_env = "not a name"\n', "cursor_key_env: expected the name of an environment"),
        ('reference_states = "yes"\n', "reference_states: expected true or false"),
        ('[runs]\ntable = "jobs"\nsubject = true\n', "runs.subject: expected a column name"),
        ('[states.w]\ntable = "w"\nwhere = { on = true }\n', "states.w.where.on: expected a"),
        ('[runs]\ntable = "1jobs"\n', r"\[runs\]: RunTableMapping.table must be a SQL identifier"),
        ('[runs]\ntable = "jobs"\nstatuses = { a = "queued" }\n', r"\[runs\]: .*completed"),
        (
            '[runs]\ntable = "jobs"\nreflect = false\nzone = "UTC"\n',
            r"\[runs\]: zone: not read with reflect = false",
        ),
        ('[states.w]\ntable = "w"\ntimestamps = "sundial"\n', r"\[states\.w\]"),
        ("runs = [1, 2\n", "not a readable TOML file"),
        ('[runs]\ntable = "x"\nreflect = true\nepoch_unit = "h"\n', "epoch_unit: expected one"),
        ('[runs]\ntable = "x"\nstatuses = [1]\n', "runs.statuses: expected a table"),
        ('[runs]\ntable = "x"\nlifecycles = { a = ["x", "y", "z"] }\n', r"lifecycles\.a: expected"),
        ('time_zone = "Europe"\n', "time_zone: expected an IANA time zone"),
        ("change_margin_seconds = 1e20\n", "change_margin_seconds: expected a number of seconds"),
        ("change_margin_seconds = 86401\n", r"from 0 to 86400 \(a day\), not 86401"),
        ("change_margin_seconds = -1\n", "change_margin_seconds: expected a number of seconds"),
    ],
)
def test_a_mistake_names_the_file_and_the_key(tmp_path: Path, text: str, says: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as raised:
        load_config(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    assert re.search(says, message), message
    assert "\n" not in message


def test_the_cursor_key_variable_is_checked_without_showing_its_value(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'cursor_key_env = "HOST_KEY"\n'))
    with pytest.raises(ConfigurationError, match="HOST_KEY, which is not set"):
        config.cursor_key({})
    with pytest.raises(ConfigurationError, match="fewer than 16 bytes") as raised:
        config.cursor_key({"HOST_KEY": "s3cret"})
    assert "s3cret" not in str(raised.value)


def test_a_cursor_key_of_random_bytes_is_read_as_its_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bytes that are not UTF-8 reach os.environ as surrogate escapes: str.encode() raised.
    key = b"\xff\xfe-random-bytes-key-0123"
    monkeypatch.setenv("HOST_KEY", os.fsdecode(key))
    config = load_config(write(tmp_path, 'cursor_key_env = "HOST_KEY"\n'))
    assert config.cursor_key() == key


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [("en", "en"), ("DE-ch", "de-CH"), ("zh_hant_tw", "zh-Hant-TW"), ("es-419", "es-419")],
)
def test_a_locale_is_kept_in_canonical_case(tag: str, canonical: str) -> None:
    assert canonical_locale(tag) == canonical


def test_the_documented_example_loads(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(), re.S)
    # The tables are reflected when a service is built; loading checks every key without them.
    config = load_config(write(tmp_path, blocks[0]))
    assert config.runs is not None
    assert config.runs.reflect
    assert config.runs.environment_id == "managed_environment_id"
    assert set(config.states) == {"provider_connection", "baseline_snapshot", "evidence_snapshot"}
    lifecycle = load_config(write(tmp_path, blocks[1], "lifecycle.toml"))
    assert lifecycle.runs is not None
    assert lifecycle.runs.lifecycle == "state"
    keys_alone = attrs.evolve(lifecycle.runs, reflect=False).mapping()
    assert attrs.asdict(keys_alone, recurse=False)["lifecycle"] == "state"


# -- the service from the file ----------------------------------------------------------------


def answers(service: ActionabilityService, as_of: datetime) -> tuple[Any, ...]:
    with service.session(scopes=VisibleScopes({"acme", "globex"}), as_of=as_of) as s:
        page = s.follow_up_page(3)
        return s.dashboard(top=5), page, s.history_page(4), page.next_cursor


def test_the_service_from_the_file_answers_as_the_one_from_code(
    demo: tuple[sa.Engine, datetime], tmp_path: Path
) -> None:
    engine, as_of = demo
    path = write(
        tmp_path,
        'cursor_key_env = "HOST_KEY"\n[runs]\ntable = "operation_runs"\nsubject = "subject"\n'
        'timestamps = "native"\n',
    )
    from_file = ActionabilityService.from_config(
        load_config(path), bind=engine, registry=REGISTRY, environ={"HOST_KEY": KEY}
    )
    from_code = ActionabilityService(engine, registry=REGISTRY, cursor_key=KEY.encode())
    assert answers(from_file, as_of) == answers(from_code, as_of)
    assert "." in answers(from_file, as_of)[-1]


def test_the_service_opens_and_closes_the_files_database(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'host.sqlite'}")
    data = generate(Size.SMALL, catalog=REGISTRY.catalog())
    load(engine, data)
    engine.dispose()
    (tmp_path / "deploy").mkdir()
    path = write(tmp_path / "deploy", 'database = "../host.sqlite"\n')
    service = ActionabilityService.from_config(load_config(path), registry=REGISTRY)
    with service.session(scopes=VisibleScopes({"acme"}), as_of=data.as_of) as s:
        assert s.dashboard(top=1).counts.total > 0
    service.close()
    with pytest.raises(ConfigurationError, match="no database is named"):
        ActionabilityService.from_config(Config(), registry=REGISTRY)


def test_a_host_runs_table_is_given_only_the_reference_state_tables_it_has(
    sql_engine: sa.Engine,
) -> None:
    host = Config(runs=RunsConfig(table="jobs", reflect=False))
    assert host.state_mappings() == {}
    assert host.state_mappings(sql_engine) == {}
    create_schema(sql_engine)
    assert set(host.state_mappings(sql_engine)) == set(Config().state_mappings())
    assert set(Config().state_mappings()) >= {"provider_connection", "backup_set"}
    assert Config(runs=host.runs, reference_states=False).state_mappings(sql_engine) == {}


def test_a_reference_state_table_a_host_keeps_as_a_view_is_mapped(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    with sql_engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE provider_connection_states RENAME TO pcs_rows")
        connection.exec_driver_sql(
            "CREATE VIEW provider_connection_states AS SELECT * FROM pcs_rows"
        )
    host = Config(runs=RunsConfig(table="jobs", reflect=False))
    assert "provider_connection" in host.state_mappings(sql_engine)


def test_a_database_that_cannot_be_read_is_a_configuration_error_naming_the_way_out() -> None:
    unreachable = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/test")
    config = Config(runs=RunsConfig(table="jobs"))
    with pytest.raises(ConfigurationError, match=r"\[runs\]: the table's column types could not"):
        config.run_mapping(unreachable)
    unreachable.dispose()


def test_reflection_reads_what_the_file_leaves_out_and_a_missing_table_is_an_error(
    sql_engine: sa.Engine, tmp_path: Path
) -> None:
    jobs = sa.Table(
        "jobs",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(name, sa.Text) for name in ("type", "environment_id", "subject")),
        *(sa.Column(name, sa.Text) for name in ("status", "outcome")),
        # JSON, as PostgreSQL requires of a context (a text one is refused at build).
        sa.Column("context", sa.JSON),
        sa.Column("workspace_id", sa.Integer),
        *(sa.Column(name, sa.DateTime(timezone=True)) for name in ("created_at", "started_at")),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )
    jobs.create(sql_engine)
    runs = load_config(write(tmp_path, '[runs]\ntable = "jobs"\nzone = "UTC"\n')).run_mapping(
        sql_engine
    )
    assert runs.ids.workspace == "integer"
    expected = "timestamptz" if sql_engine.dialect.name == "postgresql" else "iso_text"
    assert str(runs.timestamps) == expected
    missing = load_config(write(tmp_path, '[runs]\ntable = "nowhere"\n', "missing.toml"))
    with pytest.raises(ConfigurationError, match=r"\[runs\]: no table 'nowhere'"):
        missing.run_mapping(sql_engine)


def test_a_state_section_no_family_reads_is_refused_naming_the_kind_meant(
    demo: tuple[sa.Engine, datetime], tmp_path: Path
) -> None:
    # A misspelt kind left the real kind without its table and was read by nothing, silently.
    path = write(
        tmp_path,
        "reference_states = true\n[states.provider_conection]\n"
        'table = "provider_connection_states"\ntimestamps = "native"\n',
    )
    engine, _ = demo
    with pytest.raises(ConfigurationError) as refused:
        ActionabilityService.from_config(load_config(path), bind=engine, registry=REGISTRY)
    message = str(refused.value)
    assert "[states.provider_conection] (did you mean 'provider_connection'?)" in message
    assert str(path) in message
