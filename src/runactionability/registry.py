"""The plugin registry: families and operation types gathered from pluggy plugins."""

from __future__ import annotations

import importlib.metadata
import logging
import os
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
    PluginError,
)
from runactionability.i18n import MessageCatalogs
from runactionability.messages import Message
from runactionability.policies.base import Family, type_label
from runactionability.terms import (
    family_name,
    state_kind_name,
    state_status_name,
    subject_key_name,
    target_kind_name,
)

ENTRY_POINT_GROUP = "runactionability"

_LOG = logging.getLogger("runactionability")

DISABLE_AUTOLOAD_VARIABLE = "RUNACTIONABILITY_DISABLE_PLUGIN_AUTOLOAD"
"""Set to any non-empty value, ``Registry.default()`` loads no entry-point plugin (like pytest's
``PYTEST_DISABLE_PLUGIN_AUTOLOAD``): a test suite or a locked-down host stays hermetic whatever
else is installed in its environment."""


class Registry:
    """Families and operation types contributed by plugins, built-in and third-party alike.

    ``Registry()`` is empty, which is what a test wants; ``Registry.default()`` registers the
    built-in families and reference types, then every plugin of the entry-point group
    ``runactionability``. Autoloading is off with ``Registry.default(entry_points=False)``, or
    when the environment variable ``RUNACTIONABILITY_DISABLE_PLUGIN_AUTOLOAD`` is set to any
    non-empty value (``entry_points=True`` loads them even then). Hooks are called again after
    each ``register``, so the answers always reflect the plugins registered now. A plugin that
    fails to import or register, or whose hook raises, is a ``PluginError`` naming its entry
    point and the distribution (and version) that installed it.
    """

    def __init__(self) -> None:
        self._manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._manager.add_hookspecs(hookspecs)
        self._families: dict[str, Family] | None = None
        self._family_plugins: dict[str, str] = {}
        self._types: tuple[OperationType, ...] | None = None
        self._distributions: dict[str, str] = {}

    @classmethod
    def default(cls, *, entry_points: bool | None = None) -> Registry:
        """A registry with the built-in plugins, then the entry-point group's plugins.

        ``entry_points`` None (the default) loads the entry-point plugins unless the environment
        variable ``RUNACTIONABILITY_DISABLE_PLUGIN_AUTOLOAD`` is set; True or False decides
        regardless of it.
        """
        from runactionability.policies import BUILTIN_PLUGINS

        registry = cls()
        for name, plugin in BUILTIN_PLUGINS:
            registry.register(plugin, name=name)
        if entry_points is None:
            entry_points = not os.environ.get(DISABLE_AUTOLOAD_VARIABLE)
        if entry_points:
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
        self._distributions.pop(name, None)
        self._forget()

    def load_entry_points(self) -> int:
        """Register every plugin of the entry-point group; return how many were loaded.

        This explicit call loads them whatever ``RUNACTIONABILITY_DISABLE_PLUGIN_AUTOLOAD`` says.
        """
        # pluggy's load_setuptools_entrypoints, with each failure attributed: an ImportError
        # alone does not tell a host which installed package brought the broken plugin.
        loaded = 0
        try:
            for dist in list(importlib.metadata.distributions()):
                for entry_point in dist.entry_points:
                    if (
                        entry_point.group != ENTRY_POINT_GROUP
                        or self._manager.has_plugin(entry_point.name)
                        or self._manager.is_blocked(entry_point.name)
                    ):
                        continue
                    origin = _origin(entry_point.name, dist)
                    try:
                        plugin = entry_point.load()
                    except Exception as exc:
                        raise PluginError(
                            f"{origin} failed to import: {type(exc).__name__}: {exc}"
                        ) from exc
                    try:
                        self._manager.register(plugin, name=entry_point.name)
                    except Exception as exc:
                        raise PluginError(
                            f"{origin} failed to register: {type(exc).__name__}: {exc}"
                        ) from exc
                    self._distributions[entry_point.name] = origin
                    loaded += 1
        finally:
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

    def message_catalogs(self) -> tuple[MessageCatalogs, ...]:
        """Every plugin's message catalogs (``runactionability_message_catalogs``), in order.

        Raises ``ConfigurationError`` naming the plugin whose catalog directory does not exist,
        as a host's own is refused: its translations would silently never load.
        """
        found = []
        for plugin_name, catalogs in self._collect(
            "runactionability_message_catalogs", MessageCatalogs
        ):
            if not catalogs.directory.is_dir():
                raise ConfigurationError(
                    f"{self._describe(plugin_name)} returned a message catalog directory that "
                    f"does not exist, {str(catalogs.directory)!r}, from "
                    "runactionability_message_catalogs: its translations would never load"
                )
            found.append(catalogs)
        return tuple(found)

    def display_names(self) -> tuple[Message, ...]:
        """The display names a catalog should translate for the registered plugins: every
        operation type, family, state kind, resolving state status and related-object kind.

        ``runactionability.i18n.extract_messages(..., extra=registry.display_names())`` lists
        them beside a package's own messages.
        """
        names: dict[str, Message] = {}
        for op_type in self.operation_types():
            names.setdefault(f"t{op_type.name}", type_label(op_type))
            if op_type.subject_key is not None:
                names.setdefault(f"s{op_type.subject_key}", subject_key_name(op_type.subject_key))
        for family in self.families().values():
            names.setdefault(f"f{family.name}", family_name(family.name))
            for kind in family.state_kinds:
                names.setdefault(f"k{kind}", state_kind_name(kind))
                names.setdefault(f"o{kind}", target_kind_name(kind))
            for declared in family.resolving_states:
                for status in declared.statuses:
                    names.setdefault(f"v{status}", state_status_name(status))
            action = getattr(family.policy, "action", None)
            target = getattr(action, "target_kind", None)
            if isinstance(target, str):
                names.setdefault(f"o{target}", target_kind_name(target))
        names.setdefault("orun", target_kind_name("run"))
        return tuple(names.values())

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
            try:
                returned = impl.function()
                # Materialised here: a generator that raises midway, or a value that is not
                # iterable, is the plugin's failure too, and must name it.
                items = () if returned is None else tuple(returned)
            except Exception as exc:
                raise PluginError(
                    f"{self._describe(plugin_name)} raised in {hook_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            for item in items:
                if not isinstance(item, kind):
                    raise ConfigurationError(
                        f"{self._describe(plugin_name)} returned {item!r} from {hook_name}, "
                        f"not a {kind.__name__}"
                    )
                yield plugin_name, item

    def _describe(self, plugin_name: str) -> str:
        return self._distributions.get(plugin_name, f"plugin {plugin_name!r}")

    def _forget(self) -> None:
        self._families = None
        self._types = None


def _observer_failed(hook_name: str, plugin: str, exc: Exception) -> None:
    warning = ObserverFailedWarning(hook_name, plugin, exc)
    _LOG.error("%s", warning, exc_info=exc)
    warnings.warn(warning, stacklevel=4)


def _origin(entry_point: str, dist: importlib.metadata.Distribution) -> str:
    name = dist.metadata["Name"] or "an unnamed distribution"
    return f"plugin {entry_point!r} (entry point of {name} {dist.version})"


def _raise_clashes(what: str, owners: Mapping[str, list[str]]) -> None:
    clashes = [(what, name, plugins) for name, plugins in owners.items() if len(plugins) > 1]
    if clashes:
        raise ConflictError(clashes)
