"""The condition compiler: SDK operators, validation with paths, generated code vs the tree."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, date, datetime, timedelta, timezone
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

import pytest

from personalize.context import FACT_SCHEMA
from personalize.context._model import OPEN_PATHS
from personalize.errors import ConfigError
from personalize.rules import ConditionCompiler, compile_condition
from personalize.rules._values import js_string

SCHEMA = dict(FACT_SCHEMA)
NOW = datetime(2026, 12, 5, 21, 30, tzinfo=UTC)


def _problems(condition: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        compile_condition(condition, schema=SCHEMA, **kwargs)
    return [str(p) for p in info.value.problems]


def test_misspelled_fact_path_names_its_place_and_a_suggestion() -> None:
    compiler = ConditionCompiler(schema=SCHEMA)
    pred = compiler.compile({"geo.contry": "CA"}, "rules[3].when")
    assert [str(p) for p in compiler.problems] == [
        "rules[3].when.geo.contry: unknown fact; did you mean geo.country?"
    ]
    assert pred({"geo": {"contry": "CA"}}) is False  # invalid conditions never hold


def test_every_problem_is_reported_at_once() -> None:
    found = _problems(
        {
            "geo.contry": "CA",
            "time.hour": {"$gt": "18"},
            "device.type": {"$regx": "mob"},
            "device.os": {"$regex": "(unclosed"},
            "time.local": {"$after": "7 parsecs"},
            "behaviour.cart.value": {"$regex": "5"},
        }
    )
    assert len(found) == 6
    assert "time.hour.$gt: $gt compares a number fact with a string" in found
    assert "device.type.$regx: unknown operator $regx; did you mean $regex?" in found
    assert any(p.startswith("device.os.$regex: $regex: invalid regex") for p in found)
    assert any(p.startswith("time.local.$after: $after:") for p in found)
    assert "behaviour.cart.value.$regex: $regex does not apply to a number fact" in found


def test_type_mismatches_on_bare_values_and_lists_are_errors() -> None:
    assert _problems({"time.hour": "8"}) == [
        "time.hour: a bare value compares a number fact with a string"
    ]
    assert _problems({"geo.country": {"$in": [1, 2]}}) == [
        "geo.country.$in: $in compares a string fact with a number"
    ]
    found = _problems({"behaviour.recently_viewed": {"$eq": "p1"}})
    assert "$elemMatch" in found[0]


def test_a_bare_value_matches_an_array_that_contains_it() -> None:
    pred = compile_condition({"tags": "clearance"})
    assert pred({"tags": ["new", "clearance"]})
    assert pred({"tags": "clearance"})
    assert not pred({"tags": ["new"]})
    assert compile_condition({"n": 3})({"n": (1, 3)})


def test_regex_length_is_bounded() -> None:
    found = _problems({"device.os": {"$regex": "a" * 1001}})
    assert "longer than 1000" in found[0]


def test_unknown_top_level_operator_is_an_error_with_a_schema() -> None:
    assert _problems({"$orr": []}) == ["$orr: unknown fact or operator; did you mean $or?"]


def test_without_a_schema_a_dollar_key_is_a_path_as_in_growthbook() -> None:
    assert compile_condition({"$groups": {"$elemMatch": {"$eq": "a"}}})({"$groups": ["a"]})


def test_open_paths_accept_any_sub_key() -> None:
    compiler = ConditionCompiler(schema=SCHEMA, open_paths=OPEN_PATHS)
    pred = compiler.compile({"behaviour.viewed_categories.shoes": {"$gte": 3}}, "x")
    assert not compiler.problems
    assert pred({"behaviour": {"viewed_categories": {"shoes": 4}}})


def test_between_is_inclusive_and_wraps_around_midnight() -> None:
    night = compile_condition({"time.hour": {"$between": [22, 5]}})
    day = compile_condition({"time.hour": {"$between": [9, 17]}})
    hours = {h: (night({"time": {"hour": h}}), day({"time": {"hour": h}})) for h in range(24)}
    assert [h for h, (n, _) in hours.items() if n] == [0, 1, 2, 3, 4, 5, 22, 23]
    assert [h for h, (_, d) in hours.items() if d] == list(range(9, 18))
    assert not night({"time": {"hour": None}})
    assert not night({"time": {"hour": True}})


def test_near_measures_great_circle_distance() -> None:
    toronto = {"geo": {"latitude": 43.65, "longitude": -79.38}}
    near_toronto = compile_condition({"geo": {"$near": {"lat": 43.7, "lon": -79.4, "km": 10}}})
    near_montreal = compile_condition({"geo": {"$near": {"lat": 45.5, "lon": -73.57, "km": 400}}})
    assert near_toronto(toronto)
    assert not near_montreal(toronto)  # about 505 km apart
    assert not near_toronto({"geo": {"latitude": None, "longitude": None}})
    assert not near_toronto({})


def test_in_segment_reads_the_segments_fact() -> None:
    pred = compile_condition({"$inSegment": ["vip", "night_owls"]})
    assert pred({"segments": ["night_owls"]})
    assert not pred({"segments": ["mobile"]})
    assert not pred({})


def test_unknown_segment_is_an_error_with_a_suggestion() -> None:
    compiler = ConditionCompiler(schema=SCHEMA, segments=["big_spenders"])
    compiler.compile({"$inSegment": "big_spender"}, "rules[0].when")
    assert [str(p) for p in compiler.problems] == [
        "rules[0].when.$inSegment: unknown segment 'big_spender'; did you mean big_spenders?"
    ]


def test_absolute_dates_compare_by_the_values_own_calendar_day() -> None:
    after = compile_condition({"time.local": {"$after": "2026-12-04"}})
    before = compile_condition({"time.local": {"$before": date(2026, 12, 5)}})
    assert after({"time": {"local": NOW}})
    assert not before({"time": {"local": NOW}})  # the same day is not before it
    moment = compile_condition({"time.local": {"$before": "2026-12-05T22:00:00+00:00"}})
    assert moment({"time": {"local": NOW}})


def test_relative_durations_count_back_from_now() -> None:
    recent = compile_condition({"created_at": {"$withinLast": "7d"}})
    old = compile_condition({"created_at": {"$olderThan": "30d"}})
    after = compile_condition({"created_at": {"$after": "12h"}})
    three_days = {"created_at": NOW - timedelta(days=3), "now": NOW}
    forty_days = {"created_at": NOW - timedelta(days=40), "now": NOW}
    assert recent(three_days)
    assert not old(three_days)
    assert old(forty_days)
    assert not recent(forty_days)
    assert not after(three_days)
    assert not recent({"created_at": NOW})  # no now known: relative bounds are false


def test_bad_durations_are_errors() -> None:
    assert "is not a duration" in _problems({"time.local": {"$withinLast": "7 days"}})[0]


@pytest.mark.parametrize("op", ["$withinLast", "$olderThan", "$before", "$after"])
@pytest.mark.parametrize("duration", ["36501d", "3000000d", "99999999999d", "999999999w"])
def test_a_duration_longer_than_a_century_is_a_problem_not_an_overflow(
    op: str, duration: str
) -> None:
    # before: an OverflowError out of the compiler, or (3000000d) a condition that loaded and
    # then raised OverflowError on every evaluation
    assert _problems({"time.local": {op: duration}}) == [
        f"time.local.{op}: {op}: {duration!r} is longer than 36500 days"
    ]


@pytest.mark.parametrize("op", ["$withinLast", "$olderThan", "$before", "$after"])
def test_a_relative_bound_before_the_calendar_starts_does_not_raise(op: str) -> None:
    pred = compile_condition({"a": {op: "36500d"}})
    facts = {"a": datetime(3, 1, 1), "now": datetime(50, 1, 1)}  # now - 100 years < year 1
    assert pred(facts) is (op in ("$withinLast", "$after"))


def test_options_apply_to_regex() -> None:
    pred = compile_condition({"device.os": {"$regex": "^ios", "$options": "i"}})
    assert pred({"device": {"os": "iOS"}})
    with pytest.raises(ConfigError, match="imsx"):
        compile_condition({"device.os": {"$regex": "a", "$options": "q"}})


def test_missing_and_malformed_facts_never_raise() -> None:
    pred = compile_condition(
        {"geo.country": {"$in": ["US"]}, "time.hour": {"$gte": 3}, "device.os": {"$regex": "x"}}
    )
    for facts in ({}, {"geo": None}, {"geo": 5}, {"geo": ["US"]}, {"geo": {"country": [None]}}):
        assert pred(facts) is False


def test_generated_code_and_tree_agree_on_every_reference_case(shared_data: Path) -> None:
    for name in ("growthbook-cases.json", "growthbook-python-cases.json"):
        for case in json.loads((shared_data / "peers" / name).read_text())["evalCondition"]:
            compiler = ConditionCompiler(groups=case[4] if len(case) > 4 else None, strict=False)
            compiled = compiler.compile_full(case[1], "")
            tree = compiled.node.holds(case[2], None)
            assert compiled.predicate(case[2]) is tree is case[3], case[0]
            assert (compiled.node.explain(case[2], None) is None) is case[3], case[0]


def test_generated_source_holds_no_configuration_text() -> None:
    secret = "'); import os; ('"
    pred = compile_condition({"a": secret, "b.c": {"$in": [secret]}, "d": {"$gt": secret}})
    assert pred({"a": secret, "b": {"c": secret}, "d": "~"})
    code = pred.__code__
    assert secret not in code.co_consts
    assert all(name.startswith("_") or name in {"f", "x", "v"} for name in code.co_varnames)


@pytest.mark.parametrize(
    ("condition", "path", "suggestion"),
    [
        ({"time.daypart": "nite"}, "time.daypart", "night"),
        ({"time.daypart": {"$eq": "nite"}}, "time.daypart.$eq", "night"),
        ({"device.type": {"$ne": "mobil"}}, "device.type.$ne", "mobile"),
        ({"time.season": {"$in": ["winter", "fall"]}}, "time.season.$in[1]", None),
        ({"referral.source": {"$nin": ["serach"]}}, "referral.source.$nin[0]", "search"),
        ({"geo.climate": {"$not": {"$eq": "cool"}}}, "geo.climate.$not.$eq", "cold"),
        ({"geo.hemisphere": "nort"}, "geo.hemisphere", "north"),
        ({"geo.source": "maxmind"}, "geo.source", None),
    ],
)
def test_a_value_an_enumerated_fact_never_holds_is_a_problem(
    condition: dict[str, Any], path: str, suggestion: str | None
) -> None:
    with pytest.raises(ConfigError) as info:
        compile_condition(condition, schema=SCHEMA)
    (problem,) = info.value.problems
    assert (problem.path, problem.suggestion) == (path, suggestion)
    assert "is never" in problem.message


def test_known_values_of_enumerated_facts_compile() -> None:
    pred = compile_condition(
        {"time.daypart": {"$in": ["night", "evening"]}, "device.type": "mobile"}, schema=SCHEMA
    )
    assert pred({"time": {"daypart": "night"}, "device": {"type": "mobile"}})
    # without a schema, facts are not checked at all (and neither are their values)
    assert not compile_condition({"time.daypart": "nite"})({"time": {"daypart": "night"}})


def test_nesting_deeper_than_the_limit_is_a_problem_not_a_recursion_error() -> None:
    condition: dict[str, Any] = {"device.type": "mobile"}
    for _ in range(1_000):
        condition = {"$or": [condition, {"device.type": "tablet"}]}
    with pytest.raises(ConfigError, match="nested more than 64 levels deep") as info:
        compile_condition(condition, schema=SCHEMA)
    assert len(info.value.problems) == 1


@pytest.mark.parametrize("value", ["5", None, [1], 5, -(10**400)])
def test_an_integer_beyond_a_double_compares_as_an_infinity(value: Any) -> None:
    # before: js_number raised OverflowError ("int too large to convert to float")
    assert compile_condition({"a": {"$gt": 10**400}})({"a": value}) is False
    assert compile_condition({"a": {"$lt": "5"}})({"a": -(10**400)}) is True


@pytest.mark.parametrize(
    ("value", "op", "const", "expected"),
    [
        # JavaScript orders strings by UTF-16 code units: a character above U+FFFF is a
        # surrogate pair (U+D83D ...), which sorts below U+E000..U+FFFF.
        ("\U0001f600", "$lt", "\uff46", True),
        ("\U0001f600", "$gt", "\uff46", False),
        ("\uff46", "$gte", "\U0001f600x", True),
        ("a\U0001f600", "$lte", "a\uff46", True),
        ("é", "$lt", "\uff46", True),  # within the BMP, code points and code units agree
        ("\uff46", "$gt", "a", True),  # an ASCII constant orders the same either way
    ],
)
def test_strings_order_by_utf16_code_units_as_in_javascript(
    value: str, op: str, const: str, expected: bool
) -> None:
    condition = {"s": {op: const}}
    assert compile_condition(condition)({"s": value}) is expected
    assert compile_condition({"$or": [condition]})({"s": value}) is expected
    assert compile_condition({"s": {"$elemMatch": {op: const}}})({"s": [value]}) is expected


@pytest.mark.parametrize(
    "condition",
    [{"a": {"$gt": 5}}, {"a": {"$gte": "x"}}, {"a": {"$between": [1, 2]}, "b": {"$lt": 1}}],
)
def test_ordering_a_deeply_nested_array_fact_is_false_not_a_recursion_error(
    condition: dict[str, Any],
) -> None:
    parsed = json.loads("[" * 900 + "]" * 900)  # as deep as json.loads goes
    built: list[Any] = []
    for _ in range(5000):
        built = [built]
    for deep in (parsed, built):
        facts = {"a": deep, "b": deep}
        assert compile_condition(condition)(facts) is False
        assert compile_condition({"$not": condition})(facts) is True


def test_an_array_fact_orders_as_its_javascript_text() -> None:
    # String([1, [2, [null, 3]], []]) is "1,2,,3,"; String([[]]) is ""; a cycle reads as "".
    assert compile_condition({"a": {"$gte": "1,2,,3,"}})({"a": [1, [2, [None, 3]], []]})
    assert not compile_condition({"a": {"$gt": "1,2,,3,"}})({"a": [1, [2, [None, 3]], []]})
    assert compile_condition({"a": {"$lte": 0, "$gte": 0}})({"a": [[]]})
    assert compile_condition({"a": {"$gte": 7, "$lte": 7}})({"a": [[[7]]]})
    cyclic: list[Any] = [5]
    cyclic.append(cyclic)
    assert compile_condition({"a": {"$gte": "5,", "$lte": "5,"}})({"a": cyclic})


def test_all_costs_linear_time_in_a_long_array_fact() -> None:
    members = [f"x{i}" for i in range(50)]
    predicate = compile_condition({"t": {"$all": members}})
    folded = compile_condition({"t": {"$alli": [m.upper() for m in members]}})
    facts = {"t": [f"y{i}" for i in range(10_000)] + members}
    predicate(facts)  # warm
    start = time.thread_time_ns()
    assert predicate(facts) is True
    assert folded(facts) is True
    elapsed_ms = (time.thread_time_ns() - start) / 1e6
    assert elapsed_ms < 100, elapsed_ms  # 50 x 10,000 element tests took 0.4 to 0.75 s


class _Device(StrEnum):
    MOBILE = "mobile"


class _Hour(IntEnum):
    NINE = 9


@pytest.mark.parametrize(
    "condition",
    [
        {"d": {"$regex": "^mob"}},
        {"d": {"$regexi": "^MOB"}},
        {"h": {"$between": [8, 10]}},
        {"h": {"$between": [22, 10]}},
        {"l": "mobile"},
        {"d": "mobile", "h": 9},
    ],
)
def test_generated_code_agrees_with_the_tree_on_subclasses_of_str_int_and_list(
    condition: dict[str, Any],
) -> None:
    # a plugin's fact may be an enum member or a list subclass; the tree sees their JSON type
    facts = {"d": _Device.MOBILE, "h": _Hour.NINE, "l": type("Tags", (list,), {})(["mobile"])}
    compiled = ConditionCompiler().compile_full(condition, "")
    assert compiled.node.holds(facts, None) is True
    assert compiled.predicate(facts) is True


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("\u0663", None),  # an Arabic-Indic 3: Python's float reads it, JavaScript's Number not
        ("1\u0660", None),
        ("0x\u0663", None),
        ("\u00a012\ufeff", 12),  # JavaScript trims its whitespace, U+FEFF included
        ("\x1c12", None),  # Python's strip() removes U+001C; JavaScript's trim does not
        ("12\x85", None),
        (" 0x1A ", 26),
        ("-1e3", -1000),
    ],
)
def test_a_string_fact_becomes_a_number_as_javascript_reads_it(
    text: str, number: float | None
) -> None:
    between = {"a": {"$gte": -1e9, "$lte": 1e9}}
    assert compile_condition(between)({"a": text}) is (number is not None)
    if number is not None:
        assert compile_condition({"a": {"$gte": number, "$lte": number}})({"a": text})


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.00001, "0.00001"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (123.456, "123.456"),
        (1e16, "10000000000000000"),
        (1.2345678901234568e20, "123456789012345680000"),
        (1e21, "1e+21"),
        (-2.5e25, "-2.5e+25"),
        (10**22, "1e+22"),
        (2**53 + 1, "9007199254740992"),
        (-0.0, "0"),
        (7, "7"),
    ],
)
def test_numbers_become_text_as_javascript_writes_them(number: float, text: str) -> None:
    assert js_string(number) == text
    # what the text is for: an array's text under ordering, and a number as a version
    assert compile_condition({"a": {"$gte": text, "$lte": text}})({"a": [number]})


@pytest.mark.parametrize(
    "point",
    [
        {"latitude": math.inf, "longitude": 0},
        {"lat": 0, "lon": -math.inf},
        {"lat": 10**400, "lon": 0},  # json.loads reads such an integer
        {"lat": math.nan, "lon": 0},
    ],
)
def test_near_is_false_for_a_coordinate_that_is_no_finite_number_instead_of_raising(
    point: dict[str, Any],
) -> None:
    near = {"geo": {"$near": {"lat": 43.7, "lon": -79.4, "km": 20000}}}
    assert compile_condition(near)({"geo": point}) is False
    assert compile_condition({"$not": near})({"geo": point}) is True


@pytest.mark.parametrize(
    ("value", "millis"),
    [
        (datetime.min, -62135596800000.0),  # timestamp() raised "year 0 is out of range"
        (datetime.min.replace(tzinfo=UTC), -62135596800000.0),
        (datetime(1970, 1, 1, 0, 0, 1), 1000.0),  # naive is UTC, as for $before/$after
        (datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1))), 1767222000000.0),
    ],
)
def test_a_datetime_under_ordering_is_its_utc_milliseconds_and_never_raises(
    value: datetime, millis: float
) -> None:
    at = compile_condition({"a": {"$gte": millis, "$lte": millis}})
    assert at({"a": value}) is True
    assert compile_condition({"a": {"$gt": 5}})({"a": value}) is (millis > 5)


@pytest.mark.parametrize("text", ["0x" + "f" * 300, "0o" + "7" * 400, "0b" + "1" * 1100])
def test_a_hexadecimal_string_beyond_a_double_is_infinity_not_an_overflow(text: str) -> None:
    assert compile_condition({"a": {"$gt": 1e308}})({"a": text}) is True
    assert compile_condition({"a": {"$elemMatch": {"$lt": 5}}})({"a": [text]}) is False
