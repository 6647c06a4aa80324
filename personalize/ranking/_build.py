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
import scipy.sparse as sp

from personalize._models import Event, as_utc

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
    capped = _capped(basket, item_o, decay, age_days, n_items, max_items_per_basket)
    co_purchase = _neighbours(*capped, n_items, max_neighbours)

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


#: Upper bound on the co-occurrence entries computed at once (one block of item rows).
_BLOCK_ENTRIES = 2_000_000


def _neighbours(
    basket: NDArray[np.int64],
    item: NDArray[np.int64],
    weight: NDArray[np.float64],
    n_items: int,
    k: int,
) -> tuple[array[int], array[int], array[float]]:
    """Cosine top-K neighbours over a basket x item matrix of ``log1p(sum of weights)``.

    Every number has one defined order of summation, so other engines (Spark) can give
    the very same bits: a cell sums its lines in input order; ``X.T @ X`` sums over
    baskets in ascending order; a cosine is ``(d_i * co_ij) * d_j`` with ``d = 1 / norm``.
    Neighbours are ranked by similarity, then by item position (ties included). The
    product is computed a block of item rows at a time, at most ``_BLOCK_ENTRIES``
    products each, so memory stays bounded whatever the catalog; each row's top K is
    selected (:func:`_top_k`) before anything is sorted.
    """
    indptr = array("q", [0])
    indices, data = array("i"), array("f")
    if basket.size == 0 or n_items == 0:
        return array("q", [0] * (n_items + 1)), indices, data
    x = _cells(basket, item, weight, n_items)
    # The diagonal of X.T @ X, summed in ascending basket order like the product itself.
    norms = np.sqrt(np.bincount(x.indices, weights=x.data * x.data, minlength=n_items))
    norms[norms == 0] = 1.0
    inverse = 1.0 / norms
    del norms
    xt = x.T.tocsr()
    xt.sort_indices()
    work = _cumulative_work(xt, np.diff(x.indptr))
    start = 0
    while start < n_items:
        base = work[start - 1] if start else 0
        end = int(np.searchsorted(work, base + _BLOCK_ENTRIES, side="right"))
        end = min(max(end, start + 1), n_items)
        counts, cols, vals = _top_k(*_cosine_rows(xt[start:end] @ x, start, inverse), k)
        indices.frombytes(cols.astype(np.int32, copy=False).tobytes())
        data.frombytes(vals.astype(np.float32).tobytes())
        indptr.extend((indptr[-1] + np.cumsum(counts)).tolist())
        start = end
    return indptr, indices, data


def _cosine_rows(
    co: sp.csr_matrix, start: int, inverse: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
    """Rows ``start``.. of ``X.T @ X`` as cosines: entries per row, their columns (in no
    particular order) and values, the diagonal set to zero (zero is no neighbour)."""
    counts = np.diff(co.indptr).astype(np.int64)
    rows = np.repeat(np.arange(start, start + co.shape[0], dtype=np.int32), counts)
    cols = co.indices
    scaled = co.data  # (d_i * co_ij) * d_j, in place: a product does not depend on order
    scaled *= inverse[rows]
    scaled *= inverse[cols]
    scaled[cols == rows] = 0.0
    return counts, cols, scaled


def _top_k(
    counts: NDArray[np.int64], cols: NDArray[np.int32], vals: NDArray[np.float64], k: int
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
    """Each row's ``k`` best positive entries, by value descending then column ascending.

    Rows are consecutive runs of ``counts`` entries, in any order within a row. A row with
    more than ``k`` entries is first cut at its k-th largest value (a partition, not a
    sort); only the entries at or above the cut are sorted, row by row, and the first
    ``k`` kept, so ties at the cut go to the lower columns.
    """
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    cut = np.zeros(counts.size)
    bounds = offsets.tolist()
    for row in np.flatnonzero(counts > k).tolist():
        values = vals[bounds[row] : bounds[row + 1]]
        cut[row] = np.partition(values, values.size - k)[values.size - k]
    chosen = np.flatnonzero(vals >= np.repeat(cut, counts))
    chosen = chosen[vals[chosen] > 0]
    cols, vals = cols[chosen], vals[chosen]
    counts = np.bincount(np.searchsorted(offsets, chosen, side="right") - 1, minlength=counts.size)
    del chosen
    offsets[1:] = np.cumsum(counts)
    order = np.arange(vals.size, dtype=np.int64)
    for rows, positions, valid in _padded_rows(offsets, counts, np.flatnonzero(counts > 1)):
        gathered = positions[valid]
        by_column = np.where(valid, cols[positions], 0)
        by_value = np.where(valid, -vals[positions], np.inf)  # padding sorts last
        ranked = np.lexsort((by_column, by_value), axis=-1)
        order[gathered] = np.take_along_axis(positions, ranked, axis=-1)[valid]
    kept = np.minimum(counts, k)
    first = np.repeat(offsets[:-1], kept) + np.arange(int(kept.sum())) - np.repeat(
        np.cumsum(kept) - kept, kept
    )
    order = order[first]
    return kept, cols[order], vals[order]


def _padded_rows(
    offsets: NDArray[np.int64], counts: NDArray[np.int64], rows: NDArray[np.int64]
) -> Iterable[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]]:
    """``rows`` as 2-D blocks of their entries' positions, rows of similar length together
    (lengths within a factor of two), with the mask of the real (not padding) ones."""
    if rows.size == 0:
        return
    band = np.ceil(np.log2(counts[rows])).astype(np.int64)
    for level in np.unique(band).tolist():
        chosen = rows[band == level]
        width = np.arange(int(counts[chosen].max()))
        valid = width < counts[chosen][:, None]
        yield chosen, np.where(valid, offsets[chosen][:, None] + width, 0), valid


def _cells(
    basket: NDArray[np.int64], item: NDArray[np.int64], weight: NDArray[np.float64], n_items: int
) -> sp.csr_matrix:
    """The basket x item matrix: ``log1p`` of each cell's weights, summed in input order."""
    key = basket * n_items + item
    by_key = np.argsort(key, kind="stable")
    key = key[by_key]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    sums = np.bincount(np.cumsum(first) - 1, weights=weight[by_key])
    key = key[first]
    rows = key // n_items
    n_baskets = int(rows[-1]) + 1
    indptr = np.zeros(n_baskets + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_baskets), out=indptr[1:])
    cols = (key % n_items).astype(np.int32)
    return sp.csr_matrix((np.log1p(sums), cols, indptr), shape=(n_baskets, n_items))


def _cumulative_work(xt: sp.csr_matrix, basket_size: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per item, the products rows up to its own take in ``X.T @ X`` (its baskets' sizes)."""
    running = np.zeros(xt.indices.size + 1, dtype=np.int64)
    np.cumsum(basket_size.astype(np.int32)[xt.indices], out=running[1:])
    return np.asarray(running[xt.indptr[1:]], dtype=np.int64)


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


def _capped(
    basket: NDArray[np.int64],
    item: NDArray[np.int64],
    weight: NDArray[np.float64],
    age_days: NDArray[np.float64],
    n_items: int,
    cap: int | None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
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
    key = basket[heavy] * max(n_items, 1) + item[heavy]
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
