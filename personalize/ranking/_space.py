"""The products a ranker ranks, by integer position, with their static columns.

A request of the ranker works on positions, never on product ids: ids become positions
once (what the history names, what a plugin proposes), and only the products returned
become ids again. The positions number the interaction index's items first (so that its
neighbour rows, stored as item positions, need no translation) and then the catalog's
products that the index never saw. An id in neither is *unknown*: it has no position, and
the ranking only counts it.

:class:`Space` holds, for every position, what the request path reads in one gather:
whether the product is in the catalog and in stock, its catalog position (for the selector
memberships), popularity, trending, creation time, replenishability, leaf category and
brand (as integer codes, for diversity) and the rank of its id in string order (for the
tie-break: score descending, then id ascending). It is built once per catalog and index and
then only read, so requests and rankers share it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat as forever
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from personalize.catalog import Catalog

if TYPE_CHECKING:
    from personalize.ranking._index import InteractionIndex

__all__ = ["Rows", "Space", "distinct", "first_places", "marked", "space_of", "span"]

Positions = NDArray[np.intp]
Values = NDArray[np.float64]
#: One relation's neighbour rows: CSR offsets, item positions and similarities (``float32``
#: as the index holds them, ``float64`` once raised to a power).
Rows = tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.floating[Any]]]
#: Creation time of an undated product (never read: ``dated`` is false there).
_UNDATED = np.iinfo(np.int64).min
#: Spaces kept per index (one per catalog it ranks; rankers of one catalog share one).
_SPACES_PER_INDEX = 4
_LOCK = threading.Lock()
#: Category and brand member lists kept as positions.
_GROUPS_KEPT = 100_000


def distinct(positions: NDArray[np.integer[Any]], size: int) -> tuple[Positions, Positions]:
    """The distinct values of ``positions`` (each in ``[0, size)``), ascending, and where
    each entry's value sits among them: ``np.unique`` with ``return_inverse``, through two
    dense arrays of ``size`` (faster than a sort at a few hundred entries)."""
    seen = np.zeros(size, dtype=np.bool_)
    seen[positions] = True
    found = seen.nonzero()[0]
    slot = np.empty(size, dtype=np.intp)
    slot[found] = np.arange(len(found))
    return found, slot[positions]


def first_places(inverse: Positions, count: int) -> Positions:
    """Where each of ``count`` distinct values first occurs, given each entry's value
    (the ``inverse`` of :func:`distinct`): ``np.unique``'s ``return_index``."""
    first = np.full(count, len(inverse), dtype=np.intp)
    np.minimum.at(first, inverse, np.arange(len(inverse), dtype=np.intp))
    return first


def marked(sorted_positions: Positions, wanted: Sequence[int] | Positions) -> NDArray[np.bool_]:
    """The mask of ``sorted_positions`` (ascending, distinct) that are in ``wanted``."""
    mask = np.zeros(len(sorted_positions), dtype=np.bool_)
    if len(wanted) == 0 or len(sorted_positions) == 0:
        return mask
    query = np.asarray(wanted, dtype=np.intp)
    at = sorted_positions.searchsorted(query)
    inside = at < len(sorted_positions)
    at, query = at[inside], query[inside]
    mask[at[sorted_positions[at] == query]] = True
    return mask


def span(times: NDArray[np.int64]) -> tuple[int, int]:
    """The smallest and largest of ``times`` (``(0, 0)`` when there are none)."""
    return (int(times.min()), int(times.max())) if len(times) else (0, 0)


def _column(values: object, size: int) -> Values:
    """A float32 array of the index as float64, padded with zeros to ``size``."""
    out = np.zeros(size, dtype=np.float64)
    found = np.frombuffer(values, dtype=np.float32)  # type: ignore[call-overload]
    out[: len(found)] = found
    return out


def _codes(values: Iterable[str | None], size: int, at: Positions) -> NDArray[np.intp]:
    """Integer codes of ``values`` (``-1`` for ``None``) placed at ``at``, -1 elsewhere."""
    numbers: dict[str, int] = {}
    coded = [-1 if v is None else numbers.setdefault(v, len(numbers)) for v in values]
    out = np.full(size, -1, dtype=np.intp)
    out[at] = coded
    return out


