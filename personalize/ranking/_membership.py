"""Which catalog products a compiled ``where:`` selector holds for, as product positions.

Every product has a position (its place in the catalog). A selector handed by the rule
compiler (:class:`~personalize.rules.ProductSelector`) carries its condition tree; this
module resolves the parts of that tree the catalog can answer at once into a boolean mask
over the positions:

- exact field matches (``id``, ``brand``, ``category`` at any level, ``tags``, ``in_stock``:
  a bare value, ``$eq`` on a string field, ``$in`` of strings) through one
  value-to-positions index per field;
- price ranges (``$lt``, ``$lte``, ``$gt``, ``$gte``, together or alone) through the
  positions sorted by price and a binary search (a missing price compares as 0, as the
  rule language has it);
- ``$and``, ``$or``, ``$nor`` and ``$not`` of those, as mask arithmetic.

A selector built only of such parts is *exact*: its mask is the answer. Any other part
(``attributes``, ``title``, ``$ne``, plugin operators ...) makes the mask a narrowing (under
an ``$and``) or no mask at all, and the compiled predicate confirms the products that pass
it, one at a time, each answer remembered per position. A selector reading the time
(``created_at: {$withinLast: 7d}``) is confirmed afresh on every request, at its time.

A plain predicate (not compiled by the rule engine) is confirmed per product.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from personalize.catalog import Catalog
from personalize.rules import ProductSelector
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
    VNode,
)

__all__ = ["Membership", "ProductTable"]

Mask = NDArray[np.bool_]
#: Fields holding one string, and fields holding several (any one may match).
_STRING_FIELDS = frozenset({"id", "brand"})
_ARRAY_FIELDS = frozenset({"category", "tags"})
#: Price comparisons and how each bounds the sorted prices.
_RANGES = frozenset({"$lt", "$lte", "$gt", "$gte"})
#: Selectors whose membership is kept (rule sets compile a few hundred).
_SELECTOR_LIMIT = 4096
#: The bit of a position in its byte of a packed row (``np.packbits`` order).
_BITS = np.array([128 >> bit for bit in range(8)], dtype=np.uint8)


class ProductTable:
    """The catalog by position: ids, value-to-positions indexes, prices sorted.

    Args:
        catalog: The products, numbered in catalog order.

    Indexes are built on first use and then only read, so requests may share them.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.ids: tuple[str, ...] = tuple(product.id for product in catalog)
        self.position: dict[str, int] = {pid: i for i, pid in enumerate(self.ids)}
        self.size = len(self.ids)
        self._values: dict[str, Mapping[Any, NDArray[np.intp]]] = {}
        self._prices: tuple[list[float], NDArray[np.intp]] | None = None

    def positions(self, pids: Sequence[str]) -> NDArray[np.intp]:
        """The positions of ``pids`` (every one a catalog product)."""
        return np.array(list(map(self.position.__getitem__, pids)), dtype=np.intp)

    def holding(self, field: str, values: Sequence[Any]) -> Mask:
        """The mask of the products whose ``field`` holds one of ``values``."""
        index = self._values.get(field)
        if index is None:
            index = self._values[field] = self._index(field)
        mask = np.zeros(self.size, dtype=np.bool_)
        for value in values:
            found = index.get(value)
            if found is not None:
                mask[found] = True
        return mask

    def priced(self, low: tuple[float, bool] | None, high: tuple[float, bool] | None) -> Mask:
        """The mask of the products priced within the bounds (``(value, inclusive)``)."""
        if self._prices is None:
            # As in the rule language: a missing price compares as 0, NaN never matches.
            priced = [(p.price or 0.0, i) for i, p in enumerate(self.catalog)]
            priced = [(price, i) for price, i in priced if price == price]
            priced.sort()
            order = np.array([i for _, i in priced], dtype=np.intp)
            self._prices = [float(price) for price, _ in priced], order
        prices, order = self._prices
        start, stop = 0, len(prices)
        if low is not None:
            value, inclusive = low
            start = (bisect.bisect_left if inclusive else bisect.bisect_right)(prices, value)
        if high is not None:
            value, inclusive = high
            stop = (bisect.bisect_right if inclusive else bisect.bisect_left)(prices, value)
        mask = np.zeros(self.size, dtype=np.bool_)
        if start < stop:
            mask[order[start:stop]] = True
        return mask

    def _index(self, field: str) -> Mapping[Any, NDArray[np.intp]]:
        found: dict[Any, list[int]] = {}
        for i, product in enumerate(self.catalog):
            value = getattr(product, field)
            for one in value if field in _ARRAY_FIELDS else (value,):
                found.setdefault(one, []).append(i)
        return {value: np.array(where, dtype=np.intp) for value, where in found.items()}


