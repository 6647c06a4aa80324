"""``Recommendation.boost`` and ``pinned_by``: a score is its reasons times its boost."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from ranking_helpers import context, shop_catalog, shop_index

from personalize.config import RankingConfig
from personalize.ranking import Ranker
from personalize.rules import Boost, Pin

CATALOG = shop_catalog()
RANKER = Ranker(CATALOG, shop_index(), RankingConfig())
COFFEE_DRINKER = context(purchases={"beans": (3, 20), "filters": (1, 20)})
CATEGORIES = ("coffee", "tea", "gear", "cups", "beans", "leaves", "kitchen")


def _in(category: str) -> Any:
    return lambda facts: category in facts["category"]


def test_boost_is_the_product_of_the_factors_that_matched() -> None:
    actions = [
        Boost(where=_in("gear"), by=2.0, rule_id="gear"),
        Boost(where=_in("coffee"), by=1.5, rule_id="coffee"),
        Boost(where=_in("cups"), by=0.5, rule_id="cups", kind="bury"),
    ]
    products = RANKER.rank(COFFEE_DRINKER, limit=12, actions=actions).products
    by_id = {rec.product_id: rec for rec in products}
    assert by_id["grinder"].boost == 3.0  # coffee > gear: both boosts
    assert by_id["grinder"].rules == ("gear", "coffee")
    assert by_id["new-cup"].boost == 0.5
    assert by_id["green-tea"].boost == 1.0
    assert by_id["green-tea"].rules == ()


@given(
    st.lists(st.tuples(st.sampled_from(CATEGORIES), st.floats(0.05, 20.0)), min_size=0, max_size=5),
    st.integers(1, 12),
)
def test_every_score_is_its_reasons_times_its_boost(
    boosts: list[tuple[str, float]], limit: int
) -> None:
    actions = [Boost(where=_in(c), by=by, rule_id=f"r{i}") for i, (c, by) in enumerate(boosts)]
    for rec in RANKER.rank(COFFEE_DRINKER, limit=limit, actions=actions).products:
        expected = math.prod(by for c, by in boosts if c in CATALOG.ids[rec.product_id].category)
        assert math.isclose(rec.boost, expected, rel_tol=1e-12)
        assert math.isclose(rec.score, math.fsum(rec.reasons.values()) * rec.boost, rel_tol=1e-9)
        assert rec.pinned_by is None


def test_a_pinned_product_names_the_rule_that_pinned_it() -> None:
    pin = Pin(products=("old-cup",), position=2, rule_id="cups-first")
    products = RANKER.rank(COFFEE_DRINKER, limit=5, actions=[pin]).products
    assert products[1].product_id == "old-cup"
    assert products[1].pinned_by == "cups-first"
    assert [rec.pinned_by for rec in products].count(None) == 4
