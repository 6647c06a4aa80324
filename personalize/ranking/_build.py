"""Building the interaction index: one streaming pass over events, then sparse algebra.

The pass turns events into integer columns (basket, item, time); NumPy and SciPy then do
the counting: co-occurrence is ``X.T @ X`` over a basket-by-item matrix of time-decayed
weights, normalized to cosine and cut to the top K per item. Nothing here runs per request.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from personalize._models import Event, as_utc

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from personalize.catalog import Catalog

__all__ = ["build_index", "log_scale", "utc_from_timestamp"]

_VIEW_TYPES = frozenset({"view", "page_view"})
_DAY = 86400.0
_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


class _Ids:
    """Dense integer ids for strings, in first-seen order."""

    __slots__ = ("names", "pos")

    def __init__(self) -> None:
        self.pos: dict[str, int] = {}
        self.names: list[str] = []

    def __call__(self, name: str) -> int:
        pos = self.pos.get(name)
        if pos is None:
            pos = self.pos[name] = len(self.names)
            self.names.append(name)
        return pos


def build_index(
    events: Iterable[Event],
    *,
    catalog: Catalog | None,
    now: datetime | None,
    half_life_days: float,
    trending_half_life_days: float,
    max_neighbours: int,
    customer_country: Mapping[str, str],
    co_purchase_scope: str,
    country_top_size: int,
    category_top_size: int,
) -> dict[str, Any]:
    """The parts of an :class:`~personalize.ranking.InteractionIndex` (see its ``build``).

    Returns the index's constructor arguments; ``co_purchase`` and ``co_view`` are
    ``(indptr, indices, data)`` triples of its CSR neighbour lists.
    """
    items, orders, customers, sessions = _Ids(), _Ids(), _Ids(), _Ids()
    p_item, p_order, p_cust, p_time = array("i"), array("i"), array("i"), array("d")
    v_item, v_session, v_time = array("i"), array("i"), array("d")
    skipped = 0
    for event in events:
        pid = event.product_id
        if pid is None:
            continue
        at = event.at.timestamp()
        if event.type == "purchase":
            cust = event.customer_id
            order = event.order_id or f"{cust}@{event.at.isoformat()}"
            p_item.append(items(pid))
            p_order.append(orders(order))
            p_cust.append(customers(cust) if cust is not None else -1)
            p_time.append(at)
        elif event.type in _VIEW_TYPES and event.session_id is not None:
            v_item.append(items(pid))
            v_session.append(sessions(event.session_id))
            v_time.append(at)
        else:
            skipped += 1

    n_items = len(items.names)
    times = np.concatenate([np.frombuffer(p_time), np.frombuffer(v_time)])
    latest = float(times.max()) if times.size else 0.0
    ref = as_utc(now).timestamp() if now is not None else latest
    built_at = utc_from_timestamp(ref) if times.size or now is not None else None

    # One row per distinct (order, item): several lines of one order count once.
    item_a = np.frombuffer(p_item, dtype=np.int32).astype(np.int64)
    order_a = np.frombuffer(p_order, dtype=np.int32).astype(np.int64)
    _, first = np.unique(order_a * max(n_items, 1) + item_a, return_index=True)
    item_o = item_a[first]
    order_o = order_a[first]
    cust_o = np.frombuffer(p_cust, dtype=np.int32)[first].astype(np.int64)
    age_days = np.maximum(ref - np.frombuffer(p_time)[first], 0.0) / _DAY
    decay = np.power(0.5, age_days / half_life_days)
    recent = np.power(0.5, age_days / trending_half_life_days)

    popularity_raw = _weighted_counts(item_o, decay, n_items)
    trending_raw = _weighted_counts(item_o, recent, n_items)

    if co_purchase_scope == "customer":
        basket = np.where(cust_o >= 0, cust_o, len(customers.names) + order_o)
    else:
        basket = order_o
    co_purchase = _neighbours(basket, item_o, decay, n_items, max_neighbours)

    view_item = np.frombuffer(v_item, dtype=np.int32).astype(np.int64)
    view_session = np.frombuffer(v_session, dtype=np.int32).astype(np.int64)
    view_age = np.maximum(ref - np.frombuffer(v_time), 0.0) / _DAY
    co_view = _neighbours(
        view_session, view_item, np.power(0.5, view_age / half_life_days), n_items, max_neighbours
    )

    country_top = _country_top(
        customers.names, cust_o, item_o, decay, items.names, customer_country, country_top_size
    )
    popularity = log_scale(popularity_raw)
    category_top: dict[str, tuple[str, ...]] = {}
    brand_top: dict[str, tuple[str, ...]] = {}
    complements: dict[str, tuple[str, ...]] = {}
    if catalog is not None:
        pop_of = dict(zip(items.names, popularity.tolist(), strict=True))
        category_top = _best_sellers(catalog.categories, pop_of, category_top_size)
        brands = {p.brand: catalog.by_brand(p.brand) for p in catalog if p.brand is not None}
        brand_top = _best_sellers(brands, pop_of, category_top_size)
        complements = {p.id: p.complements for p in catalog if p.complements}

    return {
        "items": items.names,
        "co_purchase": co_purchase,
        "co_view": co_view,
        "popularity": array("f", popularity.astype(np.float32).tobytes()),
        "trending": array("f", log_scale(trending_raw).astype(np.float32).tobytes()),
        "repurchase": array("f", _repurchase(cust_o, item_o, n_items).astype(np.float32).tobytes()),
        "country_top": country_top,
        "category_top": category_top,
        "brand_top": brand_top,
        "complements": complements,
        "built_at": built_at,
        "stats": {
            "purchase_lines": len(p_item),
            "orders": len(orders.names),
            "customers": len(customers.names),
            "views": len(v_item),
            "sessions": len(sessions.names),
            "items": n_items,
            "skipped_events": skipped,
            "half_life_days": half_life_days,
            "trending_half_life_days": trending_half_life_days,
            "max_neighbours": max_neighbours,
            "co_purchase_scope": co_purchase_scope,
        },
    }


def utc_from_timestamp(seconds: float) -> datetime:
    """The UTC datetime of a POSIX timestamp, clamped to ``datetime.min`` .. ``datetime.max``.

    A float cannot hold every microsecond of year 9999: 9999-12-31T23:59:59.999999 becomes
    ``253402300800.0``, which :meth:`datetime.fromtimestamp` rejects as year 10000.
    """
    if seconds >= _LAST.timestamp():
        return _LAST
    if seconds <= _FIRST.timestamp():
        return _FIRST
    return datetime.fromtimestamp(seconds, UTC)


def _weighted_counts(
    keys: NDArray[np.int64], weights: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    return np.asarray(np.bincount(keys, weights=weights, minlength=size), dtype=np.float64)


def log_scale(raw: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log1p(raw)`` scaled so the largest value is 1 (all zeros stay zeros)."""
    scaled = np.log1p(np.maximum(raw, 0.0))
    top = float(scaled.max()) if scaled.size else 0.0
    return scaled / top if top > 0 else scaled


