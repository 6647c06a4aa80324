"""Value semantics of the condition language: equality, ordering, membership, versions.

These are the slow, general forms of the comparisons; the code generator inlines the common
cases (a string fact equal to a string constant ...) and falls back to these for the rest.

* Equality is strict: values of different JSON types never match (``1`` is not ``"1"``,
  ``True`` is not ``1``); arrays and objects compare deeply.
* Ordering (``$gt`` ...) follows JavaScript's relational comparison, as GrowthBook's reference
  SDK does: two strings compare as text, anything else compares as numbers, a string that is
  not a number makes the comparison false, and a missing value counts as ``null``, i.e. 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

__all__ = [
    "ARRAY_TYPES",
    "Membership",
    "deep_equal",
    "js_compare",
    "js_number",
    "js_string",
    "js_truthy",
    "json_type",
    "padded_version",
]

#: The Python types the language treats as arrays.
ARRAY_TYPES = (list, tuple)

_NAN = float("nan")
_END: Any = object()
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
#: JavaScript's whitespace: its WhiteSpace and LineTerminator characters (what ``Number()``
#: trims and what a ``$regex``'s ``\\s`` matches).
JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    map(chr, range(0x2000, 0x200B))
)
_RADIX = {"0x": 16, "0o": 8, "0b": 2}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_EXACT = 2**53  # integers below this in size are exact doubles


def json_type(value: Any) -> str:
    """The name ``$type`` matches: ``string``, ``number``, ``boolean``, ``array``,
    ``object`` or ``null`` (dates are objects, as in JavaScript)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, ARRAY_TYPES):
        return "array"
    if isinstance(value, Mapping | date):
        return "object"
    return "unknown"


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: empty arrays and objects are true, ``NaN`` is false."""
    if isinstance(value, list | tuple | Mapping):
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def deep_equal(a: Any, b: Any) -> bool:
    """Strict equality: same JSON type and same value; arrays and objects deeply."""
    ta = json_type(a)
    if ta != json_type(b):
        return False
    if ta == "array":
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if ta == "object" and isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def js_string(value: Any) -> str:
    """JavaScript's ``String(value)`` for JSON values."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if -_EXACT < value < _EXACT:
            return str(value)
        value = js_number(value)  # JavaScript has only doubles
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, ARRAY_TYPES):
        return _array_text(value)
    return "[object Object]"


def _float_text(value: float) -> str:
    """ECMAScript's Number::toString: the shortest round-trip digits (Python's ``repr``),
    written in fixed notation for decimal exponents from -6 to 21, else as ``1.5e-7``."""
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + _float_text(-value)
    if math.isinf(value):
        return "Infinity"
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    spelled = whole + fraction
    digits = spelled.lstrip("0")
    # value = 0.<digits> x 10**point
    point = int(exponent or "0") + len(whole) - (len(spelled) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{'+' if point > 0 else '-'}{abs(point - 1)}"


def _array_text(array: list[Any] | tuple[Any, ...]) -> str:
    """``String(array)``: the elements' text joined by commas, ``null`` as nothing.

    Walked with a stack rather than by recursion, so an array nested thousands of levels
    deep (a JSON body can hold one) costs its size and raises nothing; an array inside
    itself reads as ``""``, as JavaScript's ``join`` has it.
    """
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(iter(array), True)]
    open_ids = {id(array)}
    owners = [array]
    while stack:
        items, first = stack[-1]
        item = next(items, _END)
        if item is _END:
            stack.pop()
            open_ids.discard(id(owners.pop()))
            continue
        if first:
            stack[-1] = (items, False)
        else:
            parts.append(",")
        if isinstance(item, ARRAY_TYPES):
            if id(item) not in open_ids:
                stack.append((iter(item), True))
                open_ids.add(id(item))
                owners.append(item)
        elif item is not None:
            parts.append(js_string(item))
    return "".join(parts)


