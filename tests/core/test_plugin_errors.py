"""A broken plugin is named in its error; the missing-state-source warning is one line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from runactionability import (
    ActionabilityService,
    Family,
    MessageCatalogs,
    OperationType,
    PluginError,
    Registry,
    hookimpl,
)
from runactionability.errors import ConfigurationError


def install(root: Path, source: str) -> tuple[str, str, str]:
    """A module and its dist-info on ``root``; returns (module, entry point, distribution)."""
    token = uuid.uuid4().hex[:8]
    module = f"ra_broken_{token}"
    entry_point = f"broken-{token}"
    distribution = f"ra-broken-{token}"
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    dist_info = root / f"{module}-4.5.6.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 4.5.6\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[runactionability]\n{entry_point} = {module}\n")
    return module, entry_point, distribution


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_plugin_module_that_fails_to_import_is_named_with_its_distribution(
    on_path: Path,
) -> None:
    module, entry_point, distribution = install(on_path, "import no_such_module_ra_test\n")
    try:
        with pytest.raises(PluginError) as raised:
            Registry.default(entry_points=True)
    finally:
        sys.modules.pop(module, None)
    message = str(raised.value)
    assert f"plugin {entry_point!r}" in message
    assert f"{distribution} 4.5.6" in message
    assert "failed to import" in message
    assert "no_such_module_ra_test" in message
    assert isinstance(raised.value, ConfigurationError)


def test_a_hook_that_raises_is_named_with_its_distribution(on_path: Path) -> None:
    module, entry_point, distribution = install(
        on_path,
        """
        from runactionability import hookimpl

        @hookimpl
        def runactionability_families():
            raise RuntimeError("quota backend unreachable")
        """,
    )
    try:
        registry = Registry.default(entry_points=True)
        with pytest.raises(PluginError) as raised:
            registry.families()
    finally:
        sys.modules.pop(module, None)
    message = str(raised.value)
    assert f"plugin {entry_point!r} (entry point of {distribution} 4.5.6)" in message
    assert "runactionability_families" in message
    assert "RuntimeError: quota backend unreachable" in message


def test_a_plugin_that_fails_to_register_is_named_with_its_distribution(on_path: Path) -> None:
    module, entry_point, distribution = install(
        on_path,
        """
        from runactionability import hookimpl

        @hookimpl
        def runactionability_families(tenant):
            return ()
        """,
    )
    try:
        with pytest.raises(PluginError, match=f"{entry_point}.*{distribution} 4.5.6.*register"):
            Registry.default(entry_points=True)
    finally:
        sys.modules.pop(module, None)


def test_a_registered_plugin_whose_hook_raises_is_named() -> None:
    class Broken:
        @hookimpl
        def runactionability_operation_types(self) -> None:
            raise ValueError("bad type table")

    registry = Registry()
    registry.register(Broken(), name="acme.broken")
    with pytest.raises(PluginError, match=r"plugin 'acme\.broken' raised in .*bad type table"):
        registry.operation_types()


def test_a_hook_whose_generator_raises_midway_is_named() -> None:
    # Audit F7: only the call was guarded; the lazy items escaped as the raw ValueError.
    class Lazy:
        @hookimpl
        def runactionability_operation_types(self) -> Iterator[OperationType]:
            yield OperationType(name="g.one", family="repeatable_sync")
            raise ValueError("mid")

    registry = Registry()
    registry.register(Lazy(), name="acme.lazy")
    with pytest.raises(PluginError, match=r"plugin 'acme\.lazy' raised in .*ValueError: mid"):
        registry.operation_types()


def test_a_hook_returning_no_iterable_is_named() -> None:
    class Five:
        @hookimpl
        def runactionability_message_catalogs(self) -> object:
            return 5

    registry = Registry()
    registry.register(Five(), name="acme.five")
    with pytest.raises(PluginError, match=r"plugin 'acme\.five' .* TypeError: 'int' object"):
        registry.message_catalogs()


@pytest.mark.parametrize("name", ["", "   "])
def test_a_family_with_a_blank_name_is_refused_and_its_plugin_named(name: str) -> None:
    # No catalog type can name a blank family, so one would register and never apply.
    class Blank:
        @hookimpl
        def runactionability_families(self) -> list[Family]:
            return [
                Family(name=name, policy=Registry.default().families()["repeatable_sync"].policy)
            ]

    registry = Registry()
    registry.register(Blank(), name="acme.blank")
    with pytest.raises(
        PluginError, match=r"plugin 'acme\.blank' .*Family\.name must be a non-empty"
    ):
        registry.families()


def test_a_plugin_catalog_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    # The host's own missing directory was refused and a plugin's silently never loaded.
    missing = tmp_path / "no_such_locale"

    class Catalogs:
        @hookimpl
        def runactionability_message_catalogs(self) -> Sequence[MessageCatalogs]:
            return (MessageCatalogs(missing, "quota"),)

    registry = Registry()
    registry.register(Catalogs(), name="acme.catalogs")
    with pytest.raises(ConfigurationError, match=r"plugin 'acme\.catalogs' .* does not exist"):
        registry.message_catalogs()
    with pytest.raises(ConfigurationError, match=str(missing.name)):
        ActionabilityService("sqlite://", registry=registry)


def test_the_missing_state_source_warning_prints_as_one_line(tmp_path: Path) -> None:
    script = tmp_path / "host_app.py"
    script.write_text(
        "from runactionability import Registry, Resolver\n"
        "from runactionability.adapters.memory import MemoryRunHistory\n"
        "\n"
        "resolver = Resolver(history=MemoryRunHistory(), states={}, "
        "registry=Registry.default(entry_points=False))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-W", "default", str(script)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stderr.splitlines()
    assert len(lines) == 1, ran.stderr
    # It points at the host's call (module and line), without echoing the host's source.
    assert lines[0].startswith("__main__:4: MissingStateSourceWarning: no state source for ")
    assert "Resolver(history" not in ran.stderr
