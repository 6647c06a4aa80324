"""The interaction index: what all customers did, condensed once for fast lookups.

Built once from the events of every customer (:meth:`InteractionIndex.build`), it holds, per
product, its top co-purchase and co-view neighbours (cosine over time-decayed baskets), its
popularity (overall, per country), its recent velocity (trending) and how often its buyers
buy it again; and, from the catalog, the best sellers of each category and brand and the
declared complements. The request path only reads it: every lookup is a dict or array index.

Storage is compact: neighbour lists are CSR-style flat arrays of item positions (``int32``)
and similarities (``float32``), top-K per item, so a catalog of a million products stays
feasible. :meth:`~InteractionIndex.save` writes, atomically, a gzip JSON document whose arrays
are base64 little-endian bytes, behind a header with a format version and a SHA-256 checksum;
:meth:`~InteractionIndex.load` checks and reads it back without pickle.
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from personalize._models import Event, as_utc
from personalize.errors import DataError
from personalize.ranking import _document as document
from personalize.ranking._format import VERSION, read_document, write_document

if TYPE_CHECKING:
    from personalize.catalog import Catalog

__all__ = ["InteractionIndex", "Neighbours"]

FORMAT = "personalize-interaction-index"

#: Product ids and similarities of one product's neighbours, best first.
Neighbours = tuple[tuple[str, ...], tuple[float, ...]]

_EMPTY: Neighbours = ((), ())
_NO_SCORES: Mapping[str, float] = MappingProxyType({})
#: Neighbour rows kept as Python tuples, per relation (the arrays stay the storage).
_ROW_CACHE_LIMIT = 20_000


class _Csr:
    """Top-K neighbour lists of every item, as three flat arrays (CSR layout)."""

    __slots__ = ("data", "indices", "indptr")

    def __init__(self, indptr: array[int], indices: array[int], data: array[float]) -> None:
        self.indptr = indptr
        self.indices = indices
        self.data = data

    @classmethod
    def empty(cls, n_items: int) -> _Csr:
        return cls(array("q", [0] * (n_items + 1)), array("i"), array("f"))

    def row(self, pos: int) -> tuple[array[int], array[float]]:
        start, end = self.indptr[pos], self.indptr[pos + 1]
        return self.indices[start:end], self.data[start:end]

    @property
    def nbytes(self) -> int:
        return sum(a.itemsize * len(a) for a in (self.indptr, self.indices, self.data))


class InteractionIndex:
    """Co-purchase and co-view neighbours, popularity, trending and catalog lookups.

    Build it with :meth:`build` (or :meth:`load` a saved one); it is immutable afterwards and
    safe to share between threads.
    """

    def __init__(
        self,
        *,
        items: list[str],
        co_purchase: _Csr,
        co_view: _Csr,
        popularity: array[float],
        trending: array[float],
        repurchase: array[float],
        country_top: Mapping[str, tuple[tuple[str, ...], tuple[float, ...]]],
        category_top: Mapping[str, tuple[str, ...]],
        brand_top: Mapping[str, tuple[str, ...]],
        complements: Mapping[str, tuple[str, ...]],
        built_at: datetime | None,
        stats: Mapping[str, Any],
    ) -> None:
        self._items = items
        self._pos = {item: pos for pos, item in enumerate(items)}
        self._co_purchase = co_purchase
        self._co_view = co_view
        self._rows: dict[int, dict[str, Neighbours]] = {}
        self._popularity = popularity
        self._trending = trending
        self._repurchase = repurchase
        self._country_top = dict(country_top)
        self._country_pop = {
            country: dict(zip(ids, scores, strict=True))
            for country, (ids, scores) in self._country_top.items()
        }
        self._category_top = dict(category_top)
        self._brand_top = dict(brand_top)
        self._complements = dict(complements)
        self.built_at = built_at
        self.stats: dict[str, Any] = dict(stats)
        self._derived: dict[str, list[Any]] = {}
        self._top = self._sorted_items(popularity, reverse=True)
        self._least = self._sorted_items(popularity, reverse=False)
        self._trending_top = self._sorted_items(trending, reverse=True)

    def _sorted_items(self, values: array[float], *, reverse: bool) -> tuple[str, ...]:
        order = sorted(
            (pos for pos in range(len(values)) if values[pos] > 0.0),
            key=lambda pos: (-values[pos] if reverse else values[pos], self._items[pos]),
        )
        return tuple(self._items[pos] for pos in order)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        events: Iterable[Event],
        *,
        catalog: Catalog | None = None,
        now: datetime | None = None,
        half_life_days: float = 30.0,
        trending_half_life_days: float = 7.0,
        max_neighbours: int = 50,
        customer_country: Mapping[str, str] | None = None,
        co_purchase_scope: str = "order",
        country_top_size: int = 200,
        category_top_size: int = 200,
        trending_rise: float | None = 2.0,
    ) -> InteractionIndex:
        """Build the index from the events of all customers, in one streaming pass.

        Args:
            events: Purchases (with ``order_id`` and ``customer_id``) and views (with
                ``session_id``) of every customer, in any order.
            catalog: When given, category and brand best sellers and the declared
                complements are indexed too.
            now: The reference time for decay; defaults to the latest event.
            half_life_days: Half-life of an interaction's weight in neighbours and
                popularity.
            trending_half_life_days: Half-life of the recent velocity (trending).
            max_neighbours: Neighbours kept per product (top-K).
            customer_country: Customer id to country, for popularity per country (events
                carry no country of their own).
            co_purchase_scope: ``customer`` (items bought by the same customer are
                neighbours) or ``order`` (items in the same order).
            country_top_size: Best sellers kept per country.
            category_top_size: Best sellers kept per category and per brand.
            trending_rise: Trending keeps the velocity of products selling at least this
                many times faster than usual (their share of orders under
                ``trending_half_life_days`` over their share under ``half_life_days``) and
                damps the others in proportion; ``None``: the plain velocity.

        Raises:
            DataError: ``co_purchase_scope`` is neither ``customer`` nor ``order``.
        """
        from personalize.ranking._build import build_index  # numpy and scipy load on use

        if co_purchase_scope not in {"customer", "order"}:
            raise DataError(
                f"co_purchase_scope must be 'customer' or 'order', not {co_purchase_scope!r}"
            )
        parts = build_index(
            events,
            catalog=catalog,
            now=now,
            half_life_days=half_life_days,
            trending_half_life_days=trending_half_life_days,
            max_neighbours=max_neighbours,
            customer_country=customer_country or {},
            co_purchase_scope=co_purchase_scope,
            country_top_size=country_top_size,
            category_top_size=category_top_size,
            trending_rise=trending_rise,
        )
        return cls.from_parts(parts)

    @classmethod
    def from_parts(cls, parts: dict[str, Any]) -> InteractionIndex:
        """The index of the parts a build returns (``co_purchase`` and ``co_view`` as
        ``(indptr, indices, data)`` triples, the rest as constructor arguments)."""
        parts = dict(parts)
        return cls(
            co_purchase=_Csr(*parts.pop("co_purchase")),
            co_view=_Csr(*parts.pop("co_view")),
            **parts,
        )

    # -- lookups ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._pos

    @property
    def items(self) -> tuple[str, ...]:
        """Every product id seen in the events, in index order."""
        return tuple(self._items)

    def co_purchase(self, product_id: str) -> Neighbours:
        """Products bought with ``product_id``, best first, with their similarity (0-1]."""
        return self._neighbours(self._co_purchase, product_id)

    def co_view(self, product_id: str) -> Neighbours:
        """Products viewed in the same sessions as ``product_id``, best first."""
        return self._neighbours(self._co_view, product_id)

    def _neighbours(self, csr: _Csr, product_id: str) -> Neighbours:
        """The row of ``product_id``, as tuples remembered for the latest rows asked for."""
        cache = self._rows.get(id(csr))
        if cache is None:
            cache = self._rows.setdefault(id(csr), {})
        row = cache.get(product_id)
        if row is None:
            pos = self._pos.get(product_id)
            if pos is None:
                return _EMPTY
            indices, data = csr.row(pos)
            row = (tuple(map(self._items.__getitem__, indices)), tuple(data))
            if len(cache) >= _ROW_CACHE_LIMIT:
                cache.clear()
            cache[product_id] = row
        return row

    def neighbour_arrays(self, relation: str) -> tuple[Any, Any, Any]:
        """One relation's rows (``co_purchase`` or ``co_view``) as NumPy views of its CSR
        arrays: offsets (``int64``), item positions (``int32``), similarities
        (``float32``)."""
        import numpy as np

        csr = self._co_purchase if relation == "co_purchase" else self._co_view
        return (
            np.frombuffer(csr.indptr, dtype=np.int64),
            np.frombuffer(csr.indices, dtype=np.int32),
            np.frombuffer(csr.data, dtype=np.float32),
        )

    def static_arrays(self) -> Mapping[str, array[float]]:
        """The per-item ``float32`` arrays: ``popularity``, ``trending``, ``repurchase``."""
        return {
            "popularity": self._popularity,
            "trending": self._trending,
            "repurchase": self._repurchase,
        }

    def derived(self, name: str) -> list[Any]:
        """A list the ranking keeps its views of this index in (created on first use)."""
        found = self._derived.get(name)
        if found is None:
            found = self._derived.setdefault(name, [])
        return found

    def popularity(self, product_id: str) -> float:
        """Popularity in [0, 1]: log of time-decayed orders, 1 for the best seller."""
        pos = self._pos.get(product_id)
        return 0.0 if pos is None else self._popularity[pos]

    def trending(self, product_id: str) -> float:
        """Recent velocity in [0, 1]: log of orders decayed with the trending half-life."""
        pos = self._pos.get(product_id)
        return 0.0 if pos is None else self._trending[pos]

    def repurchase_rate(self, product_id: str) -> float:
        """Share of the product's buyers who bought it in more than one order (smoothed)."""
        pos = self._pos.get(product_id)
        return 0.0 if pos is None else self._repurchase[pos]

    def top(self, limit: int, *, country: str | None = None) -> tuple[str, ...]:
        """The best sellers, overall or in ``country`` (empty for an unknown country)."""
        if country is None:
            return self._top[:limit]
        return self._country_top.get(country, _EMPTY)[0][:limit]

    def country_popularity(self, country: str) -> Mapping[str, float]:
        """Product id to popularity in [0, 1] within ``country`` (its best sellers only)."""
        return self._country_pop.get(country, _NO_SCORES)

    @property
    def countries(self) -> tuple[str, ...]:
        """Countries with their own best sellers."""
        return tuple(sorted(self._country_top))

    def least(self, limit: int) -> tuple[str, ...]:
        """The least selling products that sold at all, weakest first."""
        return self._least[:limit]

    def trending_top(self, limit: int) -> tuple[str, ...]:
        """The products with the highest recent velocity."""
        return self._trending_top[:limit]

    def category_top(self, category: str) -> tuple[str, ...]:
        """Best sellers of ``category`` (any level), from the catalog given at build."""
        return self._category_top.get(category, ())

    def brand_top(self, brand: str) -> tuple[str, ...]:
        """Best sellers of ``brand``, from the catalog given at build."""
        return self._brand_top.get(brand, ())

    @property
    def has_catalog(self) -> bool:
        """Whether category and brand members were indexed from a catalog."""
        return bool(self._category_top or self._brand_top or self._complements)

    def complements(self, product_id: str) -> tuple[str, ...]:
        """The complements the catalog declared for ``product_id``."""
        return self._complements.get(product_id, ())

    @property
    def nbytes(self) -> int:
        """Approximate bytes held by the neighbour and per-item arrays."""
        arrays = (self._popularity, self._trending, self._repurchase)
        return (
            self._co_purchase.nbytes
            + self._co_view.nbytes
            + sum(a.itemsize * len(a) for a in arrays)
        )

    # -- persistence --------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the index to ``path``: gzip JSON (no pickle) behind a versioned header
        with a SHA-256 checksum (see :mod:`personalize.ranking._format`).

        The write is atomic: the data goes to a temporary file in the same directory,
        which is synced and then renamed over ``path``, so a failed save (a full disk, an
        interruption) leaves the previous file as it was.
        """
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "built_at": self.built_at.isoformat() if self.built_at else None,
            "items": self._items,
            "co_purchase": _csr_doc(self._co_purchase),
            "co_view": _csr_doc(self._co_view),
            "popularity": _array_doc(self._popularity),
            "trending": _array_doc(self._trending),
            "repurchase": _array_doc(self._repurchase),
            "country_top": {k: [list(v[0]), list(v[1])] for k, v in self._country_top.items()},
            "category_top": {k: list(v) for k, v in self._category_top.items()},
            "brand_top": {k: list(v) for k, v in self._brand_top.items()},
            "complements": {k: list(v) for k, v in self._complements.items()},
            "stats": self.stats,
        }
        write_document(path, doc)

    @classmethod
    def load(cls, path: str | Path) -> InteractionIndex:
        """Read an index written by :meth:`save`.

        Raises:
            DataError: The file cannot be read, is not a saved index, is of another
                format version (the message names the one supported), is corrupt (its
                checksum does not match) or is inconsistent.
        """
        doc = read_document(path)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise DataError(f"{path}: not a saved interaction index")
        if doc.get("version") != VERSION:
            raise DataError(
                f"{path}: index version {doc.get('version')!r}; this release reads "
                f"version {VERSION} only"
            )
        try:
            items = document.items(doc["items"])
            n = len(items)
            index = cls(
                items=items,
                co_purchase=_csr_from(doc["co_purchase"], n),
                co_view=_csr_from(doc["co_view"], n),
                popularity=_array_from(doc["popularity"], "f", n, top=1.0, what="popularity"),
                trending=_array_from(doc["trending"], "f", n, top=1.0, what="trending"),
                repurchase=_array_from(doc["repurchase"], "f", n, top=1.0, what="repurchase"),
                country_top=document.country_lists(doc["country_top"]),
                category_top=document.id_lists(doc["category_top"], "category_top"),
                brand_top=document.id_lists(doc["brand_top"], "brand_top"),
                complements=document.id_lists(doc["complements"], "complements"),
                built_at=document.time(doc["built_at"]),
                stats=document.mapping(doc.get("stats", {}), "stats"),
            )
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            IndexError,
            OverflowError,
        ) as exc:
            raise DataError(f"{path}: inconsistent interaction index: {exc}") from exc
        return index


def _array_doc(values: array[Any]) -> dict[str, str]:
    if sys.byteorder != "little":  # pragma: no cover - big-endian hosts
        values = array(values.typecode, values)
        values.byteswap()
    return {"type": values.typecode, "b64": base64.b64encode(values.tobytes()).decode("ascii")}


def _array_from(
    doc: Mapping[str, str],
    typecode: str,
    length: int | None,
    *,
    top: float | None = None,
    what: str = "similarities",
) -> array[Any]:
    """The array saved in ``doc``; a float one checked to be finite, at least 0 and (with
    ``top``) at most ``top``."""
    if doc.get("type") != typecode:
        raise ValueError(f"array of type {doc.get('type')!r}, expected {typecode!r}")
    values = array(typecode)
    values.frombytes(base64.b64decode(doc["b64"], validate=True))
    if sys.byteorder != "little":  # pragma: no cover - big-endian hosts
        values.byteswap()
    if length is not None and len(values) != length:
        raise ValueError(f"array of length {len(values)}, expected {length}")
    if typecode == "f":
        document.check_range(values, what, top)
    return values


def _csr_doc(csr: _Csr) -> dict[str, Any]:
    return {
        "indptr": _array_doc(csr.indptr),
        "indices": _array_doc(csr.indices),
        "data": _array_doc(csr.data),
    }


def _csr_from(doc: Mapping[str, Any], n_items: int) -> _Csr:
    indptr = _array_from(doc["indptr"], "q", n_items + 1)
    indices = _array_from(doc["indices"], "i", None)
    data = _array_from(doc["data"], "f", len(indices))
    if (
        indptr[0] != 0
        or indptr[-1] != len(indices)
        or any(indptr[i] > indptr[i + 1] for i in range(n_items))
    ):
        raise ValueError("neighbour offsets are not increasing")
    if indices and (min(indices) < 0 or max(indices) >= n_items):
        raise ValueError("neighbour position out of range")
    document.check_rows(indptr, indices, data)
    return _Csr(indptr, indices, data)


def event_time(event: Event) -> datetime:
    """The event's time as an aware datetime."""
    return as_utc(event.at)
