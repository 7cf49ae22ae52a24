"""Reading a configuration file: finding it, structuring it with cattrs, checking it whole."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from runactionability.config.values import (
    REGISTRY_CATALOG,
    VARIABLE,
    Config,
    RunsConfig,
    StateConfig,
    canonical_locale,
)
from runactionability.errors import ConfigurationError, UsageError
from runactionability.i18n import time_zone_of
from runactionability.limits import MAX_CHANGE_MARGIN

CONFIG_FILE = "runactionability.toml"
"""The file ``load_config`` looks for in the working directory."""


def load_config(path: str | os.PathLike[str] | None = None, *, cwd: Path | None = None) -> Config:
    """The configuration at ``path``; without one, the first found of ``./runactionability.toml``
    and the nearest ``pyproject.toml`` (from ``cwd`` up) with a ``[tool.runactionability]``
    table; without either, the defaults (the reference schema, the registry's catalog).

    Raises ``ConfigurationError`` naming the file and the key for a missing or unreadable file,
    an unknown key, a value of the wrong type or a mapping the adapter refuses.
    """
    if path is not None:
        chosen = Path(path)
        if not chosen.is_file():
            raise ConfigurationError(f"no configuration file at {str(chosen)!r}")
        document = _read(chosen)
        if chosen.name == "pyproject.toml":
            table = document.get("tool", {}).get("runactionability")
            if not isinstance(table, dict):
                raise ConfigurationError(f"{chosen}: no [tool.runactionability] table")
            document = table
        return _structured(document, chosen)
    here = (cwd or Path.cwd()).resolve()
    if (here / CONFIG_FILE).is_file():
        return _structured(_read(here / CONFIG_FILE), here / CONFIG_FILE)
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            table = _read(candidate).get("tool", {}).get("runactionability")
            if isinstance(table, dict):
                return _structured(table, candidate)
    return Config()


# -- reading ------------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: not a readable TOML file: {exc}") from None


def _structured(document: dict[str, Any], path: Path) -> Config:
    try:
        config = _CONVERTER.structure(document, Config)
    except cattrs.BaseValidationError as exc:
        problems = cattrs.transform_error(exc, path="", format_exception=_problem)
        raise ConfigurationError(f"{path}: " + "; ".join(_keyed(p) for p in problems)) from None
    folder = path.parent.resolve()
    config = attrs.evolve(config, source=path)
    if config.database is not None and "://" not in config.database:
        config = attrs.evolve(config, database=str(folder / config.database))
    if config.catalog != REGISTRY_CATALOG:
        config = attrs.evolve(config, catalog=str(folder / config.catalog))
    if config.guard.paths:
        paths = [str(folder / each) for each in config.guard.paths]
        config = attrs.evolve(config, guard=attrs.evolve(config.guard, paths=paths))
    if config.messages is not None:
        config = attrs.evolve(config, messages=str(folder / config.messages))
    # Everything that can be checked without the database is checked now, naming the file.
    try:
        # A reflected table's keys are checked as they are: only its types wait for it.
        if config.runs is not None:
            _unreflected(config.runs).mapping()
        for kind, table in config.states.items():
            _unreflected(table).mapping(kind)
        config.guard.rules()
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    return config


_Section = TypeVar("_Section", RunsConfig, StateConfig)


def _unreflected(section: _Section) -> _Section:
    """``section`` as its keys alone map it: what can be checked before the database is read."""
    if not section.reflect:
        return section
    return attrs.evolve(section, reflect=False, zone=None, epoch_unit=None)


def _keyed(problem: str) -> str:
    message, _, where = problem.rpartition(" @ ")
    key = where.lstrip(".").replace("['", ".").replace("']", "")
    return f"{key}: {message}" if key else message


def _problem(exc: BaseException, expected: Any) -> str:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown key {', '.join(sorted(exc.extra_fields))!r}"
    if isinstance(exc, KeyError):
        return "required key missing"
    if isinstance(exc, _WrongType | ConfigurationError):
        return str(exc)
    # An optional key's type is a union with None, which the file cannot hold.
    given = [arg for arg in get_args(expected) if arg is not type(None)]
    if get_origin(expected) in (Union, UnionType) and len(given) == 1:
        expected = given[0]
    if get_origin(expected) is Literal:
        return f"expected one of {', '.join(map(repr, get_args(expected)))}"
    if get_origin(expected) is dict:
        return "expected a table"
    return f"invalid value ({exc})"


class _WrongType(ValueError):
    pass


# -- structuring --------------------------------------------------------------------------------

_T = TypeVar("_T")


def _strictly(kind: type[_T], label: str) -> Callable[[object, object], _T]:
    def structure(value: object, _: object) -> _T:
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise _WrongType(f"expected {label}, not {value!r}")
        return value

    return structure


def _text_or_flag(value: object, _: object) -> str | bool:
    if isinstance(value, str) or value is False:
        return value
    raise _WrongType(f"expected a column name or false, not {value!r}")


def _text_or_integer(value: object, _: object) -> str | int:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _WrongType(f"expected a string or an integer, not {value!r}")


def _strings(value: object, _: object) -> list[str]:
    if isinstance(value, list) and all(isinstance(each, str) for each in value):
        return list(value)
    raise _WrongType(f"expected a list of strings, not {value!r}")


def _catalog(value: object, _: object) -> str:
    if isinstance(value, str) and (value == REGISTRY_CATALOG or value.endswith(".toml")):
        return value
    raise _WrongType(f"expected 'registry' or the path of a .toml catalog file, not {value!r}")


def _locale(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise _WrongType(f"expected a BCP 47 language tag, not {value!r}")
    return canonical_locale(value)


def _time_zone(value: object, _: object) -> str:
    if isinstance(value, str):
        try:
            time_zone_of(value)
        except UsageError:
            pass
        else:
            return value
    raise _WrongType(f"expected an IANA time zone (e.g. 'Europe/Berlin'), not {value!r}")


def _variable(value: object, _: object) -> str:
    if isinstance(value, str) and VARIABLE.fullmatch(value):
        return value
    raise _WrongType(f"expected the name of an environment variable, not {value!r}")


def _seconds(value: object, _: object) -> float:
    most = MAX_CHANGE_MARGIN.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= most:
        return float(value)
    raise _WrongType(f"expected a number of seconds from 0 to {most:.0f} (a day), not {value!r}")


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _strictly(str, "a string"))
    converter.register_structure_hook(bool, _strictly(bool, "true or false"))
    converter.register_structure_hook(str | bool | None, _text_or_flag)
    converter.register_structure_hook(str | int, _text_or_integer)
    converter.register_structure_hook_func(lambda kind: kind == list[str], _strings)
    converter.register_structure_hook(
        Config,
        make_dict_structure_fn(
            Config,
            converter,
            _cattrs_forbid_extra_keys=True,
            source=override(omit=True),
            catalog=override(struct_hook=_catalog),
            locale=override(struct_hook=_locale),
            time_zone=override(struct_hook=_time_zone),
            cursor_key_env=override(struct_hook=_variable),
            change_margin_seconds=override(struct_hook=_seconds),
        ),
    )
    return converter


_CONVERTER = _converter()