class Membership:
    """One selector over the catalog: a mask (or none), whether it is exact, the confirmer.

    Args:
        where: The selector (compiled, or a plain predicate over facts).
        table: The catalog by position.
    """

    __slots__ = ("_answers", "_table", "exact", "mask", "timed", "where")

    def __init__(self, where: Callable[..., bool], table: ProductTable) -> None:
        self.where = where
        self._table = table
        self.timed = isinstance(where, ProductSelector) and where.uses_now
        shape = _resolve(where.node, table) if isinstance(where, ProductSelector) else None
        self.mask: Mask | None = shape[0] if shape is not None else None
        self.exact = shape is not None and shape[1]
        self._answers: dict[int, bool] = {}

    def hits(self, positions: NDArray[np.intp], evaluation: Evaluation | None) -> Mask:
        """Which of ``positions`` the selector holds for (at ``evaluation``'s time)."""
        possible = (
            self.mask[positions] if self.mask is not None else np.ones(len(positions), np.bool_)
        )
        if self.exact:
            return possible
        for j in possible.nonzero()[0].tolist():
            possible[j] = self._confirm(int(positions[j]), evaluation)
        return possible

    def _confirm(self, position: int, evaluation: Evaluation | None) -> bool:
        if not self.timed:
            known = self._answers.get(position)
            if known is not None:
                return known
        facts = self._table.catalog.facts(self._table.ids[position])
        if facts is None:
            return False
        if isinstance(self.where, ProductSelector):
            hit = bool(self.where(facts, evaluation))
        else:
            hit = bool(self.where(facts))
        if not self.timed:
            self._answers[position] = hit
        return hit


class Memberships:
    """The memberships of every selector a ranker has met, built once each.

    The masks of the exact selectors are also kept as rows of one bit matrix (a bit per
    product), so the fired boosts of a request are read at its candidates' positions in
    one gather, whatever their combination.

    Args:
        catalog: The products the selectors read.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.table = ProductTable(catalog)
        self._known: dict[Callable[..., bool], Membership] = {}
        #: The row numbers of the exact selectors, and the bit matrix holding those rows;
        #: replaced together when the cache starts over.
        self._matrix: tuple[dict[Callable[..., bool], int], NDArray[np.uint8]] = (
            {},
            np.zeros((0, (self.table.size + 7) // 8), dtype=np.uint8),
        )
        self._lock = threading.Lock()

    def of(self, where: Callable[..., bool]) -> Membership:
        """The membership of ``where`` (resolved on first use)."""
        found = self._known.get(where)
        if found is None:
            with self._lock:
                found = self._known.get(where)
                if found is None:
                    found = self._add(where)
        return found

    def hits(
        self,
        wheres: Sequence[Callable[..., bool]],
        positions: NDArray[np.intp],
        evaluation: Evaluation | None,
    ) -> NDArray[np.bool_]:
        """``out[i, j]``: whether ``wheres[i]`` holds for the product at ``positions[j]``."""
        rows_of = self._matrix[0]
        rows = [rows_of.get(where, -1) for where in wheres]
        if -1 in rows:
            for i, where in enumerate(wheres):
                if rows[i] == -1:
                    self.of(where)
                    rows[i] = rows_of.get(where, -1)
        now_of, bits = self._matrix  # read after the rows: it holds every row published
        if now_of is not rows_of:  # the cache started over meanwhile
            rows = [-1] * len(wheres)
        if -1 not in rows:  # the usual case: every selector exact
            return _read(bits, rows, positions)
        out = np.empty((len(wheres), len(positions)), dtype=np.bool_)
        exact = [i for i, row in enumerate(rows) if row >= 0]
        if exact:
            out[exact] = _read(bits, [rows[i] for i in exact], positions)
        for i, row in enumerate(rows):
            if row < 0:
                out[i] = self.of(wheres[i]).hits(positions, evaluation)
        return out

    def _add(self, where: Callable[..., bool]) -> Membership:
        """Resolve ``where``; an exact mask also becomes a row of the bit matrix (under
        the lock; a fuller matrix is published before the row numbers pointing into it)."""
        rows, bits = self._matrix
        if len(self._known) >= _SELECTOR_LIMIT:
            self._known, rows, bits = {}, {}, bits[:0].copy()
            self._matrix = rows, bits
        found = self._known[where] = Membership(where, self.table)
        if found.exact and found.mask is not None:
            number = len(rows)
            if number >= len(bits):
                grown = np.zeros((max(16, 2 * len(bits)), bits.shape[1]), dtype=np.uint8)
                grown[: len(bits)] = bits
                bits = grown
            bits[number] = np.packbits(found.mask)
            self._matrix = rows, bits
            rows[where] = number
        return found


def _read(bits: NDArray[np.uint8], rows: list[int], positions: NDArray[np.intp]) -> Mask:
    """``out[i, j]``: bit ``positions[j]`` of row ``rows[i]`` of the bit matrix."""
    packed = bits[np.array(rows, dtype=np.intp)][:, positions >> 3]  # two plain gathers
    np.bitwise_and(packed, _BITS[positions & 7], out=packed)  # beat one 2-d gather
    found: Mask = packed.astype(np.bool_)
    return found


# -- resolving a condition tree into a mask ---------------------------------------------

#: A resolved part: its mask (``None``: any product may match) and whether it is exact.
_Shape = tuple[Mask | None, bool]


def _resolve(node: CondNode, table: ProductTable) -> _Shape:
    if isinstance(node, Const):
        return np.full(table.size, bool(node.value), dtype=np.bool_), True
    if isinstance(node, FieldTest):
        return _field(node, table)
    if isinstance(node, AllOf):
        return _all_of([_resolve(child, table) for child in node.children], table)
    if isinstance(node, AnyOf | NoneOf):
        parts = [_resolve(child, table) for child in node.children]
        if any(mask is None or not exact for mask, exact in parts):
            return None, False
        union = np.zeros(table.size, dtype=np.bool_)
        for mask, _ in parts:
            union |= mask  # type: ignore[arg-type]
        return (~union if isinstance(node, NoneOf) else union), True
    if isinstance(node, Negate):
        mask, exact = _resolve(node.child, table)
        return (~mask, True) if mask is not None and exact else (None, False)
    return None, False


def _all_of(parts: Sequence[_Shape], table: ProductTable) -> _Shape:
    """The intersection of the parts' masks; exact when every part is."""
    both = np.ones(table.size, dtype=np.bool_)
    exact, narrowed = True, False
    for mask, part_exact in parts:
        exact = exact and part_exact
        if mask is not None:
            both &= mask
            narrowed = True
    return (both if narrowed else None), exact


