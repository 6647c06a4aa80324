"""Building the interaction index: one streaming pass over events, then sparse algebra.

The pass turns events into integer columns (basket, item, time); NumPy and SciPy then do
the counting: co-occurrence is ``X.T @ X`` over a basket-by-item matrix of time-decayed
weights, normalized to cosine and cut to the top K per item. Nothing here runs per request.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from personalize._models import Event, as_utc
from personalize.ranking._cooccurrence import cells, neighbours, neighbours_of, sorted_with_lines

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from personalize.catalog import Catalog

__all__ = ["EventColumns", "build_index", "index_from_columns", "log_scale", "utc_from_timestamp"]

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


@dataclass(frozen=True, slots=True)
class EventColumns:
    """The events of an index build as integer columns (what the Python pass produces).

    Ids are dense and numbered in first-seen order; times are POSIX seconds. Purchases
    with ``p_cust`` -1 have no customer. The arrays are anything exposing a buffer of the
    named type (``array``, NumPy), purchases in ``int32``/``float64``, views likewise.
    """

    items: list[str]
    customers: list[str]
    orders: int
    sessions: int
    p_item: Any
    p_order: Any
    p_cust: Any
    p_time: Any
    v_item: Any
    v_session: Any
    v_time: Any
    skipped: int = 0


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
    trending_rise: float | None = None,
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
    columns = EventColumns(
        items.names, customers.names, len(orders.names), len(sessions.names),
        p_item, p_order, p_cust, p_time, v_item, v_session, v_time, skipped,
    )  # fmt: skip
    return index_from_columns(
        columns,
        catalog=catalog,
        now=now,
        half_life_days=half_life_days,
        trending_half_life_days=trending_half_life_days,
        max_neighbours=max_neighbours,
        customer_country=customer_country,
        co_purchase_scope=co_purchase_scope,
        country_top_size=country_top_size,
        category_top_size=category_top_size,
        trending_rise=trending_rise,
    )


def index_from_columns(
    columns: EventColumns,
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
    max_items_per_basket: int | None = None,
    trending_rise: float | None = None,
) -> dict[str, Any]:
    """The index parts of events already turned into columns (see :func:`build_index`).

    ``max_items_per_basket`` caps the co-purchase neighbours' quadratic cost: a customer
    (or order) with more distinct items counts only its most recently bought ones there.
    """
    items, customers = _Ids(), _Ids()
    items.names, customers.names = columns.items, columns.customers
    p_item, p_order, p_cust, p_time = (
        columns.p_item,
        columns.p_order,
        columns.p_cust,
        columns.p_time,
    )
    v_item, v_session, v_time = columns.v_item, columns.v_session, columns.v_time
    skipped = columns.skipped
    n_items = len(items.names)
    latest = max(
        (float(np.max(np.frombuffer(t))) for t in (p_time, v_time) if len(t)), default=None
    )
    ref = as_utc(now).timestamp() if now is not None else (latest or 0.0)
    built_at = utc_from_timestamp(ref) if latest is not None or now is not None else None

    # One row per distinct (order, item), the first in the log, in (order, item) order:
    # several lines of one order count once.
    order_a = np.frombuffer(p_order, dtype=np.int32)
    key, line = sorted_with_lines(
        order_a.astype(np.int64) * max(n_items, 1) + np.frombuffer(p_item, dtype=np.int32)
    )
    first = line[np.r_[True, key[1:] != key[:-1]]] if key.size else line
    del key, line
    item_o = np.frombuffer(p_item, dtype=np.int32)[first]
    order_o = order_a[first]
    cust_o = np.frombuffer(p_cust, dtype=np.int32)[first]
    age_days = np.maximum(ref - np.frombuffer(p_time)[first], 0.0) / _DAY
    del first
    decay = np.power(0.5, age_days / half_life_days)

    popularity_raw = _weighted_counts(item_o, decay, n_items)
    trending_raw = _weighted_counts(
        item_o, np.power(0.5, age_days / trending_half_life_days), n_items
    )
    repurchase = _repurchase(cust_o, item_o, n_items)
    country_top = _country_top(
        customers.names, cust_o, item_o, decay, items.names, customer_country, country_top_size
    )

    if co_purchase_scope == "customer":
        basket = np.where(
            cust_o >= 0, cust_o.astype(np.int64), len(customers.names) + order_o.astype(np.int64)
        )
    else:
        basket = order_o
    del cust_o, order_o
    lines = [_capped(basket, item_o, decay, age_days, n_items, max_items_per_basket)]
    del basket, item_o, decay, age_days
    co_purchase = _neighbours(lines, n_items, max_neighbours)
    co_view = _co_view(v_item, v_session, v_time, ref, half_life_days, n_items, max_neighbours)

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
        "trending": array(
            "f",
            trending_scale(trending_raw, popularity_raw, trending_rise)
            .astype(np.float32)
            .tobytes(),
        ),
        "repurchase": array("f", repurchase.astype(np.float32).tobytes()),
        "country_top": country_top,
        "category_top": category_top,
        "brand_top": brand_top,
        "complements": complements,
        "built_at": built_at,
        "stats": {
            "purchase_lines": len(p_item),
            "orders": columns.orders,
            "customers": len(customers.names),
            "views": len(v_item),
            "sessions": columns.sessions,
            "items": n_items,
            "skipped_events": skipped,
            "half_life_days": half_life_days,
            "trending_half_life_days": trending_half_life_days,
            "max_neighbours": max_neighbours,
            "co_purchase_scope": co_purchase_scope,
            "trending_rise": trending_rise,
        },
    }


def _co_view(
    item: Any, session: Any, at: Any, ref: float, half_life_days: float, n_items: int, k: int
) -> tuple[array[int], array[int], array[float]]:
    """Co-view neighbours: sessions are the baskets, views decay like purchases."""
    age_days = np.maximum(ref - np.frombuffer(at), 0.0) / _DAY
    np.power(0.5, age_days / half_life_days, out=age_days)
    lines = [
        (np.frombuffer(session, dtype=np.int32), np.frombuffer(item, dtype=np.int32), age_days)
    ]
    del age_days
    return _neighbours(lines, n_items, k)


def _neighbours(
    lines: list[tuple[Any, Any, NDArray[np.float64]]], n_items: int, k: int
) -> tuple[array[int], array[int], array[float]]:
    """:func:`neighbours` of the (basket, item, weight) lines in the one-item list
    ``lines``, which is emptied so that they are freed once turned into cells."""
    basket, item, weight = lines.pop()
    if basket.size == 0 or n_items == 0:
        return neighbours(basket, item, weight, n_items, k)
    x = cells(basket, item, weight, n_items)
    del basket, item, weight
    return neighbours_of(x, n_items, k)


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
    keys: NDArray[np.integer[Any]], weights: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    return np.asarray(np.bincount(keys, weights=weights, minlength=size), dtype=np.float64)


def log_scale(raw: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log1p(raw)`` scaled so the largest value is 1 (all zeros stay zeros)."""
    scaled = np.log1p(np.maximum(raw, 0.0))
    top = float(scaled.max()) if scaled.size else 0.0
    return scaled / top if top > 0 else scaled


