"""The pytest plugin of the host test kit, registered under the ``pytest11`` entry point.

pytest loads it in every test run of an environment where runactionability is installed, so it
only offers fixtures: it registers no hook, and a test that does not ask for one runs exactly as
without the plugin. Loading it imports the ``runactionability`` package root (as importing any of
its modules does); the SQL layer and hypothesis are imported only when a fixture is used.

- ``statement_counter``: call it with an engine or connection (sync or asyncio) to count, from
  then until the test ends, the statements it sends; returns the live ``StatementCounter``
  (``.count``, ``.statements``, ``.assert_at_most(n)``).
- ``no_external_calls``: the whole test runs inside ``runactionability.testing.no_external_calls``
  (request it, or mark a test ``@pytest.mark.usefixtures("no_external_calls")``); yields the
  record of attempts.

Disable it like any plugin: ``pytest -p no:runactionability``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from runactionability.testing.isolation import ExternalCalls
    from runactionability.testing.statements import Bind, StatementCounter


@pytest.fixture
def statement_counter() -> Iterator[Callable[[Bind], StatementCounter]]:
    """Count the statements of a bind from the call to the end of the test."""
    from runactionability.testing.statements import count_statements

    with ExitStack() as stack:

        def start(bind: Bind) -> StatementCounter:
            return stack.enter_context(count_statements(bind))

        yield start


@pytest.fixture
def no_external_calls() -> Iterator[ExternalCalls]:
    """Run the test with every external call failing hard (see ``no_external_calls()``)."""
    from runactionability.testing.isolation import no_external_calls as isolated

    with isolated() as calls:
        yield calls
