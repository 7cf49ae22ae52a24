"""The raw-follow-up guard: no screen of a host reads a run's raw outcome as "needs attention".

The bug this library exists for is a dashboard that asked the historical run whether it needs
follow-up. Once a host reads current actionability instead, the guard keeps the raw reading from
coming back: it parses the host's own Python files (never imports them) and reports, as
``file:line:column``, every

- read of an attribute named in ``attributes`` (``run.terminal_follow_up``), and every keyword
  argument, string subscript, ``.get`` or ``getattr`` of that name
  (``filter(terminal_follow_up=True)``, ``row["terminal_follow_up"]``);
- comparison matching one of ``predicates``, each written as Python: ``outcome in ("failed",
  "blocked")`` matches any ``==``, ``!=``, ``in``, ``not in``, ``is`` or ``is not`` comparison of
  something named ``outcome`` (a name, an attribute, a string subscript, or one of those read
  through ``.value``, ``str(...)``, ``.lower()``, ``.upper()``, ``.casefold()`` or ``.strip()``,
  or as ``x.get("outcome")`` or ``getattr(x, "outcome")``) with a value among those, either
  way round, and SQLAlchemy's ``.in_()`` / ``.not_in()`` of such a column; also the ORM filters
  that compare by keyword (``filter(outcome__in=[...])``, ``filter_by(outcome=...)``) and a
  ``match`` on the field (``guard_reads`` says how each is read). A value may be a dotted name
  (``RunOutcome.FAILED``), which matches the same name or any name ending in it. A bare name as
  a predicate is one more attribute. docs/testing.md lists what the guard cannot see (SQL
  text, formatted strings).

Where the raw history *is* the point (an Operations history view), ``allowed`` says so:
``PATH`` (a glob over the file's path relative to the working directory, or matched from its
end, as ``pathlib`` does: ``history.py``, ``web/history/*.py``), ``PATH::FUNCTION`` (only
inside a function or class whose qualified name matches the glob: ``views.py::History*``) or
``::FUNCTION`` (in any file). Nothing else is allowed: there is no inline comment to silence it.

``assert_no_raw_follow_up`` is the test helper, ``runactionability guard PATH...`` the command
(with a ``[guard]`` table in ``runactionability.toml``).
"""

from __future__ import annotations

import ast
import fnmatch
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath

import attrs

from runactionability.testing.guard_reads import (
    FILTER_CALLS,
    Constants,
    field_of,
    keyword_field,
    literal_constants,
    pattern_reads,
    same_value,
    values_of,
)

DEFAULT_ATTRIBUTES = ("terminal_follow_up",)
"""The attributes checked when none are given: the raw flag the plan this library implements
names."""
DEFAULT_PREDICATES = ('outcome in ("failed", "blocked", "partially_succeeded", "cancelled")',)
"""The comparisons checked when none are given: a run's stored outcome read as a problem."""

_OPERATORS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)
_MEMBERSHIP_METHODS = frozenset({"in_", "not_in", "notin_"})
_SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "site-packages"})


def _as_strings(values: Iterable[str]) -> tuple[str, ...]:
    return (values,) if isinstance(values, str) else tuple(values)


@attrs.frozen
class Predicate:
    """A raw comparison: ``field`` compared with one of ``values`` (constants or dotted names)."""

    text: str
    field: str
    values: frozenset[object]

    @classmethod
    def parse(cls, text: str) -> Predicate:
        """Read ``field OP value`` or ``field in (value, ...)``; raises ``ValueError`` otherwise."""
        try:
            node = ast.parse(text.strip(), mode="eval").body
        except SyntaxError:
            raise ValueError(f"predicate {text!r} is not a Python expression") from None
        if (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], _OPERATORS)
            and (field := field_of(node.left)) is not None
            and (values := values_of(node.comparators[0]))
        ):
            return cls(text=text, field=field, values=values)
        raise ValueError(
            f"predicate {text!r}: expected a comparison such as "
            '\'outcome in ("failed", "blocked")\' or \'status == "failed"\''
        )

    def matches(self, field: str | None, values: frozenset[object]) -> bool:
        return field == self.field and any(
            same_value(v, mine) for v in values for mine in self.values
        )


