"""Selectors resolved through product fields agree with the compiled predicate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from ranking_helpers import context, product, shop_catalog, shop_index

from personalize import Catalog
from personalize.config import RankingConfig
from personalize.ranking import Ranker
from personalize.ranking._selectors import (
    BoostTable,
    GuardIndex,
    Selector,
    SelectorTable,
    guard_key,
    guard_of,
)
from personalize.rules import Boost, ConditionCompiler, Exclude, Filter

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
    st.just({"price": {"$lt": 20}}),  # not indexed: needs the predicate
    st.just({"brand": {"$ne": "x"}}),  # not indexed
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


@given(catalogs(), selectors)
def test_a_selector_matches_exactly_the_products_its_predicate_accepts(
    catalog: Catalog, condition: dict[str, Any]
) -> None:
    predicate = _compile(condition)
    selector = Selector(predicate, condition, catalog)
    expected = {p.id: bool(predicate(catalog.facts(p.id))) for p in catalog}
    assert {p.id: selector.matches(p.id, p) for p in catalog} == expected


@given(catalogs(), st.lists(selectors, min_size=1, max_size=6))
def test_a_table_finds_for_each_product_the_selectors_that_hold_in_order(
    catalog: Catalog, conditions: list[dict[str, Any]]
) -> None:
    compiled = [Selector(_compile(c), c, catalog) for c in conditions]
    table = SelectorTable(compiled)
    for p in catalog:
        facts = catalog.facts(p.id)
        expected = [i for i, s in enumerate(compiled) if s.predicate(facts)]
        assert table.matching(p.id, p) == expected


@given(catalogs(), st.lists(selectors, min_size=1, max_size=6), st.integers(0, 6))
def test_a_boost_table_over_a_shared_guard_index_agrees_with_the_predicates(
    catalog: Catalog, conditions: list[dict[str, Any]], seen: int
) -> None:
    compiled = [Selector(_compile(c), c, catalog) for c in conditions]
    keys = [k for s in compiled if (k := guard_key(s)) is not None]
    # an index that already numbered some guards (and remembered products) grows
    guards = GuardIndex(keys[:seen])
    BoostTable([s for s in compiled if guard_key(s) in guards.numbers], guards).match_all(
        [p.id for p in catalog], catalog.ids
    )
    guards = guards.with_guards(keys)
    table = BoostTable(compiled, guards)
    expected = []
    for p in catalog:
        holds = [i for i, s in enumerate(compiled) if s.predicate(catalog.facts(p.id))]
        if holds:
            expected.append((p.id, holds))
    pids = [p.id for p in catalog] + ["ghost"]
    assert table.match_all(pids, catalog.ids) == expected
    assert table.match_all(pids, catalog.ids) == expected  # from the remembered numbers


def test_a_bare_category_is_an_exact_guard() -> None:
    assert guard_of({"category": "shoes"}) == ({"category": frozenset({"shoes"})}, True)


def test_an_or_of_fields_is_an_exact_guard_over_both() -> None:
    guard = guard_of({"$or": [{"brand": {"$in": ["a", "b"]}}, {"tags": "sale"}]})
    assert guard == ({"brand": frozenset({"a", "b"}), "tags": frozenset({"sale"})}, True)


def test_a_conjunction_is_guarded_by_its_most_selective_field_and_not_exact() -> None:
    guard = guard_of({"in_stock": True, "brand": "a", "price": {"$lt": 9}})
    assert guard == ({"brand": frozenset({"a"})}, False)


def test_a_negation_has_no_guard() -> None:
    assert guard_of({"$not": {"brand": "a"}}) is None


def test_a_field_outside_the_index_has_no_guard() -> None:
    assert guard_of({"attributes.color": "red"}) is None


def test_an_exact_selector_never_runs_its_predicate() -> None:
    calls: list[str] = []

    def where(facts: Mapping[str, Any]) -> bool:
        calls.append(facts["id"])
        return True

    catalog = shop_catalog()
    selector = Selector(where, {"category": "tea"}, catalog)
    matched = [p.id for p in catalog if selector.matches(p.id, p)]
    assert matched == ["green-tea", "black-tea", "teapot"]
    assert calls == []


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
def test_ranking_with_condition_specs_equals_ranking_with_predicates_alone(
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

    with_specs: list[Any] = []
    without: list[Any] = []
    for i, (condition, by, kind) in enumerate(specs):
        condition = shop(condition)
        where = _compile(condition)
        rule = f"r{i}"
        if kind == "b":
            with_specs.append(Boost(where, by, rule, where_spec=condition))
            without.append(Boost(where, by, rule))
        elif kind == "f":
            with_specs.append(Filter(where, rule, where_spec=condition))
            without.append(Filter(where, rule))
        else:
            with_specs.append(Exclude(rule, where, where_spec=condition))
            without.append(Exclude(rule, where))
    assert _ranked(with_specs) == _ranked(without)
