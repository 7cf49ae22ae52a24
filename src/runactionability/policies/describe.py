"""How a rule, an action template or a policy describes itself, and when a description is trusted.

The catalog, the consumers and the CLI read these descriptions, never a rule's class: a subclass
is what its description says, and one whose description may be stale claims nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from runactionability.catalog.profiles import UNDESCRIBED, PolicyDescription, RuleDescription
from runactionability.result import ActionKind

_D = TypeVar("_D")


def _defined_in(cls: type, name: str) -> type | None:
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def speaks_for_its_code(obj: object, method: str, behaviour: Iterable[str]) -> bool:
    """Whether ``obj``'s ``method`` (its description) was written with its ``behaviour`` methods.

    A subclass that overrides ``decide`` but inherits its base's description would be taken for
    the base, which it no longer is (the SQL pushdown does not compile it either); its
    description is then unknown until it writes its own.
    """
    key = (type(obj), method, tuple(behaviour))
    try:
        return _SPEAKS[key]
    except KeyError:
        answer = _SPEAKS[key] = _class_speaks(*key)
        return answer
    except TypeError:
        # A class whose metaclass makes it unhashable is answered afresh each time.
        return _class_speaks(*key)


# Per class, as classes are few and long-lived: the answer depends on the class alone.
_SPEAKS: dict[tuple[type, str, tuple[str, ...]], bool] = {}


def _class_speaks(cls: type, method: str, behaviour: tuple[str, ...]) -> bool:
    described_in = _defined_in(cls, method)
    if described_in is None:
        return False
    for name in behaviour:
        defined = _defined_in(cls, name)
        if defined is not None and not issubclass(described_in, defined):
            return False
    return True


def _answer(obj: object, method: str, behaviour: tuple[str, ...], kind: type[_D]) -> _D | None:
    if not speaks_for_its_code(obj, method, behaviour):
        return None
    try:
        answer = getattr(obj, method)()
    except Exception:
        # A description is only read to show or offer something; a failing one claims nothing.
        return None
    return answer if isinstance(answer, kind) else None


def describe_rule(rule: object) -> RuleDescription:
    """What a rule declares it may decide, through its ``describe()`` method.

    A rule without one, whose description is inherited by a subclass that changed ``plan`` or
    ``decide``, or whose method fails or answers something else, is described as unknown: it may
    decide anything, and nothing is claimed for it.
    """
    described = _answer(rule, "describe", ("plan", "decide"), RuleDescription)
    return RuleDescription.unknown(rule) if described is None else described


def describe_action(action: object) -> ActionKind | None:
    """The kind of a policy's fallback action template, through its ``describe()`` method."""
    return _answer(action, "describe", ("action",), ActionKind)


def describe_policy(policy: object) -> PolicyDescription:
    """A policy's rules and fallback action, through its ``describe_policy()`` method.

    A policy without one (or with a stale or failing one, as for ``describe_rule``) is
    ``UNDESCRIBED``: its types are shown as actionable, never as superseded or resolved.
    """
    described = _answer(policy, "describe_policy", ("plan", "decide"), PolicyDescription)
    return UNDESCRIBED if described is None else described
