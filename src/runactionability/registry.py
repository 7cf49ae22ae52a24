"""The plugin registry: families and operation types gathered from pluggy plugins."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import pluggy

from runactionability import hookspecs
from runactionability.catalog import OperationCatalog, OperationType
from runactionability.errors import (
    ConfigurationError,
    ConflictError,
    CoverageError,
    ObserverFailedWarning,
)
from runactionability.policies.base import Family

ENTRY_POINT_GROUP = "runactionability"

_LOG = logging.getLogger("runactionability")


class Registry:
    """Families and operation types contributed by plugins, built-in and third-party alike.

    ``Registry()`` is empty, which is what a test wants; ``Registry.default()`` registers the
    built-in families and reference types, then every plugin of the entry-point group
    ``runactionability``. Hooks are called again after each ``register``, so the answers always
    reflect the plugins registered now.
    """

    def __init__(self) -> None:
        self._manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._manager.add_hookspecs(hookspecs)
        self._families: dict[str, Family] | None = None
        self._family_plugins: dict[str, str] = {}
        self._types: tuple[OperationType, ...] | None = None

    @classmethod
    def default(cls) -> Registry:
        """A registry with the built-in plugins, then the entry-point group's plugins."""
        from runactionability.policies import BUILTIN_PLUGINS

        registry = cls()
        for name, plugin in BUILTIN_PLUGINS:
            registry.register(plugin, name=name)
        registry.load_entry_points()
        return registry

    @property
    def hook(self) -> Any:
        """The pluggy hook relay, for calling observer hooks."""
        return self._manager.hook

    def register(self, plugin: object, *, name: str | None = None) -> str:
        """Register a plugin (a module or object with ``@hookimpl`` functions); return its name."""
        registered = self._manager.register(plugin, name=name)
        if registered is None:
            raise ConfigurationError(f"plugin {name or plugin!r} is blocked from registering")
        self._forget()
        return registered

    def unregister(self, name: str) -> None:
        """Remove the plugin registered under ``name``."""
        self._manager.unregister(name=name)
        self._forget()

    def load_entry_points(self) -> int:
        """Register every plugin of the entry-point group; return how many were loaded."""
        loaded = self._manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        self._forget()
        return loaded

    def plugin_names(self) -> tuple[str, ...]:
        """The names of the registered plugins, in registration order."""
        return tuple(name for name, _ in self._manager.list_name_plugin() if name is not None)

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call every implementation of an observer hook; one that raises is reported, not raised.

        Observers watch answers that are already final, so a failing one must not take the
        answer away: each is called on its own, in pluggy's order, and an exception becomes an
        ``ObserverFailedWarning`` and an error log record (logger ``runactionability``) naming the
        plugin, after which the remaining observers are still called.
        """
        caller = getattr(self._manager.hook, hook_name)
        impls = caller.get_hookimpls()
        if any(impl.wrapper or impl.hookwrapper for impl in impls):
            # A wrapper only works inside pluggy's own call loop, so the hook is called whole.
            try:
                caller(**kwargs)
            except Exception as exc:
                _observer_failed(hook_name, "a plugin wrapping this hook", exc)
            return
        for impl in reversed(impls):
            try:
                impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as exc:
                _observer_failed(hook_name, impl.plugin_name, exc)

    def families(self) -> Mapping[str, Family]:
        """Every registered family by name; raises ``ConflictError`` when two plugins claim one."""
        if self._families is None:
            families: dict[str, Family] = {}
            owners: dict[str, list[str]] = {}
            for plugin_name, family in self._collect("runactionability_families", Family):
                owners.setdefault(family.name, []).append(plugin_name)
                families.setdefault(family.name, family)
            _raise_clashes("family", owners)
            self._families = families
            self._family_plugins = {name: plugins[0] for name, plugins in owners.items()}
        return self._families

    def plugin_of(self, family: str) -> str:
        """The name of the plugin that registered ``family``."""
        self.families()
        return self._family_plugins[family]

    def operation_types(self) -> tuple[OperationType, ...]:
        """Every operation type the plugins contribute; conflicts raise ``ConflictError``."""
        if self._types is None:
            owners: dict[str, list[str]] = {}
            types: list[OperationType] = []
            for plugin_name, op_type in self._collect(
                "runactionability_operation_types", OperationType
            ):
                for stored in (op_type.name, *op_type.aliases):
                    owners.setdefault(stored, []).append(plugin_name)
                types.append(op_type)
            _raise_clashes("operation type", owners)
            self._types = tuple(types)
        return self._types

    def catalog(self) -> OperationCatalog:
        """A catalog of every operation type the plugins contribute."""
        return OperationCatalog(self.operation_types())

    def check_coverage(self, catalog: OperationCatalog) -> None:
        """Raise ``CoverageError`` listing every catalog type whose family is not registered."""
        families = self.families()
        uncovered = [(t.name, t.family) for t in catalog.inventory() if t.family not in families]
        if uncovered:
            raise CoverageError(uncovered)

    def _collect(self, hook_name: str, kind: type[Any]) -> Iterable[tuple[str, Any]]:
        # Each implementation is called on its own so that every value is attributed to the plugin
        # that returned it: a conflict error must name both plugins.
        caller = getattr(self._manager.hook, hook_name)
        for impl in caller.get_hookimpls():
            plugin_name = impl.plugin_name
            returned = impl.function()
            if returned is None:
                continue
            for item in returned:
                if not isinstance(item, kind):
                    raise ConfigurationError(
                        f"plugin {plugin_name!r} returned {item!r} from {hook_name}, "
                        f"not a {kind.__name__}"
                    )
                yield plugin_name, item

    def _forget(self) -> None:
        self._families = None
        self._types = None


def _observer_failed(hook_name: str, plugin: str, exc: Exception) -> None:
    warning = ObserverFailedWarning(hook_name, plugin, exc)
    _LOG.error("%s", warning, exc_info=exc)
    warnings.warn(warning, stacklevel=4)


def _raise_clashes(what: str, owners: Mapping[str, list[str]]) -> None:
    clashes = [(what, name, plugins) for name, plugins in owners.items() if len(plugins) > 1]
    if clashes:
        raise ConflictError(clashes)
