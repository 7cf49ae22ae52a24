"""Every hook: documented with its exact signature, and tested on its own (as datasette does)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.support import AS_OF, MINUTE, T0, Recorder, resolver, run

from runactionability import (
    Actionability,
    Decision,
    Evidence,
    Family,
    FirstDecisive,
    MessageCatalogs,
    OperationType,
    PolicyViolation,
    ProblemRun,
    Registry,
    Renderer,
    Resolver,
    Risk,
    SupersededByLaterSuccess,
    hookimpl,
    msg,
)
from runactionability import hookspecs as hookspecs_module
from runactionability.adapters.memory import MemoryRunHistory

DOCS = Path(__file__).parents[2] / "docs" / "writing-a-family.md"
HOOKS = sorted(
    name
    for name, value in vars(hookspecs_module).items()
    if name.startswith("runactionability_") and inspect.isfunction(value)
)


def documented_signature(name: str) -> str:
    """The signature a hook's docstring states on its first line (between double backticks)."""
    first_line = inspect.getdoc(getattr(hookspecs_module, name)).splitlines()[0]  # type: ignore[union-attr]
    assert first_line.startswith("``"), first_line
    assert first_line.endswith("``"), first_line
    return first_line.strip("`")


def test_the_hook_list_is_not_empty() -> None:
    assert HOOKS == [
        "runactionability_actionability_changed",
        "runactionability_families",
        "runactionability_message_catalogs",
        "runactionability_operation_types",
        "runactionability_policy_violation",
        "runactionability_results_evaluated",
    ]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_exact_signature(hook: str) -> None:
    signature = documented_signature(hook)
    function = getattr(hookspecs_module, hook)
    parameters = ", ".join(
        f"{p.name}: {p.annotation}" for p in inspect.signature(function).parameters.values()
    )
    returns = inspect.signature(function).return_annotation
    assert signature == f"{hook}({parameters}) -> {returns}"
    assert signature in DOCS.read_text(), f"{hook} is missing from {DOCS.name}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test_of_its_own(hook: str) -> None:
    assert callable(globals().get(f"test_hook_{hook}")), f"write test_hook_{hook}"


def test_hook_runactionability_families() -> None:
    quota = Family(name="quota", policy=FirstDecisive(rules=(SupersededByLaterSuccess(),)))

    class Plugin:
        @hookimpl
        def runactionability_families(self) -> Sequence[Family]:
            return (quota,)

    registry = Registry()
    registry.register(Plugin(), name="quota-plugin")
    assert dict(registry.families()) == {"quota": quota}
    assert registry.plugin_of("quota") == "quota-plugin"


def test_hook_runactionability_families_rejects_what_is_not_a_family() -> None:
    from runactionability import ConfigurationError

    class Plugin:
        @hookimpl
        def runactionability_families(self) -> Sequence[Any]:
            return ("quota",)

    registry = Registry()
    registry.register(Plugin(), name="sloppy")
    with pytest.raises(ConfigurationError, match="sloppy"):
        registry.families()


def test_hook_runactionability_operation_types() -> None:
    quota = OperationType(name="quota.recalculate", family="quota", aliases=("quota_recalc",))

    class Plugin:
        @hookimpl
        def runactionability_operation_types(self) -> Sequence[OperationType]:
            return (quota,)

    registry = Registry()
    registry.register(Plugin(), name="quota-types")
    assert registry.operation_types() == (quota,)
    assert registry.catalog().resolve("quota_recalc") == quota


def test_hook_runactionability_message_catalogs(tmp_path: Path) -> None:
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "quota.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgctxt "quota.open"\nmsgid "Open the quota"\nmsgstr "Kontingent öffnen"\n',
        encoding="utf-8",
    )
    catalogs = MessageCatalogs(tmp_path, "quota")

    class Plugin:
        @hookimpl
        def runactionability_message_catalogs(self) -> Sequence[MessageCatalogs]:
            return (catalogs,)

    registry = Registry()
    registry.register(Plugin(), name="quota-messages")
    assert registry.message_catalogs() == (catalogs,)
    german = Renderer("de", catalogs=registry.message_catalogs())
    # The plugin's message in its own words, and the library's beside it from the shipped one.
    assert german.render(msg("quota.open", "Open the quota")) == "Kontingent öffnen"
    assert german.render(msg("action.retry", "Retry this run")) == "Diesen Lauf erneut ausführen"


