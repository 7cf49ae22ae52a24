"""Which state kinds are asked for with a subject, and which without: from the catalog alone.

The core asks for a kind's state in a problem run's own scope and by its subject, the value of
its type's ``subject_key`` (``ProblemRun.state_request``); a type without a subject key asks
without one. A kind matters to a type only when the type's family reads it (``state_kinds``) and
declares statuses of it that resolve the type (``resolving_states``): the core accepts no other
state as a proof. So the catalog's subject keys and the families' declarations say, for each
kind, which types ask for it by subject and which ask for the scope's own object, with nothing
for a plugin family to declare beyond what its policy already does. A mapping that reads a kind
otherwise (no subject column for a kind asked by subject) never resolves those types' runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from runactionability.catalog import OperationType
from runactionability.policies.base import Family, Risk


@attrs.frozen
class AskedSubjects:
    """How the types that a state of ``kind`` may resolve ask for it.

    ``by_subject`` names the canonical types whose runs ask for it by their subject (their
    ``subject_key``, with the key); ``without_subject`` those whose runs ask for the scope's own
    object. Both are sorted; a kind that no type asks for is not described at all.
    """

    kind: str
    by_subject: tuple[tuple[str, str], ...]
    without_subject: tuple[str, ...]


def asked_subjects(
    types: Iterable[OperationType], families: Mapping[str, Family]
) -> dict[str, AskedSubjects]:
    """For each state kind some type may be resolved by, how its types ask for it.

    ``types`` is a catalog (or its inventory), ``families`` the registry's by name. A high-risk
    family is left out: the core holds its runs in review whatever a state says.
    """
    by_subject: dict[str, set[tuple[str, str]]] = {}
    without: dict[str, set[str]] = {}
    for op_type in types:
        family = families.get(op_type.family)
        if family is None or family.risk is Risk.HIGH:
            continue
        for kind in family.state_kinds:
            if not family.resolving_statuses(kind, op_type.name):
                continue
            if op_type.subject_key is None:
                without.setdefault(kind, set()).add(op_type.name)
            else:
                by_subject.setdefault(kind, set()).add((op_type.name, op_type.subject_key))
    return {
        kind: AskedSubjects(
            kind=kind,
            by_subject=tuple(sorted(by_subject.get(kind, ()))),
            without_subject=tuple(sorted(without.get(kind, ()))),
        )
        for kind in sorted(by_subject.keys() | without.keys())
    }
