"""Rule sets: segments on segments, priorities, placements, windows, actions and traces."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from personalize.config import load_config
from personalize.errors import ConfigError
from personalize.plugins import Registry
from personalize.rules import Boost, Evaluation, Filter, Pin, ProductSelector, RuleSet, SetWeights

NOW = datetime(2026, 12, 5, 21, 30, tzinfo=UTC)


def _facts(**overrides: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "device": {"type": "mobile"},
        "geo": {"country": "CA", "climate": "cold"},
        "time": {"local": NOW, "hour": 21, "season": "winter", "timezone": "UTC"},
        "history": {"lifetime_value": 800.0},
        "loyalty": {"tier": "gold"},
    }
    facts.update(overrides)
    return facts


def _problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        RuleSet.compile(config)
    return [str(p) for p in info.value.problems]


def test_segments_defined_on_segments_evaluate_in_dependency_order() -> None:
    ruleset = RuleSet.compile(
        {
            "segments": {
                "vip_mobile": {"$inSegment": "big_spenders", "device.type": "mobile"},
                "big_spenders": {"history.lifetime_value": {"$gte": 500}},
                "vip_by_path": {"segments": {"$in": ["vip_mobile"]}},
            }
        }
    )
    assert ruleset.segment_ids.index("big_spenders") < ruleset.segment_ids.index("vip_mobile")
    facts = _facts()
    outcome = ruleset.evaluate(facts)
    assert outcome.segments == {"big_spenders", "vip_mobile", "vip_by_path"}
    assert outcome.facts["segments"] == ["big_spenders", "vip_by_path", "vip_mobile"]
    assert "segments" not in facts  # the caller's facts are left as they are


def test_segment_cycles_and_unknown_references_are_errors() -> None:
    found = _problems(
        {
            "segments": {
                "a": {"$inSegment": "b"},
                "b": {"segments": {"$in": ["a"]}},
                "c": {"$inSegment": "nope"},
            }
        }
    )
    assert any("segment cycle: a -> b -> a" in p for p in found)
    assert "segments.c.$inSegment: unknown segment 'nope'" in found


def test_rules_fire_by_priority_then_file_order_and_stop() -> None:
    ruleset = RuleSet.compile(
        {
            "rules": [
                {"id": "low", "when": {}, "priority": 1},
                {"id": "first-high", "when": {"geo.country": "CA"}, "priority": 5},
                {"id": "second-high", "priority": 5, "stop": True},
                {"id": "never", "priority": 0},
            ]
        }
    )
    outcome = ruleset.evaluate(_facts())
    assert outcome.fired == ("first-high", "second-high")


def test_placements_windows_and_switches_skip_rules_with_a_reason() -> None:
    ruleset = RuleSet.compile(
        {
            "settings": {"timezone": "America/Toronto"},
            "rules": [
                {"id": "home-only", "placements": ["home"]},
                {"id": "off", "enabled": False},
                {"id": "next-year", "active": {"from": "2027-01-01"}},
                {"id": "this-winter", "active": {"from": "2026-11-01", "until": "2027-02-28"}},
                {"id": "store-day", "active": {"from": "2026-12-05", "until": "2026-12-05",
                                               "timezone": "store"}},
                {"id": "tokyo-day", "active": {"from": "2026-12-05", "until": "2026-12-05",
                                               "timezone": "Asia/Tokyo"}},
            ],
        }
    )  # fmt: skip
    outcome = ruleset.evaluate(_facts(), placement="pdp")
    assert outcome.fired == (
        "this-winter",
        "store-day",
    )  # 16:30 in Toronto, 06:30 next day in Tokyo
    skipped = {e.id: e.skipped for e in outcome.trace.entries if e.skipped}
    assert skipped == {
        "home-only": "placement",
        "off": "disabled",
        "next-year": "inactive",
        "tokyo-day": "inactive",
    }
    assert ruleset.evaluate(_facts(), placement="home").fired[0] == "home-only"


def test_actions_compile_to_the_ranking_s_values() -> None:
    ruleset = RuleSet.compile(
        {
            "rules": [
                {
                    "id": "winter",
                    "when": {"geo.climate": "cold"},
                    "then": [
                        {"boost": {"where": {"category": "outerwear"}, "by": 2.0}},
                        {"bury": {"where": {"tags": {"$in": ["clearance"]}}, "by": 0.5}},
                        {"pin": {"products": ["sku-123"], "position": 1}},
                        {"filter": {"where": {"in_stock": True}}},
                        {"set_weights": {"co_purchase": 3.0}},
                    ],
                }
            ]
        }
    )
    boost, bury, pin, keep, weights = ruleset.evaluate(_facts()).actions
    assert isinstance(boost, Boost)
    assert boost.by == 2.0
    assert boost.rule_id == "winter"
    assert isinstance(bury, Boost)
    assert bury.kind == "bury"
    assert bury.where({"tags": ["clearance", "old"]})
    assert not bury.where({"tags": []})
    assert isinstance(pin, Pin)
    assert pin.products == ("sku-123",)
    assert isinstance(keep, Filter)
    assert keep.where({"in_stock": True})
    assert isinstance(weights, SetWeights)
    assert weights.weights == {"co_purchase": 3.0}


def test_action_problems_are_reported_with_their_paths() -> None:
    found = _problems(
        {
            "rules": [
                {
                    "id": "r",
                    "then": [
                        {"bost": {"where": {}, "by": 2}},
                        {"boost": {"where": {"categroy": "x"}, "by": -1}},
                        {"pin": {"products": [], "extra": 1}},
                        {"set_weights": {"co_purchse": 2.0}},
                    ],
                }
            ]
        }
    )
    assert "rules[0].then[0].bost: unknown action; did you mean boost?" in found
    assert "rules[0].then[1].boost.where.categroy: unknown fact; did you mean category?" in found
    assert any(p.startswith("rules[0].then[1].boost.by:") for p in found)
    assert any(p.startswith("rules[0].then[2].pin.products:") for p in found)
    assert "rules[0].then[2].pin.extra: unknown field" in found
    assert (
        "rules[0].then[3].set_weights.co_purchse: unknown ranking weight; did you mean co_purchase?"
        in found
    )


def test_relative_dates_in_selectors_use_the_evaluation_time() -> None:
    ruleset = RuleSet.compile(
        {
            "rules": [
                {
                    "id": "new",
                    "then": [{"boost": {"where": {"created_at": {"$withinLast": "7d"}}, "by": 2}}],
                }
            ]
        }
    )
    (boost,) = ruleset.evaluate(_facts(), now=NOW).actions
    assert isinstance(boost, Boost)
    assert isinstance(boost.where, ProductSelector)
    assert boost.where.uses_now
    at = Evaluation(now=NOW)  # the ranking passes the request's time
    assert boost.where({"created_at": datetime(2026, 12, 1, tzinfo=UTC)}, at)
    assert not boost.where({"created_at": datetime(2026, 11, 1, tzinfo=UTC)}, at)


def test_trace_says_which_condition_failed_and_what_it_saw() -> None:
    ruleset = RuleSet.compile(
        {
            "rules": [
                {
                    "id": "us-winter",
                    "when": {"time.season": "winter", "geo.country": {"$in": ["US", "MX"]}},
                }
            ]
        }
    )
    outcome = ruleset.evaluate(_facts())
    (entry,) = outcome.trace.entries
    assert entry.result is False
    assert entry.failure is not None
    assert entry.failure.where == "rules[0].when.geo.country.$in"
    assert entry.failure.path == "geo.country"
    assert entry.failure.actual == "CA"
    assert "rule    us-winter: false -- rules[0].when.geo.country.$in: geo.country = 'CA'" in (
        outcome.trace.render()
    )


def test_a_raising_plugin_operator_makes_its_condition_false_and_is_reported() -> None:
    class Broken:
        name = "broken"

        def setup(self, registry: Registry) -> None:
            registry.register_operator("$flaky", lambda actual, arg: 1 / 0)

    registry = Registry.with_builtins()
    registry.install(Broken())
    ruleset = RuleSet.compile(
        {"rules": [{"id": "a", "when": {"device.type": {"$flaky": 1}}}, {"id": "b"}]},
        registry=registry,
    )
    seen: list[tuple[str, str]] = []
    outcome = ruleset.evaluate(
        _facts(), on_error=lambda exc, label: seen.append((type(exc).__name__, label))
    )
    assert outcome.fired == ("b",)
    assert seen == [("ZeroDivisionError", "operator $flaky (broken)")]
    assert [e.id for e in outcome.trace.errors] == ["operator $flaky (broken)"]


def test_misspelled_fact_in_a_yaml_file_names_its_path_and_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "personalization.yaml"
    path.write_text(
        "segments:\n"
        "  night_owls: {time.daypart: night}\n"
        "rules:\n"
        "  - id: first\n"
        "    when: {device.type: mobile}\n"
        "  - id: canada\n"
        "    when: {geo.contry: CA}\n"
        "    then:\n"
        "      - boost: {where: {brand: acme}, by: 2}\n"
    )
    with pytest.raises(ConfigError) as info:
        RuleSet.compile(load_config(path))
    assert [str(p) for p in info.value.problems] == [
        "rules[1].when.geo.contry: unknown fact; did you mean geo.country?"
    ]


def test_structural_errors_come_from_the_configuration_model() -> None:
    with pytest.raises(ConfigError) as info:
        RuleSet.compile({"rules": [{"id": "a", "wen": {}}, {"id": "a"}]})
    assert "rules.0.wen" in str(info.value) or "rules[0].wen" in str(info.value)


def test_a_huge_or_deeply_nested_value_renders_briefly_in_the_trace() -> None:
    ruleset = RuleSet.compile(
        {"rules": [{"id": "cart", "when": {"behaviour.cart.value": {"$gt": 5}}}]}
    )
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    for value in (deep, list(range(1_000_000)), "x" * 1_000_000, {str(i): i for i in range(10**5)}):
        outcome = ruleset.evaluate(_facts(behaviour={"cart": {"value": value}}))
        (entry,) = outcome.trace.entries
        assert entry.failure is not None
        assert entry.failure.actual is value  # the value itself is kept
        line = outcome.trace.render()
        assert line.startswith("rule    cart: false -- rules[0].when.behaviour.cart.value.$gt: ")
        assert len(line) < 1000
