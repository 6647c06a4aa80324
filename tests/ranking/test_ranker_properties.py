"""Properties of the ranking: deterministic, a duplicate-free subset, stable under noise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from ranking_helpers import contexts, product, shop_catalog, shop_index

from personalize.config import DiversityConfig, RankingConfig
from personalize.context import Context
from personalize.ranking import Ranker

INDEX = shop_index()
RANKER = Ranker(shop_catalog(), INDEX, RankingConfig())
placements = st.sampled_from(["home", "pdp", "cart"])
anchors = st.sampled_from([None, "grinder", "teapot", "ghost"])
limits = st.integers(0, 15)


@given(contexts, placements, anchors, limits)
def test_ranking_is_deterministic(
    ctx: Context, placement: str, pid: str | None, limit: int
) -> None:
    first = RANKER.rank(ctx, placement=placement, product_id=pid, limit=limit)
    again = Ranker(shop_catalog(), INDEX, RankingConfig()).rank(
        ctx, placement=placement, product_id=pid, limit=limit
    )
    assert again == first


@given(contexts, placements, anchors, limits)
def test_output_is_a_short_duplicate_free_subset_of_the_catalog(
    ctx: Context, placement: str, pid: str | None, limit: int
) -> None:
    result = RANKER.rank(ctx, placement=placement, product_id=pid, limit=limit)
    ids = result.product_ids
    assert len(ids) <= limit
    assert len(ids) == len(set(ids))
    catalog = RANKER.catalog
    for rec in result.products:
        known = catalog.get(rec.product_id)
        assert known is not None
        assert known.in_stock
        assert rec.product_id != pid
    scores = [(-r.score, r.product_id) for r in result.products]
    assert scores == sorted(scores)


@given(contexts, limits)
def test_exclude_purchased_never_shows_a_purchase(ctx: Context, limit: int) -> None:
    ranker = Ranker(shop_catalog(), INDEX, RankingConfig(exclude_purchased=True))
    result = ranker.rank(ctx, limit=limit)
    assert not set(result.product_ids) & set(ctx.history.purchase_counts)


@given(contexts, st.integers(1, 3), limits)
def test_diversity_caps_hold(ctx: Context, cap: int, limit: int) -> None:
    config = RankingConfig(diversity=DiversityConfig(max_per_category=cap, max_per_brand=cap))
    result = Ranker(shop_catalog(), INDEX, config).rank(ctx, limit=limit)
    catalog = shop_catalog()
    leaves = [catalog.get(pid).leaf_category for pid in result.product_ids]  # type: ignore[union-attr]
    brands = [catalog.get(pid).brand for pid in result.product_ids]  # type: ignore[union-attr]
    assert all(leaves.count(c) <= cap for c in leaves)
    assert all(brands.count(b) <= cap for b in brands)


@given(contexts, placements, anchors, limits, st.sampled_from(["zzz-unrelated", "aaa-unrelated"]))
def test_an_unrelated_product_does_not_change_the_ranking(
    ctx: Context, placement: str, pid: str | None, limit: int, new_id: str
) -> None:
    extra = product(new_id, category="garden > tools", brand="diggers")
    bigger = Ranker(shop_catalog([extra]), INDEX, RankingConfig())
    before = RANKER.rank(ctx, placement=placement, product_id=pid, limit=limit)
    after = bigger.rank(ctx, placement=placement, product_id=pid, limit=limit)
    assert after == before
