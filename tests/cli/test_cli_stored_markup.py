"""Stored words that are rich markup or terminal controls are shown as written, never obeyed.

A type, an environment, an outcome or a context value of ``[/bold]`` used to fail ``report``,
``list``, ``explain`` and ``changes`` with an unexpected ``MarkupError`` for every scope holding
the run; ``[bold red]SPOOF[/]`` was styled, a ``[link=...]`` became a hidden hyperlink, and an
escape sequence cleared the operator's screen.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rich.table import Table
from tests.cli.test_cli import invoke
from tests.support import T0

from runactionability import OperationRun
from runactionability.adapters.sqlalchemy import create_schema, insert_runs
from runactionability.cli import _output

HOSTILE = {
    10: "[/bold]",
    11: "[bold red]SPOOF[/]",
    12: "x\x1b[2J\x1b[31mred",
    13: "[link=https://evil.example]click[/link]",
    14: "a\u202eb",
    15: ":warning:",
}
SHOWN = {
    10: "[/bold]",
    11: "[bold red]SPOOF[/]",
    12: "x\\x1b[2J\\x1b[31mred",
    13: "[link=https://evil.example]click[/link]",
    14: "a\\u202eb",
    15: ":warning:",
}
AS_OF = ("--as-of", (T0 + timedelta(days=1)).isoformat())


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("markup") / "runs.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    create_schema(engine)
    runs = []
    for number, (run_id, word) in enumerate(HOSTILE.items()):
        at = T0 + timedelta(minutes=number)
        done = at + timedelta(seconds=30)
        common = {
            "status": "completed",
            "outcome": "failed",
            "created_at": at,
            "completed_at": done,
        }
        runs.append(
            OperationRun(
                id=run_id,
                type=word,
                workspace_id="acme",
                environment_id="prod",
                context={"k": word},
                **common,
            )
        )
        runs.append(
            OperationRun(
                id=run_id + 100,
                type="directory.sync",
                workspace_id="acme",
                environment_id=word,
                context={word: word},
                **common,
            )
        )
    insert_runs(engine, runs)
    engine.dispose()
    return str(path)


def _shown(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert "\u202e" not in result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "command", [["report"], ["list"], ["list", "--current-follow-up"]], ids=" ".join
)
def test_listings_show_every_stored_word_as_written(database: str, command: list[str]) -> None:
    shown = _shown(*command, "--database", database, *AS_OF)
    # The report lists the newest few runs needing attention; the lists show every run.
    expected = [SHOWN[10], SHOWN[12]] if command == ["report"] else SHOWN.values()
    assert all(word in shown for word in expected)


@pytest.mark.parametrize("run_id", sorted([*HOSTILE, *(key + 100 for key in HOSTILE)]))
def test_explain_shows_the_runs_own_words_as_written(database: str, run_id: int) -> None:
    shown = _shown("explain", str(run_id), "--database", database, *AS_OF)
    word = SHOWN[run_id % 100]
    run_line = (
        f"{run_id}  {word} in acme/prod"
        if run_id < 100
        else f"{run_id}  directory.sync in acme/{word}"
    )
    assert run_line in shown


def test_the_change_feed_lines_show_the_words_as_written(database: str) -> None:
    until = (T0 + timedelta(hours=1)).isoformat()
    shown = _shown("changes", "--database", database, "--since", T0.isoformat(), "--until", until)
    assert SHOWN[10] in shown
    assert SHOWN[12] in shown


def test_a_terminal_gets_styles_but_no_stored_control_or_markup() -> None:
    out = io.StringIO()
    console = _output._SafeConsole(file=out, force_terminal=True, width=200)
    table = Table(title=HOSTILE[11])
    table.add_column(HOSTILE[10])
    table.add_row(HOSTILE[12], HOSTILE[13])
    console.print(table, style="bold")
    written = out.getvalue()
    assert "\x1b[1m" in written  # the console's own styles still reach the terminal
    assert "\x1b[2J" not in written
    assert "\x1b]8;" not in written
    assert all(SHOWN[key] in written for key in (10, 11, 12, 13))
