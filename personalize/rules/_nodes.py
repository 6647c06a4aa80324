"""The validated condition tree, its closure evaluation and its explanations.

The compiler builds this tree from a configuration mapping once every operator, path and
constant has been checked. The tree evaluates by itself (``node.holds(facts, ev)``), which
is what explanations and nested operators use; the code generator turns it into a flat
Python function for the hot path. Both must agree; the tests check that they do.
"""

from __future__ import annotations

import reprlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from personalize._plugin_parts import ErrorSink

__all__ = [
    "AllOf",
    "AnyOf",
    "CondNode",
    "Const",
    "Evaluation",
    "Failure",
    "FieldTest",
    "Negate",
    "NoneOf",
    "SegmentTest",
    "VAnd",
    "VCheck",
    "VConst",
    "VNode",
    "VNot",
    "read_path",
]


class Evaluation:
    """What one evaluation shares with every operator: the time, and where errors go.

    Attributes:
        now: The evaluation's time (for relative dates); ``None`` when unknown.
        report: Receives a plugin's exception and a label.
    """

    __slots__ = ("now", "report")

    def __init__(self, now: datetime | None = None, report: ErrorSink | None = None) -> None:
        self.now = now
        self.report = report


_MISSING_ERRORS = (KeyError, TypeError, IndexError)

# How a failure shows the value it saw: a fact can be any size or depth (a request body, a
# plugin's fact), and the explanation is one line of a trace.
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel = 4
_SHOWN.maxstring = _SHOWN.maxother = 120
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 12


