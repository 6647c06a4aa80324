"""The customer's repeat share and how it scales ``personal`` (``repeat_share_weight``)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ranking_helpers import history_request, purchase, shop_index

from personalize import ConfigError, Event, load_config
from personalize.ranking import RankingInput
from personalize.ranking._personal import personal, repeat_scale, repeat_share

INDEX = shop_index()


def request(events: list[Event], *, profile: bool = False, **options: object) -> RankingInput:
    return history_request(events, INDEX, profile=profile, **options)


def orders(*baskets: tuple[str, ...]) -> list[Event]:
    """One order per basket for customer ``me``, a day apart, the oldest first."""
    n = len(baskets)
    return [
        purchase("me", f"o{k}", pid, n - k) for k, basket in enumerate(baskets) for pid in basket
    ]


def test_no_orders_or_one_order_give_a_share_of_one_half() -> None:
    assert repeat_share({}, 0) == 0.5
    assert repeat_share({"mug": 1, "kettle": 1}, 1) == 0.5


def test_the_same_basket_again_and_again_approaches_a_share_of_one() -> None:
    counts = {"beans": 40, "filters": 40}
    assert repeat_share(counts, 40) == pytest.approx((78 + 5) / (80 * (1 - 1 / 40) + 10))
    assert repeat_share(counts, 40) > 0.9


def test_new_products_in_every_order_give_a_share_below_one_half() -> None:
    counts = {f"p{n}": 1 for n in range(30)}
    assert repeat_share(counts, 10) < 0.5


@given(
    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(1, 60), max_size=20),
    st.integers(0, 60),
)
def test_the_share_is_in_the_unit_range(counts: dict[str, int], extra: int) -> None:
    orders = max(counts.values(), default=0) + extra  # a product is in at most every order
    share = repeat_share(counts, orders)
    assert 0.0 < share <= 1.0


@given(st.integers(2, 50), st.integers(1, 20), st.integers(0, 30))
def test_buying_again_more_often_never_lowers_the_share(
    orders: int, products: int, more: int
) -> None:
    # the same products in more of the same number of orders: more lines are repeats
    fewer = repeat_share(dict.fromkeys(map(str, range(products)), 1), orders)
    counts = dict.fromkeys(map(str, range(products)), min(1 + more, orders))
    assert repeat_share(counts, orders) >= fewer


@given(st.floats(0, 100, allow_nan=False), st.integers(0, 12), st.integers(1, 6))
def test_the_scale_is_bounded_by_one_over_one_plus_the_weight_and_one(
    weight: float, repeats: int, basket: int
) -> None:
    baskets = [tuple(f"p{i}" for i in range(basket))] * (repeats + 1)
    scale = repeat_scale(request(orders(*baskets), repeat_share_weight=weight))
    assert 1.0 / (1.0 + weight) - 1e-12 <= scale <= 1.0


def test_without_the_weight_the_scale_is_one() -> None:
    req = request(orders(("mug",), ("kettle",)), repeat_share_weight=0.0)
    assert repeat_scale(req) == 1.0


def test_a_customer_who_buys_again_keeps_personal_and_one_who_does_not_gets_a_fifth() -> None:
    staples = ("beans", "filters")
    again = personal(request(orders(*[staples] * 30)))
    lift = 2 * (58 + 5) / (60 * 29 / 30 + 10) - 1
    assert max(again.values()) == pytest.approx((1.0 + 4 * lift) / 5)  # the default weight 4
    explorer = orders(*[(f"p{n}",) for n in range(12)])
    found = personal(request(explorer))
    assert max(found.values()) == 0.2  # the default weight 4: 1 / (1 + 4)
    # the order among the customer's own products does not change
    same = personal(request(explorer, repeat_share_weight=0.0))
    assert sorted(found, key=found.__getitem__) == sorted(same, key=same.__getitem__)


def test_a_stored_profile_gives_the_share_of_the_events() -> None:
    events = orders(("beans", "mug"), ("beans",), ("beans", "kettle"))
    from_events = repeat_scale(request(events, repeat_share_weight=2.0))
    from_profile = repeat_scale(request(events, profile=True, repeat_share_weight=2.0))
    assert from_profile == from_events
    assert math.isfinite(from_events)


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf")])
def test_a_negative_or_not_finite_weight_is_a_config_error(value: float) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"ranking": {"repeat_share_weight": value}})
    assert "ranking.repeat_share_weight" in str(caught.value)
