"""Selector memberships resolved through catalog indexes agree with the compiled predicate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from ranking_helpers import NOW, context, product, shop_catalog, shop_index

from personalize import Catalog
from personalize.config import RankingConfig
from personalize.ranking import Ranker
from personalize.ranking._membership import Membership, Memberships, ProductTable
from personalize.rules import Boost, ConditionCompiler, Exclude, Filter, ProductSelector

CATEGORIES = ["a", "b", "c", "d"]
BRANDS = ["x", "y", "z"]
TAGS = ["sale", "new", "eco"]
IDS = [f"p{i}" for i in range(8)]
COFFEE_DRINKER = context(purchases={"beans": (3, 20)}, viewed=("teapot", "mug"))

names = st.sampled_from(CATEGORIES)


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    products = []
    for pid in draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=8, unique=True)):
        products.append(
            product(
                pid,
                category=tuple(draw(st.lists(names, max_size=3))),
                brand=draw(st.sampled_from([None, *BRANDS])),
                tags=tuple(draw(st.lists(st.sampled_from(TAGS), max_size=2))),
                in_stock=draw(st.booleans()),
                price=draw(st.sampled_from([None, 5.0, 50.0])),
            )
        )
    return Catalog(products)


def _leaf(field: str, pool: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    value = st.sampled_from(pool)
    return st.one_of(
        value.map(lambda v: {field: v}),
        st.lists(value, max_size=3).map(lambda vs: {field: {"$in": vs}}),
    )


leaves = st.one_of(
    _leaf("category", CATEGORIES),
    _leaf("tags", TAGS),
    _leaf("brand", BRANDS),
    _leaf("id", IDS),
    st.sampled_from(BRANDS).map(lambda v: {"brand": {"$eq": v}}),
    st.booleans().map(lambda v: {"in_stock": v}),
    st.booleans().map(lambda v: {"in_stock": {"$eq": v}}),
    st.sampled_from(["$lt", "$lte", "$gt", "$gte"]).flatmap(
        lambda op: st.sampled_from([5, 5.0, 20, 50]).map(lambda v: {"price": {op: v}})
    ),
    st.just({"price": {"$gte": 5, "$lt": 50}}),
    st.just({"brand": {"$ne": "x"}}),  # not indexed: needs the predicate
    st.just({"title": {"$regex": "^P"}}),  # not indexed
)

selectors = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"$or": cs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"$and": cs}),
        st.tuples(inner, inner).map(lambda pair: {**pair[0], **pair[1]}),
        inner.map(lambda c: {"$not": c}),
    ),
    max_leaves=5,
)


def _compile(condition: Mapping[str, Any]) -> Any:
    compiler = ConditionCompiler()
    predicate = compiler.compile_selector(condition, "where")
    assert not compiler.problems
    return predicate


def _membership(condition: Mapping[str, Any], catalog: Catalog) -> Membership:
    return Membership(_compile(condition), ProductTable(catalog))


def _everything(catalog: Catalog) -> NDArray[np.intp]:
    return np.arange(len(catalog), dtype=np.intp)


@given(catalogs(), selectors)
def test_a_membership_holds_for_exactly_the_products_its_predicate_accepts(
    catalog: Catalog, condition: dict[str, Any]
) -> None:
    predicate = _compile(condition)
    membership = Membership(predicate, ProductTable(catalog))
    expected = [bool(predicate(catalog.facts(p.id))) for p in catalog]
    everything = _everything(catalog)
    assert membership.hits(everything, None).tolist() == expected
    assert membership.hits(everything[::-1], None).tolist() == expected[::-1]  # remembered


@given(catalogs(), st.lists(selectors, min_size=1, max_size=6), st.integers(0, 6))
def test_the_memberships_of_several_selectors_are_read_at_once_as_each_alone(
    catalog: Catalog, conditions: list[dict[str, Any]], seen: int
) -> None:
    compiled = [_compile(c) for c in conditions]
    memberships = Memberships(catalog)
    for where in compiled[:seen]:  # some already known, the others met on the way
        memberships.of(where)
    positions = _everything(catalog)[::-1]
    pids = [p.id for p in catalog][::-1]
    expected = [[bool(where(catalog.facts(pid))) for pid in pids] for where in compiled]
    assert memberships.hits(compiled, positions, None).tolist() == expected


def _counting(condition: Mapping[str, Any], calls: list[str]) -> ProductSelector:
    compiled = _compile(condition)

    def test(facts: Mapping[str, Any], evaluation: Any = None) -> bool:
        calls.append(facts["id"])
        return bool(compiled(facts, evaluation))

    return ProductSelector(test, compiled.node, compiled.uses_now)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"category": "tea"}, ["green-tea", "black-tea", "teapot"]),
        ({"price": {"$gte": 5, "$lt": 50}}, ["p0", "p1"]),
        ({"price": {"$gt": 5, "$lte": 50}}, ["p1", "p2"]),
        (
            {"$not": {"category": {"$in": ["coffee", "tea"]}}},
            ["mug", "new-cup", "old-cup", "p0", "p1", "p2", "p3"],
        ),
    ],
)
def test_an_exact_selector_never_runs_its_predicate(
    condition: dict[str, Any], expected: list[str]
) -> None:
    calls: list[str] = []
    prices = (5.0, 20.0, 50.0, None)
    catalog = shop_catalog([product(f"p{i}", price=price) for i, price in enumerate(prices)])
    membership = Membership(_counting(condition, calls), ProductTable(catalog))
    assert membership.exact
    matched = membership.hits(_everything(catalog), None)
    assert [p.id for p, hit in zip(catalog, matched.tolist(), strict=True) if hit] == expected
    assert calls == []


def test_a_conjunction_with_an_unindexed_part_confirms_only_what_its_mask_lets_through() -> None:
    calls: list[str] = []
    catalog = shop_catalog()
    where = _counting({"category": "tea", "brand": {"$ne": "potter"}}, calls)
    membership = Membership(where, ProductTable(catalog))
    assert not membership.exact
    matched = membership.hits(_everything(catalog), None)
    found = [p.id for p, hit in zip(catalog, matched.tolist(), strict=True) if hit]
    assert found == ["green-tea", "black-tea"]
    assert sorted(calls) == ["black-tea", "green-tea", "teapot"]


def test_a_selector_reading_the_time_is_tested_at_the_requests_time() -> None:
    boost = Boost(_compile({"created_at": {"$withinLast": "3d"}}), 5.0, "fresh")
    ranker = Ranker(shop_catalog(), shop_index(), RankingConfig())
    moved = {}
    for days in (1, 400):
        ctx = COFFEE_DRINKER
        ctx = replace(ctx, time=replace(ctx.time, local=NOW + timedelta(days=days)))
        result = ranker.rank(ctx, limit=20, actions=[boost])
        moved[days] = {r.product_id for r in result.products if r.rules == ("fresh",)}
    assert moved[1] == {"new-cup"}
    assert moved[400] == set()


def _plain(where: ProductSelector) -> Any:
    """The same selector as a bare predicate: the ranking can only test it per product."""
    return lambda facts: where(facts)


def _ranked(actions: list[Any]) -> list[tuple[str, float, tuple[str, ...]]]:
    ranker = Ranker(shop_catalog(), shop_index(), RankingConfig())
    result = ranker.rank(COFFEE_DRINKER, limit=20, actions=actions)
    return [(r.product_id, r.score, r.rules) for r in result.products]


@given(
    st.lists(
        st.tuples(selectors, st.sampled_from([0.5, 2.0, 3.0]), st.sampled_from(["b", "f", "x"])),
        max_size=4,
    )
)
def test_ranking_with_compiled_selectors_equals_ranking_with_plain_predicates(
    specs: list[tuple[dict[str, Any], float, str]],
) -> None:
    # the shop's own fields, so the selectors hit real products
    remap = {"a": "coffee", "b": "tea", "c": "gear", "d": "cups", "x": "brewit", "y": "leafy"}

    def shop(value: Any) -> Any:
        if isinstance(value, str):
            return remap.get(value, value)
        if isinstance(value, list):
            return [shop(v) for v in value]
        if isinstance(value, dict):
            return {k: shop(v) for k, v in value.items()}
        return value

    compiled: list[Any] = []
    predicates: list[Any] = []
    for i, (condition, by, kind) in enumerate(specs):
        condition = shop(condition)
        where = _compile(condition)
        rule = f"r{i}"
        plain = _plain(where)
        if kind == "b":
            compiled.append(Boost(where, by, rule))
            predicates.append(Boost(plain, by, rule))
        elif kind == "f":
            compiled.append(Filter(where, rule))
            predicates.append(Filter(plain, rule))
        else:
            compiled.append(Exclude(rule, where))
            predicates.append(Exclude(rule, plain))
    assert _ranked(compiled) == _ranked(predicates)