def read_path(facts: Any, path: Sequence[str]) -> Any:
    """The value at ``path``; ``None`` when any step is missing or not a mapping."""
    value = facts
    for key in path:
        if not isinstance(value, Mapping):
            return None
        try:
            value = value[key]
        except _MISSING_ERRORS:
            return None
    return value


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a condition is false: the sub-condition that failed and what it saw.

    Attributes:
        where: Its place in the configuration (``rules[3].when.geo.country``).
        path: The fact path it read, when it read one.
        test: What it required (``$in ['US', 'CA']``).
        actual: The value it saw (``None`` when missing).
    """

    where: str
    path: str | None
    test: str
    actual: Any = None

    def __str__(self) -> str:
        """One line; a long or deep value is shortened with ``...``."""
        if self.path is None:
            return f"{self.where}: {self.test}"
        return f"{self.where}: {self.path} = {_SHOWN.repr(self.actual)}, required {self.test}"


# ----------------------------------------------------------------- value-level nodes


class VNode(ABC):
    """A test of one value (the value at a field path, or an array element)."""

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    @abstractmethod
    def test(self, value: Any, ev: Evaluation | None) -> bool:
        """Whether ``value`` passes."""

    def failing(self, value: Any, ev: Evaluation | None) -> VNode | None:
        """The innermost test that rejects ``value``, or ``None`` if it passes."""
        return None if self.test(value, ev) else self

    @abstractmethod
    def describe(self) -> str:
        """What the test requires, for explanations."""


class VConst(VNode):
    """Always true or always false (folded, or invalid in lenient mode)."""

    __slots__ = ("value",)

    def __init__(self, where: str, value: bool) -> None:
        super().__init__(where)
        self.value = value

    def test(self, value: Any, ev: Evaluation | None) -> bool:
        return self.value

    def describe(self) -> str:
        return "always " + ("true" if self.value else "false (invalid)")


class VCheck(VNode):
    """One operator with its prepared constant.

    Attributes:
        op: The operator (``$in``), or ``$eq`` for a bare value.
        arg: The constant as written, for explanations.
        check: ``check(value, ev) -> bool``.
        inline: How the code generator may inline it: a template over ``{v}`` and named
            constants, and the constants (``("{v} == {c}", {"c": "US"})``), or ``None``.
        raw: The template may raise ``TypeError`` (where JavaScript would coerce); the
            generated code then falls back to ``check``. It is exact whenever it does not.
        needs_now: Whether ``check`` reads ``ev.now``.
        plugin: Whether ``check`` calls a plugin's operator (which may raise or report).
    """

    __slots__ = ("arg", "check", "inline", "needs_now", "op", "plugin", "raw")

    def __init__(
        self,
        where: str,
        op: str,
        arg: Any,
        check: Callable[[Any, Evaluation | None], bool],
        *,
        inline: tuple[str, dict[str, Any]] | None = None,
        raw: bool = False,
        needs_now: bool = False,
        plugin: bool = False,
    ) -> None:
        super().__init__(where)
        self.plugin = plugin
        self.raw = raw
        self.op = op
        self.arg = arg
        self.check = check
        self.inline = inline
        self.needs_now = needs_now

    def test(self, value: Any, ev: Evaluation | None) -> bool:
        return self.check(value, ev)

    def describe(self) -> str:
        return f"{self.op} {self.arg!r}"


class VAnd(VNode):
    """Several operators on one value: all must pass."""

    __slots__ = ("tests",)

    def __init__(self, where: str, tests: Sequence[VNode]) -> None:
        super().__init__(where)
        self.tests = tuple(tests)

    def test(self, value: Any, ev: Evaluation | None) -> bool:
        return all(t.test(value, ev) for t in self.tests)

    def failing(self, value: Any, ev: Evaluation | None) -> VNode | None:
        for t in self.tests:
            bad = t.failing(value, ev)
            if bad is not None:
                return bad
        return None

    def describe(self) -> str:
        return " and ".join(t.describe() for t in self.tests)


class VNot(VNode):
    """``$not`` on a value."""

    __slots__ = ("inner",)

    def __init__(self, where: str, inner: VNode) -> None:
        super().__init__(where)
        self.inner = inner

    def test(self, value: Any, ev: Evaluation | None) -> bool:
        return not self.inner.test(value, ev)

    def describe(self) -> str:
        return f"$not ({self.inner.describe()})"


# ------------------------------------------------------------- condition-level nodes


class CondNode(ABC):
    """A condition over a fact mapping."""

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    @abstractmethod
    def holds(self, facts: Any, ev: Evaluation | None) -> bool:
        """Whether the condition holds for ``facts``."""

    def explain(self, facts: Any, ev: Evaluation | None) -> Failure | None:
        """Why the condition is false, or ``None`` when it holds."""
        if self.holds(facts, ev):
            return None
        return Failure(self.where, None, self.describe())

    @abstractmethod
    def describe(self) -> str:
        """What the condition requires."""


class Const(CondNode):
    """Always true or always false."""

    __slots__ = ("value",)

    def __init__(self, where: str, value: bool) -> None:
        super().__init__(where)
        self.value = value

    def holds(self, facts: Any, ev: Evaluation | None) -> bool:
        return self.value

    def describe(self) -> str:
        return "always " + ("true" if self.value else "false (invalid)")


class FieldTest(CondNode):
    """The value at a path passes a value test."""

    __slots__ = ("dotted", "path", "test")

    def __init__(self, where: str, path: Sequence[str], test: VNode) -> None:
        super().__init__(where)
        self.path = tuple(path)
        self.dotted = ".".join(self.path)
        self.test = test

    def holds(self, facts: Any, ev: Evaluation | None) -> bool:
        return self.test.test(read_path(facts, self.path), ev)

    def explain(self, facts: Any, ev: Evaluation | None) -> Failure | None:
        value = read_path(facts, self.path)
        bad = self.test.failing(value, ev)
        if bad is None:
            return None
        return Failure(bad.where, self.dotted, bad.describe(), value)

    def describe(self) -> str:
        return f"{self.dotted}: {self.test.describe()}"


class SegmentTest(CondNode):
    """``$inSegment``: the ``segments`` fact holds one of ``names``."""

    __slots__ = ("names",)

    def __init__(self, where: str, names: Sequence[str]) -> None:
        super().__init__(where)
        self.names = tuple(names)

    def holds(self, facts: Any, ev: Evaluation | None) -> bool:
        segments = read_path(facts, ("segments",))
        if not isinstance(segments, list | tuple | set | frozenset):
            return False
        return any(name in segments for name in self.names)

    def explain(self, facts: Any, ev: Evaluation | None) -> Failure | None:
        if self.holds(facts, ev):
            return None
        return Failure(self.where, "segments", self.describe(), read_path(facts, ("segments",)))

    def describe(self) -> str:
        return f"$inSegment {list(self.names)!r}"


class _Group(CondNode):
    __slots__ = ("children",)

    def __init__(self, where: str, children: Sequence[CondNode]) -> None:
        super().__init__(where)
        self.children = tuple(children)


class AllOf(_Group):
    """Every child holds (``$and``, and the fields of one mapping)."""

    __slots__ = ()

    def holds(self, facts: Any, ev: Evaluation | None) -> bool:
        return all(c.holds(facts, ev) for c in self.children)

    def explain(self, facts: Any, ev: Evaluation | None) -> Failure | None:
        for child in self.children:
            failure = child.explain(facts, ev)
            if failure is not None:
                return failure
        return None

    def describe(self) -> str:
        return "all of " + "; ".join(c.describe() for c in self.children)


class AnyOf(_Group):
    """At least one child holds (``$or``; an empty list holds)."""

    __slots__ = ()

    def holds(self, facts: Any, ev: Evaluation | None) -> bool:
        return not self.children or any(c.holds(facts, ev) for c in self.children)

    def explain(self, facts: Any, ev: Evaluation | None) -> Failure | None:
        if self.holds(facts, ev):
            return None
        reasons = [c.explain(facts, ev) for c in self.children]
        text = " | ".join(str(r) for r in reasons if r is not None)
        return Failure(self.where, None, f"$or: no alternative holds ({text})")

    def describe(self) -> str:
        return "any of " + " | ".join(c.describe() for c in self.children)


class NoneOf(_Group):
    """No child holds (``$nor``; an empty list fails, as in GrowthBook)."""

    __slots__ = ()

    def holds(self, facts: Any, ev: Evaluation | None) -> bool:
        return bool(self.children) and not any(c.holds(facts, ev) for c in self.children)

    def explain(self, facts: Any, ev: Evaluation | None) -> Failure | None:
        for child in self.children:
            if child.holds(facts, ev):
                return Failure(child.where, None, f"$nor: this holds: {child.describe()}")
        return None if self.children else Failure(self.where, None, "$nor of nothing")

    def describe(self) -> str:
        return "none of " + " | ".join(c.describe() for c in self.children)


class Negate(CondNode):
    """``$not`` on a condition."""

    __slots__ = ("child",)

    def __init__(self, where: str, child: CondNode) -> None:
        super().__init__(where)
        self.child = child

    def holds(self, facts: Any, ev: Evaluation | None) -> bool:
        return not self.child.holds(facts, ev)

    def describe(self) -> str:
        return f"$not ({self.child.describe()})"