def test_hook_runactionability_results_evaluated() -> None:
    recorder = Recorder()
    registry = Registry.default()
    registry.register(recorder, name="recorder")
    runs = [run(1), run(2, outcome="succeeded"), run(3, status="queued", outcome=None)]
    results = resolver(runs, registry=registry).evaluate_many(runs, as_of=AS_OF)
    assert recorder.batches == [(tuple(results), AS_OF)]
    resolver(runs, registry=registry).evaluate(runs[0], as_of=AS_OF)
    assert len(recorder.batches) == 2
    assert [r.run_id for r in recorder.batches[1][0]] == [1]


def test_hook_runactionability_actionability_changed() -> None:
    import sqlalchemy as sa

    from runactionability import ActionabilityService, Change, VisibleScopes
    from runactionability.adapters.sqlalchemy import create_schema, insert_runs

    class Pager:
        def __init__(self) -> None:
            self.told: list[Change] = []

        @hookimpl
        def runactionability_actionability_changed(self, change: Change) -> None:
            self.told.append(change)

    pager = Pager()
    registry = Registry.default(entry_points=False)
    registry.register(pager, name="pager")
    engine = sa.create_engine("sqlite://")
    create_schema(engine)
    insert_runs(engine, [run(1), run(2, outcome="succeeded", created_at=T0 + 5 * MINUTE)])
    service = ActionabilityService(engine, registry=registry)
    page = service.poll_changes(VisibleScopes({"acme"}), since=T0 - MINUTE, now=AS_OF)
    # Each change the poll delivers, once, in the page's order: run 1 appeared and then was
    # superseded within the window, so its one change is from nothing to superseded.
    assert [(c.run_id, c.since_status, c.status) for c in pager.told] == [
        (1, None, Actionability.SUPERSEDED_BY_LATER_SUCCESS),
        (2, None, Actionability.INFORMATIONAL_ONLY),
    ]
    assert pager.told == list(page.changes)
    engine.dispose()


class Liar:
    """Claims a later success for every run, with a proof the history never returned."""

    def plan(self, run: ProblemRun) -> Iterable[Any]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision:
        from runactionability import RunFact

        return Decision(
            status=Actionability.SUPERSEDED_BY_LATER_SUCCESS,
            reason="trust_me",
            explanation="Trust me.",
            proof=RunFact(
                run_id=999,
                operation_type="liar.check",
                workspace_id=run.workspace_id,
                environment_id=run.environment_id,
                subject=run.subject,
                started_at=run.completed_at + MINUTE,
                completed_at=run.completed_at + MINUTE * 2,
            ),
        )


def test_hook_runactionability_policy_violation() -> None:
    recorder = Recorder()

    class Plugin:
        @hookimpl
        def runactionability_families(self) -> Sequence[Family]:
            return (Family(name="liar", policy=Liar(), risk=Risk.STANDARD),)

        @hookimpl
        def runactionability_operation_types(self) -> Sequence[OperationType]:
            return (OperationType(name="liar.check", family="liar"),)

    registry = Registry()
    registry.register(Plugin(), name="liar-plugin")
    registry.register(recorder, name="recorder")
    runs = [run(1, "liar.check", context={}), run(2, "liar.check", outcome="succeeded")]
    results = Resolver(registry=registry, history=MemoryRunHistory(runs)).evaluate_many(
        runs, as_of=T0 + MINUTE * 60
    )
    assert results[0].status is Actionability.REQUIRES_MANUAL_REVIEW
    [violation] = recorder.violations
    assert isinstance(violation, PolicyViolation)
    assert (violation.run_id, violation.family, violation.kind, violation.claimed) == (
        1,
        "liar",
        "invalid_proof",
        Actionability.SUPERSEDED_BY_LATER_SUCCESS,
    )
    assert "history port" in violation.detail
