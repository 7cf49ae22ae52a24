"""The layers import one way: model and values <- rules and core <- ports <- resolvers <- adapters,
consumers <- CLI and demo. An arrow back up the table fails here, naming the file and the import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "runactionability"

# Lower numbers sit lower; a module may import its own layer and the layers below it. Every
# module of the package must be placed here, so a new one is placed on purpose.
LAYERS: dict[str, int] = {
    "errors": 0,
    "model": 0,
    "limits": 0,
    "changes": 1,
    "evidence": 1,
    "findings": 1,
    "i18n": 1,
    "messages": 1,
    "result": 1,
    "scopes": 1,
    "terms": 1,
    "catalog": 2,
    "hookspecs": 2,
    "policies": 2,
    "ports": 2,
    "checks": 3,
    "plain_records": 3,
    "problem_scopes": 3,
    "core": 3,
    "core_inputs": 3,
    "proofs": 3,
    "registry": 3,
    "verdicts": 3,
    "resolver": 4,
    "fetching": 4,
    # Beside the resolvers that open its spans, above the core: the core stays without clocks.
    "telemetry": 4,
    "adapters": 5,
    "consumers": 5,
    "jsonforms": 5,
    "testing": 5,
    "config": 6,
    "service": 6,
    "demo": 7,
    "cli": 7,
    "console": 7,
    "__main__": 7,
}
# Same-layer neighbours that must still not meet: the SQL adapter computes what consumers show,
# so a consumer may read an adapter's protocol but no adapter may import a consumer.
FORBIDDEN = {("adapters", "consumers"), ("consumers", "adapters")}


def _component(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "runactionability" or len(parts) < 2:
        return None
    return parts[1]


def _imports() -> list[tuple[str, int, str]]:
    """(file, line, imported module) for every import of a package module, TYPE_CHECKING too."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            found += [(str(relative), node.lineno, m) for m in modules if _component(m)]
    return found


def _owner(file: str) -> str:
    parts = Path(file).with_suffix("").parts
    return parts[1]


def test_every_module_is_placed_in_a_layer() -> None:
    components = {
        (path.stem if path.parent == PACKAGE else path.relative_to(PACKAGE).parts[0])
        for path in PACKAGE.rglob("*.py")
    } - {"__init__"}
    assert components <= set(LAYERS), sorted(components - set(LAYERS))


def test_no_import_runs_back_up_the_layers() -> None:
    wrong = []
    for file, line, module in _imports():
        owner, target = _owner(file), _component(module)
        assert target is not None
        if owner == "__init__" or owner == target:
            continue
        if LAYERS[target] > LAYERS[owner] or (owner, target) in FORBIDDEN:
            wrong.append(f"{file}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("owner", "target", "allowed"),
    [("core", "model", True), ("model", "core", False), ("adapters", "consumers", False)],
)
def test_the_layer_rule_itself(owner: str, target: str, allowed: bool) -> None:
    # The check above is only as good as this rule: an upward or forbidden arrow must fail it.
    violates = LAYERS[target] > LAYERS[owner] or (owner, target) in FORBIDDEN
    assert violates is not allowed
