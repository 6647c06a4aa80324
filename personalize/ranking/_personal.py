"""Time-decayed personal frequency, and the products that go with it.

Two candidate sources read the customer's orders (``HistoryFacts.order_times`` and
``product_orders``), in the spirit of TIFU-KNN (Hu et al., SIGIR 2020):

* :func:`personal` scores each product the customer bought by its decayed order frequency,
  ``sum over the orders holding it of order_decay ** (later orders) * 0.5 ** (age /
  personal_half_life_days)``, times ``1 + repurchase_weight * repurchase_rate`` (how often
  buyers of it buy it again), so staples outrank one-off buys of the same frequency; then
  scaled to [0, 1] and by the customer's :func:`repeat_scale` (a customer who rarely buys
  again gets less of their own products, whatever the store's shape);
* :func:`neighbours` spreads that frequency over the co-purchase neighbours of the
  ``max_anchors`` heaviest products, ``sum of frequency * similarity ** neighbour_power``;
  with ``exclude_purchased`` the customer's own products are left out *before* the
  ``per_source`` cut, so a long history never crowds the fresh products out.

A store keeps the same frequency folded order by order (``Profile.order_frequency``, with
its ``Retention``'s decay and half-life); it is read when those are the configuration's. Without
either (a caller's profile, or other settings), the frequency falls back to ``orders *
0.5 ** (age of the latest purchase / personal_half_life_days)``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from itertools import chain
from itertools import repeat as forever
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from personalize.ranking._top import DAY, EXACT_US, MICROSECOND, age_days, decay, top_by_value
from personalize.ranking._types import CandidateSource, RankingInput

__all__ = [
    "SOURCES",
    "frequency",
    "heaviest",
    "neighbours",
    "personal",
    "personal_of",
    "purchased",
    "repeat_scale",
    "repeat_share",
    "stored_mismatch",
]

#: Pseudo order lines at a repeat share of one half that :func:`repeat_share` starts from.
_SHARE_PRIOR_LINES = 10.0


def frequency(request: RankingInput) -> dict[str, float]:
    """Product id to the customer's decayed order frequency of it (unscaled)."""
    history = request.context.history
    config = request.config
    now = request.now
    half_life = config.personal_half_life_days
    times = history.order_times
    if times and history.product_orders:
        weight = _order_weights(times, now, config.order_decay, half_life)
        return _per_product(history.product_orders, weight)
    stored = history.stored_frequency
    if stored is not None and stored_mismatch(request) is None:
        factor = decay(age_days(now, stored.at), half_life)
        return {pid: value * factor for pid, value in stored.values.items()}
    last = history.last_purchased
    return {
        pid: count * decay(age_days(now, last.get(pid)), half_life)
        for pid, count in history.purchase_counts.items()
    }


def stored_mismatch(request: RankingInput) -> str | None:
    """Why a store's folded frequency cannot be read (its decay or half-life is not the
    configuration's), or ``None`` (it can, or there is none)."""
    stored = request.context.history.stored_frequency
    config = request.config
    if stored is None or (stored.decay, stored.half_life_days) == (
        config.order_decay,
        config.personal_half_life_days,
    ):
        return None
    return (
        f"personal: the store folds order frequency with order_decay {stored.decay:g} and "
        f"a {stored.half_life_days:g}-day half-life, the ranking uses "
        f"{config.order_decay:g} and {config.personal_half_life_days:g}: "
        "read as order counts"
    )


