"""Pins: where pinned products land when pins meet, and what a pinned product's score says.

Pins bypass the exclusions and filters, so a pinned product may be one the ranking left
out before scoring; its recommendation must still satisfy ``score == sum(reasons) * boost``.
Pins are in action order (rule priority, higher first): when two ask for the same slot,
the one given first keeps it and the later one goes right after.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from ranking_helpers import PRODUCT_IDS, context, contexts, shop_catalog, shop_index

from personalize.config import RankingConfig
from personalize.context import Context
from personalize.ranking import Ranker, Ranking
from personalize.rules import Action, Boost, ConditionCompiler, Exclude, Filter, Pin, SetWeights

INDEX = shop_index()
CATALOG = shop_catalog()
RANKER = Ranker(CATALOG, INDEX, RankingConfig())
COFFEE_DRINKER = context(purchases={"beans": (3, 20), "filters": (1, 20)})


def _consistent(ranking: Ranking) -> bool:
    return all(
        math.isclose(rec.score, math.fsum(rec.reasons.values()) * rec.boost, abs_tol=1e-12)
        for rec in ranking.products
    )


def test_a_pinned_purchase_left_out_by_exclude_purchased_has_no_score_parts() -> None:
    ranker = Ranker(CATALOG, INDEX, RankingConfig(exclude_purchased=True))
    result = ranker.rank(COFFEE_DRINKER, limit=4, actions=[Pin(("beans",), 1, "p")])
    pinned = result.products[0]
    assert pinned.product_id == "beans"
    assert (pinned.score, dict(pinned.reasons), pinned.source) == (0.0, {}, "pin")
    assert pinned.pinned_by == "p"
    assert _consistent(result)


def test_a_pinned_product_an_exclude_dropped_has_no_score_parts() -> None:
    actions: list[Action] = [
        Exclude("x", products=frozenset({"grinder"})),
        Pin(("grinder",), 2, "p"),
    ]
    result = RANKER.rank(COFFEE_DRINKER, limit=4, actions=actions)
    pinned = result.products[1]
    assert pinned.product_id == "grinder"
    assert (pinned.score, dict(pinned.reasons), pinned.source) == (0.0, {}, "pin")
    assert _consistent(result)


def test_a_pinned_product_that_was_scored_keeps_its_score_and_reasons() -> None:
    plain = {rec.product_id: rec for rec in RANKER.rank(COFFEE_DRINKER, limit=10).products}
    result = RANKER.rank(COFFEE_DRINKER, limit=4, actions=[Pin(("grinder",), 1, "p")])
    pinned = result.products[0]
    assert pinned.score == plain["grinder"].score
    assert pinned.reasons == plain["grinder"].reasons


def test_a_pin_shows_when_a_filter_leaves_no_candidate() -> None:
    actions: list[Action] = [Filter(lambda facts: False, "nothing"), Pin(("mug",), 1, "p")]
    result = RANKER.rank(COFFEE_DRINKER, limit=3, actions=actions)
    assert result.product_ids == ["mug"]
    assert (result.products[0].score, result.products[0].source) == (0.0, "pin")


def test_a_pin_shows_when_every_weight_is_zero() -> None:
    zero = dict.fromkeys(RankingConfig().effective_weights(), 0.0)
    actions: list[Action] = [SetWeights(zero, "off"), Pin(("grinder", "mug"), 1, "p")]
    result = RANKER.rank(COFFEE_DRINKER, limit=3, actions=actions)
    assert result.product_ids == ["grinder", "mug"]
    assert all(rec.reasons == {} and rec.score == 0.0 for rec in result.products)


def test_the_first_of_two_pins_on_one_slot_keeps_it() -> None:
    actions = [Pin(("mug",), 1, "first"), Pin(("kettle",), 1, "second")]
    result = RANKER.rank(COFFEE_DRINKER, limit=4, actions=actions)
    assert result.product_ids[:2] == ["mug", "kettle"]
    assert [rec.pinned_by for rec in result.products[:2]] == ["first", "second"]


def test_a_later_pin_does_not_split_an_earlier_pins_products() -> None:
    actions = [Pin(("mug", "old-cup"), 1, "cups"), Pin(("kettle",), 2, "gear")]
    result = RANKER.rank(COFFEE_DRINKER, limit=5, actions=actions)
    assert result.product_ids[:3] == ["mug", "old-cup", "kettle"]


def test_an_earlier_pin_takes_the_slot_a_later_multi_product_pin_reaches() -> None:
    actions = [Pin(("kettle",), 2, "gear"), Pin(("mug", "old-cup"), 1, "cups")]
    result = RANKER.rank(COFFEE_DRINKER, limit=5, actions=actions)
    assert result.product_ids[:3] == ["mug", "kettle", "old-cup"]


def test_a_product_pinned_twice_is_traced_as_already_pinned() -> None:
    actions = [Pin(("mug",), 1, "a"), Pin(("mug",), 3, "b")]
    result = RANKER.rank(COFFEE_DRINKER, limit=4, actions=actions)
    assert result.product_ids.count("mug") == 1
    assert result.products[0].pinned_by == "a"
    assert "pin b: skipped mug (already pinned)" in result.trace


_PINS = st.lists(
    st.builds(
        Pin,
        products=st.lists(st.sampled_from(PRODUCT_IDS), min_size=1, max_size=3).map(tuple),
        position=st.integers(1, 12),
        rule_id=st.sampled_from(["p1", "p2", "p3"]),
    ),
    max_size=3,
)
_EXCLUDES = st.lists(
    st.builds(
        Exclude,
        rule_id=st.just("x"),
        products=st.frozensets(st.sampled_from(PRODUCT_IDS), max_size=4),
    ),
    max_size=1,
)
_COMPILER = ConditionCompiler()
_CONDITIONS: list[dict[str, Any]] = [
    {"brand": "brewit"},
    {"category": "cups"},
    {"price": {"$lt": 1}},
    {"$not": {"brand": "potter"}},
    {"title": {"$regex": "^$"}},
]
_SELECTORS = st.sampled_from(_CONDITIONS).map(lambda c: _COMPILER.compile_selector(c, "where"))
_BOOSTS = st.lists(
    st.builds(
        Boost,
        where=_SELECTORS
        | st.sampled_from(PRODUCT_IDS).map(lambda pid: lambda facts: facts["id"] == pid),
        by=st.sampled_from([0.5, 2.0, 3.0]),
        rule_id=st.sampled_from(["b1", "b2"]),
    ),
    max_size=3,
)
_FILTERS = st.lists(st.builds(Filter, where=_SELECTORS, rule_id=st.just("f")), max_size=1)


@given(
    contexts,
    st.booleans(),
    st.integers(0, 12),
    _PINS,
    _EXCLUDES,
    _BOOSTS,
    _FILTERS,
    st.sampled_from([None, "grinder", "ghost"]),
)
def test_pins_filters_and_boosts_keep_the_score_invariant_and_the_pin_positions(
    ctx: Context,
    exclude_purchased: bool,
    limit: int,
    pins: list[Pin],
    excludes: list[Exclude],
    boosts: list[Boost],
    filters: list[Filter],
    pid: str | None,
) -> None:
    ranker = Ranker(CATALOG, INDEX, RankingConfig(exclude_purchased=exclude_purchased))
    actions: list[Action] = [*excludes, *boosts, *filters, *pins]
    placement = "pdp" if pid else "home"
    result = ranker.rank(ctx, placement=placement, product_id=pid, limit=limit, actions=actions)
    ids = result.product_ids
    assert len(ids) <= limit
    assert len(ids) == len(set(ids))
    assert _consistent(result)
    ranked = [(-rec.score, rec.product_id) for rec in result.products if not rec.pinned_by]
    assert ranked == sorted(ranked)  # score descending, then id: the tie-break
    wanted = _wanted_slots(pins, pid)
    shown = [(at, rec.product_id) for at, rec in enumerate(result.products, 1) if rec.pinned_by]
    assert [product for _, product in shown] == [p for p in wanted if p in ids]
    assert [product for _, product in shown] == list(wanted)[: len(shown)]
    for at, product in shown:
        slot = wanted[product]
        if at > slot:  # pushed on by pins given before it
            assert all(result.products[k - 1].pinned_by for k in range(slot, at))
        elif at < slot:  # the list ended first: only pins follow it
            assert all(rec.pinned_by for rec in result.products[at:])


def _wanted_slots(pins: list[Pin], anchor: str | None) -> dict[str, int]:
    """Each pinned product that can be shown and its slot, in the order pins place them:
    by slot, and pins given first first."""
    entries: list[tuple[int, int, str]] = []
    for pin in pins:
        offset = 0
        for product in pin.products:
            known = CATALOG.get(product)
            taken = any(product == p for _, _, p in entries)
            if known is None or not known.in_stock or product == anchor or taken:
                continue
            entries.append((pin.position + offset, len(entries), product))
            offset += 1
    return {product: slot for slot, _, product in sorted(entries)}