def trending_scale(
    recent: NDArray[np.float64], usual: NDArray[np.float64], rise: float | None
) -> NDArray[np.float64]:
    """Trending values from the recent (``recent``) and usual (``usual``) decayed order counts.

    ``log_scale(recent)``; with ``rise`` set, each product's value is multiplied by
    ``min(share of recent / share of usual / rise, 1)``: a product selling at least ``rise``
    times faster than usual keeps its velocity, a steady best seller is damped.
    """
    scaled = log_scale(recent)
    recent_total, usual_total = float(recent.sum()), float(usual.sum())
    if rise is None or recent_total <= 0 or usual_total <= 0:
        return scaled
    usual_share = usual / usual_total
    ratio = np.divide(
        recent / recent_total, usual_share, out=np.zeros_like(scaled), where=usual_share > 0
    )
    return np.asarray(scaled * np.minimum(ratio / rise, 1.0), dtype=np.float64)


def _repurchase(
    cust: NDArray[np.integer[Any]], item: NDArray[np.integer[Any]], n_items: int
) -> NDArray[np.float64]:
    """Per item: buyers with two or more orders of it over all its buyers (+1 smoothing)."""
    known = cust >= 0
    if not known.any():
        return np.zeros(n_items)
    key = cust[known].astype(np.int64) * max(n_items, 1) + item[known]
    pairs, counts = np.unique(key, return_counts=True)
    pair_item = pairs % max(n_items, 1)
    buyers = np.bincount(pair_item, minlength=n_items)
    repeaters = np.bincount(pair_item, weights=(counts > 1).astype(np.float64), minlength=n_items)
    return np.asarray(repeaters / (buyers + 1.0), dtype=np.float64)


def _country_top(
    customers: list[str],
    cust: NDArray[np.integer[Any]],
    item: NDArray[np.integer[Any]],
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


def _capped(
    basket: NDArray[np.integer[Any]],
    item: NDArray[np.integer[Any]],
    weight: NDArray[np.float64],
    age_days: NDArray[np.float64],
    n_items: int,
    cap: int | None,
) -> tuple[NDArray[np.integer[Any]], NDArray[np.integer[Any]], NDArray[np.float64]]:
    """Keep, per basket, the lines of its ``cap`` most recently bought distinct items.

    Ties in recency go to the lower item position, so the choice is deterministic. Only
    the lines of baskets with more than ``cap`` lines are looked at.
    """
    if cap is None or basket.size == 0:
        return basket, item, weight
    lines = np.bincount(basket)
    if int(lines.max()) <= cap:
        return basket, item, weight
    heavy = np.flatnonzero(lines[basket] > cap)
    key = basket[heavy].astype(np.int64) * max(n_items, 1) + item[heavy]
    by_key = np.lexsort((age_days[heavy], key))
    first = np.ones(by_key.size, dtype=bool)
    first[1:] = key[by_key[1:]] != key[by_key[:-1]]
    pair_of_line = np.cumsum(first) - 1  # in by_key order
    newest = by_key[first]  # per (basket, item): its most recent line
    pair_basket = basket[heavy][newest]
    rank_order = np.lexsort((item[heavy][newest], age_days[heavy][newest], pair_basket))
    ranked_basket = pair_basket[rank_order]
    starts = np.flatnonzero(np.r_[True, ranked_basket[1:] != ranked_basket[:-1]])
    sizes = np.diff(np.r_[starts, ranked_basket.size])
    kept_pair = np.empty(newest.size, dtype=bool)
    kept_pair[rank_order] = np.arange(ranked_basket.size) - np.repeat(starts, sizes) < cap
    keep = np.ones(basket.size, dtype=bool)
    keep[heavy[by_key]] = kept_pair[pair_of_line]
    return basket[keep], item[keep], weight[keep]
