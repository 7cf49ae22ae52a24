"""A pseudo-locale finds any text that bypasses the catalogs.

Every entry of the English catalog is "translated" into a marked, accented copy
(``⟦Thé rún fáíléd⟧``) under a host catalog for ``eo``. Everything the demo history, hostile rows
and the commands produce is then rendered in it: a message whose text does not come back marked
was not found in a catalog, and an English heading left in a command's output was never a
message at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from click.testing import CliRunner
from tests.support import AS_OF, T0, catalog_path, resolver, run

from runactionability import (
    ActionabilityService,
    EveryWorkspace,
    Message,
    MessageCatalogs,
    Registry,
    Renderer,
    RunOutcome,
)
from runactionability.catalog.profiles import TypeClass
from runactionability.cli import cli
from runactionability.consumers import View
from runactionability.demo import Size, generate, load
from runactionability.messages import PLAIN_ID, iter_messages
from runactionability.service import MAX_LIMIT

PSEUDO = "eo"
_ACCENTS = str.maketrans("aeiouAEIOU", "áéíóúÁÉÍÓÚ")
_PLACEHOLDER = re.compile(r"(\{\w+\})")


def pseudo(text: str) -> str:
    parts = _PLACEHOLDER.split(text)
    return (
        "⟦"
        + "".join(p if _PLACEHOLDER.fullmatch(p) else p.translate(_ACCENTS) for p in parts)
        + "⟧"
    )


@pytest.fixture(scope="module")
def pseudo_catalogs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pseudo")
    with catalog_path("en").open("rb") as stream:
        english = read_po(stream, locale="en")
    catalog = Catalog(locale=PSEUDO, domain="runactionability")
    for message in english:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            plural = tuple(pseudo(str(s)) for s in message.id)
            catalog.add(message.id, plural, context=message.context)
        else:
            catalog.add(message.id, pseudo(str(message.id)), context=message.context)
    target = folder / PSEUDO / "LC_MESSAGES" / "runactionability.po"
    target.parent.mkdir(parents=True)
    with target.open("wb") as stream:
        write_po(stream, catalog)
    return folder


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    load(engine, generate(Size.SMALL))
    yield engine
    engine.dispose()


def untranslated(renderer: Renderer, messages: Iterator[Message]) -> set[str]:
    missing = set()
    for message in messages:
        if message.id == PLAIN_ID:
            continue
        text = renderer.render(message)
        if not (text.startswith("⟦") and text.endswith("⟧")):
            missing.add(f"{message.id}: {text}")
    return missing


def produced(engine: sa.Engine, pseudo_catalogs: Path) -> tuple[Renderer, list[Message]]:
    service = ActionabilityService(engine, message_catalogs=[pseudo_catalogs])
    messages: list[Message] = []
    with service.session(scopes=EveryWorkspace(), locale=PSEUDO) as session:
        page = session.page(View.ALL, limit=MAX_LIMIT)
        for item in page.items:
            messages += iter_messages(item.result.message)
            for action in (item.primary_action, item.result.primary_action):
                if action is not None:
                    messages += iter_messages(action.message)
            told = session.explain(item.run_id)
            assert told is not None
            for line in told.would_change:
                messages += iter_messages(line)
        return session.renderer, messages


def test_everything_the_demo_history_says_is_translated(
    demo_database: sa.Engine, pseudo_catalogs: Path
) -> None:
    renderer, messages = produced(demo_database, pseudo_catalogs)
    ids = {message.id for message in messages}
    # The corpus covers every kind of verdict the demo shows, with their labels and names.
    assert {
        "verdict.later_success",
        "verdict.current_state",
        "verdict.no_resolving_evidence",
        "verdict.run_succeeded",
        "verdict.run_not_terminal",
        "verdict.always_manual_review",
        "would_change.later_success",
        "action.retry_type",
    } <= ids
    assert untranslated(renderer, iter(messages)) == set()


def test_every_hostile_row_is_explained_in_catalog_words(pseudo_catalogs: Path) -> None:
    hostile = [
        run(1, status="queued"),
        run(2, status="paused"),
        run(3, outcome=None),
        run(4, outcome="exploded"),
        run(5, "no.such.type"),
        run(6, created_at="yesterday"),
        run(7, created_at=T0.replace(tzinfo=None)),
        run(8, started_at="soon"),
        run(9, started_at=T0.replace(tzinfo=None)),
        run(10, completed_at=None),
        run(11, completed_at="later"),
        run(12, completed_at=(T0 + timedelta(minutes=1)).replace(tzinfo=None)),
        run(13, completed_at=T0 - timedelta(days=1)),
        run(14, started_at=T0 + timedelta(hours=2)),
        run(15, context=["not", "a", "mapping"]),
        run(16, workspace_id=" "),
        run(17, environment_id=None),
        run(18, environment_id=""),
        run(19, context={}),
        run(20, "restore.execute", context={"backup_set_id": 3}),
    ]
    results = resolver(hostile).evaluate_many(hostile, as_of=AS_OF)
    messages = [
        m
        for result in results
        for part in (
            result.message,
            *(() if result.primary_action is None else (result.primary_action.message,)),
        )
        for m in iter_messages(part)
    ]
    assert len({result.reason for result in results}) >= 12
    renderer = Renderer(PSEUDO, catalogs=[MessageCatalogs(pseudo_catalogs)])
    assert untranslated(renderer, iter(messages)) == set()


# Stored names a command shows as data read the same in every locale: the outcomes of the demo's
# raw reading, the families' names and the class words coverage documents (docs/decisions.md).
_STORED = (
    {str(outcome) for outcome in RunOutcome}
    | set(Registry.default(entry_points=False).families())
    | {str(value) for value in TypeClass}
)


@pytest.mark.parametrize(
    "command",
    [
        ("report",),
        ("list",),
        ("explain", "1"),
        ("demo", "--size", "small"),
        ("families",),
        ("coverage",),
        ("doctor",),
        ("guard",),
    ],
)
def test_the_commands_print_no_english_heading(
    command: tuple[str, ...], demo_database: sa.Engine, pseudo_catalogs: Path, tmp_path: Path
) -> None:
    config = tmp_path / "runactionability.toml"
    config.write_text(
        f'database = "{demo_database.url.database}"\nlocale = "{PSEUDO}"\n'
        f'messages = "{pseudo_catalogs}"\n'
    )
    (tmp_path / "clean.py").write_text("print('no raw follow-up here')\n")
    extra = {
        "demo": ["--database", str(tmp_path / "new-demo.sqlite")],
        "guard": [str(tmp_path / "clean.py")],
    }
    result = CliRunner().invoke(
        cli, [*command, *extra.get(command[0], []), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output + result.stderr
    output = result.stdout
    if command[0] == "coverage":
        # Its class column is the documented TypeClass vocabulary, as the JSON's "class" field,
        # stored words included (docs/decisions.md): it is data, not a heading.
        document = CliRunner().invoke(cli, ["coverage", "--json", "--config", str(config)])
        for row in json.loads(document.stdout)["types"]:
            output = output.replace(row["class"], "")
    with catalog_path("en").open("rb") as stream:
        english = [
            m.id
            for m in read_po(stream, locale="en")
            if isinstance(m.id, str)
            and len(_PLACEHOLDER.sub("", m.id).strip()) >= 8
            and m.id not in _STORED
        ]
    # A word of an id or a stored name (runactionability, notifications.send) is not a heading.
    left = sorted(
        text
        for text in set(english)
        if re.search(rf"(?<![\w.]){re.escape(_PLACEHOLDER.sub('', text))}(?![\w.])", output)
    )
    assert left == []
    assert "⟦" in output
