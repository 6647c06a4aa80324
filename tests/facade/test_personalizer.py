"""The facade end to end: decisions, guarantees, reload, experiments, plugins."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize import (
    Catalog,
    ConfigError,
    Event,
    History,
    Personalizer,
    Product,
    Request,
)
from personalize.context import demo_geoip_path
from personalize.experiments import Exposure
from personalize.plugins import Registry

NOW = datetime(2026, 12, 15, 18, 0, tzinfo=UTC)
SMALL_CATALOG = Catalog(
    [
        Product(id="a", category=("x",), price=10.0),
        Product(id="b", category=("x",), price=20.0),
        Product(id="c", category=("y",), price=30.0, tags=("sale",)),
    ]
)


def test_the_three_demo_visitors_get_different_decisions(
    store_personalizer: Personalizer, visitors: list[tuple[str, Request, History]]
) -> None:
    results = [store_personalizer.personalize(r, h, limit=6) for _, r, h in visitors]
    products = [tuple(rec.product_id for rec in res.products) for res in results]
    landings = [res.landing.page if res.landing else None for res in results]
    offers = [tuple(o.offer_id for o in res.offers) for res in results]
    assert len(set(products)) == 3
    assert landings == ["/ca/", "/", "/summer/"]
    assert offers[0] == ("night-owl",)
    assert "comeback10" in offers[1]
    assert "loyal-free-shipping" in offers[1]
    assert offers[2] == ("welcome15",)
    for res in results:
        assert len(res.products) == 6
        assert not res.degraded, res.trace.errors
        text = res.explain()
        assert "Products:" in text
        assert "Landing:" in text


def test_reasons_and_rules_are_attached(
    store_personalizer: Personalizer, visitors: list[tuple[str, Request, History]]
) -> None:
    _, request, history = visitors[0]
    result = store_personalizer.personalize(request, history)
    assert "cold-weather-boost" in result.rules
    boosted = [rec for rec in result.products if "cold-weather-boost" in rec.rules]
    assert boosted, "the winter rule should move outerwear"
    for rec in result.products:
        assert rec.reasons, rec
    assert result.segments >= {"night_owls", "mobile_from_search"}


def test_same_input_same_result(
    store_personalizer: Personalizer, visitors: list[tuple[str, Request, History]]
) -> None:
    for _, request, history in visitors:
        first = store_personalizer.personalize(request, history)
        second = store_personalizer.personalize(request, history)
        assert first.products == second.products
        assert first.offers == second.offers
        assert first.landing == second.landing
        assert first.experiments == second.experiments


def test_continue_shopping_lists_the_last_session(
    store_personalizer: Personalizer, visitors: list[tuple[str, Request, History]]
) -> None:
    _, request, history = visitors[1]
    result = store_personalizer.personalize(request, history)
    assert set(result.continue_shopping.products) == {"boots-winter", "gloves-leather"}


def test_pdp_with_unknown_product_degrades_quietly(store_personalizer: Personalizer) -> None:
    result = store_personalizer.personalize(
        Request(now=NOW), placement="pdp", product_id="no-such-product"
    )
    assert result.products  # falls back to popular products
    assert not result.degraded


# -- never raise ----------------------------------------------------------------------------

_text = st.text(max_size=60) | st.sampled_from(["", "999.1.1.1", "::1", "10.0.0.1", "\x00"])
_requests = st.builds(
    Request,
    user_agent=st.none() | _text,
    ip=st.none() | _text,
    headers=st.dictionaries(
        st.sampled_from(["X-Forwarded-For", "CF-IPCountry", "Forwarded", "x-vercel-ip-city"])
        | _text,
        _text,
        max_size=4,
    ),
    referrer=st.none() | _text,
    url=st.none() | _text | st.just("https://x/?utm_medium=email&pz_force=weights-v2:zzz"),
    now=st.none() | st.datetimes(timezones=st.none() | st.just(UTC)),
    user_id=st.none() | _text,
    session_id=st.none() | _text,
)
_events = st.builds(
    Event,
    type=st.sampled_from(
        ["view", "purchase", "add_to_cart", "remove_from_cart", "offer_redeemed", "junk"]
    ),
    product_id=st.none() | st.sampled_from(["coat-parka", "mug-stoneware", "ghost"]) | _text,
    at=st.datetimes(),
    quantity=st.floats(allow_nan=True, allow_infinity=True),
    price=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    order_id=st.none() | _text,
    session_id=st.none() | st.sampled_from(["s1", "s2"]),
    category=st.none() | _text,
    offer_id=st.none() | st.sampled_from(["comeback10", "welcome15"]),
)
_histories = st.builds(
    History,
    events=st.lists(_events, max_size=25),
    loyalty=st.dictionaries(
        st.sampled_from(["tier", "points", "other"]),
        st.none() | _text | st.integers() | st.floats(allow_nan=True),
        max_size=3,
    ),
)


@given(
    request=_requests,
    history=_histories,
    placement=st.sampled_from(["home", "pdp", "cart", "weird"]),
    limit=st.integers(-3, 30),
)
def test_personalize_never_raises_on_garbage(
    store_personalizer: Personalizer,
    request: Request,
    history: History,
    placement: str,
    limit: int,
) -> None:
    result = store_personalizer.personalize(
        request, history, placement=placement, limit=limit, product_id="ghost"
    )
    assert len(result.products) <= max(limit, 0)
    assert len({rec.product_id for rec in result.products}) == len(result.products)
    result.explain()


# -- failures degrade -----------------------------------------------------------------------


class _BrokenWeather:
    name = "broken-weather"

    def setup(self, registry: Registry) -> None:
        registry.register_fact("weather", _explode, schema={"weather.temp_c": "number"})


def _explode(facts: Any) -> Any:
    raise RuntimeError("weather service down")


def test_a_failing_plugin_fact_degrades_and_is_reported() -> None:
    errors: list[tuple[BaseException, str]] = []
    p = Personalizer(
        {
            "rules": [
                {
                    "id": "cold",
                    "when": {"weather.temp_c": {"$lt": 0}},
                    "then": [{"boost": {"where": {"category": "x"}, "by": 2}}],
                }
            ],
            "landing": [{"page": "/"}],
        },
        catalog=SMALL_CATALOG,
        plugins=[_BrokenWeather()],
        autoload_plugins=False,
        on_error=lambda exc, where: errors.append((exc, where)),
    )
    result = p.personalize(Request(now=NOW))
    assert result.rules == ()  # the rule reading the missing fact did not fire
    assert result.landing is not None
    assert result.landing.page == "/"
    assert result.degraded
    assert any("weather service down" in e for e in result.trace.errors)
    assert [where for _, where in errors] == ["context: fact weather"]
    assert "weather service down" in result.explain()


def test_a_missing_geo_database_degrades(tmp_path: Path) -> None:
    p = Personalizer(
        {"landing": [{"when": {"geo.country": "CA"}, "page": "/ca/"}, {"page": "/"}]},
        catalog=SMALL_CATALOG,
        geoip=tmp_path / "missing.mmdb",
        autoload_plugins=False,
    )
    result = p.personalize(Request(ip="81.2.69.142", now=NOW))
    assert result.landing is not None
    assert result.landing.page == "/"
    assert any("geo database unavailable" in note for note in result.context.notes)


def test_every_problem_of_every_section_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        Personalizer(
            {
                "rules": [{"id": "r", "when": {"geo.contry": "CA"}}],
                "landing": [{"when": {"time.hour": {"$gt": "noon"}}, "page": "/"}],
                "offers": [{"id": "o", "when": {"loyalty.teir": "gold"}}],
                "experiments": [
                    {"key": "e", "variants": [{"key": "v", "overrides": {"ranking.nope": 1}}]}
                ],
            },
            catalog=SMALL_CATALOG,
            autoload_plugins=False,
        )
    paths = [p.path for p in info.value.problems]
    assert any(p.startswith("rules[0].when") for p in paths), paths
    assert any(p.startswith("landing[0].when") for p in paths), paths
    assert any(p.startswith("offers[0].when") for p in paths), paths
    assert any(p.startswith("experiments[0]") for p in paths), paths
    assert "did you mean geo.country?" in str(info.value)


# -- reload ---------------------------------------------------------------------------------


def _config(tag: str) -> dict[str, Any]:
    return {
        "landing": [{"page": f"/{tag}/"}],
        "offers": [{"id": f"offer-{tag}", "code": tag}],
        "rules": [{"id": f"rule-{tag}", "then": [{"pin": {"products": ["c"], "position": 1}}]}],
    }


def test_reload_swaps_atomically_under_concurrent_calls() -> None:
    p = Personalizer(_config("a"), catalog=SMALL_CATALOG, autoload_plugins=False)
    stop = threading.Event()
    seen: list[tuple[str, str, tuple[str, ...]]] = []
    failures: list[BaseException] = []

    def hammer() -> None:
        try:
            while not stop.is_set():
                r = p.personalize(Request(now=NOW))
                assert r.landing is not None
                seen.append((r.landing.page, r.offers[0].offer_id, r.rules))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(30):
        p.reload(_config("b" if i % 2 == 0 else "a"))
    stop.set()
    for t in threads:
        t.join()
    assert not failures
    assert seen
    for page, offer, rules in seen:
        tag = page.strip("/")
        assert offer == f"offer-{tag}"
        assert rules == (f"rule-{tag}",)
    assert {page for page, _, _ in seen} <= {"/a/", "/b/"}


def test_an_invalid_reload_keeps_the_old_configuration() -> None:
    p = Personalizer(_config("a"), catalog=SMALL_CATALOG, autoload_plugins=False)
    with pytest.raises(ConfigError):
        p.reload({"rules": [{"id": "r", "when": {"nope": 1}}]})
    result = p.personalize(Request(now=NOW))
    assert result.landing is not None
    assert result.landing.page == "/a/"


# -- experiments ----------------------------------------------------------------------------


def _experiment_config() -> dict[str, Any]:
    return {
        "landing": [{"page": "/"}],
        "offers": [{"id": "o"}],
        "ranking": {"weights": {"popularity": 1.0}},
        "experiments": [
            {
                "key": "exp",
                "variants": [
                    {"key": "control", "weight": 1},
                    {"key": "boosted", "weight": 1, "overrides": {"offers.o.enabled": False}},
                    {"key": "holdout", "weight": 1, "holdout": True},
                ],
            }
        ],
    }


def test_variants_apply_their_overrides_and_fire_exposures() -> None:
    exposures: list[Exposure] = []
    p = Personalizer(
        _experiment_config(),
        catalog=SMALL_CATALOG,
        autoload_plugins=False,
        on_exposure=exposures.append,
    )
    by_variant: dict[str, list[int]] = {}
    for i in range(300):
        result = p.personalize(Request(now=NOW, user_id=f"u{i}"))
        variant = result.experiments["exp"]
        by_variant.setdefault(variant, []).append(len(result.offers))
    assert set(by_variant) == {"control", "boosted", "holdout"}
    assert set(by_variant["control"]) == {1}
    assert set(by_variant["boosted"]) == {0}  # the override switched the offer off
    assert set(by_variant["holdout"]) == {0}  # a holdout sees no offers
    assert len(exposures) == 300
    assert {e.experiment for e in exposures} == {"exp"}


def test_forced_variant_through_the_query_string() -> None:
    config = {**_experiment_config(), "settings": {"allow_forced_variants": True}}
    p = Personalizer(config, catalog=SMALL_CATALOG, autoload_plugins=False)
    for i in range(20):
        url = "https://shop.example/?pz_force=exp:boosted"
        result = p.personalize(Request(now=NOW, user_id=f"u{i}", url=url))
        assert result.experiments == {"exp": "boosted"}


def test_a_saved_index_gives_the_same_decisions(
    tmp_path: Path,
    store: Path,
    store_catalog: Catalog,
    store_personalizer: Personalizer,
    visitors: list[tuple[str, Request, History]],
) -> None:
    saved = tmp_path / "index.json.gz"
    store_personalizer.index.save(saved)
    reloaded = Personalizer.from_file(
        store / "personalization.yaml",
        catalog=store_catalog,
        interactions=saved,
        geoip=demo_geoip_path(),
        autoload_plugins=False,
    )
    for _, request, history in visitors:
        expected = store_personalizer.personalize(request, history)
        assert reloaded.personalize(request, history).products == expected.products


def test_from_dict_matches_the_constructor() -> None:
    config = _config("a")
    one = Personalizer.from_dict(config, catalog=SMALL_CATALOG, autoload_plugins=False)
    two = Personalizer(config, catalog=SMALL_CATALOG, autoload_plugins=False)
    assert one.config == two.config
    assert one.personalize(Request(now=NOW)).products == two.personalize(Request(now=NOW)).products


def test_a_holdout_product_page_never_recommends_the_product_itself() -> None:
    config = _experiment_config()
    config["experiments"][0]["variants"] = [{"key": "holdout", "holdout": True}]
    p = Personalizer(config, catalog=SMALL_CATALOG, autoload_plugins=False)
    for viewed in ("a", "b", "c"):
        result = p.personalize(Request(now=NOW, user_id="u1"), placement="pdp", product_id=viewed)
        assert result.experiments == {"exp": "holdout"}
        assert viewed not in [rec.product_id for rec in result.products]


def test_structural_and_condition_problems_come_in_one_report(tmp_path: Path) -> None:
    config = tmp_path / "both.yaml"
    config.write_text(
        "rules:\n"
        "  - id: r\n"
        "    priorty: 1\n"
        "    when: {geo.contry: CA}\n"
        "    then:\n"
        "      - boost: {where: {colour: red}, by: 2}\n"
        "offers:\n"
        "  - {code: X, when: {loyalty.teir: gold}}\n"
    )
    with pytest.raises(ConfigError) as info:
        Personalizer.from_file(config, catalog=SMALL_CATALOG, autoload_plugins=False)
    paths = [p.path for p in info.value.problems]
    assert paths == [
        "rules[0].priorty",
        "offers[0].id",
        "rules[0].when.geo.contry",
        "rules[0].then[0].boost.where.colour",
        "offers[0].when.loyalty.teir",
    ]


def test_a_pin_shows_when_the_rule_filters_out_every_candidate() -> None:
    then = [{"filter": {"where": {"brand": "nobody"}}}, {"pin": {"products": ["c"]}}]
    config = {"rules": [{"id": "only-c", "when": {}, "then": then}]}
    personalizer = Personalizer(config, catalog=SMALL_CATALOG, autoload_plugins=False)
    result = personalizer.personalize(Request(now=NOW), History())
    assert not result.degraded
    assert [rec.product_id for rec in result.products] == ["c"]
    assert result.products[0].pinned_by == "only-c"
