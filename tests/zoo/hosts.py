"""Every host of the zoo, and the (host, engine) pairs each one fits."""

from __future__ import annotations

from tests.zoo.canon import Host
from tests.zoo.jobs import Jobs
from tests.zoo.laravel import Laravel
from tests.zoo.reference import Reference
from tests.zoo.uuids import Uuids

ZOO: tuple[Host, ...] = (Laravel(), Jobs(), Uuids(), Reference())
"""(a) Laravel-like, (b) lifecycle column on SQLite, (c) uuid everything, (d) the reference."""

FITS = [(host, dialect) for host in ZOO for dialect in host.dialects]
"""What the legs run over: each host on each engine it fits (PostgreSQL legs skip without it)."""


def fit_id(fit: tuple[Host, str]) -> str:
    return f"{fit[0].name}-{fit[1]}"
