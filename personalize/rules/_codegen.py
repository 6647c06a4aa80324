"""Turn a validated condition tree into one flat Python function.

The generated source is built only from identifiers this module invents (``f``, ``x``,
``v``, ``_k0``, ``_k1`` ...) and fixed templates; every constant — path keys, strings,
sets, prepared regexes, helper closures — lives in the function's namespace under one of
those names and is never written into the text. So no configuration text is ever compiled:
only the shape of the tree decides the code.

A conjunction of field tests becomes straight-line code::

    def _k3(f, x=None):
        try:
            v = f[_k0][_k1]
        except _MISSING:
            v = None
        if not (v == _k2):
            return False
        # (one such block per field test)
        return True

``$or``/``$nor``/``$not`` call sub-functions generated the same way; operators without a
template call their prepared check, ``_kN(v, x)``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from personalize.rules._dates import now_of
from personalize.rules._nodes import (
    AllOf,
    AnyOf,
    CondNode,
    Const,
    Evaluation,
    FieldTest,
    Negate,
    NoneOf,
    VAnd,
    VCheck,
    VConst,
    VNode,
    VNot,
)

__all__ = ["ALWAYS_FALSE", "ALWAYS_TRUE", "generate"]


def _always_true(facts: Any, x: Any = None) -> bool:
    return True


def _always_false(facts: Any, x: Any = None) -> bool:
    return False


#: The compiled form of a condition that always holds (``{}``).
ALWAYS_TRUE: Callable[..., bool] = _always_true
#: The compiled form of a condition that never holds (invalid, or folded to false).
ALWAYS_FALSE: Callable[..., bool] = _always_false


def _context_for(facts: Any) -> Evaluation:
    return Evaluation(now_of(facts) if hasattr(facts, "get") else None)


class _Generator:
    def __init__(self) -> None:
        self.ns: dict[str, Any] = {
            "__builtins__": {},
            "_MISSING": (KeyError, TypeError, IndexError),
            "_TYPE_ERROR": TypeError,
            "_context": _context_for,
        }
        self.raw = False

    def bind(self, value: Any) -> str:
        name = f"_k{len(self.ns)}"
        self.ns[name] = value
        return name

    def function(self, node: CondNode, *, root: bool, needs_now: bool) -> str:
        name = self.bind(None)
        body: list[str] = []
        if root and needs_now:
            body.append("if x is None:")
            body.append("    x = _context(f)")
        self.statements(node, body)
        body.append("return True")
        source = f"def {name}(f, x=None):\n" + "".join(f"    {line}\n" for line in body)
        label = (node.where or "?").replace("\0", "\\0")  # a file name holds no NUL
        exec(compile(source, f"<condition {label}>", "exec"), self.ns)
        return name

    def call(self, node: CondNode) -> str:
        return f"{self.function(node, root=False, needs_now=False)}(f, x)"

    def statements(self, node: CondNode, body: list[str]) -> None:
        if isinstance(node, AllOf):
            for child in node.children:
                self.statements(child, body)
        elif isinstance(node, Const):
            if not node.value:
                body.append("return False")
        elif isinstance(node, FieldTest):
            # interned keys are found by identity in the facts' dicts, never compared as text
            keys = "".join(f"[{self.bind(sys.intern(key))}]" for key in node.path)
            body += ["try:", f"    v = f{keys}", "except _MISSING:", "    v = None"]
            self.raw = False
            expr = self.value(node.test)
            if self.raw:  # a comparison that raises TypeError where JS would coerce
                slow = self.bind(node.test.test)
                body += ["try:", f"    if not ({expr}):", "        return False"]
                body += ["except _TYPE_ERROR:", f"    if not {slow}(v, x):", "        return False"]
            else:
                body += [f"if not ({expr}):", "    return False"]
        elif isinstance(node, AnyOf):
            if node.children:
                calls = " or ".join(self.call(c) for c in node.children)
                body += [f"if not ({calls}):", "    return False"]
        elif isinstance(node, NoneOf):
            calls = " or ".join(self.call(c) for c in node.children) or "True"
            body += [f"if {calls}:", "    return False"]
        elif isinstance(node, Negate):
            body += [f"if {self.call(node.child)}:", "    return False"]
        else:  # SegmentTest and anything evaluated by the tree itself
            body += [f"if not {self.bind(node.holds)}(f, x):", "    return False"]

    def value(self, test: VNode) -> str:
        if isinstance(test, VConst):
            return "True" if test.value else "False"
        if isinstance(test, VAnd):
            return " and ".join(f"({self.value(t)})" for t in test.tests) or "True"
        if isinstance(test, VNot):
            return f"not ({self.value(test.inner)})"
        if isinstance(test, VCheck) and test.inline is not None:
            template, constants = test.inline
            self.raw = self.raw or test.raw
            names = {key: self.bind(val) for key, val in constants.items()}
            return template.format(v="v", **names)
        return f"{self.bind(test.test)}(v, x)"


def generate(node: CondNode, *, needs_now: bool = False) -> Callable[..., bool]:
    """Compile ``node`` into a function ``pred(facts, x=None) -> bool``."""
    if isinstance(node, Const):
        return ALWAYS_TRUE if node.value else ALWAYS_FALSE
    gen = _Generator()
    name = gen.function(node, root=True, needs_now=needs_now)
    fn: Callable[..., bool] = gen.ns[name]
    return fn
