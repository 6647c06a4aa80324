"""Compiling the experiments section and assigning requests."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from personalize import Personalizer, Request
from personalize.config import PersonalizerConfig, load_config
from personalize.errors import ConfigError, Problem
from personalize.experiments import (
    MAX_COMBINATIONS,
    Assignment,
    bucket_ranges,
    choose_variant,
    compile_experiments,
    force_header_name,
    parse_forced,
)
from personalize.metrics import sample_ratio_mismatch


def equality_compiler(condition: Mapping[str, Any], path: str) -> Callable[..., bool]:
    """A stand-in for the rule compiler: ``{"a.b": value}`` means facts["a"]["b"] == value."""
    for key in condition:
        if key.startswith("$"):
            raise ConfigError([Problem(f"{path}.{key}", "unknown operator")])

    def pred(facts: Mapping[str, Any], evaluation: Any = None) -> bool:
        for dotted, want in condition.items():
            node: Any = facts
            for part in dotted.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            if node != want:
                return False
        return True

    return pred


def config(*experiments: dict[str, Any], **extra: Any) -> PersonalizerConfig:
    return load_config(
        {
            "rules": [{"id": "cold-weather-boost"}, {"id": "sale.banner"}],
            "offers": [{"id": "comeback10", "value": {"percent": 10}}],
            "experiments": list(experiments),
            **extra,
        }
    )


#: Settings of a QA environment, where variants may be forced.
QA = {"allow_forced_variants": True}

AB = {
    "key": "weights-v2",
    "variants": [
        {"key": "control"},
        {"key": "heavy", "overrides": {"ranking.weights.co_purchase": 3.0}},
    ],
}


def test_no_experiments_assign_nothing() -> None:
    plan = compile_experiments(config())
    assignment = plan.assign(Request(user_id="u1"))
    assert assignment.variants == {}
    assert assignment.config_key == ()
    assert plan.config_for(assignment) is plan.base


def test_assignment_is_deterministic_for_a_user() -> None:
    plan = compile_experiments(config(AB))
    first = plan.assign(Request(user_id="u42", session_id="s1"))
    again = compile_experiments(config(AB)).assign(Request(user_id="u42", session_id="s2"))
    assert first.variants == again.variants
    assert set(first.variants) == {"weights-v2"}


def test_user_id_falls_back_to_session_id() -> None:
    plan = compile_experiments(config(AB))
    exposure = plan.assign(Request(session_id="s9")).exposures[0]
    assert (exposure.hash_attribute, exposure.hash_value) == ("session_id", "s9")
    exposure = plan.assign(Request(user_id="u9", session_id="s9")).exposures[0]
    assert (exposure.hash_attribute, exposure.hash_value) == ("user_id", "u9")


def test_session_hash_attribute_ignores_user_id() -> None:
    plan = compile_experiments(config({**AB, "hash_attribute": "session_id"}))
    exposure = plan.assign(Request(user_id="u9", session_id="s9")).exposures[0]
    assert exposure.hash_value == "s9"


def test_no_id_enrolls_nobody_and_says_why() -> None:
    assignment = compile_experiments(config(AB)).assign(Request())
    assert assignment.variants == {}
    assert "no user_id or session_id" in assignment.notes[0]


def test_zero_traffic_and_disabled_enroll_nobody() -> None:
    for exp in ({**AB, "traffic": 0.0}, {**AB, "enabled": False}):
        plan = compile_experiments(config(exp))
        assert all(not plan.assign(Request(user_id=f"u{i}")).variants for i in range(200))


def test_partial_traffic_enrolls_about_that_fraction() -> None:
    plan = compile_experiments(config({**AB, "traffic": 0.3}))
    enrolled = sum(bool(plan.assign(Request(user_id=f"u{i}")).variants) for i in range(10_000))
    assert 2800 < enrolled < 3200


def test_overriding_variant_selects_its_configuration() -> None:
    plan = compile_experiments(config(AB))
    seen = {}
    for i in range(100):
        assignment = plan.assign(Request(user_id=f"u{i}"))
        seen[assignment.variants["weights-v2"]] = plan.config_for(assignment)
    assert seen["control"] is plan.base
    assert seen["heavy"].ranking.weights == {"co_purchase": 3.0}


def test_targeting_condition_gates_enrollment() -> None:
    plan = compile_experiments(config({**AB, "when": {"geo.country": "CA"}}), equality_compiler)
    request = Request(user_id="u1")
    assert plan.assign(request, {"geo": {"country": "CA"}}).variants
    assert not plan.assign(request, {"geo": {"country": "US"}}).variants
    assert not plan.assign(request).variants


def test_condition_errors_are_all_reported_with_paths() -> None:
    bad = {**AB, "when": {"$bogus": 1}}
    other = {**AB, "key": "other", "when": {"$nope": 1}}
    with pytest.raises(ConfigError) as info:
        compile_experiments(config(bad, other), equality_compiler)
    assert [p.path for p in info.value.problems] == [
        "experiments[0].when.$bogus",
        "experiments[1].when.$nope",
    ]


def test_condition_without_compiler_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"experiments\[0\]\.when"):
        compile_experiments(config({**AB, "when": {"geo.country": "CA"}}))


def test_weights_summing_to_zero_are_rejected() -> None:
    exp = {"key": "z", "variants": [{"key": "a", "weight": 0}, {"key": "b", "weight": 0}]}
    with pytest.raises(ConfigError) as info:
        compile_experiments(config(exp))
    assert info.value.path == "experiments[0].variants"


def test_invalid_override_path_names_the_variant() -> None:
    broken = {"key": "b", "overrides": {"rules.nope.enabled": False}}
    exp = {"key": "x", "variants": [{"key": "a"}, broken]}
    with pytest.raises(ConfigError) as info:
        compile_experiments(config(exp))
    assert info.value.path == "experiments[0].variants[1].overrides.rules.nope.enabled"


def test_weights_are_normalized_into_shares() -> None:
    exp = {"key": "w", "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 3}]}
    assert compile_experiments(config(exp)).shares("w") == {"a": 0.25, "b": 0.75}


@pytest.mark.parametrize(
    ("weights", "traffic"),
    [([1, 2], 0.01), ([1, 1, 1], 0.001), ([1, 1, 1], 0.05), ([1, 1, 1, 1, 1, 1, 1], 1.0)],
)
def test_shares_are_the_split_the_buckets_really_make(weights: list[int], traffic: float) -> None:
    # A range holds whole buckets k / 10000: at 1% traffic over 1:2 the arms own 34 and 66
    # buckets, so 100,000 enrolled visitors sit ~3 standard errors off 1/3 : 2/3 and an SRM
    # check against the weights flags the experiment (p < 0.001) though nothing is wrong.
    exp = {
        "key": "w",
        "traffic": traffic,
        "variants": [{"key": f"v{i}", "weight": w} for i, w in enumerate(weights)],
    }
    plan = compile_experiments(config(exp))
    owned = dict.fromkeys(plan.shares("w"), 0)
    for k in range(10_000):
        index = choose_variant(
            k / 10_000, bucket_ranges([w / sum(weights) for w in weights], traffic)
        )
        if index >= 0:
            owned[f"v{index}"] += 1
    enrolled = sum(owned.values())
    assert plan.shares("w") == pytest.approx({v: n / enrolled for v, n in owned.items()}, abs=1e-12)
    assert math.fsum(plan.shares("w").values()) == pytest.approx(1.0)
    fair = {v: round(100_000 * n / enrolled) for v, n in owned.items()}
    assert not sample_ratio_mismatch(fair, plan.shares("w")).mismatch


def test_forcing_is_off_by_default() -> None:
    plan = compile_experiments(config({**AB, "enabled": False}))
    assert plan.force_param is None
    request = Request(url="/?pz_force=weights-v2:heavy", headers={"X-Pz-Force": "weights-v2:heavy"})
    assert not plan.assign(request).variants


def test_forced_variant_from_query_string_wins_over_bucketing() -> None:
    plan = compile_experiments(config({**AB, "enabled": False, "traffic": 0.0}, settings=QA))
    url = "https://shop.example/?utm_source=x&pz_force=weights-v2:heavy"
    assignment = plan.assign(Request(url=url))
    assert assignment.variants == {"weights-v2": "heavy"}
    assert assignment.exposures[0].forced
    assert assignment.config_key == (("weights-v2", "heavy"),)


def test_forced_variant_from_header_is_case_insensitive() -> None:
    plan = compile_experiments(config(AB, settings=QA))
    request = Request(user_id="u1", headers={"x-pz-force": "weights-v2:control"})
    assert plan.assign(request).variants == {"weights-v2": "control"}


def test_query_string_beats_header_for_the_same_experiment() -> None:
    plan = compile_experiments(config(AB, settings=QA))
    request = Request(
        user_id="u1",
        headers={"X-Pz-Force": "weights-v2:control"},
        url="/?pz_force=weights-v2:heavy",
    )
    assert plan.assign(request).variants == {"weights-v2": "heavy"}


def test_unknown_forced_variant_is_noted_and_ignored() -> None:
    plan = compile_experiments(config(AB, settings=QA))
    assignment = plan.assign(Request(user_id="u1", url="/?pz_force=weights-v2:nope"))
    assert not assignment.exposures[0].forced
    assert "'nope' is unknown" in assignment.notes[0]


def test_unknown_forced_experiment_is_noted_from_query_and_header() -> None:
    plan = compile_experiments(config(AB, settings=QA))
    by_query = plan.assign(Request(user_id="u1", url="/?pz_force=nope:a"))
    by_header = plan.assign(Request(user_id="u1", headers={"X-Pz-Force": "nope:a"}))
    for assignment in (by_query, by_header):
        assert "forced experiment 'nope' is unknown" in assignment.notes
        assert "nope" not in assignment.variants


def test_many_unknown_forced_experiments_give_a_bounded_number_of_notes() -> None:
    # A header naming 10,000 unknown experiments gave 10,000 notes in the trace.
    plan = compile_experiments(config(AB, settings=QA))
    value = ",".join(f"e{i}:a" for i in range(10_000))
    assignment = plan.assign(Request(user_id="u1", headers={"X-Pz-Force": value}))
    assert len(assignment.notes) == 6  # five named, then how many more
    assert assignment.notes[0] == "forced experiment 'e0' is unknown"
    assert assignment.notes[-1] == "9995 more forced experiments are unknown"


def test_unknown_forced_experiment_is_not_noted_when_forcing_is_off() -> None:
    plan = compile_experiments(config(AB))
    assert not plan.assign(Request(user_id="u1", url="/?pz_force=nope:a")).notes


def test_forcing_can_be_switched_off() -> None:
    plan = compile_experiments(
        config({**AB, "enabled": False}, settings={"allow_forced_variants": False})
    )
    assert not plan.assign(Request(url="/?pz_force=weights-v2:heavy")).variants


def test_force_parameter_name_is_configurable() -> None:
    settings = {**QA, "force_variant_param": "qa_variant"}
    plan = compile_experiments(config(AB, settings=settings))
    request = Request(user_id="u1", headers={"X-QA-Variant": "weights-v2:heavy"})
    assert plan.assign(request).variants == {"weights-v2": "heavy"}
    assert plan.assign(Request(url="/?qa_variant=weights-v2:heavy")).variants


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/x?pz_force=weights-v2:heavy",  # urlsplit: Invalid IPv6 URL
        "http://[::1]:99999999/?pz_force=weights-v2:heavy",
        "http://[zz]/?pz_force=weights-v2:heavy#frag",
    ],
)
def test_a_malformed_url_with_a_forced_variant_still_assigns(url: str) -> None:
    plan = compile_experiments(config(AB, settings=QA))
    assert plan.assign(Request(user_id="u1", url=url)).variants == {"weights-v2": "heavy"}
    unforced = compile_experiments(config(AB))
    assert unforced.assign(Request(user_id="u1", url=url)).variants  # bucketed as usual


def test_targeting_predicates_receive_the_evaluation() -> None:
    seen: list[object] = []

    def compiler(condition: Mapping[str, Any], path: str) -> Callable[..., bool]:
        def pred(facts: Mapping[str, Any], evaluation: Any = None) -> bool:
            seen.append(evaluation)
            return True

        return pred

    plan = compile_experiments(config({**AB, "when": {"geo.country": "CA"}}), compiler)
    marker = object()
    assert plan.assign(Request(user_id="u1"), {}, evaluation=marker).variants
    assert seen == [marker]


def test_header_name_rule() -> None:
    assert force_header_name("pz_force") == "X-Pz-Force"
    assert force_header_name("qa-variant") == "X-Qa-Variant"


def test_parse_forced_skips_malformed_pieces() -> None:
    assert parse_forced("a:b, c:d,junk,:x,e:") == {"a": "b", "c": "d"}
    assert parse_forced("ns:exp:v") == {"ns:exp": "v"}


def test_holdout_variant_flags_the_assignment() -> None:
    exp = {"key": "h", "variants": [{"key": "on"}, {"key": "off", "holdout": True}]}
    plan = compile_experiments(config(exp))
    results = [plan.assign(Request(user_id=f"u{i}")) for i in range(400)]
    holdouts = [a for a in results if a.variants["h"] == "off"]
    assert holdouts
    assert all(a.holdout and a.exposures[0].in_holdout for a in holdouts)
    assert not any(a.holdout for a in results if a.variants["h"] == "on")


def test_concurrent_experiments_combine_overrides_in_config_order() -> None:
    first = {
        "key": "first",
        "variants": [{"key": "x", "overrides": {"ranking.weights.co_purchase": 3.0}}],
    }
    second = {
        "key": "second",
        "variants": [
            {"key": "y", "overrides": {"ranking.weights": {"co_purchase": 5.0, "co_view": 0.0}}}
        ],
    }
    plan = compile_experiments(config(first, second))
    assignment = plan.assign(Request(user_id="u1"))
    assert assignment.config_key == (("first", "x"), ("second", "y"))
    # The later experiment replaces the whole mapping, so its value wins.
    assert plan.config_for(assignment).ranking.weights == {"co_purchase": 5.0, "co_view": 0.0}
    assert len(plan.configs) == 4


def test_every_variant_configuration_is_compiled_at_load() -> None:
    plan = compile_experiments(config(AB))
    listed = dict(plan.variant_configs())
    assert list(listed) == [(("weights-v2", "heavy"),)]  # control overrides nothing
    assert listed[(("weights-v2", "heavy"),)].ranking.weights["co_purchase"] == 3.0


def test_too_many_combinations_are_refused() -> None:
    experiments = [
        {
            "key": f"e{i}",
            "variants": [
                {"key": "a", "overrides": {"settings.max_offers": 1}},
                {"key": "b", "overrides": {"settings.max_offers": 2}},
            ],
        }
        for i in range(6)
    ]
    assert MAX_COMBINATIONS < 3**6
    with pytest.raises(ConfigError, match="combinations"):
        compile_experiments(config(*experiments))


def test_namespaces_keep_experiments_apart() -> None:
    left = {**AB, "key": "left", "namespace": {"id": "checkout", "start": 0.0, "end": 0.5}}
    right = {**AB, "key": "right", "namespace": {"id": "checkout", "start": 0.5, "end": 1.0}}
    plan = compile_experiments(config(left, right))
    counts = {"left": 0, "right": 0}
    for i in range(2000):
        variants = plan.assign(Request(user_id=f"u{i}")).variants
        assert len(variants) == 1
        counts[next(iter(variants))] += 1
    assert 850 < counts["left"] < 1150


def test_assignment_object_defaults_are_empty() -> None:
    empty = Assignment(variants={})
    assert (empty.holdout, empty.config_key, empty.exposures, empty.notes) == (False, (), (), ())


@pytest.mark.parametrize(("start", "end"), [(0.8, 0.2), (0.5, 0.5)])
def test_an_empty_namespace_slice_is_a_problem_at_its_path(start: float, end: float) -> None:
    # before: it loaded and silently enrolled nobody
    exp = {**AB, "namespace": {"id": "checkout", "start": start, "end": end}}
    with pytest.raises(ConfigError) as caught:
        load_config({"experiments": [exp]})
    assert [p.path for p in caught.value.problems] == ["experiments[0].namespace.end"]


def test_targeting_on_segments_is_a_problem_at_its_path() -> None:
    # before: it loaded and enrolled nobody: experiments are assigned before segments exist
    when = {"$or": [{"segments": "vip"}, {"$inSegment": "vip"}], "device.type": "mobile"}
    config = {"segments": {"vip": {}}, "experiments": [{**AB, "when": when}]}
    with pytest.raises(ConfigError) as caught:
        Personalizer(config, autoload_plugins=False)
    assert [p.path for p in caught.value.problems] == [
        "experiments[0].when.$or[0].segments",
        "experiments[0].when.$or[1].$inSegment",
    ]
    config["settings"] = {"max_offers": -1}  # with a structural problem, found all the same
    with pytest.raises(ConfigError) as caught:
        Personalizer(config, autoload_plugins=False)
    assert len(caught.value.problems) == 3
