"""Time-decayed personal frequency, and the products that go with it.

Two candidate sources read the customer's orders (``HistoryFacts.order_times`` and
``product_orders``), in the spirit of TIFU-KNN (Hu et al., SIGIR 2020):

* :func:`personal` scores each product the customer bought by its decayed order frequency,
  ``sum over the orders holding it of order_decay ** (later orders) * 0.5 ** (age /
  personal_half_life_days)``, times ``1 + repurchase_rate`` (how often buyers of it buy it
  again), so staples outrank one-off buys of the same frequency;
* :func:`neighbours` spreads that frequency over the co-purchase neighbours of the
  ``max_anchors`` heaviest products, ``sum of frequency * similarity ** neighbour_power``;
  with ``exclude_purchased`` the customer's own products are left out *before* the
  ``per_source`` cut, so a long history never crowds the fresh products out.

Without per-order facts (a stored profile), the frequency falls back to ``orders *
0.5 ** (age of the latest purchase / personal_half_life_days)``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType

from personalize.ranking._top import top_by_value
from personalize.ranking._types import CandidateSource, RankingInput

__all__ = ["SOURCES", "frequency", "neighbours", "personal", "purchased"]

_DAY = 86400.0


def frequency(request: RankingInput) -> dict[str, float]:
    """Product id to the customer's decayed order frequency of it (unscaled)."""
    history = request.context.history
    config = request.config
    now = request.now
    half_life = config.personal_half_life_days
    times = history.order_times
    if times and history.product_orders:
        n = len(times)
        decay = config.order_decay
        weight = []
        for i, at in enumerate(times):
            age = max((now - at).total_seconds() / _DAY, 0.0) if now is not None else 0.0
            weight.append(decay ** (n - 1 - i) * math.pow(0.5, age / half_life))
        return {
            pid: sum(weight[i] for i in orders if i < n)
            for pid, orders in history.product_orders.items()
        }
    out: dict[str, float] = {}
    last = history.last_purchased
    for pid, count in history.purchase_counts.items():
        then = last.get(pid)
        age = max((now - then).total_seconds() / _DAY, 0.0) if now and then else 0.0
        out[pid] = count * math.pow(0.5, age / half_life)
    return out


def personal(request: RankingInput) -> Mapping[str, float]:
    """The customer's own products by decayed frequency times ``1 + repurchase_rate``."""
    raw = frequency(request)
    if not raw:
        return {}
    rate = request.index.repurchase_rate
    cycle = request.config.repurchase_weight
    scored = {pid: value * (1.0 + cycle * rate(pid)) for pid, value in raw.items()}
    return top_by_value(scored, request.per_source)


def neighbours(request: RankingInput) -> Mapping[str, float]:
    """Co-purchase neighbours of the customer's heaviest products, by spread frequency."""
    raw = frequency(request)
    if not raw:
        return {}
    config = request.config
    anchors = heapq.nlargest(config.max_anchors, raw.items(), key=lambda kv: (kv[1], kv[0]))
    power = config.neighbour_power
    skip = purchased(request, raw) if config.exclude_purchased else frozenset()
    lookup = request.index.co_purchase
    scores: dict[str, float] = {}
    get = scores.get
    for anchor, weight in anchors:
        ids, sims = lookup(anchor)
        for pid, sim in zip(ids, sims):  # noqa: B905 - rows are pairs of equal length
            if pid not in skip:
                scores[pid] = get(pid, 0.0) + weight * sim**power
    return top_by_value(scores, request.per_source)


def purchased(request: RankingInput, bought: Mapping[str, float]) -> frozenset[str]:
    """The purchases the ranking will leave out (within ``repurchase_window_days``)."""
    window = request.config.repurchase_window_days
    if window is None or request.now is None:
        return frozenset(bought)
    since = request.now - timedelta(days=window)
    last = request.context.history.last_purchased
    return frozenset(pid for pid in bought if (at := last.get(pid)) is None or at >= since)


#: The sources of this module by feature name (registered in ``BUILTIN_SOURCES``).
SOURCES: Mapping[str, CandidateSource] = MappingProxyType(
    {"personal": personal, "neighbours": neighbours}
)
