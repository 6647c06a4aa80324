"""The shoppers' response model: logistic responses in the documented directions."""

from __future__ import annotations

import math
import random

import pytest

from personalize.journeys import ChoiceModel, choose, pick, sigmoid


def test_sigmoid_is_the_logistic_function() -> None:
    assert sigmoid(0.0) == 0.5
    assert sigmoid(2.0) == pytest.approx(1 / (1 + math.exp(-2)))
    assert sigmoid(-1000.0) == 0.0
    assert sigmoid(1000.0) == 1.0


def test_choose_draws_in_proportion_to_exp_utility() -> None:
    rng = random.Random(0)
    counts = [0, 0]
    for _ in range(20000):
        counts[choose(rng, [0.0, math.log(3.0)])] += 1
    assert counts[1] / counts[0] == pytest.approx(3.0, rel=0.06)


def test_pick_draws_in_proportion_to_weights() -> None:
    rng = random.Random(0)
    counts = [0, 0, 0]
    for _ in range(20000):
        counts[pick(rng, [1.0, 0.0, 3.0])] += 1
    assert counts[1] == 0
    assert counts[2] / counts[0] == pytest.approx(3.0, rel=0.06)


def test_affinity_raises_and_price_lowers_the_click_utility() -> None:
    model = ChoiceModel()
    cheap, dear = model.price_term(1.0, 20.0), model.price_term(1.0, 200.0)
    assert model.click_utility(1.0, cheap, 0) > model.click_utility(0.2, cheap, 0)
    assert model.click_utility(0.5, cheap, 0) > model.click_utility(0.5, dear, 0)
    assert model.click_utility(0.5, cheap, 0) > model.click_utility(0.5, cheap, 5)


def test_price_term_is_zero_at_the_reference_or_unknown_price() -> None:
    model = ChoiceModel()
    assert model.price_term(1.5, model.ref_price) == 0.0
    assert model.price_term(1.5, None) == 0.0


def test_offers_raise_the_purchase_probability() -> None:
    model = ChoiceModel()
    common = {"cart_term": 0.0, "tier": "none", "device": "desktop"}
    plain = model.buy(percent=0.0, free_shipping=False, **common)  # type: ignore[arg-type]
    ten = model.buy(percent=10.0, free_shipping=False, **common)  # type: ignore[arg-type]
    shipping = model.buy(percent=0.0, free_shipping=True, **common)  # type: ignore[arg-type]
    assert ten > plain
    assert shipping > plain
    assert math.log(ten / (1 - ten)) - math.log(plain / (1 - plain)) == pytest.approx(
        model.buy_percent
    )


def test_add_to_cart_grows_with_affinity() -> None:
    model = ChoiceModel()
    assert model.add_to_cart(1.0, 0.0) > model.add_to_cart(0.0, 0.0)


def test_dwell_is_positive_and_longer_on_liked_products() -> None:
    model = ChoiceModel()
    rng_a, rng_b = random.Random(5), random.Random(5)
    assert model.dwell(rng_a, 1.0) >= model.dwell(rng_b, 0.0) >= 3
