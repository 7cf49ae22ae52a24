"""The concepts page explains every status and every reason code the library produces."""

from __future__ import annotations

from pathlib import Path

import pytest

from runactionability import Actionability, Reason

CONCEPTS = Path(__file__).parents[2] / "docs" / "concepts.md"


@pytest.mark.parametrize("reason", list(Reason), ids=str)
def test_every_reason_code_is_explained(reason: Reason) -> None:
    assert f"| `{reason.value}` |" in CONCEPTS.read_text()


@pytest.mark.parametrize("status", list(Actionability), ids=str)
def test_every_status_is_explained(status: Actionability) -> None:
    assert f"| `{status.value}` |" in CONCEPTS.read_text()
