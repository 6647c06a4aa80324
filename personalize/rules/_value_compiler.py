"""The value half of the condition compiler: operators, keywords and their checks.

:class:`ValueCompiler` holds the compiler's state and compiles what a field is tested
with (``{"$gt": 50}``, ``{"$elemMatch": ...}``, a bare value);
:class:`~personalize.rules._compiler.ConditionCompiler` adds the condition half (fields,
``$and``/``$or``, segments) and the public face.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from personalize._document import MAX_DEPTH
from personalize._plugin_parts import ErrorSink, OperatorSpec, guarded, yes_or_no
from personalize._registry import Registry
from personalize.errors import Problem
from personalize.rules._checks import (
    ORDER,
    arg_fits,
    bare_scalar,
    equality,
    folded_equality,
    inline_template,
    negated,
    now_arg,
)
from personalize.rules._codegen import generate
from personalize.rules._dates import Bound, compare, parse_bound, parse_duration, within
from personalize.rules._nodes import (
    CondNode,
    Evaluation,
    VAnd,
    VCheck,
    VConst,
    VNode,
    VNot,
)
from personalize.rules._scope import Scope, is_operator_object, suggest
from personalize.rules._values import ARRAY_TYPES, Membership, js_truthy, json_type

__all__ = ["VALUE_KEYWORDS", "ValueCompiler"]

VALUE_KEYWORDS = (
    "$not", "$size", "$elemMatch", "$all", "$alli", "$inGroup", "$notInGroup", "$options",
    "$before", "$after", "$withinLast", "$olderThan",
)  # fmt: skip
_KIND_OF_TYPE = {
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}
_SAME_KIND_OPS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})
_MEMBER_OPS = frozenset({"$in", "$nin", "$ini", "$nini"})
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"
_SCALAR_KINDS = frozenset({"string", "number", "boolean"})
#: Longer arrays are tested by ``$all`` of constants through sets of their elements.
_SHORT_ARRAY = 16


class ValueCompiler(ABC):
    """The state of one configuration's compilation and the value-level compiler."""

    problems: list[Problem]
    _values: dict[str, frozenset[str]]
    _registry: Registry
    _groups: dict[str, Membership]
    _group_names: frozenset[str]
    _segments: frozenset[str]
    _check_segments: bool
    _facts: Scope
    _products: Scope
    _strict: bool
    _on_error: ErrorSink | None
    _scope: Scope
    _refs: set[str]
    _needs_now: bool
    _depth: int
    _allowed: tuple[str, frozenset[str]] | None

    @abstractmethod
    def _condition(self, cond: Any, where: str, *, selector: bool = False) -> CondNode:
        """Compile a nested condition (the condition half: ``ConditionCompiler``)."""

    def _problem(self, where: str, message: str, suggestion: str | None = None) -> None:
        self.problems.append(Problem(where, message, suggestion))

    def _invalid(self, where: str, message: str, suggestion: str | None = None) -> VConst:
        self._problem(where, message, suggestion)
        return VConst(where, False)

    def _too_deep(self, where: str) -> bool:
        """Whether the walk is deeper than :data:`MAX_DEPTH` (a problem, reported once)."""
        if self._depth <= MAX_DEPTH:
            return False
        if not self.problems or self.problems[-1].message != _TOO_DEEP:
            self._problem(where, _TOO_DEEP)
        return True

    def _known_value(self, where: str, const: Any) -> None:
        """A string compared with an enumerated fact must be one of its values."""
        if self._allowed is None or not isinstance(const, str):
            return
        fact, known = self._allowed
        if const not in known:
            listed = ", ".join(sorted(known))
            self._problem(
                where, f"{fact} is never {const!r} (it is one of {listed})", suggest(const, known)
            )

    # ------------------------------------------------------------------ values

    def _value(self, value: Any, where: str, kind: str) -> VNode:
        self._depth += 1
        try:
            if self._too_deep(where):
                return VConst(where, False)
            return self._value_body(value, where, kind)
        finally:
            self._depth -= 1

    def _value_body(self, value: Any, where: str, kind: str) -> VNode:
        if not isinstance(value, Mapping) or not value:
            return self._equals(value, where, kind)
        if not is_operator_object(value):
            if any(isinstance(k, str) and k.startswith("$") for k in value):
                self._problem(where, "mixes operators and field names in one mapping")
            return self._equals(value, where, kind)
        tests: list[VNode] = []
        for op, arg in value.items():
            if op == "$options":
                if "$regex" not in value and "$regexi" not in value:
                    tests.append(self._invalid(f"{where}.$options", "$options needs $regex"))
                continue
            if op in ("$regex", "$regexi") and "$options" in value:
                arg = (arg, value["$options"])
            tests.append(self._operator(op, arg, f"{where}.{op}", kind))
        if any(isinstance(t, VConst) and not t.value for t in tests):
            return VConst(where, False)
        return tests[0] if len(tests) == 1 else VAnd(where, tests)

    def _mismatch(self, where: str, kind: str, const: Any, op: str) -> bool:
        const_kind = json_type(const)
        if kind == "any" or const_kind == "null" or _KIND_OF_TYPE.get(const_kind) == kind:
            return False
        hint = ""
        if kind == "array":
            hint = "; an array fact is tested with $elemMatch, $all, $in or $size"
        elif kind == "datetime":
            hint = "; compare dates with $before/$after"
        what = "a bare value" if op == "=" else op
        self._problem(where, f"{what} compares a {kind} fact with a {const_kind}{hint}")
        return True

    def _equals(self, const: Any, where: str, kind: str) -> VNode:
        """A bare value: equality, or membership when the fact is an array (MongoDB)."""
        scalar = json_type(const) in {"string", "number", "boolean"}
        self._known_value(where, const)
        if not (kind == "array" and scalar):
            self._mismatch(where, kind, const, "=")
        if not scalar:
            return equality(where, "=", const)
        return bare_scalar(where, const)

    def _operator(self, op: str, arg: Any, where: str, kind: str) -> VNode:
        if op in ("$eq", "$ne"):
            self._mismatch(where, kind, arg, op)
            self._known_value(where, arg)
            test = equality(where, "$eq", arg)
            return test if op == "$eq" else negated(where, op, arg, test)
        if op in VALUE_KEYWORDS:
            return self._keyword(op, arg, where, kind)
        spec = self._registry.operators.get(op)
        if spec is None:
            known = [*self._registry.operators, *VALUE_KEYWORDS]
            return self._invalid(where, f"unknown operator {op}", suggest(op, known))
        return self._registered(spec, arg, where, kind)

    def _registered(self, spec: OperatorSpec, arg: Any, where: str, kind: str) -> VNode:
        op = spec.name
        if not arg_fits(spec.arg_kind, arg):
            return self._invalid(where, f"{op} takes a {spec.arg_kind}, not {json_type(arg)}")
        if spec.fact_kinds is not None and kind not in spec.fact_kinds:
            self._problem(where, f"{op} does not apply to a {kind} fact")
        if op in _SAME_KIND_OPS:
            self._mismatch(where, kind, arg, op)
        if op in ("$in", "$nin") and isinstance(arg, list | tuple):
            for i, item in enumerate(arg):
                self._known_value(f"{where}[{i}]", item)
        if op in _MEMBER_OPS and kind not in {"any", "array"}:
            for item in arg if isinstance(arg, list | tuple) else ():
                if self._mismatch(where, kind, item, op):
                    break
        try:
            prepared = spec.prepare(arg) if spec.prepare is not None else arg
        except (ValueError, TypeError) as exc:
            return self._invalid(where, f"{op}: {exc}")
        except Exception as exc:  # a plugin's prepare may raise anything: still a problem
            if spec.builtin:
                raise
            return self._invalid(where, f"{op}: {type(exc).__name__}: {exc}")
        fn = spec.fn
        if not spec.builtin:
            call = guarded(yes_or_no(fn), f"operator {op} ({spec.plugin})", False)
            default = self._on_error

            def plugin_check(v: Any, x: Evaluation | None) -> bool:
                return call(x.report if x is not None else default, v, prepared) is True

            return VCheck(where, op, arg, plugin_check, plugin=True)

        def check(v: Any, x: Evaluation | None) -> bool:
            return bool(fn(v, prepared))

        inline = inline_template(op, prepared, check)
        return VCheck(where, op, arg, check, inline=inline, raw=op in ORDER and inline is not None)

    def _keyword(self, op: str, arg: Any, where: str, kind: str) -> VNode:
        if op == "$not":
            return VNot(where, self._value(arg, where, kind))
        if op == "$size":
            if kind not in {"array", "any"}:
                self._problem(where, f"$size does not apply to a {kind} fact")
            inner = self._value(arg, where, "number")
            return VCheck(
                where,
                op,
                arg,
                lambda v, x: isinstance(v, ARRAY_TYPES) and inner.test(len(v), x),
            )
        if op == "$elemMatch":
            return self._elem_match(arg, where, kind)
        if op in ("$all", "$alli"):
            return self._all(op, arg, where, kind)
        if op in ("$inGroup", "$notInGroup"):
            return self._group(op, arg, where)
        return self._date(op, arg, where, kind)

    def _elem_match(self, arg: Any, where: str, kind: str) -> VNode:
        if kind not in {"array", "any"}:
            self._problem(where, f"$elemMatch does not apply to a {kind} fact")
        if not isinstance(arg, Mapping):
            return self._invalid(where, "$elemMatch takes a condition")
        if is_operator_object(arg):
            inner_value = self._value(arg, where, "any")

            def on_items(v: Any, x: Evaluation | None) -> bool:
                if not isinstance(v, ARRAY_TYPES):
                    return False
                return any(js_truthy(i) and inner_value.test(i, x) for i in v)

            return VCheck(where, "$elemMatch", arg, on_items)
        saved, saved_allowed = self._scope, self._allowed
        self._scope, self._allowed = Scope(None, ()), None
        inner = self._condition(arg, where)
        self._scope, self._allowed = saved, saved_allowed
        holds = generate(inner)

        def on_docs(v: Any, x: Evaluation | None) -> bool:
            if not isinstance(v, ARRAY_TYPES):
                return False
            return any(js_truthy(i) and holds(i, x) for i in v)

        return VCheck(where, "$elemMatch", arg, on_docs)

    def _all(self, op: str, arg: Any, where: str, kind: str) -> VNode:
        if kind not in {"array", "any"}:
            self._problem(where, f"{op} does not apply to a {kind} fact")
        if not isinstance(arg, list | tuple):
            return self._invalid(where, f"{op} takes a list")
        fold = op == "$alli"
        tests = [
            folded_equality(f"{where}[{i}]", item)
            if fold and isinstance(item, str)
            else self._value(item, f"{where}[{i}]", "any")
            for i, item in enumerate(arg)
        ]

        scalars = all(json_type(item) in _SCALAR_KINDS for item in arg)

        def check(v: Any, x: Evaluation | None) -> bool:
            if not isinstance(v, ARRAY_TYPES):
                return False
            if scalars and len(v) > _SHORT_ARRAY:
                return _has_all(arg, v, fold)
            return all(any(t.test(item, x) for item in v) for t in tests)

        return VCheck(where, op, arg, check)

    def _group(self, op: str, arg: Any, where: str) -> VNode:
        if not isinstance(arg, str):
            return self._invalid(where, f"{op} takes the name of a saved group")
        members = self._groups.get(arg, Membership(()))
        if op == "$inGroup":
            return VCheck(where, op, arg, lambda v, x: members.test(v))
        return VCheck(where, op, arg, lambda v, x: not members.test(v))

    def _date(self, op: str, arg: Any, where: str, kind: str) -> VNode:
        if kind not in {"datetime", "string", "any"}:
            self._problem(where, f"{op} does not apply to a {kind} fact")
        if op in ("$withinLast", "$olderThan"):
            try:
                ago = parse_duration(arg) if isinstance(arg, str) else parse_duration("?")
            except ValueError as exc:
                return self._invalid(where, f"{op}: {exc}")
            self._needs_now = True
            if op == "$withinLast":
                return VCheck(
                    where, op, arg, lambda v, x: within(v, ago, now_arg(x)), needs_now=True
                )
            bound = Bound(ago=ago)
        else:
            try:
                bound = parse_bound(arg)
            except ValueError as exc:
                return self._invalid(where, f"{op}: {exc}")
        if bound.ago is not None:
            self._needs_now = True
        sign = 1 if op == "$after" else -1

        def check(v: Any, x: Evaluation | None) -> bool:
            return compare(v, bound, now_arg(x)) == sign

        return VCheck(where, op, arg, check, needs_now=bound.ago is not None)


# ---------------------------------------------------------------------- building blocks


def _has_all(members: Any, array: Any, fold: bool) -> bool:
    """``$all`` of constants in time linear in the array: whether every member equals some
    element, or a member of an element that is itself an array (as a bare value does).
    With ``fold`` (``$alli``) a string member equals a string element ignoring case."""
    nested = [inner for item in array if isinstance(item, ARRAY_TYPES) for inner in item]
    plain = Membership([*array, *nested])
    folded = Membership(array, fold=True) if fold else plain
    return all((folded if fold and isinstance(m, str) else plain).one(m) for m in members)