def _order_weights(
    times: Sequence[datetime], now: datetime | None, decay: float, half_life: float
) -> NDArray[np.float64]:
    """Each order's weight, ``decay ** (later orders) * 0.5 ** (age in days / half_life)``:
    ages in exact integer microseconds, the powers by ``math.pow`` (the floats of
    ``timedelta.total_seconds`` and ``**``), the rest in NumPy."""
    n = len(times)
    later = np.fromiter(map(math.pow, forever(decay), range(n - 1, -1, -1)), np.float64, n)
    if now is None:
        return later
    ages_us = [(now - at) // MICROSECOND for at in times]
    if max(map(abs, ages_us)) >= EXACT_US:  # beyond float64's integers: one by one
        days = [max((now - at).total_seconds() / DAY, 0.0) / half_life for at in times]
    else:
        days = (
            np.maximum(np.array(ages_us, np.float64) / 1_000_000 / DAY, 0.0) / half_life
        ).tolist()
    return later * np.fromiter(map(math.pow, forever(0.5), days), np.float64, n)


def _per_product(
    orders_of: Mapping[str, Sequence[int]], weight: NDArray[np.float64]
) -> dict[str, float]:
    """Product id to the sum of the weights of its orders (positions past the last order
    are ignored), added in order position order."""
    n = len(weight)
    sizes = [len(orders) for orders in orders_of.values()]
    flat = np.fromiter(chain.from_iterable(orders_of.values()), np.intp, sum(sizes))
    owner = np.arange(len(sizes)).repeat(sizes)
    inside = flat < n
    if not inside.all():
        flat, owner = flat[inside], owner[inside]
    sums = np.bincount(owner, weights=weight[flat], minlength=len(sizes))
    return dict(zip(orders_of, sums.tolist(), strict=True))


def personal(request: RankingInput) -> Mapping[str, float]:
    """The customer's own products by decayed frequency times ``1 + repurchase_rate``."""
    return personal_of(request, frequency(request))


def personal_of(request: RankingInput, raw: Mapping[str, float]) -> dict[str, float]:
    """:func:`personal` from the customer's frequency ``raw``."""
    if not raw:
        return {}
    rate = request.index.repurchase_rate
    cycle = request.config.repurchase_weight
    scored = {pid: value * (1.0 + cycle * rate(pid)) for pid, value in raw.items()}
    return top_by_value(scored, request.per_source, repeat_scale(request))


def repeat_share(counts: Mapping[str, int], orders: int) -> float:
    """The customer's repeat share: of their order lines after the first order, the part
    that are products they had bought before, smoothed towards one half.

    ``counts`` is product id to the number of the customer's orders holding it, ``orders``
    their number of orders. Without the order of each line, the first order is taken as
    the average one: ``(lines - products + 5) / (lines * (1 - 1 / orders) + 10)``, in
    ``(0, 1]``, 0.5 with one order or none.
    """
    lines = sum(counts.values())
    again = max(lines - len(counts), 0) if orders > 1 else 0  # one order repeats nothing
    share = (again + _SHARE_PRIOR_LINES / 2) / (_chances(lines, orders) + _SHARE_PRIOR_LINES)
    return share if share < 1.0 else 1.0


def _chances(lines: int, orders: int) -> float:
    """The order lines after the first order, the first taken as the average one (never
    fewer than the repeats there can be: a product is in at most every order)."""
    return lines - lines / orders if orders > 1 else 0.0


def repeat_scale(request: RankingInput) -> float:
    """The factor on the customer's ``personal`` values, ``(1 + w * lift) / (1 + w)`` with
    ``w`` the ``repeat_share_weight`` and ``lift`` the :func:`repeat_share` ``2 * share -
    1`` clipped to ``[0, 1]``: 1 for a customer who only buys again, down to ``1 / (1 +
    w)`` for one whose share is one half or less."""
    weight = request.config.repeat_share_weight
    if weight == 0.0:
        return 1.0
    history = request.context.history
    lift = 2.0 * repeat_share(history.purchase_counts, history.order_count) - 1.0
    if lift <= 0.0:
        return 1.0 / (1.0 + weight)
    return (1.0 + weight * lift) / (1.0 + weight)


def heaviest(raw: Mapping[str, float], count: int) -> list[tuple[str, float]]:
    """The ``count`` products of highest frequency (ties: the larger id first), the
    anchors of :func:`neighbours`."""
    return heapq.nlargest(count, raw.items(), key=lambda kv: (kv[1], kv[0]))


def neighbours(request: RankingInput) -> Mapping[str, float]:
    """Co-purchase neighbours of the customer's heaviest products, by spread frequency."""
    raw = frequency(request)
    if not raw:
        return {}
    config = request.config
    anchors = heaviest(raw, config.max_anchors)
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