def _field(node: FieldTest, table: ProductTable) -> _Shape:
    if len(node.path) != 1:
        return None, False
    (field,) = node.path
    test = node.test
    if field == "price":
        bounds = _price_bounds(test)
        return (table.priced(*bounds), True) if bounds is not None else (None, False)
    if not isinstance(test, VCheck) or test.needs_now:
        return None, False
    op, arg = test.op, test.arg
    if field == "in_stock":
        if op in ("=", "$eq") and isinstance(arg, bool):
            return table.holding(field, [arg]), True
        return None, False
    if field not in _STRING_FIELDS and field not in _ARRAY_FIELDS:
        return None, False
    if isinstance(arg, str) and (op == "=" or (op == "$eq" and field in _STRING_FIELDS)):
        return table.holding(field, [arg]), True
    if op == "$in" and isinstance(arg, list | tuple) and all(isinstance(v, str) for v in arg):
        return table.holding(field, list(arg)), True
    return None, False


def _price_bounds(
    test: VNode,
) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None] | None:
    """The lower and upper bounds of a price test made only of comparisons, else ``None``."""
    checks = test.tests if isinstance(test, VAnd) else [test]
    low: tuple[float, bool] | None = None
    high: tuple[float, bool] | None = None
    for check in checks:
        if not isinstance(check, VCheck) or check.op not in _RANGES:
            return None
        arg = check.arg
        if isinstance(arg, bool) or not isinstance(arg, int | float) or arg != arg:
            return None
        bound = (float(arg), check.op in ("$lte", "$gte"))
        if check.op in ("$gt", "$gte"):
            low = bound if low is None else max(low, bound, key=_tighter_low)
        else:
            high = bound if high is None else min(high, bound, key=_tighter_high)
    return low, high


def _tighter_low(bound: tuple[float, bool]) -> tuple[float, bool]:
    return bound[0], not bound[1]  # at the same value, exclusive is tighter


def _tighter_high(bound: tuple[float, bool]) -> tuple[float, bool]:
    return bound[0], bound[1]
