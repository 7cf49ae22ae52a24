"""Fixtures of the zoo: each host on each engine it fits, its tables dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.zoo.canon import Host
from tests.zoo.hosts import FITS, fit_id


@pytest.fixture(params=FITS, ids=fit_id)
def zoo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Host, sa.Engine]]:
    """A host of the zoo and an engine to store it in (its tables are made by ``seed``)."""
    host, dialect = request.param
    if dialect == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / f'{host.name}.sqlite'}")
        yield host, engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    yield host, engine
    with engine.begin() as connection:
        host.drop(connection)
    # A pooled connection's prepared plans may not fit the next host's tables of the same name.
    engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every zoo host stores one run whose status or outcome its vocabulary does not list, on
    # purpose (it must read requires_manual_review everywhere); the build warns of it, as it
    # should (tests/service/test_invalid_sample.py tests that warning).
    zoo = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(zoo):
            item.add_marker(pytest.mark.filterwarnings(_UNLISTED))


_UNLISTED = "ignore:.*a value the mapping's:runactionability.MappingMismatchWarning"