class Space:
    """Positions of an index's items and a catalog's products, and their static columns.

    Args:
        catalog: The products that may be recommended.
        index: The interaction index the ranker reads.
    """

    def __init__(self, catalog: Catalog, index: InteractionIndex) -> None:
        items = index.items
        self.n_index = len(items)
        position: dict[str, int] = {item: i for i, item in enumerate(items)}
        ids = list(items)
        for product in catalog:
            if product.id not in position:
                position[product.id] = len(ids)
                ids.append(product.id)
        self.ids: list[str] = ids
        self.position: Mapping[str, int] = position
        size = self.size = len(ids)
        products = catalog.products
        at = np.array([position[p.id] for p in products], dtype=np.intp)
        self.catalog_position = np.full(size, -1, dtype=np.intp)
        self.catalog_position[at] = np.arange(len(products), dtype=np.intp)
        self.in_catalog: NDArray[np.bool_] = self.catalog_position >= 0
        self.in_stock = np.zeros(size, dtype=np.bool_)
        self.in_stock[at] = [p.in_stock for p in products]
        self.leaf = _codes((p.leaf_category for p in products), size, at)
        self.brand = _codes((p.brand for p in products), size, at)
        #: Each position's leaf category and brand by name (``None`` off the catalog).
        self.leaf_names: list[str | None] = [None] * size
        self.brand_names: list[str | None] = [None] * size
        for i, product in zip(at.tolist(), products, strict=True):
            self.leaf_names[i] = product.leaf_category
            self.brand_names[i] = product.brand
        self.dated = np.zeros(size, dtype=np.bool_)
        self.created_us = np.full(size, _UNDATED, dtype=np.int64)
        from personalize.ranking._sources import epoch_us

        dated = [(i, p.created_at) for i, p in zip(at.tolist(), products, strict=True)]
        dated = [(i, when) for i, when in dated if when is not None]
        if dated:
            where = np.array([i for i, _ in dated], dtype=np.intp)
            self.dated[where] = True
            self.created_us[where] = [epoch_us(when) for _, when in dated]  # type: ignore[arg-type]
        #: The earliest and latest creation time of a dated product.
        self.created_span = span(self.created_us[self.dated])
        arrays = index.static_arrays()
        self.popularity = _column(arrays["popularity"], size)
        self.trending = _column(arrays["trending"], size)
        replenish = _column(arrays["repurchase"], size)
        flagged = at[[p.replenishable for p in products]]
        replenish[flagged] = np.maximum(replenish[flagged], 1.0)
        self.replenish = replenish
        order = sorted(range(size), key=ids.__getitem__)
        self.id_rank = np.empty(size, dtype=np.int64)
        self.id_rank[order] = np.arange(size, dtype=np.int64)
        self.co_purchase: Rows = index.neighbour_arrays("co_purchase")
        self.co_view: Rows = index.neighbour_arrays("co_view")
        self.top = self._ranked(index.top(len(items)), self.popularity)
        self.trending_top = self._ranked(index.trending_top(len(items)), self.trending)
        self._countries: dict[str, tuple[Positions, Values, bool]] = {}
        self._groups: dict[tuple[str, str], tuple[Positions, bool]] = {}
        self._powered: dict[tuple[str, float], Rows] = {}
        self._index = index

    def powered(self, relation: str, power: float) -> Rows:
        """The rows of ``relation`` with every similarity raised to ``power`` (as Python's
        ``sim ** power`` gives it), computed once per relation and power."""
        key = (relation, power)
        found = self._powered.get(key)
        if found is None:
            indptr, indices, data = self.co_purchase if relation == "co_purchase" else self.co_view
            raised = np.fromiter(
                map(math.pow, data.astype(np.float64).tolist(), forever(power)),
                dtype=np.float64,
                count=len(data),
            )
            found = (indptr, indices, raised)
            with _LOCK:
                self._powered[key] = found
        return found

    def _ranked(self, ids: Iterable[str], column: Values) -> tuple[Positions, Values]:
        positions = np.array([self.position[pid] for pid in ids], dtype=np.intp)
        return positions, column[positions]

    # -- ids and positions --------------------------------------------------------------

    def locate(self, ids: Iterable[str]) -> tuple[list[int], list[str]]:
        """The positions of ``ids`` in their order, and the ids without one (unknown)."""
        get = self.position.get
        found: list[int] = []
        unknown: list[str] = []
        for pid in ids:
            pos = get(pid)
            if pos is None:
                unknown.append(pid)
            else:
                found.append(pos)
        return found, unknown

    def country(self, country: str) -> tuple[Positions, Values, bool]:
        """The best sellers of ``country``: positions, popularity there, and whether every
        one of them has a position."""
        found = self._countries.get(country)
        if found is None:
            local = self._index.country_popularity(country)
            ids = self._index.top(len(local), country=country)
            positions, unknown = self.locate(ids)
            located = [pid for pid in ids if pid in self.position]
            found = (
                np.array(positions, dtype=np.intp),
                np.array([local[pid] for pid in located], dtype=np.float64),
                not unknown,
            )
            self._countries[country] = found
        return found

    def members(self, kind: str, name: str) -> tuple[Positions, bool]:
        """Best sellers of a category (``kind="category"``) or brand, as positions, and
        whether every member the index names has a position."""
        key = (kind, name)
        found = self._groups.get(key)
        if found is None:
            index = self._index
            ids = index.category_top(name) if kind == "category" else index.brand_top(name)
            positions, unknown = self.locate(ids)
            found = (np.array(positions, dtype=np.intp), not unknown)
            if len(self._groups) < _GROUPS_KEPT:
                self._groups[key] = found
        return found


def space_of(catalog: Catalog, index: InteractionIndex) -> Space:
    """The space of ``catalog`` and ``index``, built once and shared by their rankers."""
    spaces: list[tuple[Catalog, Space]] = index.derived("spaces")
    for known, found in spaces:
        if known is catalog:
            return found
    with _LOCK:
        for known, found in spaces:
            if known is catalog:
                return found
        space = Space(catalog, index)
        if len(spaces) >= _SPACES_PER_INDEX:
            del spaces[0]
        spaces.append((catalog, space))
    return space
