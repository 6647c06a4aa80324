"""Check a condition against the language and the fact schema, then compile it.

:class:`ConditionCompiler` reads many conditions of one configuration and collects every
problem (unknown operators and fact paths with a "did you mean", constants of the wrong
type, invalid regexes, bad durations, unknown segments) with its place in the file;
:func:`compile_condition` compiles one condition on its own and raises them together.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from personalize._document import MAX_DEPTH
from personalize._models import PRODUCT_FACT_SCHEMA
from personalize.context import FACT_VALUES
from personalize.errors import ConfigError, Problem
from personalize.plugins import ErrorSink, OperatorSpec, Registry, guarded
from personalize.rules._actions import Predicate, ProductSelector
from personalize.rules._codegen import generate
from personalize.rules._dates import Bound, compare, parse_bound, parse_duration, within
from personalize.rules._nodes import (
    AllOf,
    AnyOf,
    CondNode,
    Const,
    Evaluation,
    FieldTest,
    Negate,
    NoneOf,
    SegmentTest,
    VAnd,
    VCheck,
    VConst,
    VNode,
    VNot,
)
from personalize.rules._values import ARRAY_TYPES, Membership, deep_equal, js_truthy, json_type

__all__ = ["ActionCompiler", "CompiledCondition", "ConditionCompiler", "compile_condition"]

_LOGICAL = ("$and", "$or", "$nor")
_CONDITION_KEYS = ("$and", "$or", "$nor", "$not", "$inSegment")
_VALUE_KEYWORDS = (
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
_ORDER = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_NUMBERS = frozenset({int, float})
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    """A compiled condition with what the rule set needs besides the predicate.

    Attributes:
        predicate: ``predicate(facts, x=None) -> bool``.
        node: The validated tree (for explanations).
        segments: Segment ids the condition refers to.
        needs_now: Whether it uses relative dates.
        valid: Whether it compiled without problems.
    """

    predicate: Callable[..., bool]
    node: CondNode
    segments: frozenset[str]
    needs_now: bool
    valid: bool


class _Scope:
    """The fact paths one kind of condition may read, with their kinds."""

    def __init__(self, schema: Mapping[str, str] | None, open_paths: Collection[str]) -> None:
        self.schema = dict(schema) if schema is not None else None
        opened = set(open_paths)
        if self.schema is not None:
            for path, kind in self.schema.items():
                if kind in {"object", "any"} and not any(
                    other.startswith(path + ".") for other in self.schema
                ):
                    opened.add(path)
        self.open = frozenset(opened)

    def kind(self, dotted: str) -> str | None:
        """The kind of ``dotted``: ``any`` when unchecked, ``None`` when unknown."""
        if self.schema is None:
            return "any"
        if dotted in self.schema:
            return self.schema[dotted]
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:i]) in self.open:
                return "any"
        return None

    def suggest(self, dotted: str) -> str | None:
        choices = list(self.schema or ())
        close = difflib.get_close_matches(dotted, choices, n=1, cutoff=0.6)
        return close[0] if close else None


def _suggest(word: str, choices: Collection[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _is_operator_object(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(k, str) and k.startswith("$") for k in value)
    )


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _walk_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk_strings(item)


class ConditionCompiler:
    """Compiles the conditions of one configuration, collecting every problem.

    Args:
        schema: Fact path to kind (``None``: paths are not checked).
        open_paths: Paths whose sub-keys are all valid (``behaviour.viewed_categories``).
        registry: The operators (default: the built-ins).
        groups: Saved groups for ``$inGroup``: name to members.
        segments: Segment ids ``$inSegment`` may name (checked when a schema is given or
            the collection is not empty).
        strict: With ``False``, an invalid operator evaluates false (GrowthBook's behaviour)
            instead of making the whole condition false; problems are still recorded.
        on_error: Receives plugin errors when a predicate runs outside a rule set.
        values: The strings an enumerated fact can hold (``time.daypart``: ``morning`` ...);
            comparing it with any other string is a problem. Default: the context's
            :data:`~personalize.context.FACT_VALUES` when a schema is given.

    Attributes:
        problems: Every problem found so far, in order.
    """

    def __init__(
        self,
        *,
        schema: Mapping[str, str] | None = None,
        open_paths: Collection[str] = (),
        registry: Registry | None = None,
        groups: Mapping[str, Sequence[Any]] | None = None,
        segments: Collection[str] = (),
        strict: bool = True,
        on_error: ErrorSink | None = None,
        values: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.problems: list[Problem] = []
        if values is None:
            values = FACT_VALUES if schema is not None else {}
        self._values = {path: frozenset(known) for path, known in values.items()}
        self._registry = registry if registry is not None else _default_registry()
        self._groups = {k: Membership(v) for k, v in (groups or {}).items()}
        self._group_names = frozenset(groups or ())
        self._segments = frozenset(segments)
        self._check_segments = bool(self._segments) or schema is not None
        self._facts = _Scope(schema, open_paths)
        self._products = _Scope(PRODUCT_FACT_SCHEMA, ("attributes",))
        self._strict = strict
        self._on_error = on_error
        # per-compilation state
        self._scope = self._facts
        self._refs: set[str] = set()
        self._needs_now = False
        self._depth = 0
        self._allowed: tuple[str, frozenset[str]] | None = None

    # ------------------------------------------------------------------ public face

    def compile(self, condition: Mapping[str, Any], path: str) -> Predicate:
        """Compile a condition over the request's facts; problems go to :attr:`problems`.

        Returns:
            The predicate; always false when the condition has problems (strict mode).
        """
        return self.compile_full(condition, path).predicate

    def compile_selector(self, condition: Mapping[str, Any], path: str) -> ProductSelector:
        """Compile a product selector (``where:``) over a product's facts."""
        compiled = self.compile_full(condition, path, selector=True)
        return ProductSelector(compiled.predicate, compiled.node, compiled.needs_now)

    def compile_full(
        self, condition: Any, path: str, *, selector: bool = False
    ) -> CompiledCondition:
        """Compile and return the predicate with its tree, segment references and flags."""
        before = len(self.problems)
        self._scope = self._products if selector else self._facts
        self._refs = set()
        self._needs_now = False
        self._depth = 0
        node = self._condition(condition, path, selector=selector)
        valid = len(self.problems) == before
        if not valid and self._strict:
            node = Const(path, False)
        predicate = generate(node, needs_now=self._needs_now)
        return CompiledCondition(predicate, node, frozenset(self._refs), self._needs_now, valid)

    # ------------------------------------------------------------------ helpers

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
                where, f"{fact} is never {const!r} (it is one of {listed})", _suggest(const, known)
            )

    # ------------------------------------------------------------------ conditions

    def _condition(self, cond: Any, where: str, *, selector: bool = False) -> CondNode:
        self._depth += 1
        try:
            if self._too_deep(where):
                return Const(where, False)
            return self._condition_body(cond, where, selector)
        finally:
            self._depth -= 1

    def _condition_body(self, cond: Any, where: str, selector: bool) -> CondNode:
        if not isinstance(cond, Mapping):
            self._problem(where, f"a condition must be a mapping, not {json_type(cond)}")
            return Const(where, False)
        children: list[CondNode] = []
        for key, value in cond.items():
            here = f"{where}.{key}" if where else str(key)
            if not isinstance(key, str) or not key:
                self._problem(here, "a condition key must be a non-empty string")
                children.append(Const(here, False))
            elif key in _LOGICAL:
                children.append(self._logical(key, value, here, selector))
            elif key == "$not":
                children.append(Negate(here, self._condition(value, here, selector=selector)))
            elif key == "$inSegment":
                children.append(self._in_segment(value, here, selector))
            elif key.startswith("$") and self._scope.schema is not None:
                choices = [*_CONDITION_KEYS, *self._scope.schema]
                self._problem(here, "unknown fact or operator", _suggest(key, choices))
                children.append(Const(here, False))
            else:
                children.append(self._field(key, value, here))
        return _fold_all(where, children)

    def _logical(self, key: str, value: Any, where: str, selector: bool) -> CondNode:
        if not isinstance(value, list | tuple):
            self._problem(where, f"{key} takes a list of conditions")
            return Const(where, False)
        kids = [
            self._condition(item, f"{where}[{i}]", selector=selector)
            for i, item in enumerate(value)
        ]
        if key == "$and":
            return _fold_all(where, kids)
        if key == "$or":
            if not kids or any(isinstance(k, Const) and k.value for k in kids):
                return Const(where, True)
            kids = [k for k in kids if not isinstance(k, Const)]
            return AnyOf(where, kids) if kids else Const(where, False)
        return NoneOf(where, kids)

    def _in_segment(self, value: Any, where: str, selector: bool) -> CondNode:
        names = [value] if isinstance(value, str) else value
        if selector:
            self._problem(where, "$inSegment is not available in product selectors")
            return Const(where, False)
        if (
            not isinstance(names, list | tuple)
            or not names
            or not all(isinstance(n, str) for n in names)
        ):
            self._problem(where, "$inSegment takes a segment id or a list of them")
            return Const(where, False)
        self._note_segments(names, where)
        return SegmentTest(where, names)

    def _note_segments(self, names: Sequence[str], where: str) -> None:
        for name in names:
            if self._check_segments and name not in self._segments:
                self._problem(where, f"unknown segment {name!r}", _suggest(name, self._segments))
            self._refs.add(name)

    def _field(self, key: str, value: Any, where: str) -> CondNode:
        kind = self._scope.kind(key)
        if kind is None:
            self._problem(where, "unknown fact", self._scope.suggest(key))
            kind = "any"
        if key == "segments" and self._scope is self._facts:
            self._note_segments(list(_walk_strings(value)), where)
        saved = self._allowed
        known = self._values.get(key) if self._scope is self._facts else None
        self._allowed = (key, known) if known is not None else None
        try:
            return FieldTest(where, key.split("."), self._value(value, where, kind))
        finally:
            self._allowed = saved

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
        if not _is_operator_object(value):
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
            return _equality(where, "=", const)
        return _bare_scalar(where, const)

    def _operator(self, op: str, arg: Any, where: str, kind: str) -> VNode:
        if op in ("$eq", "$ne"):
            self._mismatch(where, kind, arg, op)
            self._known_value(where, arg)
            test = _equality(where, "$eq", arg)
            return test if op == "$eq" else _negated(where, op, arg, test)
        if op in _VALUE_KEYWORDS:
            return self._keyword(op, arg, where, kind)
        spec = self._registry.operators.get(op)
        if spec is None:
            known = [*self._registry.operators, *_VALUE_KEYWORDS]
            return self._invalid(where, f"unknown operator {op}", _suggest(op, known))
        return self._registered(spec, arg, where, kind)

    def _registered(self, spec: OperatorSpec, arg: Any, where: str, kind: str) -> VNode:
        op = spec.name
        if not _arg_fits(spec.arg_kind, arg):
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
        fn = spec.fn
        if not spec.builtin:
            call = guarded(fn, f"operator {op} ({spec.plugin})", False)
            default = self._on_error

            def plugin_check(v: Any, x: Evaluation | None) -> bool:
                return call(x.report if x is not None else default, v, prepared) is True

            return VCheck(where, op, arg, plugin_check)

        def check(v: Any, x: Evaluation | None) -> bool:
            return bool(fn(v, prepared))

        inline = _template(op, prepared, check)
        return VCheck(where, op, arg, check, inline=inline, raw=op in _ORDER and inline is not None)

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
        if _is_operator_object(arg):
            inner_value = self._value(arg, where, "any")

            def on_items(v: Any, x: Evaluation | None) -> bool:
                if not isinstance(v, ARRAY_TYPES):
                    return False
                return any(js_truthy(i) and inner_value.test(i, x) for i in v)

            return VCheck(where, "$elemMatch", arg, on_items)
        saved, saved_allowed = self._scope, self._allowed
        self._scope, self._allowed = _Scope(None, ()), None
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
            _folded_equality(f"{where}[{i}]", item)
            if fold and isinstance(item, str)
            else self._value(item, f"{where}[{i}]", "any")
            for i, item in enumerate(arg)
        ]

        def check(v: Any, x: Evaluation | None) -> bool:
            if not isinstance(v, ARRAY_TYPES):
                return False
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
                return VCheck(where, op, arg, lambda v, x: within(v, ago, _now(x)), needs_now=True)
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
            return compare(v, bound, _now(x)) == sign

        return VCheck(where, op, arg, check, needs_now=bound.ago is not None)


