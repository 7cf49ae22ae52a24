"""What a service reads through, built as one piece so that it can be replaced as one.

An ``ActionabilityService`` over an asyncio engine's sync facade, built without ``states``,
cannot tell which reference state tables the database has until it reads through a connection
of the event loop: its first session maps them and replaces the wiring in place
(``ActionabilityService._map_present_states``). A session takes the whole wiring at once, so it
reads through one mapping or the other, never half of each, and every holder of the service
(``AsyncActionabilityService.sync`` taken early, say) sees the new one.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import sqlalchemy as sa

from runactionability.adapters.sqlalchemy import SqlBackend, open_backend
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping, StateTableMapping
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.catalog import OperationCatalog
from runactionability.registry import Registry
from runactionability.resolver import Resolver
from runactionability.service.mapping_check import MappingCheck


@attrs.frozen(kw_only=True)
class Wiring:
    """The ports, the resolver over them, the pushdown's statements and the mapping check."""

    backend: SqlBackend
    resolver: Resolver
    pushdown: SqlPushdown
    mapping_check: MappingCheck


@attrs.frozen(kw_only=True)
class Wire:
    """Builds the wiring of one service for a set of state mappings (None: those present)."""

    runs: RunTableMapping
    registry: Registry
    catalog: OperationCatalog
    form: SupersedeForm | str | None
    cursor_key: bytes | None

    def __call__(
        self,
        bind_or_url: sa.Engine | sa.Connection | str,
        states: Mapping[str, StateTableMapping] | None,
    ) -> Wiring:
        backend = open_backend(
            bind_or_url,
            runs=self.runs,
            states=states,
            catalog=self.catalog,
            cursor_key=self.cursor_key,
        )
        # Built once per wiring: it checks the configuration (and warns about a missing state
        # kind) here, not on every request; each session gets a copy reading its snapshot.
        resolver = Resolver(
            history=backend.history,
            states=backend.states,
            registry=self.registry,
            catalog=self.catalog,
        )
        pushdown = SqlPushdown(
            backend.history.bind,
            runs=self.runs,
            states={kind: source.mapping for kind, source in backend.states.items()},
            registry=self.registry,
            catalog=self.catalog,
            form=self.form,
            resolver=resolver,
            cursor_key=self.cursor_key,
        )
        check = MappingCheck(
            self.runs, pushdown.states, registry=self.registry, catalog=self.catalog
        )
        return Wiring(backend=backend, resolver=resolver, pushdown=pushdown, mapping_check=check)