@attrs.frozen(kw_only=True)
class GuardRules:
    """What the guard looks for and where it is allowed (see the module).

    ``attributes`` and ``predicates`` default to ``DEFAULT_ATTRIBUTES`` and
    ``DEFAULT_PREDICATES`` when both are empty.
    """

    attributes: tuple[str, ...] = attrs.field(default=(), converter=_as_strings)
    predicates: tuple[str, ...] = attrs.field(default=(), converter=_as_strings)
    allowed: tuple[str, ...] = attrs.field(default=(), converter=_as_strings)
    _parsed: tuple[Predicate, ...] = attrs.field(init=False, eq=False, repr=False)
    _names: frozenset[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        attributes, predicates = self.attributes, self.predicates
        if not attributes and not predicates:
            attributes, predicates = DEFAULT_ATTRIBUTES, DEFAULT_PREDICATES
        parsed, names = [], set(attributes)
        for text in predicates:
            if text.strip().isidentifier():
                names.add(text.strip())
            else:
                parsed.append(Predicate.parse(text))
        object.__setattr__(self, "_parsed", tuple(parsed))
        object.__setattr__(self, "_names", frozenset(names))
        for entry in self.allowed:
            if not entry or entry == "::":
                raise ValueError(f"allowed entry {entry!r} names neither a path nor a function")

    @property
    def checked_attributes(self) -> frozenset[str]:
        """Every attribute name the guard reports (defaults and bare-name predicates included)."""
        return self._names

    @property
    def checked_predicates(self) -> tuple[Predicate, ...]:
        """Every comparison the guard reports (defaults included)."""
        return self._parsed

    def allows(self, path: str, scopes: Sequence[str]) -> bool:
        """Whether ``allowed`` permits a raw read in file ``path`` inside ``scopes``."""
        for entry in self.allowed:
            where, _, function = entry.partition("::")
            if where and not _path_matches(path, where):
                continue
            if not function or any(fnmatch.fnmatchcase(s, function) for s in scopes):
                return True
        return False


@attrs.frozen(kw_only=True)
class GuardFinding:
    """One raw read: where (``column`` counts from 1), what matched (``rule``), the code and the
    enclosing function's qualified name."""

    path: str
    line: int
    column: int
    rule: str
    code: str
    function: str | None = None

    def __str__(self) -> str:
        where = f" (in {self.function})" if self.function else ""
        place = f"{self.path}:{self.line}:{self.column}"
        return f"{place}: raw follow-up read {self.rule!r}{where}: {self.code}"


def scan(
    paths: Iterable[str | os.PathLike[str]], rules: GuardRules | None = None
) -> list[GuardFinding]:
    """Every finding in the Python files under ``paths`` (files or folders), in file order.

    A file that does not parse is one finding (rule ``syntax``): code the guard cannot read is
    code it cannot vouch for. Raises ``FileNotFoundError`` for a path that does not exist.
    """
    rules = GuardRules() if rules is None else rules
    findings: list[GuardFinding] = []
    for file in _python_files(paths):
        shown = _shown(file)
        raw = file.read_bytes()
        # Parsed from bytes, as Python reads a file: a byte-order mark or a coding line is the
        # file's own business, not a syntax error that would hide its real findings.
        source = raw.decode("utf-8-sig", errors="replace")
        try:
            tree = ast.parse(raw, str(file))
        except SyntaxError as exc:
            findings.append(_unreadable(shown, str(exc.msg), exc.lineno, exc.offset))
            continue
        except (RecursionError, MemoryError):
            # Python's own parser gives up on code nested this deep, so the file cannot run either.
            findings.append(_unreadable(shown, "nested too deeply for Python to parse"))
            continue
        visitor = _Visitor(rules, shown, source, literal_constants(tree))
        visitor.walk(tree)
        findings += visitor.findings
    return findings


def _unreadable(
    path: str, message: str, line: int | None = None, column: int | None = None
) -> GuardFinding:
    return GuardFinding(path=path, line=line or 1, column=column or 1, rule="syntax", code=message)


def assert_no_raw_follow_up(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    attributes: Iterable[str] = (),
    predicates: Iterable[str] = (),
    allowed: Iterable[str] = (),
    rules: GuardRules | None = None,
) -> None:
    """Fail with every ``file:line`` where the host's code reads raw follow-up outside ``allowed``.

    Give the rules as keywords or as one ``GuardRules`` (e.g. ``load_config().guard_rules()``)::

        def test_no_screen_reads_raw_follow_up():
            assert_no_raw_follow_up(
                ["src/myhost/web"],
                attributes=["terminal_follow_up"],
                predicates=['outcome in ("failed", "blocked")'],
                allowed=["src/myhost/web/history.py", "::OperationsHistory*"],
            )
    """
    if rules is None:
        rules = GuardRules(attributes=attributes, predicates=predicates, allowed=allowed)
    targets = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    findings = scan(targets, rules)
    if findings:
        listed = "\n".join(f"  {finding}" for finding in findings)
        raise AssertionError(
            f"{len(findings)} raw follow-up read(s); read current actionability instead, or "
            f"allow the place if it shows history:\n{listed}"
        )


class _Visitor:
    """Looks at each node once, walking the tree with a stack of its own: a recursive
    ``ast.NodeVisitor`` exceeds Python's recursion limit on an ordinary long expression
    (``a + a + ...`` of a few hundred terms) that Python itself compiles."""

    def __init__(self, rules: GuardRules, path: str, source: str, constants: Constants) -> None:
        self.rules, self.path, self.source, self.constants = rules, path, source, constants
        self.scopes: tuple[str, ...] = ()
        self.findings: list[GuardFinding] = []

    def walk(self, tree: ast.AST) -> None:
        pending: list[tuple[ast.AST, tuple[str, ...]]] = [(tree, ())]
        while pending:
            node, self.scopes = pending.pop()
            check = getattr(self, f"visit_{type(node).__name__}", None)
            if check is not None:
                check(node)
            scopes = self.scopes
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                scopes = (*scopes, f"{scopes[-1]}.{node.name}" if scopes else node.name)
            children = list(ast.iter_child_nodes(node))
            pending.extend((child, scopes) for child in reversed(children))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load) and node.attr in self.rules.checked_attributes:
            self._report(node, node.attr)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        key = node.slice
        if (
            isinstance(key, ast.Constant)
            and key.value in self.rules.checked_attributes
            and isinstance(node.ctx, ast.Load)
        ):
            self._report(node, str(key.value))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        for keyword in node.keywords:
            if keyword.arg in self.rules.checked_attributes:
                self._report(keyword, keyword.arg)
            elif keyword.arg is not None and name in FILTER_CALLS:
                # filter(outcome="failed"), filter(outcome__in=[...]): a comparison by keyword.
                values = values_of(keyword.value, self.constants)
                self._match(keyword, keyword_field(keyword.arg), values)
        if name in ("get", "getattr") and field_of(node) in self.rules.checked_attributes:
            self._report(node, str(field_of(node)))
        if isinstance(func, ast.Attribute) and func.attr in _MEMBERSHIP_METHODS and node.args:
            self._compare(node, func.value, node.args[0])

    def visit_Compare(self, node: ast.Compare) -> None:
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, _OPERATORS):
                self._compare(node, left, right) or self._compare(node, right, left)
            left = right

    def visit_Match(self, node: ast.Match) -> None:
        field = field_of(node.subject)
        subject = ast.get_source_segment(self.source, node.subject) or ast.unparse(node.subject)
        for case in node.cases:
            pattern = ast.get_source_segment(self.source, case.pattern) or ast.unparse(case.pattern)
            code = f"match {subject}: case {pattern}"
            for read, values in pattern_reads(field, case.pattern, self.constants):
                if self._match(case.pattern, read, values, code):
                    break

    def _compare(self, node: ast.AST, field_node: ast.expr, value_node: ast.expr) -> bool:
        return self._match(node, field_of(field_node), values_of(value_node, self.constants))

    def _match(
        self, node: ast.AST, field: str | None, values: frozenset[object], code: str | None = None
    ) -> bool:
        for predicate in self.rules.checked_predicates:
            if predicate.matches(field, values):
                self._report(node, predicate.text, code)
                return True
        return False

    def _column(self, node: ast.AST) -> int:
        """The 1-based column in characters (the AST counts UTF-8 bytes)."""
        lines = self.source.splitlines()
        number, offset = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        if not 0 < number <= len(lines):
            return offset + 1
        return len(lines[number - 1].encode()[:offset].decode(errors="replace")) + 1

    def _report(self, node: ast.AST, rule: str, code: str | None = None) -> None:
        if self.rules.allows(self.path, self.scopes):
            return
        code = code or ast.get_source_segment(self.source, node) or ast.unparse(node)
        self.findings.append(
            GuardFinding(
                path=self.path,
                line=getattr(node, "lineno", 1),
                column=self._column(node),
                rule=rule,
                code=" ".join(code.split()),
                function=self.scopes[-1] if self.scopes else None,
            )
        )


def _python_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    for given in paths:
        path = Path(given)
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in sorted(path.rglob("*.py")):
                parts = file.relative_to(path).parts[:-1]
                if not any(p.startswith(".") or p in _SKIPPED_DIRECTORIES for p in parts):
                    yield file
        else:
            raise FileNotFoundError(f"no file or folder at {str(path)!r}")


def _shown(file: Path) -> str:
    try:
        return file.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return file.as_posix()


def _path_matches(path: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(path, pattern) or PurePosixPath(path).match(pattern)
