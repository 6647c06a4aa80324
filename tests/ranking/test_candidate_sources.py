"""Each built-in candidate source, called alone on a small shop."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from ranking_helpers import context, product, shop_catalog, shop_index

from personalize.config import RankingConfig
from personalize.context import Context
from personalize.ranking import NewArrivals, RankingInput
from personalize.ranking._sources import (
    affinity,
    co_purchase,
    co_view,
    complement,
    popularity,
    recent_purchases,
    repeat,
    top_by_value,
    trending,
)

INDEX = shop_index()
CATALOG = shop_catalog()


def request(
    ctx: Context,
    *,
    anchors: tuple[str, ...] = (),
    config: RankingConfig | None = None,
) -> RankingInput:
    return RankingInput(
        context=ctx,
        catalog=CATALOG,
        index=INDEX,
        config=config or RankingConfig(),
        placement="home",
        product_id=None,
        limit=10,
        now=ctx.time.local,
        per_source=50,
        anchors=anchors,
    )


def in_unit_range(found: Mapping[str, float]) -> bool:
    return all(0.0 < v <= 1.0 for v in found.values())


def test_repeat_proposes_own_purchases_favouring_replenishable_and_recent() -> None:
    ctx = context(purchases={"beans": (3, 10), "grinder": (3, 10), "mug": (1, 300)})
    found = repeat(request(ctx))
    assert set(found) == {"beans", "grinder", "mug"}
    assert in_unit_range(found)
    # beans are replenishable (flag and repurchase rate); a grinder is bought once
    assert found["beans"] == 1.0
    assert found["beans"] > found["grinder"] > found["mug"]


def test_repeat_is_empty_without_purchases() -> None:
    assert repeat(request(context())) == {}


def test_recent_purchases_are_distinct_and_newest_first() -> None:
    ctx = context(purchases={"beans": (1, 10), "mug": (1, 1), "kettle": (2, 5)})
    assert recent_purchases(request(ctx), 2) == ["mug", "kettle"]


def test_co_purchase_spreads_from_recent_purchases() -> None:
    found = co_purchase(request(context(purchases={"filters": (1, 2)})))
    assert next(iter(found)) == "beans"
    assert "green-tea" not in found
    assert in_unit_range(found)


def test_co_purchase_weights_recent_anchors_more() -> None:
    config = RankingConfig(anchor_half_life_days=5)
    ctx = context(purchases={"filters": (1, 1), "green-tea": (1, 200)})
    found = co_purchase(request(ctx, config=config))
    assert found["beans"] > found.get("teapot", 0.0)


def test_co_view_spreads_from_recently_viewed() -> None:
    found = co_view(request(context(viewed=("kettle",))))
    assert next(iter(found)) == "mug"
    assert co_view(request(context())) == {}


def test_complement_prefers_declared_complements_of_the_anchors() -> None:
    found = complement(request(context(), anchors=("grinder",)))
    assert found["beans"] == 1.0
    assert found["filters"] == 1.0
    assert complement(request(context())) == {}


def test_complement_falls_back_to_co_purchase_of_the_anchor() -> None:
    found = complement(request(context(), anchors=("green-tea",)))
    assert "teapot" in found
    assert in_unit_range(found)


def test_affinity_proposes_best_sellers_of_favourite_categories_and_brands() -> None:
    found = affinity(request(context(purchases={"green-tea": (3, 5)})))
    assert set(found) == {"green-tea", "black-tea"}  # category leaves, brand leafy
    assert in_unit_range(found)
    by_brand = affinity(request(context(purchases={"teapot": (1, 5)})))
    assert {"mug", "new-cup", "old-cup"} <= set(by_brand)  # brand potter
    by_views = affinity(request(context(viewed_categories={"cups": 4})))
    assert {"mug", "new-cup", "old-cup"} <= set(by_views)


def test_popularity_uses_the_country_when_known() -> None:
    gb = popularity(request(context(country="GB")))
    assert set(gb) <= {"green-tea", "teapot", "black-tea"}
    overall = popularity(request(context(country="FR")))
    assert next(iter(overall)) == "beans"


def test_trending_proposes_recent_sellers() -> None:
    found = trending(request(context()))
    assert "black-tea" in found
    assert found.get("espresso", 0.0) < found["black-tea"]


def test_new_arrivals_come_from_catalog_created_at() -> None:
    source = NewArrivals(CATALOG)
    found = source(request(context()))
    assert found["new-cup"] == pytest.approx(1.0)
    assert found["old-cup"] < 0.01


def test_top_by_value_scales_and_breaks_ties_by_id() -> None:
    assert top_by_value({"b": 2.0, "a": 2.0, "c": 1.0}, 2) == {"a": 1.0, "b": 1.0}
    assert top_by_value({"a": 0.0}, 5) == {}


def test_sources_ignore_unknown_products_in_history() -> None:
    ctx = context(purchases={"ghost": (4, 1)}, viewed=("ghost",), cart=("ghost",))
    assert repeat(request(ctx)) == {"ghost": 1.0}  # the ranker drops it (not in the catalog)
    assert co_purchase(request(ctx)) == {}
    assert co_view(request(ctx)) == {}
    assert complement(request(ctx, anchors=("ghost",))) == {}
    assert affinity(request(ctx)) == {}


def test_product_helper_builds_products() -> None:
    assert product("p", category="a > b").category == ("a", "b")