# ---------------------------------------------------------------------- building blocks


def _now(x: Evaluation | None) -> Any:
    return x.now if x is not None else None


def _fold_all(where: str, children: list[CondNode]) -> CondNode:
    if any(isinstance(c, Const) and not c.value for c in children):
        return Const(where, False)
    kept = [c for c in children if not isinstance(c, Const)]
    if not kept:
        return Const(where, True)
    return kept[0] if len(kept) == 1 else AllOf(where, kept)


def _arg_fits(arg_kind: str, arg: Any) -> bool:
    kind = json_type(arg)
    if arg_kind == "any":
        return True
    if arg_kind == "scalar":
        return kind in {"string", "number"}
    return kind == arg_kind


def _equality(where: str, op: str, const: Any) -> VCheck:
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


def _bare_scalar(where: str, const: Any) -> VCheck:
    def check(v: Any, x: Evaluation | None) -> bool:
        if isinstance(v, ARRAY_TYPES):
            return deep_equal(v, const) or any(deep_equal(item, const) for item in v)
        return deep_equal(v, const)

    inline: tuple[str, dict[str, Any]] | None = None
    if isinstance(const, str):
        inline = (
            "({v} == {c} or ({v}.__class__ in {a} and {c} in {v}))",
            {"c": const, "a": frozenset({list, tuple})},
        )
    return VCheck(where, "=", const, check, inline=inline)


