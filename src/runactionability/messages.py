"""What the library says, before it is said in a language: message ids with typed parameters.

Every explanation, action label, ``would_change`` sentence and CLI heading is a ``Message``: a
stable ``id`` (the gettext context), its English source ``text`` (the gettext msgid, with
``{name}`` placeholders) and typed ``params``. Nothing is rendered where a message is made: the
core keeps the message on the verdict, and the edge (``runactionability.i18n.Renderer``) renders
it for a locale and a time zone, formatting instants, durations, counts and lists with Babel and
naming types, families and statuses by their display names.

Babel's extractor finds every message by its keywords (``msg:1c,2`` and ``msgn:1c,2,3``), so the
catalogs are checked against the code (``tests/test_i18n_catalogs.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal, TypeAlias

import attrs

Param: TypeAlias = "str | int | datetime | timedelta | Message | Listing"
"""A parameter's value: an id or other literal text (``str``), a count (``int``), an instant, a
duration, a display name or nested sentence (``Message``), or a list of them (``Listing``)."""

COUNT = "count"
"""The parameter that picks a plural message's form."""


def _as_items(values: Iterable[Param]) -> tuple[Param, ...]:
    return tuple(values)


@attrs.frozen
class Listing:
    """Values shown as one list, joined per locale ("a, b or c"; "a, b oder c")."""

    items: tuple[Param, ...] = attrs.field(converter=_as_items)
    style: Literal["or", "and"] = "or"


@attrs.frozen
class Message:
    """A sentence or a name with its parameters, kept as data until the edge renders it.

    ``id`` is stable across releases and languages (hosts and catalogs key on it); ``text`` is the
    English source with ``{name}`` placeholders; ``plural``, when set, is the English plural form,
    picked by the ``count`` parameter. Build one with ``msg`` or ``msgn``.
    """

    id: str
    text: str
    params: tuple[tuple[str, Param], ...] = ()
    plural: str | None = None

    @property
    def arguments(self) -> Mapping[str, Param]:
        """The parameters by name."""
        return dict(self.params)

    def __str__(self) -> str:
        """The message in English (UTC), as ``runactionability.i18n.english`` renders it."""
        from runactionability.i18n import english

        return english(self)


def msg(message_id: str, text: str, /, **params: Param) -> Message:
    """A message: its id, its English text with ``{name}`` placeholders, and their values."""
    return Message(message_id, text, tuple(params.items()))


def msgn(message_id: str, singular: str, plural: str, /, *, count: int, **params: Param) -> Message:
    """A message with a count: ``singular`` or ``plural`` (per locale rules) with ``{count}``."""
    return Message(message_id, singular, ((COUNT, count), *params.items()), plural)


# Message has no validators or converters, so filling its slots directly makes the same value as
# calling the class, at about half the cost; a big batch makes one per problem run.
_new_object = object.__new__
_set_id = Message.__dict__["id"].__set__
_set_text = Message.__dict__["text"].__set__
_set_params = Message.__dict__["params"].__set__
_set_plural = Message.__dict__["plural"].__set__


def filled(template: Message, *params: tuple[str, Param]) -> Message:
    """``template`` (a ``msg`` without parameters) with ``params``, in the order ``msg`` keeps.

    The same value ``msg`` gives for the same keyword arguments; the caller may pass pairs it
    shares (``shared_param``), so a million explanations do not each hold a copy of the pair
    that names their type.
    """
    message = _new_object(Message)
    _set_id(message, template.id)
    _set_text(message, template.text)
    _set_params(message, params)
    _set_plural(message, template.plural)
    return message


_SHARED_PARAMS: dict[tuple[str, int], tuple[str, Message]] = {}


def shared_param(name: str, value: Message) -> tuple[str, Message]:
    """The parameter pair ``(name, value)``, one object for every message naming ``value``.

    Keyed by the value's identity: the pair holds the value, so the identity is never reused
    while the entry exists. The values passed are the shared display names, so the table stays
    small; it is emptied should it ever grow past a bound.
    """
    key = (name, id(value))
    pair = _SHARED_PARAMS.get(key)
    if pair is None:
        if len(_SHARED_PARAMS) >= 4096:
            _SHARED_PARAMS.clear()
        pair = _SHARED_PARAMS[key] = (name, value)
    return pair


PLAIN_ID = "plain"
"""The id of text a plugin gave as a plain string: shown as written, in every locale."""


def plain(text: str) -> Message:
    """Text that is not a catalog message (a plugin's plain string): rendered as it is."""
    return Message(PLAIN_ID, "{text}", (("text", text),))


def as_message(value: Message | str) -> Message:
    """A message as is; a plain string (what plugins wrote before messages) as ``plain``."""
    if value.__class__ is Message or isinstance(value, Message):
        return value
    if isinstance(value, str):
        return plain(value)
    raise TypeError(f"expected a Message or a str, not {type(value).__name__}")


# Names repeat across a batch (every failed sync names its type): one shared value per name
# saves building a message per problem run.
@lru_cache(maxsize=4096)
def display_name(kind: str, name: str, english: str | None = None) -> Message:
    """The display name of a stored ``name`` of ``kind`` (operation type, family, state kind...).

    Its id is ``{kind}.{name}``; a catalog without it shows ``english`` (default: ``name`` as
    stored), so an unknown name is never lost.
    """
    shown = name if english is None else english
    # The English text is a format template: a brace in a stored name (an outcome "fail}") is
    # a literal, never a placeholder, or rendering the name would raise.
    return Message(f"{kind}.{name}", shown.replace("{", "{{").replace("}", "}}"))


def iter_messages(value: Message | Listing | Iterable[Param]) -> Iterable[Message]:
    """Every message inside ``value`` (itself and its nested parameters), depth first."""
    if isinstance(value, Message):
        yield value
        items: Iterable[Param] = (param for _, param in value.params)
    elif isinstance(value, Listing):
        items = value.items
    else:
        items = value
    for item in items:
        if isinstance(item, Message | Listing):
            yield from iter_messages(item)
