"""What the raw-follow-up guard reads in a host's Python syntax: the field a comparison, a
keyword filter or a ``case`` names, and the values it is compared with.

Each spelling here is one a host writes for the same raw read: ``row.get("outcome")`` and
``getattr(run, "outcome")`` are ``run.outcome``; Django's ``filter(outcome__in=[...])`` and
SQLAlchemy's ``filter_by(outcome=...)`` are comparisons; ``match run.outcome: case "failed"`` is
``run.outcome == "failed"``; and a name bound once in the file to a literal collection
(``BAD = ("failed", "blocked")``) stands for its values.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

import attrs

FILTER_CALLS = frozenset({"filter", "filter_by", "exclude", "get", "Q"})
"""Calls whose keyword arguments compare a field with a value: Django's ``filter``, ``exclude``,
``get`` and ``Q``, SQLAlchemy's ``filter_by`` (and the ORMs that copied them)."""
_LOOKUPS = frozenset({"exact", "iexact", "in"})
"""Django lookups that compare a field's whole value, so ``outcome__in`` is ``outcome``."""
_SAME_VALUE_METHODS = frozenset({"lower", "upper", "casefold", "strip"})
_COLLECTIONS = frozenset({"tuple", "list", "set", "frozenset"})

Constants = Mapping[str, frozenset[object]]


@attrs.frozen
class Dotted:
    """A value written as a (dotted) name: ``RunOutcome.FAILED``."""

    name: str


def same_value(found: object, wanted: object) -> bool:
    """Whether ``found`` is ``wanted``: a dotted name is the same name or one ending in it, and
    text is compared ignoring case (``"FAILED"`` is the outcome ``"failed"`` spelled by a host
    that stores upper case, or compares ``outcome.upper()``)."""
    if isinstance(found, Dotted) and isinstance(wanted, Dotted):
        return found.name == wanted.name or found.name.endswith(f".{wanted.name}")
    if isinstance(found, str) and isinstance(wanted, str):
        return found.casefold() == wanted.casefold()
    return type(found) is type(wanted) and found == wanted


def field_of(node: ast.expr) -> str | None:
    """The field ``node`` reads: a name, an attribute, a string subscript, ``x.get("field")`` or
    ``getattr(x, "field")``, under any spelling that reads the same value (``unwrapped``)."""
    node = unwrapped(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        key = node.slice.value
        return key if isinstance(key, str) else None
    if isinstance(node, ast.Call) and not node.keywords:
        func, args = node.func, node.args
        if isinstance(func, ast.Attribute) and func.attr == "get" and 1 <= len(args) <= 2:
            return _text(args[0])
        if isinstance(func, ast.Name) and func.id == "getattr" and 2 <= len(args) <= 3:
            return _text(args[1])
    return None


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def unwrapped(node: ast.expr) -> ast.expr:
    """The field under the spellings that read the same stored value: ``outcome.value``,
    ``str(outcome)``, ``outcome.lower()`` (or ``upper``, ``casefold``, ``strip``) and
    ``(o := outcome)`` compare the stored outcome just as ``outcome`` does, so hiding it behind
    them must not hide it from the guard."""
    while True:
        if (isinstance(node, ast.Attribute) and node.attr == "value") or isinstance(
            node, ast.NamedExpr
        ):
            node = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "str"
            and len(node.args) == 1
            and not node.keywords
        ):
            node = node.args[0]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _SAME_VALUE_METHODS
            and not node.args
            and not node.keywords
        ):
            node = node.func.value
        else:
            return node


def values_of(node: ast.expr, constants: Constants | None = None) -> frozenset[object]:
    """The values ``node`` names: constants, dotted names, a literal collection of them (also
    through ``frozenset(...)`` and the like), and a name in ``constants`` as its values."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return frozenset(value for element in node.elts for value in values_of(element, constants))
    if isinstance(node, ast.Constant) and node.value is not None:
        return frozenset({node.value})
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _COLLECTIONS
        and len(node.args) == 1
        and not node.keywords
    ):
        return values_of(node.args[0], constants)
    if isinstance(node, ast.Attribute | ast.Name):
        named = frozenset({Dotted(ast.unparse(node))})
        if isinstance(node, ast.Name) and constants is not None:
            return named | constants.get(node.id, frozenset())
        return named
    return frozenset()


def keyword_field(name: str) -> str:
    """The field a filter's keyword compares: ``outcome`` for ``outcome``, ``outcome__in`` and
    ``run__outcome__iexact``; another lookup (``outcome__startswith``) names no field here."""
    parts = name.split("__")
    if len(parts) > 1 and parts[-1] in _LOOKUPS:
        parts.pop()
    return parts[-1]


def literal_constants(tree: ast.AST) -> dict[str, frozenset[object]]:
    """The names bound exactly once in ``tree``, by ``NAME = <literal collection>``, with their
    values: a name bound twice may hold anything at the comparison, so it stands for none."""
    bound: dict[str, int] = {}
    literals: dict[str, frozenset[object]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound[node.id] = bound.get(node.id, 0) + 1
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if value is not None and len(targets) == 1 and isinstance(targets[0], ast.Name):
            values = values_of(value)
            if values and all(not isinstance(v, Dotted) for v in values) and _collection(value):
                literals[targets[0].id] = values
    return {name: values for name, values in literals.items() if bound.get(name) == 1}


def _collection(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in _COLLECTIONS
    return isinstance(node, ast.Tuple | ast.List | ast.Set)


def pattern_reads(
    field: str | None, pattern: ast.pattern, constants: Constants
) -> Iterator[tuple[str | None, frozenset[object]]]:
    """The (field, values) comparisons a ``case`` pattern makes of a subject reading ``field``:
    ``case "failed" | "blocked"`` of ``match run.outcome``, and a class or mapping pattern's
    named parts (``case Run(outcome="failed")``, ``case {"outcome": "failed"}``)."""
    if isinstance(pattern, ast.MatchValue):
        yield field, values_of(pattern.value, constants)
    elif isinstance(pattern, ast.MatchOr):
        for alternative in pattern.patterns:
            yield from pattern_reads(field, alternative, constants)
    elif isinstance(pattern, ast.MatchAs) and pattern.pattern is not None:
        yield from pattern_reads(field, pattern.pattern, constants)
    elif isinstance(pattern, ast.MatchClass):
        for name, part in zip(pattern.kwd_attrs, pattern.kwd_patterns, strict=True):
            yield from pattern_reads(name, part, constants)
    elif isinstance(pattern, ast.MatchMapping):
        for key, part in zip(pattern.keys, pattern.patterns, strict=True):
            yield from pattern_reads(_text(key), part, constants)
