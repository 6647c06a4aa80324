"""Which of many conditions can hold: an index of the equality tests that guard them.

Most merchandising conditions are conjunctions of tests that compare a categorical fact
with constants (``device.type: mobile``, ``loyalty.tier: {$in: [gold, silver]}``). Such a
test gives the same answer for every request with the same value at its path, so
:class:`GuardIndex` answers it for all conditions at once and remembers the answer per
value, as a bit mask over the conditions (bit ``i``: condition ``i``). Per request it reads
each guarded path once, looks the value's mask up and ANDs the masks: the bits left are the
conditions whose guards hold, and only their remaining tests (the *residual*) run.

The index is exact, not a heuristic:

* a guard is a field test whose operators are all built-in equality tests (bare values,
  ``$eq``, ``$ne``, ``$in``, ``$nin``, ``$exists``) that read no time and call no plugin;
* guards are taken from a conjunction's children up to the first child that could call a
  plugin, so a plugin operator runs exactly when it ran before: when everything written
  before it held;
* the residual is the conjunction of the other children, in their order, compiled like any
  condition; a condition with no guard keeps its whole predicate as its residual.

Masks are remembered for hashable scalar values (strings, numbers, booleans, ``None``), at
most :data:`MAX_VALUES_PER_PATH` per path; any other value is answered afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from personalize.rules._codegen import generate
from personalize.rules._compiler import CompiledCondition
from personalize.rules._nodes import (
    AllOf,
    CondNode,
    Const,
    FieldTest,
    SegmentTest,
    VAnd,
    VCheck,
    VConst,
    VNode,
    VNot,
)

__all__ = ["MAX_VALUES_PER_PATH", "Gather", "GuardIndex", "bits"]

#: The most values whose masks one guarded path remembers.
MAX_VALUES_PER_PATH = 1024

#: The operators a guard may use: their answer depends on the value at the path only.
_GUARD_OPS = frozenset({"=", "$eq", "$ne", "$in", "$nin", "$exists"})
_SCALARS = frozenset({str, int, float, bool, type(None)})
_MISSING = (KeyError, TypeError, IndexError)

Residual = Callable[..., bool]
_T = TypeVar("_T")


def bits(mask: int) -> Iterator[int]:
    """The positions of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Gather(Generic[_T]):
    """The items of the set bits of a mask, in bit order, gathered a byte at a time.

    Args:
        items: Per bit position, the items it stands for (a rule's actions ...).

    The concatenation for each byte value at each byte position is built once and
    remembered (at most 256 per byte position), so a mask of ``n`` bits costs ``n / 8``
    steps however many bits are set.
    """

    __slots__ = ("_items", "_seen", "_width")

    def __init__(self, items: Sequence[tuple[_T, ...]]) -> None:
        self._items = tuple(items)
        self._width = (len(items) + 7) // 8
        self._seen: list[dict[int, tuple[_T, ...]]] = [{} for _ in range(self._width)]

    def __call__(self, mask: int) -> list[_T]:
        """The items of the set bits of ``mask`` (which has no bit beyond the items)."""
        out: list[_T] = []
        seen = self._seen
        for k, byte in enumerate(mask.to_bytes(self._width, "little")):
            if byte:
                found = seen[k].get(byte)
                if found is None:
                    base = k * 8
                    items = self._items
                    found = seen[k][byte] = tuple(
                        item
                        for i in range(min(8, len(items) - base))
                        if byte >> i & 1
                        for item in items[base + i]
                    )
                out += found
        return out


def _is_guard(node: CondNode) -> bool:
    if not isinstance(node, FieldTest):
        return False
    tests = node.test.tests if isinstance(node.test, VAnd) else (node.test,)
    return all(
        isinstance(t, VCheck) and t.op in _GUARD_OPS and not t.plugin and not t.needs_now
        for t in tests
    )


