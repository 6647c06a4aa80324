"""Check a condition against the language and the fact schema, then compile it.

:class:`ConditionCompiler` reads many conditions of one configuration and collects every
problem (unknown operators and fact paths with a "did you mean", constants of the wrong
type, invalid regexes, bad durations, unknown segments) with its place in the file;
:func:`compile_condition` compiles one condition on its own and raises them together.

The compiler is in parts: this module walks conditions (fields, ``$and``/``$or``,
segments); :mod:`._value_compiler` compiles what a field is tested with; :mod:`._checks`
builds the value checks and their inline forms; :mod:`._scope` knows the fact paths.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from personalize._models import PRODUCT_FACT_SCHEMA
from personalize._plugin_parts import ErrorSink
from personalize._registry import Registry
from personalize.context import FACT_VALUES
from personalize.errors import ConfigError, Problem
from personalize.rules._actions import Predicate, ProductSelector
from personalize.rules._builtins import builtin_registry
from personalize.rules._checks import fold_all
from personalize.rules._codegen import generate
from personalize.rules._nodes import (
    AnyOf,
    CondNode,
    Const,
    FieldTest,
    Negate,
    NoneOf,
    SegmentTest,
)
from personalize.rules._scope import Scope, suggest, walk_strings
from personalize.rules._value_compiler import ValueCompiler
from personalize.rules._values import Membership, json_type

__all__ = ["CompiledCondition", "ConditionCompiler", "compile_condition"]

_LOGICAL = ("$and", "$or", "$nor")
_CONDITION_KEYS = ("$and", "$or", "$nor", "$not", "$inSegment")


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


class ConditionCompiler(ValueCompiler):
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
        self._registry = registry if registry is not None else builtin_registry()
        self._groups = {k: Membership(v) for k, v in (groups or {}).items()}
        self._group_names = frozenset(groups or ())
        self._segments = frozenset(segments)
        self._check_segments = bool(self._segments) or schema is not None
        self._facts = Scope(schema, open_paths)
        self._products = Scope(PRODUCT_FACT_SCHEMA, ("attributes",))
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
                self._problem(here, "unknown fact or operator", suggest(key, choices))
                children.append(Const(here, False))
            else:
                children.append(self._field(key, value, here))
        return fold_all(where, children)

    def _logical(self, key: str, value: Any, where: str, selector: bool) -> CondNode:
        if not isinstance(value, list | tuple):
            self._problem(where, f"{key} takes a list of conditions")
            return Const(where, False)
        kids = [
            self._condition(item, f"{where}[{i}]", selector=selector)
            for i, item in enumerate(value)
        ]
        if key == "$and":
            return fold_all(where, kids)
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
                self._problem(where, f"unknown segment {name!r}", suggest(name, self._segments))
            self._refs.add(name)

    def _field(self, key: str, value: Any, where: str) -> CondNode:
        kind = self._scope.kind(key)
        if kind is None:
            self._problem(where, "unknown fact", self._scope.suggest(key))
            kind = "any"
        if key == "segments" and self._scope is self._facts:
            self._note_segments(list(walk_strings(value)), where)
        saved = self._allowed
        known = self._values.get(key) if self._scope is self._facts else None
        self._allowed = (key, known) if known is not None else None
        try:
            return FieldTest(where, key.split("."), self._value(value, where, kind))
        finally:
            self._allowed = saved


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
