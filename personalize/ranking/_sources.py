"""The built-in candidate sources and scorers.

Each source is a plain function of :class:`RankingInput` that proposes at most
``per_source`` products with a feature value in [0, 1]; its registered name is the feature it
scores under. Each scorer computes one cheap feature (a lookup) for every candidate, whoever
proposed it. Plugins add their own through the same two mappings.

Cold-start levels: a source belongs to the ``personal`` (the customer's purchases),
``session`` (what they look at now) or ``global`` level; ``popularity`` counts as ``geo``
when it used the visitor's country.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType

from personalize.catalog import Catalog
from personalize.ranking import _personal
from personalize.ranking._top import DAY, MICROSECOND, age_days, decay, top_by_value
from personalize.ranking._types import CandidateSource, RankingInput, Scorer

__all__ = [
    "BUILTIN_SCORERS",
    "BUILTIN_SOURCES",
    "SOURCE_LEVELS",
    "NewArrivals",
    "affinity",
    "arrival_score",
    "co_purchase",
    "co_view",
    "complement",
    "epoch_us",
    "popularity",
    "recent_purchases",
    "repeat",
    "top_by_value",
    "trending",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: A product's weight among new arrivals halves every this many days.
NEW_ARRIVAL_HALF_LIFE_DAYS = 30.0
#: Categories and brands of the customer that seed affinity candidates.
_AFFINITY_GROUPS = 3
#: The floor of the replenishability factor of a repeat candidate (see :func:`repeat`).
_REPEAT_FLOOR = 1.0


def epoch_us(moment: datetime) -> int:
    """``moment`` (aware, or naive read as UTC) as whole microseconds since 1970 UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // MICROSECOND


def arrival_score(now_us: int, created_us: int) -> float:
    """:func:`new_arrival_score` from :func:`epoch_us` times, without datetime arithmetic.

    Integer microseconds divided once give the same float as ``timedelta.total_seconds``,
    so the score is bit-for-bit the one computed from datetimes.
    """
    age = max((now_us - created_us) / 1_000_000 / DAY, 0.0)
    return math.pow(0.5, age / NEW_ARRIVAL_HALF_LIFE_DAYS)


def recent_purchases(request: RankingInput, limit: int) -> list[str]:
    """The customer's distinct purchases, newest first, at most ``limit``."""
    history = request.context.history
    seen: dict[str, None] = {}
    for pid in history.purchases:
        if pid not in seen:
            seen[pid] = None
            if len(seen) >= limit:
                return list(seen)
    if len(seen) < len(history.purchase_counts):
        last = history.last_purchased
        rest = sorted(
            (pid for pid in history.purchase_counts if pid not in seen),
            key=lambda pid: (-(last[pid].timestamp() if pid in last else 0.0), pid),
        )
        for pid in rest[: max(limit - len(seen), 0)]:
            seen[pid] = None
    return list(seen)


def repeat(request: RankingInput) -> Mapping[str, float]:
    """The customer's own purchases, for buying again.

    Value: ``orders * recency * (1 + replenishability)``, scaled to [0, 1], where
    recency halves every ``repeat_half_life_days`` since the last purchase and
    replenishability is 1 for products flagged ``replenishable``, else the share of all
    buyers who bought the product more than once (from the index).
    """
    history = request.context.history
    counts, last = history.purchase_counts, history.last_purchased
    half_life = request.config.repeat_half_life_days
    catalog, index = request.catalog, request.index
    raw: dict[str, float] = {}
    for pid in recent_purchases(request, request.per_source):
        product = catalog.get(pid)
        replenish = 1.0 if product is not None and product.replenishable else 0.0
        replenish = max(replenish, index.repurchase_rate(pid))
        recency = decay(age_days(request.now, last.get(pid)), half_life)
        raw[pid] = counts.get(pid, 1) * recency * (_REPEAT_FLOOR + replenish)
    return top_by_value(raw, request.per_source)


def _spread(
    anchors: Iterable[tuple[str, float]],
    neighbours: Callable[[str], tuple[tuple[str, ...], tuple[float, ...]]],
) -> dict[str, float]:
    scores: dict[str, float] = {}
    get = scores.get
    for anchor, weight in anchors:
        ids, sims = neighbours(anchor)
        for pid, sim in zip(ids, sims):  # noqa: B905 - rows are pairs of equal length
            scores[pid] = get(pid, 0.0) + weight * sim
    return scores


def co_purchase(request: RankingInput) -> Mapping[str, float]:
    """Products bought together with the customer's latest purchases.

    Each of the ``max_anchors`` latest distinct purchases spreads its neighbours'
    similarity, weighted by ``log1p(orders)`` and a recency that halves every
    ``anchor_half_life_days``.
    """
    history = request.context.history
    counts, last = history.purchase_counts, history.last_purchased
    half_life, now = request.config.anchor_half_life_days, request.now
    anchors = [
        (pid, math.log1p(counts.get(pid, 1)) * decay(age_days(now, last.get(pid)), half_life))
        for pid in recent_purchases(request, request.config.max_anchors)
    ]
    return top_by_value(_spread(anchors, request.index.co_purchase), request.per_source)


def co_view(request: RankingInput) -> Mapping[str, float]:
    """Products viewed in the same sessions as what the customer viewed lately."""
    viewed = dict.fromkeys(request.context.behaviour.recently_viewed)
    latest = list(viewed)[: request.config.max_anchors]
    anchors = [(pid, 0.8**rank) for rank, pid in enumerate(latest)]
    return top_by_value(_spread(anchors, request.index.co_view), request.per_source)


