"""A library ``UsageError`` a command's call raises is a usage error of the command line: exit 2
with the library's message, as docs/cli.md documents a bad value (it was exit 1, as if the
database had failed). Its other errors keep exit 1."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.test_cli import database, invoke, one_line_error

from runactionability import ConfigurationError, UsageError
from runactionability.service.request import RequestSession

__all__ = ["database"]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("top must be between 0 and 1000, not 5000"), 2),
        (ConfigurationError("top must be between 0 and 1000, not 5000"), 1),
    ],
)
def test_a_library_usage_error_exits_2_with_its_message(
    database: str, monkeypatch: pytest.MonkeyPatch, error: Exception, code: int
) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise error

    monkeypatch.setattr(RequestSession, "unattributed", refuse)
    line = one_line_error(invoke("report", "--database", database), code)
    assert line == "runactionability: error: top must be between 0 and 1000, not 5000"
