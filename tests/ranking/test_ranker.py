"""The ranker: scoring and reasons, rule actions, diversity, exclusions, cascade, plugins."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest
from ranking_helpers import NOW, context, product, shop_catalog, shop_index

from personalize import Catalog, Personalizer, Request
from personalize.config import DiversityConfig, RankingConfig
from personalize.ranking import Ranker, Ranking, RankingInput, Recommendation
from personalize.rules import (
    Boost,
    ConditionCompiler,
    Exclude,
    Filter,
    Pin,
    PluginAction,
    ProductSelector,
    SetWeights,
)

INDEX = shop_index()
CATALOG = shop_catalog()


def ranker(**config: Any) -> Ranker:
    return Ranker(CATALOG, INDEX, RankingConfig(**config))


def category(name: str) -> Any:
    return lambda facts: name in facts["category"]


def compiled(condition: Mapping[str, Any]) -> ProductSelector:
    return ConditionCompiler().compile_selector(condition, "where")


COFFEE_DRINKER = context(purchases={"beans": (3, 20), "filters": (1, 20)})


def test_scores_are_the_weighted_sum_of_features_with_reasons() -> None:
    result = ranker().rank(COFFEE_DRINKER, limit=5)
    assert result.products
    weights = RankingConfig().effective_weights()
    for rec in result.products:
        assert rec.score == pytest.approx(sum(rec.reasons.values()))
        assert all(f in weights for f in rec.reasons)
        assert rec.source in rec.reasons
    assert [r.score for r in result.products] == sorted(
        (r.score for r in result.products), reverse=True
    )


def test_repeat_purchases_rank_first_for_a_loyal_customer() -> None:
    # personal (weight 20 by default) proposes the same products: off, repeat is the source
    result = ranker(weights={"repeat": 5.0, "personal": 0.0}).rank(COFFEE_DRINKER)
    assert result.product_ids[0] == "beans"
    assert result.products[0].source == "repeat"


def test_trace_lists_sources_and_the_cascade_step() -> None:
    result = ranker().rank(COFFEE_DRINKER)
    assert any(note.startswith("source personal:") for note in result.trace)
    assert "cold start: personal" in result.trace
    assert result.cascade == "personal"


def test_cold_start_cascade_falls_from_personal_to_global() -> None:
    r = ranker(weights={"popularity": 0.3, "trending": 0.0})  # best sellers lead a first visit
    assert r.rank(COFFEE_DRINKER).cascade == "personal"
    assert r.rank(context(viewed=("kettle",))).cascade == "session"
    assert r.rank(context(country="GB")).cascade == "geo"
    first_visit = r.rank(context(country="FR"))
    assert first_visit.cascade == "global"
    assert first_visit.product_ids[0] == "beans"


def test_geo_popular_uses_the_visitor_country() -> None:
    weights = {"trending": 0.0, "popularity": 0.3}
    result = ranker(weights=weights).rank(context(country="GB"), limit=3)
    assert set(result.product_ids) <= {"green-tea", "teapot", "black-tea", "beans", "filters"}
    assert result.product_ids[0] in {"green-tea", "teapot", "black-tea"}


def test_pdp_recommends_complements_but_never_the_product_itself() -> None:
    result = ranker().rank(context(), placement="pdp", product_id="grinder", limit=4)
    assert "grinder" not in result.product_ids
    assert result.product_ids[:2] == ["beans", "filters"]
    assert result.products[0].source == "complement"


def test_cart_placement_complements_the_cart_and_leaves_it_out() -> None:
    result = ranker().rank(context(cart=("teapot",)), placement="cart", limit=3)
    assert "teapot" not in result.product_ids
    assert result.product_ids[0] == "green-tea"


def test_boost_multiplies_matching_scores_and_names_the_rule() -> None:
    base = ranker().rank(COFFEE_DRINKER, limit=20)
    boosted = ranker().rank(
        COFFEE_DRINKER,
        limit=20,
        actions=[Boost(where=category("tea"), by=10.0, rule_id="tea-time")],
    )
    tea = [r for r in boosted.products if r.product_id in {"green-tea", "black-tea", "teapot"}]
    assert tea
    assert all(r.rules == ("tea-time",) for r in tea)
    before = {r.product_id: r.score for r in base.products}
    for rec in tea:
        assert rec.score == pytest.approx(before[rec.product_id] * 10.0)
    assert boosted.product_ids[0] in {"green-tea", "black-tea", "teapot"}
    assert any("boost tea-time" in note for note in boosted.trace)


def test_bury_pushes_matching_products_down() -> None:
    bury = Boost(where=lambda f: f["id"] == "beans", by=0.01, rule_id="less-beans", kind="bury")
    result = ranker().rank(COFFEE_DRINKER, limit=20, actions=[bury])
    assert result.product_ids[0] != "beans"
    beans = next(r for r in result.products if r.product_id == "beans")
    assert beans.rules == ("less-beans",)
    assert any(note.startswith("bury less-beans") for note in result.trace)


def test_filter_keeps_only_matching_products() -> None:
    result = ranker().rank(COFFEE_DRINKER, limit=20, actions=[Filter(category("tea"), "only-tea")])
    assert result.product_ids
    assert all(pid in {"green-tea", "black-tea", "teapot"} for pid in result.product_ids)


def test_exclude_drops_listed_and_matching_products() -> None:
    actions = [
        Exclude("no-beans", products=frozenset({"beans"})),
        Exclude("no-tea", category("tea")),
    ]
    result = ranker().rank(COFFEE_DRINKER, limit=20, actions=actions)
    assert "beans" not in result.product_ids
    assert not {"green-tea", "black-tea", "teapot"} & set(result.product_ids)
    assert result.product_ids


def test_pin_places_products_at_positions_in_order() -> None:
    pin = Pin(products=("mug", "old-cup"), position=2, rule_id="cups")
    result = ranker().rank(COFFEE_DRINKER, limit=5, actions=[pin])
    assert result.product_ids[1:3] == ["mug", "old-cup"]
    assert len(result.product_ids) == 5
    assert result.products[1].rules[-1] == "cups"
    assert len(set(result.product_ids)) == 5


def test_pin_skips_unknown_and_out_of_stock_products() -> None:
    pin = Pin(products=("ghost", "milk-frother", "mug"), position=1, rule_id="p")
    result = ranker().rank(COFFEE_DRINKER, limit=5, actions=[pin])
    assert result.product_ids[0] == "mug"
    assert "ghost" not in result.product_ids
    assert "milk-frother" not in result.product_ids
    assert any("skipped ghost" in note for note in result.trace)


def test_pin_beyond_the_list_goes_last() -> None:
    result = ranker().rank(context(), limit=3, actions=[Pin(("old-cup",), 50, "far")])
    assert result.product_ids[-1] == "old-cup"
    assert len(result.product_ids) == 3


def test_set_weights_applies_before_scoring() -> None:
    only_trending = dict.fromkeys(RankingConfig().effective_weights(), 0.0) | {"trending": 1.0}
    result = ranker().rank(COFFEE_DRINKER, actions=[SetWeights(only_trending, "trendy")])
    assert all(set(r.reasons) == {"trending"} for r in result.products)
    assert any(note.startswith("set_weights trendy") for note in result.trace)


def test_call_weights_override_the_configuration() -> None:
    result = ranker().rank(COFFEE_DRINKER, weights={"repeat": 0.0, "co_purchase": 0.0})
    assert all("repeat" not in r.reasons for r in result.products)
    assert any(note.startswith("weights overridden") for note in result.trace)


def test_plugin_action_runs_after_scoring() -> None:
    def reverse(ranked: list[Any], spec: Mapping[str, Any]) -> list[Any]:
        return list(reversed(ranked))[: spec["keep"]]

    action = PluginAction(name="reverse", rule_id="r1", spec={"keep": 3}, apply=reverse)
    base = ranker().rank(COFFEE_DRINKER, limit=50)
    result = ranker().rank(COFFEE_DRINKER, limit=50, actions=[action])
    assert result.product_ids == list(reversed(base.product_ids))[:3]


def test_a_failing_plugin_action_is_skipped_and_traced() -> None:
    def broken(ranked: list[Any], spec: Mapping[str, Any]) -> list[Any]:
        raise RuntimeError("boom")

    base = ranker().rank(COFFEE_DRINKER)
    result = ranker().rank(COFFEE_DRINKER, actions=[PluginAction("b", "r", apply=broken)])
    assert result.product_ids == base.product_ids
    assert any("failed" in note and "boom" in note for note in result.trace)


def test_plugin_sources_and_scorers_add_features() -> None:
    def staff_picks(request: RankingInput) -> Mapping[str, float]:
        return {"kettle": 1.0, "ghost": 1.0}

    def cheap(pid: str, request: RankingInput) -> float:
        return 0.5

    r = Ranker(
        CATALOG, INDEX, RankingConfig(), sources={"staff": staff_picks}, scorers={"cheap": cheap}
    )
    result = r.rank(context(), limit=20)
    kettle = next(rec for rec in result.products if rec.product_id == "kettle")
    assert kettle.reasons["staff"] == 1.0
    assert all(rec.reasons["cheap"] == 0.5 for rec in result.products)
    assert "ghost" not in result.product_ids


def test_failing_plugin_sources_and_scorers_degrade() -> None:
    def bad_source(request: RankingInput) -> Mapping[str, float]:
        raise ValueError("no picks")

    def bad_scorer(pid: str, request: RankingInput) -> float:
        raise KeyError(pid)

    r = Ranker(
        CATALOG, INDEX, RankingConfig(), sources={"bad": bad_source}, scorers={"worse": bad_scorer}
    )
    result = r.rank(COFFEE_DRINKER)
    assert result.product_ids
    assert any("plugin source bad failed" in note for note in result.trace)
    assert sum("plugin scorer worse failed" in note for note in result.trace) == 1


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_plugin_values_that_are_not_finite_fail_the_plugin(bad: float) -> None:
    def picks(request: RankingInput) -> Mapping[str, float]:
        return {"kettle": bad}

    def odd(pid: str, request: RankingInput) -> float:
        return bad

    r = Ranker(CATALOG, INDEX, RankingConfig(), sources={"staff": picks}, scorers={"odd": odd})
    result = r.rank(COFFEE_DRINKER, limit=20)
    # A NaN or an infinity used to become the score itself (NaN scores, an unordered list).
    assert result.product_ids == ranker().rank(COFFEE_DRINKER, limit=20).product_ids
    assert all(math.isfinite(rec.score) for rec in result.products)
    assert any("plugin source staff failed: ValueError" in note for note in result.trace)
    assert sum("plugin scorer odd failed: ValueError" in note for note in result.trace) == 1


def test_diversity_caps_products_per_category() -> None:
    result = ranker(diversity=DiversityConfig(max_per_category=1)).rank(COFFEE_DRINKER, limit=10)
    leaves = [CATALOG.get(pid).leaf_category for pid in result.product_ids]  # type: ignore[union-attr]
    assert len(leaves) == len(set(leaves))
    assert any(note.startswith("diversity") for note in result.trace)


def test_diversity_caps_products_per_brand() -> None:
    result = ranker(diversity=DiversityConfig(max_per_brand=2)).rank(COFFEE_DRINKER, limit=10)
    brands = [CATALOG.get(pid).brand for pid in result.product_ids]  # type: ignore[union-attr]
    assert max(brands.count(b) for b in set(brands)) <= 2


def test_exclude_purchased_leaves_out_what_was_bought() -> None:
    result = ranker(exclude_purchased=True).rank(COFFEE_DRINKER, limit=20)
    assert not {"beans", "filters"} & set(result.product_ids)
    assert any("already purchased" in note for note in result.trace)


def test_repurchase_window_only_excludes_recent_purchases() -> None:
    ctx = context(purchases={"beans": (3, 100), "filters": (1, 5)})
    result = ranker(exclude_purchased=True, repurchase_window_days=30).rank(ctx, limit=20)
    assert "filters" not in result.product_ids
    assert "beans" in result.product_ids


def test_out_of_stock_products_are_excluded() -> None:
    ctx = context(purchases={"milk-frother": (5, 1)})
    result = ranker().rank(ctx, limit=20)
    assert "milk-frother" not in result.product_ids
    assert "excluded 1 out of stock" in result.trace


def test_unknown_product_ids_are_dropped_with_a_note() -> None:
    ctx = context(
        purchases={"ghost": (9, 1), "discontinued": (2, 1)}, viewed=("ghost",), cart=("ghost",)
    )
    result = ranker().rank(ctx, placement="pdp", product_id="nope", limit=10)
    assert "ghost" not in result.product_ids
    assert "discontinued" not in result.product_ids
    assert any("unknown products" in note for note in result.trace)
    assert result.product_ids


def test_ties_break_by_product_id() -> None:
    flat = dict.fromkeys(RankingConfig().effective_weights(), 0.0) | {"affinity": 1.0}
    result = ranker(weights=flat).rank(context(viewed_categories={"cups": 1}), limit=10)
    scores = [r.score for r in result.products]
    for a, b in zip(result.products, result.products[1:], strict=False):
        assert (-a.score, a.product_id) < (-b.score, b.product_id)
    assert scores


def test_ranking_is_deterministic() -> None:
    r = ranker()
    first = r.rank(COFFEE_DRINKER, limit=10)
    for _ in range(3):
        assert r.rank(COFFEE_DRINKER, limit=10) == first


def test_limit_zero_and_empty_catalog_give_empty_rankings() -> None:
    assert ranker().rank(COFFEE_DRINKER, limit=0).products == []
    from personalize import Catalog

    empty = Ranker(Catalog(), INDEX, RankingConfig()).rank(COFFEE_DRINKER)
    assert empty == Ranking(products=[], trace=empty.trace, cascade="personal")


def test_where_results_are_cached_per_product() -> None:
    calls: list[str] = []

    def where(facts: Mapping[str, Any]) -> bool:
        calls.append(facts["id"])
        return True

    r = ranker()
    action = Boost(where=where, by=2.0, rule_id="b")
    r.rank(COFFEE_DRINKER, actions=[action])
    first = len(calls)
    r.rank(COFFEE_DRINKER, actions=[action])
    assert first > 0
    assert len(calls) == first
    assert len(set(calls)) == len(calls)


def test_recommendations_are_frozen() -> None:
    rec = ranker().rank(COFFEE_DRINKER).products[0]
    assert isinstance(rec, Recommendation)
    with pytest.raises(AttributeError):
        rec.score = 0.0  # type: ignore[misc]


def test_now_falls_back_to_the_index_build_time() -> None:
    from personalize.context import Context

    result = ranker().rank(Context(), limit=3)
    assert INDEX.built_at == NOW
    assert len(result.products) == 3


def test_diversity_reaches_past_the_best_candidates_when_caps_need_it() -> None:
    bulk = [product(f"bulk{i:02d}", category="a", brand="x") for i in range(40)]
    others = [product(f"other-{c}", category=c, brand="x") for c in "bcd"]
    catalog = Catalog([*bulk, *others])

    def picks(request: RankingInput) -> Mapping[str, float]:
        values = {p.id: 1.0 - i / 100 for i, p in enumerate(bulk)}
        return values | {p.id: 0.1 for p in others}

    config = RankingConfig(
        diversity=DiversityConfig(max_per_category=1),
        weights=dict.fromkeys(RankingConfig().effective_weights(), 0.0),
    )
    ranker = Ranker(catalog, shop_index(), config, sources={"picks": picks})
    result = ranker.rank(context(), limit=4)
    assert result.product_ids == ["bulk00", "other-b", "other-c", "other-d"]


@pytest.mark.parametrize("rule_id", ["50%-off", "two\nlines", "%d"])
def test_boost_trace_lines_keep_odd_rule_ids_verbatim(rule_id: str) -> None:
    boosts = [
        Boost(where=compiled({"category": "tea"}), by=2.0, rule_id=rule_id),
        Boost(where=category("gear"), by=0.5, rule_id="plain", kind="bury"),
    ]
    result = ranker().rank(COFFEE_DRINKER, limit=20, actions=boosts)
    lines = [line for line in result.trace if line.startswith(("boost", "bury"))]
    assert lines[0].startswith(f"boost {rule_id} x2: ")
    assert lines[0].endswith(" products")
    assert lines[1].startswith("bury plain x0.5: ")
    assert len(lines) == 2


def test_a_weight_two_rules_set_is_the_first_ones_in_rule_order() -> None:
    # Actions come highest priority first; the later rule's value used to win.
    first = SetWeights({"trending": 0.0, "popularity": 2.0}, "urgent")
    later = SetWeights({"trending": 5.0, "repeat": 0.0}, "routine")
    result = ranker().rank(COFFEE_DRINKER, actions=[first, later])
    assert all("trending" not in r.reasons for r in result.products)
    assert all("repeat" not in r.reasons for r in result.products)
    notes = [n for n in result.trace if n.startswith("set_weights")]
    assert [n.split(":")[0] for n in notes] == ["set_weights urgent", "set_weights routine"]


def test_rules_setting_one_weight_leave_it_to_the_higher_priority_rule() -> None:
    rules = [  # file order puts the low-priority rule first
        {"id": "low", "priority": 1, "then": [{"set_weights": {"trending": 9.0}}]},
        {"id": "high", "priority": 5, "then": [{"set_weights": {"trending": 0.0}}]},
    ]
    p = Personalizer(
        {"rules": rules}, catalog=shop_catalog(), interactions=shop_index(), autoload_plugins=False
    )
    result = p.personalize(Request(), limit=5)
    assert result.products
    assert all("trending" not in r.reasons for r in result.products)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "heavy", None])
def test_a_call_weight_that_is_no_finite_number_is_ignored_and_traced(bad: Any) -> None:
    plain = ranker().rank(COFFEE_DRINKER)
    result = ranker().rank(COFFEE_DRINKER, weights={"trending": bad, "repeat": 0.0})
    assert all(math.isfinite(r.score) for r in result.products)
    assert all("repeat" not in r.reasons for r in result.products)
    trending = [r.reasons.get("trending") for r in result.products]
    assert trending == [plain_reasons(plain, r.product_id) for r in result.products]
    assert any(n.startswith("weight trending=") and "ignored" in n for n in result.trace)


def plain_reasons(ranking: Ranking, product_id: str) -> float | None:
    """The trending reason ``product_id`` has under the configured weights, if ranked."""
    found = [r for r in ranking.products if r.product_id == product_id]
    return found[0].reasons.get("trending") if found else None
