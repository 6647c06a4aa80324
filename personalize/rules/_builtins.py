"""The SDK's own operators, registered through the same API a plugin uses.

Each operator is ``fn(actual, arg)`` with ``arg`` prepared once at load (a regex compiled
for RE2, a version padded, a membership set built). The code generator inlines the
commonest of them; these functions are the semantics, used everywhere else.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from personalize._registry import Registry
from personalize.context import FACT_SCHEMA
from personalize.rules._regex import Regex
from personalize.rules._values import (
    Membership,
    deep_equal,
    js_compare,
    json_type,
    padded_version,
)

__all__ = ["TYPE_NAMES", "builtin_registry", "install_builtins", "prepare_regex"]

#: The names ``$type`` accepts.
TYPE_NAMES = frozenset({"string", "number", "boolean", "array", "object", "null", "undefined"})
_EARTH_KM = 6371.0088


def prepare_regex(arg: Any, *, insensitive: bool = False) -> Regex:
    """Compile a ``$regex`` constant: a pattern, or ``(pattern, options)`` with ``$options``.

    The pattern is compiled for RE2, which matches in linear time (see
    :mod:`personalize.rules._regex`).

    Raises:
        ValueError: Not a string, too long, unknown options or a pattern RE2 cannot compile
            (backreferences and lookaround included).
    """
    options = ""
    if isinstance(arg, tuple):
        arg, options = arg
    if not isinstance(arg, str):
        raise ValueError(f"a regex must be a string, not {json_type(arg)}")
    if not isinstance(options, str):
        raise ValueError(f"$options {options!r}: use letters among 'imsx'")
    return Regex(arg, options, insensitive=insensitive)


def _regex(actual: Any, pattern: Regex) -> bool:
    return isinstance(actual, str) and pattern.matches(actual)


def _not_regex(actual: Any, pattern: Regex) -> bool:
    return not _regex(actual, pattern)


def _regex_preparer(insensitive: bool) -> Callable[[Any], Regex]:
    return lambda arg: prepare_regex(arg, insensitive=insensitive)


def _ordering(symbol: str) -> Callable[[Any, Any], bool]:
    return lambda actual, expected: js_compare(actual, expected, symbol)


def _versions(compare: Callable[[str, str], Any]) -> Callable[[Any, str], bool]:
    return lambda actual, padded: bool(compare(padded_version(actual), padded))


def _prepare_between(arg: Any) -> tuple[float, float]:
    if (
        not isinstance(arg, list | tuple)
        or len(arg) != 2
        or not all(json_type(x) == "number" for x in arg)
    ):
        raise ValueError("$between takes two numbers: [low, high]")
    return (arg[0], arg[1])


def _between(actual: Any, bounds: tuple[float, float]) -> bool:
    if json_type(actual) != "number":
        return False
    low, high = bounds
    if low <= high:
        return bool(low <= actual <= high)
    return bool(actual >= low or actual <= high)  # wraps around, e.g. hours [22, 5]


def _prepare_near(arg: Any) -> tuple[float, float, float]:
    if not isinstance(arg, Mapping) or set(arg) != {"lat", "lon", "km"}:
        raise ValueError("$near takes {lat, lon, km}")
    lat, lon, km = arg["lat"], arg["lon"], arg["km"]
    if not all(json_type(x) == "number" for x in (lat, lon, km)):
        raise ValueError("$near: lat, lon and km must be numbers")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and km >= 0):
        raise ValueError("$near: lat within ±90, lon within ±180, km >= 0")
    return (math.radians(lat), math.radians(lon), float(km))


def _near(actual: Any, point: tuple[float, float, float]) -> bool:
    if not isinstance(actual, Mapping):
        return False
    lat = actual.get("latitude", actual.get("lat"))
    lon = actual.get("longitude", actual.get("lon"))
    if json_type(lat) != "number" or json_type(lon) != "number":
        return False
    try:
        phi, lam = math.radians(lat), math.radians(lon)
    except OverflowError:  # an integer beyond a double (json.loads reads one)
        return False
    if not (math.isfinite(phi) and math.isfinite(lam)):  # sin() raises on an infinity
        return False
    lat0, lon0, km = point
    h = (
        math.sin((phi - lat0) / 2) ** 2
        + math.cos(lat0) * math.cos(phi) * math.sin((lam - lon0) / 2) ** 2
    )
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h))) <= km


def _prepare_type(arg: Any) -> str:
    if arg not in TYPE_NAMES:
        raise ValueError(f"$type takes one of {sorted(TYPE_NAMES)}")
    return str(arg)


def _prepare_version(arg: Any) -> str:
    if not isinstance(arg, str | int | float) or isinstance(arg, bool):
        raise ValueError("a version must be a string such as '1.2.3'")
    return padded_version(arg)


def _prepare_members(arg: Any) -> Membership:
    if not isinstance(arg, list | tuple):
        raise ValueError("takes a list")
    return Membership(arg)


def _prepare_members_folded(arg: Any) -> Membership:
    if not isinstance(arg, list | tuple):
        raise ValueError("takes a list")
    return Membership(arg, fold=True)


def _prepare_exists(arg: Any) -> bool:
    if not isinstance(arg, bool):
        raise ValueError("$exists takes true or false")
    return arg


def _prepare_order(arg: Any) -> Any:
    if json_type(arg) not in {"number", "string"}:
        raise ValueError(f"compares with a number or a string, not {json_type(arg)}")
    return arg


_STRINGS = frozenset({"string", "any"})
_VERSIONS = frozenset({"string", "number", "any"})


def install_builtins(registry: Registry) -> None:
    """Register the built-in operators and actions on ``registry``."""
    op = registry.register_operator
    op("$eq", deep_equal, doc="equal (strictly: same type)")
    op("$ne", lambda a, c: not deep_equal(a, c), doc="not equal")
    for name, sym, doc in (
        ("$gt", ">", "greater than"),
        ("$gte", ">=", "greater than or equal"),
        ("$lt", "<", "less than"),
        ("$lte", "<=", "less than or equal"),
    ):
        op(
            name,
            _ordering(sym),
            arg_kind="scalar",
            prepare=_prepare_order,
            doc=doc,
        )
    op("$exists", lambda a, c: (a is not None) == c, prepare=_prepare_exists, doc="present")
    op("$in", lambda a, m: m.test(a), prepare=_prepare_members, doc="one of")
    op("$nin", lambda a, m: not m.test(a), prepare=_prepare_members, doc="none of")
    op("$ini", lambda a, m: m.test(a), prepare=_prepare_members_folded, doc="one of, any case")
    op(
        "$nini",
        lambda a, m: not m.test(a),
        prepare=_prepare_members_folded,
        doc="none of, any case",
    )
    op("$type", lambda a, t: json_type(a) == t, prepare=_prepare_type, doc="JSON type is")
    for name, insensitive, negate in (
        ("$regex", False, False),
        ("$regexi", True, False),
        ("$notRegex", False, True),
        ("$notRegexi", True, True),
    ):
        op(
            name,
            _not_regex if negate else _regex,
            fact_kinds=_STRINGS,
            prepare=_regex_preparer(insensitive),
            doc=("does not match" if negate else "matches") + " a regular expression",
        )
    for name, compare in (
        ("$veq", operator.eq),
        ("$vne", operator.ne),
        ("$vgt", operator.gt),
        ("$vgte", operator.ge),
        ("$vlt", operator.lt),
        ("$vlte", operator.le),
    ):
        op(
            name,
            _versions(compare),
            fact_kinds=_VERSIONS,
            prepare=_prepare_version,
            doc="version comparison",
        )
    op(
        "$between",
        _between,
        arg_kind="array",
        fact_kinds=frozenset({"number", "any"}),
        prepare=_prepare_between,
        doc="within [low, high], inclusive; wraps when low > high",
    )
    op(
        "$near",
        _near,
        arg_kind="object",
        fact_kinds=frozenset({"object", "any"}),
        prepare=_prepare_near,
        doc="within km of a point",
    )
    from personalize.rules._builtin_actions import install_actions

    install_actions(registry)


@functools.cache
def _template() -> Registry:
    registry = Registry(reserved_facts=FACT_SCHEMA)
    install_builtins(registry)
    return registry  # never handed out: callers get copies


def builtin_registry() -> Registry:
    """A fresh registry holding the rule engine's built-in operators and actions.

    What :func:`~personalize.rules.compile_condition` and :meth:`RuleSet.compile
    <personalize.rules.RuleSet.compile>` use when no registry is given. Each call returns
    an independent copy, so nothing registered on one reaches another.
    """
    return _template().copy()