def complement(request: RankingInput) -> Mapping[str, float]:
    """What goes with the anchors (the product viewed, the cart on ``cart``).

    Declared complements (from the catalog) score 1; products often bought with an anchor
    score up to 0.6 by their similarity.
    """
    if not request.anchors:
        return {}
    scores = top_by_value(
        _spread(((pid, 1.0) for pid in request.anchors), request.index.co_purchase),
        request.per_source,
    )
    scores = {pid: 0.6 * value for pid, value in scores.items()}
    for anchor in request.anchors:
        declared = request.index.complements(anchor)
        if not declared:
            product = request.catalog.get(anchor)
            declared = product.complements if product is not None else ()
        for pid in declared:
            scores[pid] = 1.0
    return top_by_value(scores, request.per_source)


def affinity(request: RankingInput) -> Mapping[str, float]:
    """Best sellers of the customer's favourite categories and brands.

    Favourites come from viewed categories and the categories and brands of their latest
    purchases; a product scores its group's share times ``0.5 + 0.5 * popularity``.
    """
    context, catalog, index = request.context, request.catalog, request.index
    categories: dict[str, float] = dict(context.behaviour.viewed_categories)
    brands: dict[str, float] = {}
    for pid in recent_purchases(request, request.config.max_anchors):
        product = catalog.get(pid)
        if product is None:
            continue
        weight = float(context.history.purchase_counts.get(pid, 1))
        if product.leaf_category is not None:
            categories[product.leaf_category] = categories.get(product.leaf_category, 0.0) + weight
        if product.brand is not None:
            brands[product.brand] = brands.get(product.brand, 0.0) + weight
    scores: dict[str, float] = {}
    per_group = max(request.per_source // (2 * _AFFINITY_GROUPS), 1)
    popular = index.popularity
    for groups, members in ((categories, index.category_top), (brands, index.brand_top)):
        total = sum(groups.values())
        if total <= 0:
            continue
        favourites = sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))[:_AFFINITY_GROUPS]
        for name, weight in favourites:
            share = weight / total
            for pid in members(name)[:per_group]:
                value = share * (0.5 + 0.5 * popular(pid))
                old = scores.get(pid, 0.0)
                scores[pid] = value if value > old else old  # max(old, value)
    return top_by_value(scores, request.per_source)


def popularity(request: RankingInput) -> Mapping[str, float]:
    """Best sellers in the visitor's country when the index knows it, else overall."""
    limit = min(request.config.popular_candidates, request.per_source)
    index = request.index
    country = request.context.geo.country
    if country is not None:
        local = index.country_popularity(country)
        if local:
            ids = index.top(limit, country=country)
            return {pid: local[pid] for pid in ids}
    return {pid: index.popularity(pid) for pid in index.top(limit)}


def trending(request: RankingInput) -> Mapping[str, float]:
    """The products selling fastest lately."""
    limit = min(request.config.popular_candidates, request.per_source)
    index = request.index
    return {pid: index.trending(pid) for pid in index.trending_top(limit)}


class NewArrivals:
    """The catalog's newest products (by ``created_at``), sorted once at construction.

    Value: 1 for a product added now, halving every 30 days.
    """

    __slots__ = ("newest",)

    def __init__(self, catalog: Catalog, *, size: int = 500) -> None:
        dated = [(epoch_us(p.created_at), p.id) for p in catalog if p.created_at is not None]
        newest = heapq.nsmallest(size, ((-at, pid) for at, pid in dated))
        #: The newest products, newest first, with their creation time (:func:`epoch_us`).
        self.newest: tuple[tuple[str, int], ...] = tuple((pid, -neg) for neg, pid in newest)

    def __call__(self, request: RankingInput, /) -> Mapping[str, float]:
        """The newest products with their :func:`new_arrival_score`."""
        limit = min(request.config.popular_candidates, request.per_source)
        if request.now is None:
            return {}
        now_us = epoch_us(request.now)
        scores = {pid: arrival_score(now_us, at) for pid, at in self.newest[:limit]}
        return {pid: value for pid, value in scores.items() if value > 0.0}


def popularity_score(product_id: str, request: RankingInput) -> float:
    """Overall popularity in [0, 1] (the best seller scores 1)."""
    return request.index.popularity(product_id)


def trending_score(product_id: str, request: RankingInput) -> float:
    """Recent velocity in [0, 1]."""
    return request.index.trending(product_id)


def new_arrival_score(product_id: str, request: RankingInput) -> float:
    """1 for a product added now, halving every 30 days since its ``created_at``."""
    product = request.catalog.get(product_id)
    if product is None or product.created_at is None:
        return 0.0
    age = age_days(request.now, product.created_at)
    return 0.0 if age is None else decay(age, NEW_ARRIVAL_HALF_LIFE_DAYS)


#: Built-in candidate sources by feature name, in the order they run.
BUILTIN_SOURCES: Mapping[str, CandidateSource] = MappingProxyType(
    {
        "repeat": repeat,
        "co_purchase": co_purchase,
        "affinity": affinity,
        "co_view": co_view,
        "complement": complement,
        "popularity": popularity,
        "trending": trending,
        **_personal.SOURCES,
    }
)

#: Built-in scorers: features looked up for every candidate.
BUILTIN_SCORERS: Mapping[str, Scorer] = MappingProxyType(
    {
        "popularity": popularity_score,
        "trending": trending_score,
        "new_arrival": new_arrival_score,
    }
)

#: The cold-start level of each built-in source.
SOURCE_LEVELS: Mapping[str, str] = MappingProxyType(
    {
        "repeat": "personal",
        "co_purchase": "personal",
        "affinity": "personal",
        "co_view": "session",
        "complement": "session",
        "popularity": "global",
        "trending": "global",
        "new_arrival": "global",
        "personal": "personal",
        "neighbours": "personal",
    }
)
