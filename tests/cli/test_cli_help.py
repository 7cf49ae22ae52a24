"""The help a new user reads: every option explained, every command introduced by a sentence."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from runactionability.cli import cli

COMMANDS = sorted(cli.commands)
# A command's help opens with what it does, in the imperative ("Print the dashboard..."), not
# with a noun phrase ("The dashboard summary: counts, ..."). A new command picks its verb here.
VERBS = frozenset({"Check", "Create", "Explain", "Find", "List", "Print", "Report", "Run", "Show"})


def _help(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="runactionability")
    assert result.exit_code == 0, result.output
    return result.output


def _first_sentence(command: click.Command) -> str:
    assert command.help, command.name
    return command.help.split("\n\n", 1)[0].replace("\n", " ").strip()


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_every_option_has_help_that_is_a_sentence(name: str | None) -> None:
    command = cli if name is None else cli.commands[name]
    for param in command.get_params(click.Context(command)):
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts}"
            assert param.help[0].isupper(), f"{name} {param.opts}: {param.help}"
            assert param.help.rstrip().endswith("."), f"{name} {param.opts}: {param.help}"


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_every_command_opens_with_one_imperative_sentence(name: str | None) -> None:
    command = cli if name is None else cli.commands[name]
    sentence = _first_sentence(command)
    assert sentence.split()[0] in VERBS, sentence
    assert sentence.endswith(".")
    assert sentence.count(".") == 1, sentence  # one sentence, not two run together
    assert sentence in " ".join(_help(*([] if name is None else [name])).split())


def test_the_command_list_shows_each_first_sentence_whole() -> None:
    # Click cuts a short help that does not fit with "..."; the list then reads as half a thought.
    listing = _help().split("Commands:\n", 1)[1]
    shown = dict(line.strip().split(None, 1) for line in listing.splitlines() if line.strip())
    assert shown == {name: _first_sentence(cli.commands[name]) for name in COMMANDS}


def test_report_help_reads_as_sentences() -> None:
    text = " ".join(_help("report").split())
    assert "Print the dashboard summary of the visible workspaces." in text
    assert (
        "Counts the runs by status, family and environment, lists the runs that need attention "
        "now with their explanation and primary action, and shows the active work apart from "
        "them."
    ) in text
