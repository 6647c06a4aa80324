"""Hypothesis strategies for conditions and fact documents, and a plain reference evaluator.

The reference evaluator is written for clarity, not speed, straight from the semantics in
docs/rules.md; the compiled predicates must agree with it on every generated case.
"""

from __future__ import annotations

import math
import re
from typing import Any

from hypothesis import strategies as st

PATHS = ["a", "b", "c.d"]
STRINGS = st.sampled_from(["", "x", "y", "ab", "5", "10", "X"])
NUMBERS = st.one_of(st.integers(-3, 12), st.sampled_from([0.5, 2.5]))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, STRINGS)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=4))


@st.composite
def facts(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key in ("a", "b"):
        if draw(st.booleans()):
            doc[key] = draw(VALUES)
    shape = draw(st.integers(0, 3))
    if shape == 1:
        doc["c"] = {"d": draw(VALUES)}
    elif shape == 2:
        doc["c"] = draw(SCALARS)
    return doc


ORDER_CONST = st.one_of(NUMBERS, STRINGS)


def value_tests() -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        SCALARS,
        st.builds(lambda v: {"$eq": v}, SCALARS),
        st.builds(lambda v: {"$ne": v}, SCALARS),
        st.builds(
            lambda op, v: {op: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), ORDER_CONST
        ),
        st.builds(lambda v: {"$in": v}, st.lists(SCALARS, max_size=3)),
        st.builds(lambda v: {"$nin": v}, st.lists(SCALARS, max_size=3)),
        st.builds(lambda v: {"$exists": v}, st.booleans()),
        st.builds(
            lambda v: {"$type": v},
            st.sampled_from(["string", "number", "null", "array", "boolean"]),
        ),
        st.builds(lambda v: {"$regex": v}, st.sampled_from(["x", "^a", "b$", "5|y"])),
        st.builds(lambda lo, hi: {"$between": [lo, hi]}, st.integers(0, 10), st.integers(0, 10)),
        st.builds(lambda v: {"$size": v}, st.integers(0, 3)),
        st.builds(lambda v: {"$all": v}, st.lists(SCALARS, max_size=2)),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda v: {"$not": v}, inner.filter(lambda v: isinstance(v, dict))),
            st.builds(lambda v: {"$elemMatch": v}, inner.filter(lambda v: isinstance(v, dict))),
        ),
        max_leaves=3,
    )


def logical(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Conditions one level up from ``inner``: ``$and``, ``$or``, ``$nor``, ``$not`` and
    two conditions side by side."""
    return st.one_of(
        st.builds(lambda xs: {"$and": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda xs: {"$or": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda xs: {"$nor": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda x: {"$not": x}, inner),
        st.builds(lambda x, y: {**x, **y}, inner, inner),
    )


def conditions() -> st.SearchStrategy[dict[str, Any]]:
    field = st.builds(lambda p, t: {p: t}, st.sampled_from(PATHS), value_tests())
    return st.recursive(field, logical, max_leaves=6)


# ------------------------------------------------------------------ reference evaluator


def _get(doc: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _same(a: Any, b: Any) -> bool:
    if _type(a) != _type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _num(v: Any) -> float:
    if v is None or v is False:
        return 0.0
    if v is True:
        return 1.0
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, list):
        v = ",".join("" if i is None else _text(i) for i in v)
    text = v.strip()
    if text == "":
        return 0.0
    return float(text) if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text) else math.nan


def _text(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, list):
        return ",".join("" if i is None else _text(i) for i in v)
    return str(v)


def _order(a: Any, b: Any, op: str) -> bool:
    if isinstance(a, list):
        a = _text(a)
    if isinstance(a, str) and isinstance(b, str):
        x: Any = a
        y: Any = b
    else:
        x, y = _num(a), _num(b)
    return {"$gt": x > y, "$gte": x >= y, "$lt": x < y, "$lte": x <= y}[op]


def _member(v: Any, items: list[Any]) -> bool:
    if isinstance(v, list):
        return any(any(_same(e, i) for i in items) for e in v)
    return any(_same(v, i) for i in items)


def _truthy(v: Any) -> bool:
    return True if isinstance(v, list | dict) else bool(v)


def is_operator_object(t: Any) -> bool:
    return isinstance(t, dict) and bool(t) and all(k.startswith("$") for k in t)


def ref_value(t: Any, v: Any) -> bool:
    if not is_operator_object(t):
        if isinstance(t, str | int | float) and isinstance(v, list):
            return _same(v, t) or any(_same(i, t) for i in v)
        return _same(v, t)
    return all(ref_op(op, arg, v) for op, arg in t.items())


def ref_op(op: str, arg: Any, v: Any) -> bool:
    if op == "$eq":
        return _same(v, arg)
    if op == "$ne":
        return not _same(v, arg)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return _order(v, arg, op)
    if op == "$in":
        return _member(v, arg)
    if op == "$nin":
        return not _member(v, arg)
    if op == "$exists":
        return (v is not None) == arg
    if op == "$type":
        return _type(v) == arg
    if op == "$regex":
        return isinstance(v, str) and re.search(arg, v) is not None
    if op == "$between":
        if _type(v) != "number":
            return False
        lo, hi = arg
        return lo <= v <= hi if lo <= hi else (v >= lo or v <= hi)
    if op == "$size":
        return isinstance(v, list) and ref_value(arg, len(v))
    if op == "$all":
        return isinstance(v, list) and all(any(ref_value(e, i) for i in v) for e in arg)
    if op == "$not":
        return not ref_value(arg, v)
    if op == "$elemMatch":
        return isinstance(v, list) and any(_truthy(i) and ref_value(arg, i) for i in v)
    raise AssertionError(op)


def reference(cond: dict[str, Any], doc: Any) -> bool:
    for key, value in cond.items():
        if key == "$and":
            ok = all(reference(c, doc) for c in value)
        elif key == "$or":
            ok = not value or any(reference(c, doc) for c in value)
        elif key == "$nor":
            ok = bool(value) and not any(reference(c, doc) for c in value)
        elif key == "$not":
            ok = not reference(value, doc)
        else:
            ok = ref_value(value, _get(doc, key))
        if not ok:
            return False
    return True
