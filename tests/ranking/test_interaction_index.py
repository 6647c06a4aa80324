"""The interaction index: neighbours, popularity, trending, catalog lookups, save/load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ranking_helpers import NOW, purchase, shop_catalog, shop_events, shop_index

from personalize import DataError, Event
from personalize.ranking import InteractionIndex
from personalize.ranking._format import decode, encode


def test_co_purchase_neighbours_are_items_bought_together() -> None:
    index = shop_index()
    ids, sims = index.co_purchase("filters")
    assert ids[0] == "beans"
    assert "green-tea" not in ids
    assert all(0.0 < s <= 1.0 + 1e-6 for s in sims)
    assert list(sims) == sorted(sims, reverse=True)


def test_co_purchase_scope_order_only_pairs_items_of_one_order() -> None:
    by_order = shop_index(co_purchase_scope="order")
    # filters were never in an order with the grinder, but the same customers bought both
    assert "grinder" not in by_order.co_purchase("filters")[0]
    assert "grinder" in shop_index(co_purchase_scope="customer").co_purchase("filters")[0]


def test_unknown_scope_is_rejected() -> None:
    with pytest.raises(DataError, match="co_purchase_scope"):
        InteractionIndex.build([], co_purchase_scope="session")


def test_co_view_neighbours_come_from_sessions() -> None:
    index = shop_index()
    assert index.co_view("kettle")[0][0] == "mug"
    assert index.co_view("beans") == ((), ())


def test_max_neighbours_caps_every_list() -> None:
    index = shop_index(max_neighbours=1)
    assert all(len(index.co_purchase(pid)[0]) <= 1 for pid in index.items)


def test_popularity_orders_best_and_least_sellers() -> None:
    index = shop_index()
    assert index.top(1) == ("beans",)
    assert index.popularity("beans") == pytest.approx(1.0)
    assert index.popularity("nothing") == 0.0
    assert index.least(2)[0] in {"espresso", "discontinued"}


def test_popularity_per_country_uses_the_customer_country_mapping() -> None:
    index = shop_index()
    assert index.countries == ("DE", "GB")
    assert index.top(1, country="GB")[0] in {"green-tea", "teapot", "black-tea"}
    assert index.top(3, country="FR") == ()
    assert index.country_popularity("DE")["beans"] == pytest.approx(1.0)


def test_trending_favours_recent_sales() -> None:
    index = shop_index()
    # black tea sold 4 times yesterday; espresso once, 300 days ago
    assert index.trending("black-tea") > index.trending("espresso")
    assert "black-tea" in index.trending_top(3)


def test_repurchase_rate_counts_buyers_with_several_orders() -> None:
    index = shop_index()
    assert index.repurchase_rate("beans") == pytest.approx(6 / 7)
    assert index.repurchase_rate("filters") == 0.0


def test_catalog_lookups_category_brand_and_complements() -> None:
    index = shop_index()
    assert index.category_top("beans")[0] == "beans"
    assert set(index.category_top("coffee")) >= {"beans", "filters", "grinder", "kettle"}
    assert index.brand_top("leafy")[:2] in {("green-tea", "black-tea"), ("black-tea", "green-tea")}
    assert index.complements("grinder") == ("beans", "filters")
    assert index.has_catalog
    assert not InteractionIndex.build(shop_events(), now=NOW).has_catalog


def test_decay_makes_old_baskets_weigh_less() -> None:
    events = [purchase("a", "o1", "x", 400), purchase("a", "o1", "old", 400)]
    events += [purchase("b", "o2", "x", 1), purchase("b", "o2", "new", 1)]
    index = InteractionIndex.build(events, now=NOW, half_life_days=30, co_purchase_scope="order")
    ids, sims = index.co_purchase("x")
    assert ids[0] == "new"
    assert sims[0] > sims[1]


def test_empty_events_build_an_empty_index() -> None:
    index = InteractionIndex.build([])
    assert len(index) == 0
    assert index.top(5) == ()
    assert index.co_purchase("x") == ((), ())


def test_events_at_the_last_microsecond_of_year_9999_build_an_index() -> None:
    last = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    events = [
        Event(type="purchase", product_id="a", at=last, order_id="o1", customer_id="c1"),
        Event(type="purchase", product_id="b", at=last, order_id="o1", customer_id="c1"),
        Event(type="view", product_id="a", at=last, session_id="s1"),
    ]
    index = InteractionIndex.build(events)
    assert index.built_at == last
    assert index.co_purchase("a")[0] == ("b",)
    assert InteractionIndex.build(events, now=last).built_at == last
    first = datetime(1, 1, 1, tzinfo=UTC)
    assert InteractionIndex.build([*events, events[0].model_copy(update={"at": first})])
    assert InteractionIndex.build(events, now=first).built_at == first


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = shop_index()
    path = tmp_path / "index.json.gz"
    index.save(path)
    loaded = InteractionIndex.load(path)
    assert loaded.items == index.items
    for pid in index.items:
        assert loaded.co_purchase(pid) == index.co_purchase(pid)
        assert loaded.co_view(pid) == index.co_view(pid)
        assert loaded.popularity(pid) == index.popularity(pid)
        assert loaded.trending(pid) == index.trending(pid)
        assert loaded.repurchase_rate(pid) == index.repurchase_rate(pid)
    assert loaded.top(5, country="GB") == index.top(5, country="GB")
    assert loaded.category_top("coffee") == index.category_top("coffee")
    assert loaded.complements("grinder") == index.complements("grinder")
    assert loaded.built_at == index.built_at
    assert loaded.stats == index.stats


def test_save_is_deterministic(tmp_path: Path) -> None:
    shop_index().save(tmp_path / "a.gz")
    shop_index().save(tmp_path / "b.gz")
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_load_rejects_other_files_and_versions(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("hello")
    with pytest.raises(DataError, match="not a saved"):
        InteractionIndex.load(tmp_path / "plain.txt")
    doc = {"format": "personalize-interaction-index", "version": 99}
    (tmp_path / "v99.gz").write_bytes(encode(doc))
    with pytest.raises(DataError, match="version 99; this release reads version 2 only"):
        InteractionIndex.load(tmp_path / "v99.gz")


def test_load_rejects_out_of_range_neighbours(tmp_path: Path) -> None:
    path = tmp_path / "index.gz"
    shop_index().save(path)
    doc = decode(path.read_bytes(), "index.gz")
    doc["items"] = doc["items"][:2]
    path.write_bytes(encode(doc))
    with pytest.raises(DataError, match="inconsistent"):
        InteractionIndex.load(path)


def test_catalog_only_products_have_no_neighbours() -> None:
    index = shop_index()
    assert "new-cup" not in index
    assert index.co_purchase("new-cup") == ((), ())
    assert "new-cup" in index.category_top("cups")
    assert len(shop_catalog()) == 12


_OFFSETS = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.datetimes(timezones=_OFFSETS), min_size=1, max_size=4),
    now=st.none() | st.datetimes(timezones=_OFFSETS),
)
def test_any_event_time_builds_an_index(times: list[datetime], now: datetime | None) -> None:
    events = [
        Event(type="purchase", product_id=f"p{i % 2}", at=at, order_id="o", customer_id="c")
        for i, at in enumerate(times)
    ]
    index = InteractionIndex.build(events, now=now)
    assert index.built_at is not None
    assert 0.0 <= index.popularity("p0") <= 1.0