def _negated(where: str, op: str, const: Any, test: VCheck) -> VCheck:
    inner = test.check
    inline = None
    if test.inline is not None:
        inline = (f"not ({test.inline[0]})", test.inline[1])
    return VCheck(where, op, const, lambda v, x: not inner(v, x), inline=inline)


def _folded_equality(where: str, const: str) -> VCheck:
    lowered = const.lower()
    return VCheck(where, "$eq", const, lambda v, x: isinstance(v, str) and v.lower() == lowered)


def _template(
    op: str, prepared: Any, check: Callable[[Any, Any], bool]
) -> tuple[str, dict[str, Any]] | None:
    """An inline form for the commonest built-in operators, with a general fallback."""
    if op in _ORDER:
        # Python orders numbers (and booleans) with numbers, and strings with strings, as
        # JavaScript does; any other mix raises TypeError and takes the general path.
        return (f"{{v}} {_ORDER[op]} {{c}}", {"c": prepared})
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
    if op in ("$regex", "$regexi"):
        return (
            "({v}.__class__ is {t} and {matches}({v}))",
            {"t": str, "matches": prepared.matches},
        )
    if op == "$between":
        low, high = prepared
        form = "{lo} <= {v} <= {hi}" if low <= high else "({v} >= {lo} or {v} <= {hi})"
        return (
            f"({form} if {{v}}.__class__ in {{t}} else False)",
            {"lo": low, "hi": high, "t": _NUMBERS},
        )
    return None


