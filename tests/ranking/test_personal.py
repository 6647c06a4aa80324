"""The time-decayed personal frequency sources: ``personal`` and ``neighbours``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ranking_helpers import NOW, history_request, purchase, shop_catalog, shop_index

from personalize import Event, History, Request
from personalize.context import ContextResolver
from personalize.ranking import InteractionIndex, RankingInput
from personalize.ranking._personal import frequency, neighbours, personal, repeat_scale

INDEX = shop_index()
CATALOG = shop_catalog()
GEAR = ("filters", "grinder", "beans")
#: Five other customers bought filters, a grinder and beans together; one of them also
#: bought a kettle and a mug with filters.
TOGETHER = InteractionIndex.build(
    [
        *(purchase(f"c{n}", f"g{n}", p, 20 + n) for n in range(5) for p in GEAR),
        *(purchase("c0", "k0", p, 40) for p in ("filters", "kettle", "mug")),
    ],
    catalog=CATALOG,
    now=NOW,
)
RESOLVER = ContextResolver()


def request(
    events: list[Event],
    *,
    per_source: int = 50,
    profile: bool = False,
    index: InteractionIndex = INDEX,
    **options: object,
) -> RankingInput:
    return history_request(events, index, profile=profile, per_source=per_source, **options)


def orders(*baskets: tuple[float, tuple[str, ...]]) -> list[Event]:
    """One order per ``(days_ago, products)``, for customer ``me``."""
    return [
        purchase("me", f"o{n}", pid, days_ago)
        for n, (days_ago, products) in enumerate(baskets)
        for pid in products
    ]


def test_the_history_facts_hold_each_products_orders_oldest_first() -> None:
    ctx = RESOLVER.resolve(
        Request(now=NOW), History(events=orders((30, ("mug",)), (10, ("mug", "kettle"))))
    )
    facts = ctx.history
    assert facts.order_times == (NOW - timedelta(days=30), NOW - timedelta(days=10))
    assert dict(facts.product_orders) == {"mug": (0, 1), "kettle": (1,)}


def test_a_product_bought_in_later_orders_weighs_more() -> None:
    events = orders((200, ("mug",)), (100, ("kettle",)), (5, ("teapot",)))
    weights = frequency(request(events, order_decay=0.9, personal_half_life_days=100))
    assert weights["teapot"] > weights["kettle"] > weights["mug"]
    assert weights["kettle"] == 0.9 * 0.5 ** (100 / 100)


def test_order_decay_one_and_a_long_half_life_count_orders() -> None:
    events = orders((3, ("mug", "beans")), (2, ("beans",)), (1, ("beans",)))
    weights = frequency(request(events, order_decay=1.0, personal_half_life_days=1e9))
    assert round(weights["beans"], 6) == 3.0
    assert round(weights["mug"], 6) == 1.0


def test_personal_prefers_products_that_buyers_buy_again() -> None:
    # beans are bought again by their buyers in the shop's log, a grinder never is
    events = orders((10, ("beans", "grinder")))
    found = personal(request(events, repurchase_weight=8.0, repeat_share_weight=0.0))
    assert found["beans"] == 1.0
    assert found["grinder"] < 1.0
    flat = personal(request(events, repurchase_weight=0.0, repeat_share_weight=0.0))
    assert flat["beans"] == flat["grinder"] == 1.0


def test_a_stored_profile_falls_back_to_counts_and_the_last_purchase() -> None:
    events = orders((300, ("mug",)), (10, ("mug",)), (10, ("kettle",)))
    weights = frequency(request(events, profile=True, personal_half_life_days=10))
    assert weights["mug"] == 2 * 0.5
    assert weights["kettle"] == 0.5


def test_neighbours_leave_out_purchases_before_the_cut_when_asked() -> None:
    events = orders((5, ("filters", "grinder", "beans")))
    kept = neighbours(request(events, per_source=2, index=TOGETHER))
    assert set(kept) <= {"filters", "grinder", "beans"}  # own products fill the cut
    fresh = neighbours(request(events, per_source=2, index=TOGETHER, exclude_purchased=True))
    assert set(fresh) == {"kettle", "mug"}
    assert max(fresh.values()) == 1.0


def test_neighbours_keep_purchases_older_than_the_repurchase_window() -> None:
    events = orders((100, ("filters",)), (1, ("grinder",)))
    found = neighbours(
        request(events, index=TOGETHER, exclude_purchased=True, repurchase_window_days=30)
    )
    assert "filters" in found  # bought 100 days ago: may be recommended again
    assert "grinder" not in found


def test_no_purchases_propose_nothing() -> None:
    assert personal(request([])) == {}
    assert neighbours(request([])) == {}


PRODUCTS = sorted(p.id for p in CATALOG)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=900), st.lists(st.sampled_from(PRODUCTS), min_size=1)
        ),
        max_size=8,
    ),
    st.booleans(),
)
def test_values_are_in_the_unit_range_with_the_best_at_one(
    baskets: list[tuple[float, list[str]]], exclude: bool
) -> None:
    events = orders(*((days, tuple(products)) for days, products in baskets))
    req = request(events, exclude_purchased=exclude)
    bought = {e.product_id for e in events}
    scale = repeat_scale(req)
    for found, best in ((personal(req), scale), (neighbours(req), 1.0)):
        assert all(0.0 < v <= 1.0 for v in found.values())
        assert not found or max(found.values()) == pytest.approx(best)
        assert len(found) <= req.per_source
    assert set(personal(req)) <= bought
    if exclude:
        assert not set(neighbours(req)) & bought


@given(
    st.lists(st.integers(-(10**10), 10**14), min_size=1, max_size=40),
    st.lists(
        st.lists(st.integers(0, 45), min_size=1, max_size=6, unique=True).map(sorted),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([1.0, 0.95, 0.5]),
    st.floats(1.0, 1000.0),
    st.booleans(),
)
def test_order_weights_and_sums_are_the_floats_of_a_plain_loop(
    ages_us: list[int],
    orders: list[list[int]],
    decay: float,
    half_life: float,
    timed: bool,
) -> None:
    import math

    from personalize.ranking._personal import _order_weights, _per_product

    times = sorted(NOW - timedelta(microseconds=us) for us in ages_us)
    now = NOW if timed else None
    n = len(times)
    expected_weight = []
    for i, at in enumerate(times):
        age = max((now - at).total_seconds() / 86400.0, 0.0) if now is not None else 0.0
        expected_weight.append(decay ** (n - 1 - i) * math.pow(0.5, age / half_life))
    weight = _order_weights(times, now, decay, half_life)
    assert weight.tolist() == expected_weight
    orders_of = {f"p{j}": tuple(positions) for j, positions in enumerate(orders)}
    expected: dict[str, float] = {}
    for pid, positions in orders_of.items():
        total = 0.0
        for i in positions:
            if i < n:  # a position past the last order is ignored
                total += expected_weight[i]
        expected[pid] = total
    assert _per_product(orders_of, weight) == expected
