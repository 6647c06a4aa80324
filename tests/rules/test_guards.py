"""The guard index: only the rules whose equality guards hold run, with the same outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from rule_strategies import SCALARS, VALUES, conditions, facts, reference

from personalize.plugins import Registry
from personalize.rules import ConditionCompiler, RuleSet
from personalize.rules._guards import MAX_VALUES_PER_PATH, GuardIndex, bits

SCHEMA = {"a": "any", "b": "any", "c": "object", "c.d": "any"}

# Conditions shaped like merchandising rules: equality tests first, anything after.
EQUALITY = st.one_of(
    SCALARS,
    st.builds(lambda v: {"$in": v}, st.lists(SCALARS, max_size=3)),
    st.builds(lambda v: {"$nin": v}, st.lists(SCALARS, max_size=3)),
    st.builds(lambda v: {"$ne": v}, SCALARS),
    st.builds(lambda v: {"$exists": v}, st.booleans()),
    st.builds(lambda v: {"$eq": v, "$ne": "x"}, SCALARS),
)
GUARDED = st.builds(
    lambda guards, rest: {**dict(guards), **rest},
    st.lists(st.tuples(st.sampled_from(["a", "b", "c.d"]), EQUALITY), max_size=2),
    st.one_of(st.just({}), conditions()),
)
RULE_CONDITIONS = st.one_of(GUARDED, conditions())


def _index(conds: list[dict[str, Any]]) -> tuple[GuardIndex, list[Any]]:
    compiler = ConditionCompiler()
    compiled = [compiler.compile_full(c, f"[{i}]") for i, c in enumerate(conds)]
    return GuardIndex(compiled), [c.predicate for c in compiled]


def _holds(index: GuardIndex, doc: dict[str, Any]) -> list[bool]:
    candidates = index.candidates(doc)
    return [
        bool(candidates >> i & 1) and (residual is None or residual(doc, None))
        for i, residual in enumerate(index.residuals)
    ]


@given(st.lists(RULE_CONDITIONS, max_size=6), facts())
def test_guards_and_residuals_equal_each_condition(
    conds: list[dict[str, Any]], doc: dict[str, Any]
) -> None:
    index, predicates = _index(conds)
    expected = [p(doc) for p in predicates]
    assert _holds(index, doc) == expected
    assert _holds(index, doc) == expected  # the second time from the remembered masks
    assert expected == [reference(c, doc) for c in conds]


@given(st.lists(GUARDED, min_size=1, max_size=6), st.lists(VALUES, min_size=2, max_size=6))
def test_remembered_masks_follow_the_value_and_its_type(
    conds: list[dict[str, Any]], values: list[Any]
) -> None:
    index, predicates = _index(conds)
    for value in [*values, *values]:  # True and 1, 0 and False ... are told apart
        doc = {"a": value, "b": value, "c": {"d": value}}
        assert _holds(index, doc) == [p(doc) for p in predicates]


def test_values_equal_in_python_but_of_other_types_get_their_own_masks() -> None:
    conds: list[dict[str, Any]] = [{"a": True}, {"a": 1}, {"a": {"$in": [0]}}, {"a": False}]
    index, predicates = _index(conds)
    for value in [True, 1, 1.0, 0, False, 0.0, None, "1", True, 0]:
        doc = {"a": value}
        assert _holds(index, doc) == [p(doc) for p in predicates], value


def test_equality_tests_become_guards_and_the_rest_a_residual() -> None:
    index, _ = _index(
        [
            {"a": "x", "b": {"$gte": 2}},  # a guard, then a residual
            {"a": {"$in": ["x", "y"]}, "c.d": {"$exists": True}},  # guards only
            {"$or": [{"a": "x"}, {"b": 1}]},  # no guard: the whole predicate
        ]
    )
    assert index.guarded_paths == ("a", "c.d")
    residuals = index.residuals
    assert residuals[0] is not None
    assert residuals[1] is None
    assert residuals[2] is not None
    assert list(bits(index.candidates({"a": "y", "c": {"d": 1}}))) == [1, 2]
    assert list(bits(index.candidates({"a": "x"}))) == [0, 2]


def test_masks_are_remembered_for_a_bounded_number_of_values() -> None:
    index, predicates = _index([{"a": "v7"}, {"a": {"$ne": "v8"}}])
    for i in range(MAX_VALUES_PER_PATH + 50):
        doc = {"a": f"v{i}"}
        assert _holds(index, doc) == [p(doc) for p in predicates]
    (path,) = index._paths
    assert len(path.masks) == MAX_VALUES_PER_PATH


def _reference_fired(config: dict[str, Any], doc: dict[str, Any], placement: str) -> list[str]:
    """The rules that fire, by a plain walk: priority, file order, placements, stop."""
    rules = sorted(enumerate(config["rules"]), key=lambda item: (-item[1]["priority"], item[0]))
    fired = []
    for _, rule in rules:
        if "placements" in rule and placement not in rule["placements"]:
            continue
        if reference(rule["when"], {**doc, "segments": []}):
            fired.append(rule["id"])
            if rule["stop"]:
                break
    return fired


RULES = st.lists(
    st.fixed_dictionaries(
        {"when": RULE_CONDITIONS, "priority": st.integers(0, 2), "stop": st.booleans()},
        optional={"placements": st.sampled_from([["home"], ["pdp"], ["home", "pdp"]])},
    ),
    max_size=8,
)


@given(RULES, facts(), st.sampled_from(["home", "pdp"]))
def test_rule_set_fires_what_a_plain_walk_fires_and_traces_every_rule(
    rules: list[dict[str, Any]], doc: dict[str, Any], placement: str
) -> None:
    config = {"rules": [{"id": f"r{i}", **rule} for i, rule in enumerate(rules)]}
    ruleset = RuleSet.compile(config, schema=SCHEMA)
    outcome = ruleset.evaluate(doc, placement=placement)
    assert list(outcome.fired) == _reference_fired(config, doc, placement)
    entries = outcome.trace.entries
    held = [e.id for e in entries if e.result]
    assert held == list(outcome.fired)
    stopped = outcome.fired and config["rules"][int(outcome.fired[-1][1:])]["stop"]
    ordered = list(ruleset.rule_ids)
    upto = ordered.index(outcome.fired[-1]) + 1 if stopped else len(ordered)
    assert [e.id for e in entries] == ordered[:upto]
    for entry in entries:
        assert entry.skipped in (None, "placement")
        assert (entry.failure is None) is entry.result or entry.skipped is not None


def test_a_plugin_operator_before_a_guard_still_runs_and_its_error_keeps_its_place() -> None:
    class Broken:
        name = "broken"

        def setup(self, registry: Registry) -> None:
            registry.register_operator("$flaky", lambda actual, arg: 1 / 0)

    registry = Registry.with_builtins()
    registry.install(Broken())
    ruleset = RuleSet.compile(
        {
            "rules": [
                {"id": "first", "when": {"device.type": "tv"}},
                # the plugin runs first; the guard after it is false anyway
                {"id": "flaky", "when": {"geo.country": {"$flaky": 1}, "device.type": "tv"}},
                {"id": "last"},
            ]
        },
        registry=registry,
    )
    seen: list[str] = []
    facts = {"device": {"type": "mobile"}, "geo": {"country": "CA"}}
    outcome = ruleset.evaluate(facts, on_error=lambda exc, label: seen.append(label))
    assert outcome.fired == ("last",)
    assert seen == ["operator $flaky (broken)"]
    assert [(e.kind, e.id) for e in outcome.trace.entries] == [
        ("rule", "first"),
        ("error", "operator $flaky (broken)"),
        ("rule", "flaky"),
        ("rule", "last"),
    ]
    assert "device.type = 'mobile', required = 'tv'" in outcome.trace.render()


def test_a_plugin_operator_after_a_false_guard_is_not_called() -> None:
    calls: list[Any] = []

    class Counting:
        name = "counting"

        def setup(self, registry: Registry) -> None:
            registry.register_operator("$seen", lambda actual, arg: calls.append(actual) or True)

    registry = Registry.with_builtins()
    registry.install(Counting())
    ruleset = RuleSet.compile(
        {"rules": [{"id": "r", "when": {"device.type": "tv", "geo.country": {"$seen": 1}}}]},
        registry=registry,
    )
    assert ruleset.evaluate({"device": {"type": "mobile"}}).fired == ()
    assert calls == []
    assert ruleset.evaluate({"device": {"type": "tv"}, "geo": {"country": "CA"}}).fired == ("r",)
    assert calls == ["CA"]


DAYS = st.sampled_from(["2026-12-01", "2026-12-05", "2026-12-09"])
FULL_RULES = st.lists(
    st.fixed_dictionaries(
        {"when": RULE_CONDITIONS, "priority": st.integers(0, 2), "stop": st.booleans()},
        optional={
            "placements": st.sampled_from([["home"], ["pdp"], ["home", "pdp"]]),
            "channels": st.sampled_from([["web"], ["email"], ["web", "email"]]),
            "enabled": st.booleans(),
            "active": st.fixed_dictionaries(
                {"timezone": st.just("UTC")}, optional={"from": DAYS, "until": DAYS}
            ),
        },
    ),
    max_size=10,
)


def _walk(
    config: dict[str, Any], doc: dict[str, Any], placement: str | None, channel: str, day: str
) -> list[str]:
    """Each rule's own compiled predicate, in priority order, with every gate and stop."""
    compiler = ConditionCompiler(schema=SCHEMA)
    rules = sorted(enumerate(config["rules"]), key=lambda item: (-item[1]["priority"], item[0]))
    fired = []
    for _, rule in rules:
        if not rule.get("enabled", True):
            continue
        if "placements" in rule and placement not in rule["placements"]:
            continue
        if "channels" in rule and channel not in rule["channels"]:
            continue
        active = rule.get("active", {})
        if not active.get("from", day) <= day <= active.get("until", day):
            continue
        if compiler.compile(rule["when"], rule["id"])({**doc, "segments": []}):
            fired.append(rule["id"])
            if rule["stop"]:
                break
    return fired