def _neighbours(
    basket: NDArray[np.int64],
    item: NDArray[np.int64],
    weight: NDArray[np.float64],
    n_items: int,
    k: int,
) -> tuple[array[int], array[int], array[float]]:
    """Cosine top-K neighbours over a basket x item matrix of ``log1p(sum of weights)``."""
    indptr = array("q", [0])
    indices, data = array("i"), array("f")
    if basket.size == 0 or n_items == 0:
        return array("q", [0] * (n_items + 1)), indices, data
    n_baskets = int(basket.max()) + 1
    x = sp.csr_matrix((weight, (basket, item)), shape=(n_baskets, n_items), dtype=np.float64)
    x.data = np.log1p(x.data)
    co = (x.T @ x).tocsr()
    norms = np.sqrt(co.diagonal())
    norms[norms == 0] = 1.0
    co.setdiag(0.0)
    co.eliminate_zeros()
    co = sp.csr_matrix(sp.diags(1.0 / norms) @ co @ sp.diags(1.0 / norms))
    for row in range(n_items):
        start, end = co.indptr[row], co.indptr[row + 1]
        cols = co.indices[start:end]
        vals = co.data[start:end]
        if cols.size > k:
            keep = np.argpartition(-vals, k - 1)[:k]
            cols, vals = cols[keep], vals[keep]
        order = np.lexsort((cols, -vals))
        indices.frombytes(cols[order].astype(np.int32).tobytes())
        data.frombytes(vals[order].astype(np.float32).tobytes())
        indptr.append(len(indices))
    return indptr, indices, data


def _repurchase(
    cust: NDArray[np.int64], item: NDArray[np.int64], n_items: int
) -> NDArray[np.float64]:
    """Per item: buyers with two or more orders of it over all its buyers (+1 smoothing)."""
    known = cust >= 0
    if not known.any():
        return np.zeros(n_items)
    key = cust[known] * max(n_items, 1) + item[known]
    pairs, counts = np.unique(key, return_counts=True)
    pair_item = pairs % max(n_items, 1)
    buyers = np.bincount(pair_item, minlength=n_items)
    repeaters = np.bincount(pair_item, weights=(counts > 1).astype(np.float64), minlength=n_items)
    return np.asarray(repeaters / (buyers + 1.0), dtype=np.float64)


def _country_top(
    customers: list[str],
    cust: NDArray[np.int64],
    item: NDArray[np.int64],
    weight: NDArray[np.float64],
    item_names: list[str],
    customer_country: Mapping[str, str],
    size: int,
) -> dict[str, tuple[tuple[str, ...], tuple[float, ...]]]:
    if not customer_country or cust.size == 0:
        return {}
    countries: dict[str, int] = {}
    of_customer = np.array(
        [
            countries.setdefault(customer_country[c], len(countries))
            if c in customer_country
            else -1
            for c in customers
        ]
        + [-1],
        dtype=np.int64,
    )
    country = of_customer[np.where(cust >= 0, cust, len(customers))]
    known = country >= 0
    n_items = len(item_names)
    totals = _weighted_counts(
        country[known] * n_items + item[known], weight[known], len(countries) * n_items
    ).reshape(len(countries), n_items)
    result: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {}
    for name, row in countries.items():
        scaled = log_scale(totals[row])
        best = [pos for pos in np.lexsort((np.arange(n_items), -scaled))[:size] if scaled[pos] > 0]
        result[name] = (
            tuple(item_names[pos] for pos in best),
            tuple(float(scaled[pos]) for pos in best),
        )
    return result


def _best_sellers(
    groups: Mapping[Any, tuple[str, ...]], popularity: Mapping[str, float], size: int
) -> dict[str, tuple[str, ...]]:
    return {
        str(name): tuple(sorted(ids, key=lambda pid: (-popularity.get(pid, 0.0), pid))[:size])
        for name, ids in groups.items()
    }


def decay_weight(age_days: float, half_life_days: float) -> float:
    """``0.5 ** (age / half_life)``, 1 for events in the future."""
    return math.pow(0.5, max(age_days, 0.0) / half_life_days)