def js_number(value: Any) -> float:
    """JavaScript's ``Number(value)``: ``NaN`` when the value is not a number."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # beyond a double: JavaScript's Number is an infinity
            return math.inf if value > 0 else -math.inf
    if isinstance(value, datetime):
        # milliseconds since the epoch, a naive value read as UTC (as $before/$after read
        # it); timestamp() would read it in the machine's zone and raise before the year 2
        aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
        return (aware - _EPOCH) / _MILLISECOND
    if isinstance(value, ARRAY_TYPES):
        return js_number(js_string(value))
    if not isinstance(value, str):
        return _NAN
    text = value.strip(JS_SPACE)
    if not text:
        return 0.0
    if text in {"Infinity", "+Infinity", "-Infinity"}:
        return -math.inf if text[0] == "-" else math.inf
    base = _RADIX.get(text[:2].lower())
    if base is not None:
        digits = text[2:]
        try:
            return float(int(digits, base)) if digits.isascii() and digits.isalnum() else _NAN
        except ValueError:
            return _NAN
        except OverflowError:  # beyond a double: JavaScript's Number is Infinity
            return math.inf
    return float(text) if _DECIMAL.match(text) else _NAN


def _primitive(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return js_number(value)
    return js_string(value)


def js_compare(actual: Any, expected: Any, op: str) -> bool:
    """JavaScript's ``actual <op> expected`` for ``op`` in ``< <= > >=``.

    Two strings compare by UTF-16 code units, as in JavaScript: a character above U+FFFF
    (a surrogate pair) sorts below U+E000..U+FFFF. When either string is ASCII this is
    Python's code point order, which is used as it is.
    """
    a, b = _primitive(actual), _primitive(expected)
    if isinstance(a, str) and isinstance(b, str):
        if not (a.isascii() or b.isascii()):
            a, b = _utf16(a), _utf16(b)
    else:
        a, b = js_number(a), js_number(b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _utf16(text: str) -> bytes:
    """Big-endian UTF-16, whose byte order is JavaScript's string order."""
    return text.encode("utf-16-be", "surrogatepass")


class Membership:
    """Strict membership in a constant list, with a fast path per JSON type.

    ``test(value)`` is true when ``value`` equals a member, or, when ``value`` is an array,
    when any of its elements does (GrowthBook's ``$in`` on array attributes).
    """

    __slots__ = ("_bools", "_has_null", "_nums", "_others", "_strs", "fold")

    def __init__(self, members: Iterable[Any], *, fold: bool = False) -> None:
        self.fold = fold
        self._strs: set[str] = set()
        self._nums: set[float] = set()
        self._bools: set[bool] = set()
        self._has_null = False
        self._others: list[Any] = []
        for item in members:
            kind = json_type(item)
            if kind == "string":
                self._strs.add(item.lower() if fold else item)
            elif kind == "number":
                self._nums.add(item)
            elif kind == "boolean":
                self._bools.add(item)
            elif kind == "null":
                self._has_null = True
            else:
                self._others.append(item)

    @property
    def strings(self) -> frozenset[str] | None:
        """The members when all are strings (for inlining), else ``None``."""
        only = not (self._nums or self._bools or self._has_null or self._others)
        return frozenset(self._strs) if only else None

    def one(self, value: Any) -> bool:
        """Whether ``value`` itself equals a member."""
        if isinstance(value, str):
            return (value.lower() if self.fold else value) in self._strs
        if value is None:
            return self._has_null
        if value is True or value is False:
            return value in self._bools
        if isinstance(value, int | float):
            return value in self._nums
        return any(deep_equal(value, other) for other in self._others)

    def test(self, value: Any) -> bool:
        """``$in`` semantics: equality, or intersection when ``value`` is an array."""
        if isinstance(value, ARRAY_TYPES):
            return any(self.one(item) for item in value)
        return self.one(value)


_VERSION_STRIP = re.compile(r"^v|\+.*$")
_VERSION_SPLIT = re.compile(r"[-.]")
_ASCII_DIGITS = re.compile(r"[0-9]+\Z")


@lru_cache(maxsize=2048)
def _padded(text: str) -> str:
    parts = _VERSION_SPLIT.split(_VERSION_STRIP.sub("", text))
    if len(parts) == 3:
        parts.append("~")
    return "-".join(p.rjust(5) if _ASCII_DIGITS.match(p) else p for p in parts)


def padded_version(value: Any) -> str:
    """A version string padded so that text order is version order (GrowthBook's algorithm).

    Numbers become their JavaScript text; anything else that is not a non-empty string
    counts as ``"0"``. Build metadata (``+...``) and a leading ``v`` are ignored; numeric
    parts are left-padded; a release without a pre-release tag sorts after its pre-releases.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = js_string(value)
    if not value or not isinstance(value, str):
        value = "0"
    return _padded(value)
