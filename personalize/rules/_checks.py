"""The value checks the condition compiler builds, with their inline forms.

Each check is a :class:`~personalize.rules._nodes.VCheck`: the semantics as a closure, and,
for the commonest operators, a code template the generator (:mod:`._codegen`) inlines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from personalize.rules._nodes import AllOf, CondNode, Const, Evaluation, VCheck
from personalize.rules._values import ARRAY_TYPES, Membership, deep_equal, json_type

__all__ = [
    "ORDER",
    "arg_fits",
    "bare_scalar",
    "equality",
    "fold_all",
    "folded_equality",
    "inline_template",
    "negated",
    "now_arg",
]

#: The ordering operators and the Python operator each inlines to.
ORDER = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_NUMBERS = frozenset({int, float})
#: The exact types of JSON values: the inline forms answer these; any other class (an enum
#: member, a subclass of list) takes the general check.
_PLAIN = frozenset({str, int, float, bool, type(None), list, tuple, dict})


def now_arg(x: Evaluation | None) -> Any:
    return x.now if x is not None else None


def fold_all(where: str, children: list[CondNode]) -> CondNode:
    if any(isinstance(c, Const) and not c.value for c in children):
        return Const(where, False)
    kept = [c for c in children if not isinstance(c, Const)]
    if not kept:
        return Const(where, True)
    return kept[0] if len(kept) == 1 else AllOf(where, kept)


def arg_fits(arg_kind: str, arg: Any) -> bool:
    kind = json_type(arg)
    if arg_kind == "any":
        return True
    if arg_kind == "scalar":
        return kind in {"string", "number"}
    return kind == arg_kind


def equality(where: str, op: str, const: Any) -> VCheck:
    def check(v: Any, x: Evaluation | None) -> bool:
        return deep_equal(v, const)

    kind = json_type(const)
    inline: tuple[str, dict[str, Any]] | None = None
    if kind == "string" or (kind == "number" and const not in (0, 1)):
        inline = ("{v} == {c}", {"c": const})
    elif kind == "number":
        inline = ("{v} == {c} and {v}.__class__ is not {b}", {"c": const, "b": bool})
    elif kind == "boolean" or kind == "null":
        inline = ("{v} is {c}", {"c": const})
    return VCheck(where, op, const, check, inline=inline)


def bare_scalar(where: str, const: Any) -> VCheck:
    def check(v: Any, x: Evaluation | None) -> bool:
        if isinstance(v, ARRAY_TYPES):
            return deep_equal(v, const) or any(deep_equal(item, const) for item in v)
        return deep_equal(v, const)

    inline: tuple[str, dict[str, Any]] | None = None
    if isinstance(const, str):
        inline = (
            "({v} == {c} or ({c} in {v} if {v}.__class__ in {a}"
            " else {v}.__class__ not in {plain} and {slow}({v}, x)))",
            {"c": const, "a": frozenset({list, tuple}), "plain": _PLAIN, "slow": check},
        )
    return VCheck(where, "=", const, check, inline=inline)


def negated(where: str, op: str, const: Any, test: VCheck) -> VCheck:
    inner = test.check
    inline = None
    if test.inline is not None:
        inline = (f"not ({test.inline[0]})", test.inline[1])
    return VCheck(where, op, const, lambda v, x: not inner(v, x), inline=inline)


def folded_equality(where: str, const: str) -> VCheck:
    lowered = const.lower()
    return VCheck(where, "$eq", const, lambda v, x: isinstance(v, str) and v.lower() == lowered)


def inline_template(
    op: str, prepared: Any, check: Callable[[Any, Any], bool]
) -> tuple[str, dict[str, Any]] | None:
    """An inline form for the commonest built-in operators, with a general fallback."""
    if op in ORDER:
        # Python orders numbers (and booleans) with numbers, and strings with strings, as
        # JavaScript does; any other mix raises TypeError and takes the general path.
        # Against a non-ASCII string, JavaScript's UTF-16 order can differ from Python's
        # code point order: the general path orders those.
        if isinstance(prepared, str) and not prepared.isascii():
            return None
        return (f"{{v}} {ORDER[op]} {{c}}", {"c": prepared})
    if op in ("$in", "$nin") and isinstance(prepared, Membership):
        strings = prepared.strings
        if strings is None:
            return None
        test = "in" if op == "$in" else "not in"
        return (
            f"({{v}} {test} {{s}} if {{v}}.__class__ is {{t}} else {{slow}}({{v}}, x))",
            {"s": strings, "t": str, "slow": check},
        )
    if op == "$exists":
        return ("{v} is not None", {}) if prepared else ("{v} is None", {})
    # Exact types take the inline form; anything else, such as an enum member whose JSON
    # type is a string or a number, the general check.
    if op in ("$regex", "$regexi"):
        return (
            "({matches}({v}) if {v}.__class__ is {t}"
            " else {v}.__class__ not in {plain} and {slow}({v}, x))",
            {"t": str, "matches": prepared.matches, "plain": _PLAIN, "slow": check},
        )
    if op == "$between":
        low, high = prepared
        form = "{lo} <= {v} <= {hi}" if low <= high else "({v} >= {lo} or {v} <= {hi})"
        return (
            f"({form} if {{v}}.__class__ in {{t}}"
            " else {v}.__class__ not in {plain} and {slow}({v}, x))",
            {"lo": low, "hi": high, "t": _NUMBERS, "plain": _PLAIN, "slow": check},
        )
    return None