def _value_is_plain(test: VNode) -> bool:
    """Whether a value test is built of inlinable built-in checks (no plugin, no time)."""
    if isinstance(test, VConst):
        return True
    if isinstance(test, VAnd):
        return all(_value_is_plain(t) for t in test.tests)
    if isinstance(test, VNot):
        return _value_is_plain(test.inner)
    return (
        isinstance(test, VCheck)
        and test.inline is not None
        and not test.plugin
        and not test.needs_now
    )


def _is_plain(node: CondNode) -> bool:
    """Whether evaluating ``node`` can call no plugin (so skipping it changes nothing)."""
    if isinstance(node, Const | SegmentTest):
        return True
    return isinstance(node, FieldTest) and _value_is_plain(node.test)


def split(condition: CompiledCondition) -> tuple[list[FieldTest], Residual | None]:
    """The guards of a condition and the predicate of the rest (``None``: nothing left)."""
    node = condition.node
    children = node.children if isinstance(node, AllOf) else (node,)
    guards: list[FieldTest] = []
    rest: list[CondNode] = []
    scanning = True
    for child in children:
        if scanning and _is_guard(child):
            assert isinstance(child, FieldTest)
            guards.append(child)
            continue
        scanning = scanning and _is_plain(child)
        rest.append(child)
    if not guards:
        return [], condition.predicate
    if not rest:
        return guards, None
    remainder = rest[0] if len(rest) == 1 else AllOf(node.where, rest)
    return guards, generate(remainder, needs_now=condition.needs_now)


class _Path:
    """One guarded fact path: the tests on it, by condition bit, and the masks seen."""

    __slots__ = ("free", "keys", "masks", "tests")

    def __init__(self, keys: tuple[str, ...], free: int) -> None:
        self.keys = keys
        self.free = free  # the bits of the conditions that do not test this path
        self.tests: list[tuple[int, list[VNode]]] = []
        self.masks: dict[tuple[type, Any], int] = {}

    def mask(self, facts: Mapping[str, Any]) -> int:
        value: Any = facts
        try:
            for step in self.keys:
                value = value[step]
        except _MISSING:
            value = None
        cls = value.__class__
        key: tuple[type, Any] | None = (cls, value) if cls in _SCALARS else None
        if key is not None:
            found = self.masks.get(key)
            if found is not None:
                return found
        mask: int = self.free
        for bit, tests in self.tests:
            if all(t.test(value, None) for t in tests):
                mask |= bit
        if key is not None and len(self.masks) < MAX_VALUES_PER_PATH:
            self.masks[key] = mask
        return mask


class GuardIndex:
    """The guards of a sequence of conditions, and what remains of each.

    Args:
        conditions: The compiled conditions, in the order their bits are numbered.

    Attributes:
        residuals: Per condition, the predicate of what its guards leave
            (``residual(facts, ev) -> bool``), or ``None`` when the guards are all of it.
    """

    __slots__ = ("_all", "_paths", "residuals")

    def __init__(self, conditions: Sequence[CompiledCondition]) -> None:
        self._all = (1 << len(conditions)) - 1
        by_path: dict[tuple[str, ...], dict[int, list[VNode]]] = {}
        residuals: list[Residual | None] = []
        for i, condition in enumerate(conditions):
            guards, residual = split(condition)
            residuals.append(residual)
            for guard in guards:
                by_path.setdefault(guard.path, {}).setdefault(1 << i, []).append(guard.test)
        self.residuals = tuple(residuals)
        paths = []
        for keys, tests in by_path.items():
            path = _Path(keys, self._all & ~sum(tests))
            path.tests = list(tests.items())
            paths.append(path)
        self._paths = tuple(paths)

    def __len__(self) -> int:
        return self._all.bit_length()

    @property
    def guarded_paths(self) -> tuple[str, ...]:
        """The fact paths the guards read, dotted."""
        return tuple(".".join(path.keys) for path in self._paths)

    def candidates(self, facts: Mapping[str, Any], among: int = -1) -> int:
        """The bits of the conditions whose guards hold for ``facts`` (within ``among``)."""
        mask = self._all & among
        for path in self._paths:
            if not mask:
                break
            mask &= path.mask(facts)
        return mask