_DEFAULT: list[Registry] = []


def _default_registry() -> Registry:
    if not _DEFAULT:
        _DEFAULT.append(Registry.with_builtins())
    return _DEFAULT[0]


def compile_condition(
    condition: Mapping[str, Any],
    groups: Mapping[str, Sequence[Any]] | None = None,
    *,
    schema: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    strict: bool = True,
    on_error: ErrorSink | None = None,
) -> Predicate:
    """Compile one condition into a predicate over a plain mapping of facts.

    Args:
        condition: The condition, e.g. ``{"cart.total": {"$gt": 50}}``.
        groups: Saved groups for ``$inGroup``/``$notInGroup``: name to members.
        schema: Fact path to kind; when given, unknown paths and type mismatches are errors.
        registry: Operators to use (default: the built-ins).
        strict: With ``False``, an invalid operator evaluates false instead of raising,
            as GrowthBook's evaluator does.
        on_error: Receives ``(exception, label)`` when a plugin operator raises.

    Returns:
        ``pred(facts) -> bool``. It never raises on missing or odd facts.

    Raises:
        ConfigError: Every problem of the condition, each with its path.
    """
    compiler = ConditionCompiler(
        schema=schema, registry=registry, groups=groups, strict=strict, on_error=on_error
    )
    predicate = compiler.compile(condition, "")
    if compiler.problems and strict:
        raise ConfigError(compiler.problems)
    return predicate


class ActionCompiler:
    """What an action's ``build`` receives: compiles its selectors, records its problems.

    Attributes:
        path: The action's place, e.g. ``rules[2].then[0].boost``.
        known_weights: The ranking weights ``set_weights`` may name.
    """

    def __init__(
        self, compiler: ConditionCompiler, path: str, known_weights: Collection[str]
    ) -> None:
        self._compiler = compiler
        self.path = path
        self.known_weights = frozenset(known_weights)
        self.needs_now = False

    def compile_selector(
        self, condition: Mapping[str, Any], field: str = "where"
    ) -> ProductSelector:
        """Compile a product selector found at ``<path>.<field>``."""
        compiled = self._compiler.compile_full(condition, f"{self.path}.{field}", selector=True)
        self.needs_now = self.needs_now or compiled.needs_now
        return ProductSelector(compiled.predicate, compiled.node, compiled.needs_now)

    def problem(self, field: str, message: str, choices: Collection[str] = ()) -> None:
        """Record a problem at ``<path>.<field>``, suggesting the closest of ``choices``."""
        self._compiler.problems.append(
            Problem(f"{self.path}.{field}", message, _suggest(field, choices))
        )
