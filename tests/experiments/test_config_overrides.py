"""apply_overrides: dotted paths into the configuration, validated again."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from personalize import Personalizer
from personalize.config import PersonalizerConfig, load_config
from personalize.errors import ConfigError
from personalize.experiments import apply_overrides, compile_experiments

BASE = load_config(
    {
        "segments": {"night_owls": {"time.daypart": "night"}},
        "rules": [
            {"id": "cold-weather-boost", "then": [{"boost": {"where": {"a": 1}, "by": 2.0}}]},
            {"id": "v1.2-sale"},
        ],
        "ranking": {"weights": {"co_purchase": 2.0}},
        "landing": [{"id": "canada", "when": {"geo.country": "CA"}, "page": "/ca/"}, {"page": "/"}],
        "offers": [{"id": "comeback10", "value": {"percent": 10}}],
    }
)


def test_no_overrides_return_the_same_object() -> None:
    assert apply_overrides(BASE, {}) is BASE


@pytest.mark.parametrize(
    ("path", "value", "read"),
    [
        ("ranking.weights.co_purchase", 3.0, lambda c: c.ranking.weights["co_purchase"]),
        ("ranking.weights.trending", 0.0, lambda c: c.ranking.weights["trending"]),
        ("ranking.exclude_purchased", True, lambda c: c.ranking.exclude_purchased),
        ("ranking.diversity.max_per_category", 2, lambda c: c.ranking.diversity.max_per_category),
        ("rules.cold-weather-boost.enabled", False, lambda c: c.rules[0].enabled),
        ("rules.cold-weather-boost.then", [], lambda c: c.rules[0].then),
        ("rules.v1.2-sale.priority", 5, lambda c: c.rules[1].priority),
        ("offers.comeback10.value.percent", 15, lambda c: c.offers[0].value["percent"]),
        ("offers.comeback10.enabled", False, lambda c: c.offers[0].enabled),
        ("settings.max_offers", 1, lambda c: c.settings.max_offers),
        ("landing.canada.page", "/ca/winter/", lambda c: c.landing[0].page),
        ("segments.night_owls", {"time.hour": 23}, lambda c: c.segments["night_owls"]),
        ("rules.cold-weather-boost.active.from", "2026-11-01", lambda c: c.rules[0].active.start),
    ],
)
def test_override_reaches_its_target(path: str, value: Any, read: Any) -> None:
    result = apply_overrides(BASE, {path: value})
    expected = date(2026, 11, 1) if path.endswith("from") else value
    assert read(result) == expected


def test_base_configuration_is_left_unchanged() -> None:
    apply_overrides(BASE, {"ranking.weights.co_purchase": 9.0, "rules.v1.2-sale.enabled": False})
    assert BASE.ranking.weights == {"co_purchase": 2.0}
    assert BASE.rules[1].enabled


def test_whole_section_can_be_replaced() -> None:
    result = apply_overrides(BASE, {"landing": [{"page": "/sale/"}]})
    assert [rule.page for rule in result.landing] == ["/sale/"]


def test_whole_rule_can_be_replaced_by_id() -> None:
    result = apply_overrides(BASE, {"rules.v1.2-sale": {"id": "v1.2-sale", "priority": 3}})
    assert result.rules[1].priority == 3


def test_later_pairs_win() -> None:
    pairs = [("ranking.weights", {"co_view": 4.0}), ("ranking.weights.co_view", 5.0)]
    assert apply_overrides(BASE, pairs).ranking.weights == {"co_view": 5.0}


def problems_of(overrides: dict[str, Any]) -> list[tuple[str, str | None]]:
    with pytest.raises(ConfigError) as info:
        apply_overrides(BASE, overrides, path="experiments[0].variants[1].overrides")
    return [(p.path, p.suggestion) for p in info.value.problems]


def test_unknown_paths_are_reported_with_suggestions() -> None:
    found = problems_of(
        {
            "ranking.weights.co_purchse": 1.0,
            "rules.cold-wether-boost.enabled": False,
            "ranking.exclude_purchase": True,
            "offerz.x": 1,
        }
    )
    prefix = "experiments[0].variants[1].overrides."
    assert found == [
        (prefix + "ranking.weights.co_purchse", "co_purchase"),
        (prefix + "rules.cold-wether-boost.enabled", "cold-weather-boost"),
        (prefix + "ranking.exclude_purchase", "exclude_purchased"),
        (prefix + "offerz.x", "offers"),
    ]


def test_invalid_values_are_reported_at_their_override() -> None:
    found = problems_of({"settings.max_offers": -1, "offers.comeback10.priority": "high"})
    assert [path for path, _ in found] == [
        "experiments[0].variants[1].overrides.offers.comeback10.priority",
        "experiments[0].variants[1].overrides.settings.max_offers",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "experiments.0.traffic",
        "version",
        "rules.cold-weather-boost.when.geo",
        "segments.night_owls.time",
        "settings.max_offers.deeper",
        "",
        "ranking..weights",
    ],
)
def test_paths_that_cannot_be_overridden(path: str) -> None:
    assert problems_of({path: 1})


def test_result_is_a_validated_model() -> None:
    result = apply_overrides(BASE, {"settings.max_offers": "2"})
    assert isinstance(result, PersonalizerConfig)
    assert result.settings.max_offers == 2


def test_a_whole_weights_mapping_is_checked_too() -> None:
    found = problems_of({"ranking.weights": {"co_view": 1.0, "co_purchse": 2.0}})
    assert found == [
        ("experiments[0].variants[1].overrides.ranking.weights.co_purchse", "co_purchase")
    ]


def test_weights_of_plugin_scorers_may_be_overridden() -> None:
    pairs = {"ranking.weights.freshness": 2.0, "ranking.weights": {"freshness": 1.0}}
    with pytest.raises(ConfigError):
        apply_overrides(BASE, pairs)
    result = apply_overrides(BASE, pairs, known_weights={"freshness"})
    assert result.ranking.weights == {"freshness": 1.0}


def test_a_misspelled_weight_in_a_variant_is_reported_before_anything_compiles() -> None:
    variant = {"key": "v", "overrides": {"ranking.weights.co_purchse": 3.0}}
    raw = {"experiments": [{"key": "e", "variants": [variant]}], "settings": {"max_offers": -1}}
    with pytest.raises(ConfigError) as info:
        Personalizer(raw)
    assert [(p.path, p.suggestion) for p in info.value.problems] == [
        ("settings.max_offers", None),
        ("experiments[0].variants[0].overrides.ranking.weights.co_purchse", "co_purchase"),
    ]


def _problems(config: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        Personalizer(config, autoload_plugins=False)
    return [(p.path, p.message) for p in caught.value.problems]


def _variants(**overrides: Any) -> list[dict[str, Any]]:
    return [{"key": "e", "variants": [{"key": "a"}, {"key": "b", "overrides": overrides}]}]


MOBILE_LANDING = [{"when": {"device.typ": "mobile"}, "page": "/m"}]


def test_a_problem_inside_an_overridden_section_is_reported_at_the_override() -> None:
    # before: reported as landing[0].when.device.typ, a path the base file does not have
    assert _problems({"experiments": _variants(landing=MOBILE_LANDING)}) == [
        (
            "experiments[0].variants[1].overrides.landing[0].when.device.typ",
            "unknown fact",
        )
    ]


def test_a_variant_problem_is_reported_with_the_base_problems_at_once() -> None:
    # before: the variant's problem appeared only once the base problem was fixed
    config = {
        "rules": [{"id": "r", "when": {"geo.contry": "CA"}}],
        "experiments": _variants(
            **{"landing": MOBILE_LANDING, "rules.r.when": {"geo.country": "CA"}}
        ),
    }
    assert _problems(config) == [
        ("rules[0].when.geo.contry", "unknown fact"),
        ("experiments[0].variants[1].overrides.landing[0].when.device.typ", "unknown fact"),
    ]


def test_a_variant_problem_outside_its_overrides_names_the_variant() -> None:
    # the override renames the only segment a rule refers to
    config = {
        "segments": {"owls": {"time.daypart": "night"}},
        "rules": [{"id": "r", "when": {"$inSegment": "owls"}}],
        "experiments": _variants(segments={"larks": {"time.daypart": "morning"}}),
    }
    assert _problems(config) == [
        (
            "rules[0].when.$inSegment",
            "unknown segment 'owls' (with experiments[0].variants[1].overrides)",
        )
    ]


def test_a_variant_condition_is_checked_when_the_base_has_a_structural_problem() -> None:
    # before: only the base's problems were listed; the variant's came in the next round
    config = {
        "settings": {"max_offers": -1},
        "segments": {"owls": {"time.daypart": "night"}},
        "offers": [{"id": "o"}],
        "experiments": _variants(
            **{
                "landing": MOBILE_LANDING,
                "segments.owls": {"time.dayprt": "night"},
                "offers.o.when": {"geo.contry": "CA"},
            }
        ),
    }
    assert _problems(config) == [
        ("settings.max_offers", "Input should be greater than or equal to 0"),
        ("experiments[0].variants[1].overrides.landing[0].when.device.typ", "unknown fact"),
        ("experiments[0].variants[1].overrides.segments.owls.time.dayprt", "unknown fact"),
        ("experiments[0].variants[1].overrides.offers.o.when.geo.contry", "unknown fact"),
    ]


def test_an_item_is_found_by_id_in_the_list_an_earlier_override_put_there() -> None:
    # Variant "short" replaces the landing list; a later experiment's variant sets
    # landing.canada.page. The id was looked up in the base's list (index 0) and the
    # value written at that index of the new list: into the wrong rule ("/"), or, when
    # the new list is shorter, an IndexError out of the load.
    config = load_config(
        {
            "landing": [{"id": "us", "page": "/us/"}, {"id": "canada", "page": "/ca/"}],
            "experiments": [
                {
                    "key": "landing-list",
                    "variants": [
                        {
                            "key": "short",
                            "overrides": {"landing": [{"id": "canada", "page": "/c/"}]},
                        },
                        {
                            "key": "swapped",
                            "overrides": {
                                "landing": [
                                    {"id": "canada", "page": "/c/"},
                                    {"id": "us", "page": "/"},
                                ]
                            },
                        },
                    ],
                },
                {
                    "key": "canada-page",
                    "variants": [
                        {"key": "sale", "overrides": {"landing.canada.page": "/ca/sale/"}}
                    ],
                },
            ],
        }
    )
    plan = compile_experiments(config)
    short = plan.configs[(("landing-list", "short"), ("canada-page", "sale"))]
    assert [(rule.id, rule.page) for rule in short.landing] == [("canada", "/ca/sale/")]
    swapped = plan.configs[(("landing-list", "swapped"), ("canada-page", "sale"))]
    assert [(rule.id, rule.page) for rule in swapped.landing] == [
        ("canada", "/ca/sale/"),
        ("us", "/"),
    ]


def test_an_id_an_earlier_override_removed_is_reported_not_written_elsewhere() -> None:
    pairs = [("rules", [{"id": "v1.2-sale"}]), ("rules.cold-weather-boost.enabled", False)]
    with pytest.raises(ConfigError) as info:
        apply_overrides(BASE, pairs)
    assert [p.path for p in info.value.problems] == ["overrides.rules.cold-weather-boost.enabled"]
