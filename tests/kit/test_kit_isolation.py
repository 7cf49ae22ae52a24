"""The fail-hard guard: evaluation that reaches outside the process raises, and SQLite does not."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, registry_replacing, run

from runactionability import (
    Actionability,
    Decision,
    Evidence,
    Family,
    FirstDecisive,
    OperationCatalog,
    ProblemRun,
    Resolver,
    SupersededByLaterSuccess,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.evidence import EvidenceRequest
from runactionability.testing import ExternalCallError, ExternalCalls, no_external_calls

ATTEMPTS: dict[str, Callable[[], object]] = {
    "socket.create_connection": lambda: socket.create_connection(("127.0.0.1", 9)),
    "socket.connect": lambda: socket.socket().connect(("127.0.0.1", 9)),
    "socket.getaddrinfo": lambda: socket.getaddrinfo("example.org", 443),
    "socket.sendto": lambda: socket.socket(type=socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9)),
    "socket.sendmsg": lambda: socket.socket(type=socket.SOCK_DGRAM).sendmsg(
        [b"x"], [], 0, ("127.0.0.1", 9)
    ),
    "urllib": lambda: urllib.request.urlopen("http://example.org/", timeout=1),
    "subprocess.Popen": lambda: subprocess.run(["true"], check=False),
    "os.system": lambda: os.system("true"),
    "a postgresql connection": lambda: sa.create_engine(
        "postgresql+psycopg://nobody@192.0.2.1:5432/none"
    ).connect(),
}


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_every_kind_of_external_call_raises(name: str) -> None:
    with pytest.raises(ExternalCallError) as raised, no_external_calls():
        ATTEMPTS[name]()
    prefix = "socket.create_connection" if name == "urllib" else name
    assert raised.value.call.startswith(prefix)


def test_sqlite_in_memory_and_in_a_file_is_not_external(tmp_path: Path) -> None:
    with no_external_calls() as calls:
        for url in ("sqlite://", f"sqlite:///{tmp_path / 'local.sqlite'}"):
            with sa.create_engine(url).connect() as connection:
                assert connection.execute(sa.text("SELECT 1")).scalar() == 1
    assert calls.attempts == []


def test_a_swallowed_attempt_still_fails_the_block_and_the_patches_come_off() -> None:
    def swallowing() -> None:
        with contextlib.suppress(ExternalCallError):
            subprocess.run(["true"], check=False)

    caught = r"caught by the code under test\): subprocess"
    with pytest.raises(AssertionError, match=caught), no_external_calls():
        swallowing()
    assert subprocess.run(["true"], check=False).returncode == 0


class LooksItUp:
    """A rule that asks a server before deciding: what the guard exists to catch."""

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        socket.getaddrinfo("status.example.org", 443)
        return None


def resolver_with(rule: object, *, strict: bool) -> Resolver:
    family = Family(
        name="provider_connection",
        policy=FirstDecisive(rules=(SupersededByLaterSuccess(), rule)),  # type: ignore[arg-type]
    )
    registry = registry_replacing(family)
    return Resolver(
        registry=registry,
        catalog=OperationCatalog.reference(),
        history=MemoryRunHistory([]),
        states={
            kind: MemoryStateSource(kind, [])
            for each in registry.families().values()
            for kind in each.state_kinds
        },
        strict=strict,
    )


def test_a_pure_evaluation_passes_and_a_rule_doing_io_fails_even_when_caught() -> None:
    failed = run(1)
    with no_external_calls():
        pure = resolver_with(SupersededByLaterSuccess(), strict=True)
        assert pure.evaluate(failed, as_of=AS_OF).status is Actionability.ACTIONABLE
    with pytest.raises(ExternalCallError, match=r"status\.example\.org"), no_external_calls():
        resolver_with(LooksItUp(), strict=True).evaluate(failed, as_of=AS_OF)
    # Not strict, the core turns the rule's error into manual review; the block still fails.
    lenient = resolver_with(LooksItUp(), strict=False)
    results = []
    with pytest.raises(AssertionError, match=r"socket\.getaddrinfo"), no_external_calls():
        results.append(lenient.evaluate(failed, as_of=AS_OF))
    assert results[0].status is Actionability.REQUIRES_MANUAL_REVIEW


def test_the_fixture_guards_the_whole_test(no_external_calls: ExternalCalls) -> None:
    with pytest.raises(ExternalCallError):
        socket.getaddrinfo("example.org", 80)
    assert no_external_calls.attempts == ["socket.getaddrinfo('example.org')"]
    # The attempt was expected here; clear it so the fixture's exit does not fail the test.
    no_external_calls.attempts.clear()