@given(
    FULL_RULES,
    facts(),
    st.sampled_from([None, "home", "pdp"]),
    st.sampled_from(["web", "email"]),
    DAYS,
)
def test_fired_rules_are_those_whose_predicates_hold_with_every_gate(
    rules: list[dict[str, Any]],
    doc: dict[str, Any],
    placement: str | None,
    channel: str,
    day: str,
) -> None:
    rules = [
        r
        for r in rules
        if r.get("active", {}).get("from", "") <= r.get("active", {}).get("until", "~")
    ]
    config = {
        "rules": [
            {"id": f"r{i}", "then": [{"pin": {"products": [f"p{i}"], "position": 1}}], **rule}
            for i, rule in enumerate(rules)
        ]
    }
    ruleset = RuleSet.compile(config, schema=SCHEMA)
    now = datetime.fromisoformat(day + "T12:00:00+00:00")
    for _ in range(2):  # the second time from the remembered masks
        outcome = ruleset.evaluate(doc, placement=placement, channel=channel, now=now)
        expected = _walk(config, doc, placement, channel, day)
        assert list(outcome.fired) == expected
        actions = [
            a for rid in expected for a in ruleset._rules[ruleset.rule_ids.index(rid)].actions
        ]
        assert list(outcome.actions) == actions
        entries = outcome.trace.entries
        assert [e.id for e in entries if e.result] == expected
        for entry in entries:
            if entry.result or entry.skipped is not None:
                assert entry.failure is None
            else:
                assert entry.failure is not None
