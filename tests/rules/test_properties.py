"""Properties of compiled conditions over generated conditions and fact documents."""

from __future__ import annotations

import contextlib
import copy
import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from rule_strategies import SCALARS, VALUES, conditions, facts, reference, value_tests

from personalize.context import FACT_SCHEMA
from personalize.errors import ConfigError
from personalize.rules import ConditionCompiler, Evaluation, RuleSet, compile_condition
from personalize.rules._nodes import CondNode, FieldTest, VNode, read_path


@given(conditions(), facts())
def test_compiled_evaluation_equals_the_reference_interpreter(
    cond: dict[str, Any], doc: dict[str, Any]
) -> None:
    assert compile_condition(cond)(doc) is reference(cond, doc)


@given(value_tests(), VALUES)
def test_every_operator_equals_the_reference_on_single_values(test: Any, value: Any) -> None:
    cond = {"a": test}
    assert compile_condition(cond)({"a": value}) is reference(cond, {"a": value})


SMALL = st.one_of(st.none(), st.booleans(), st.integers(0, 3), st.sampled_from(["", "1", "2", "a"]))


@given(
    st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$eq", "$ne", "$in", "$nin"]),
    st.one_of(st.integers(0, 3), st.sampled_from(["1", "2", "a"])),
    st.one_of(SMALL, st.lists(SMALL, max_size=2)),
)
def test_comparisons_equal_the_reference_on_a_small_domain(op: str, const: Any, value: Any) -> None:
    cond = {"a": {op: [const] if op in ("$in", "$nin") else const}}
    assert compile_condition(cond)({"a": value}) is reference(cond, {"a": value})


@given(conditions(), facts())
def test_generated_code_equals_the_tree_and_its_explanation(
    cond: dict[str, Any], doc: dict[str, Any]
) -> None:
    compiled = ConditionCompiler().compile_full(cond, "")
    result = compiled.predicate(doc)
    assert compiled.node.holds(doc, None) is result
    assert (compiled.node.explain(doc, None) is None) is result


@given(conditions(), conditions(), facts())
def test_not_nor_and_de_morgan_agree(
    a: dict[str, Any], b: dict[str, Any], doc: dict[str, Any]
) -> None:
    nor = compile_condition({"$nor": [a, b]})(doc)
    assert compile_condition({"$not": {"$or": [a, b]}})(doc) is nor
    assert compile_condition({"$and": [{"$not": a}, {"$not": b}]})(doc) is nor
    assert compile_condition({"$not": {"$not": a}})(doc) is compile_condition(a)(doc)
    both = compile_condition({"$and": [a, b]})(doc)
    assert compile_condition({"$not": {"$or": [{"$not": a}, {"$not": b}]}})(doc) is both


@given(
    st.lists(
        SCALARS.filter(lambda v: v is not None and not isinstance(v, bool)), min_size=1, max_size=4
    ),
    facts(),
)
def test_in_equals_an_or_of_equalities(members: list[Any], doc: dict[str, Any]) -> None:
    as_in = compile_condition({"a": {"$in": members}})(doc)
    as_or = compile_condition({"$or": [{"a": m} for m in members]})(doc)
    assert as_in is as_or


@given(conditions(), facts())
def test_evaluation_is_pure_and_deterministic(cond: dict[str, Any], doc: dict[str, Any]) -> None:
    before = copy.deepcopy(doc)
    pred = compile_condition(cond)
    first = pred(doc)
    assert pred(doc) is first
    assert compile_condition(copy.deepcopy(cond))(doc) is first
    assert doc == before


JSON = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from(
                    [
                        "$or",
                        "$in",
                        "$regex",
                        "geo.country",
                        "when",
                        "then",
                        "id",
                        "rules",
                        "segments",
                        "boost",
                        "where",
                        "by",
                    ]
                ),
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


@given(JSON)
def test_garbage_conditions_raise_config_error_and_nothing_else(garbage: Any) -> None:
    with contextlib.suppress(ConfigError):
        compile_condition(garbage, schema=dict(FACT_SCHEMA))


@given(JSON)
def test_garbage_configurations_raise_config_error_and_nothing_else(garbage: Any) -> None:
    with contextlib.suppress(ConfigError):
        RuleSet.compile(garbage if isinstance(garbage, dict) else {"rules": garbage})


@given(
    st.fixed_dictionaries(
        {
            "rules": st.lists(
                st.fixed_dictionaries(
                    {
                        "id": st.text(max_size=3),
                        "when": JSON,
                        "then": st.lists(
                            st.dictionaries(
                                st.sampled_from(
                                    [
                                        "boost",
                                        "pin",
                                        "filter",
                                        "bury",
                                        "exclude",
                                        "set_weights",
                                        "zap",
                                    ]
                                ),
                                JSON,
                                max_size=1,
                            ),
                            max_size=2,
                        ),
                    }
                ),
                max_size=3,
            ),
            "segments": st.dictionaries(st.text(max_size=3), JSON, max_size=3),
        }
    )
)
def test_garbage_rules_raise_config_error_and_nothing_else(config: dict[str, Any]) -> None:
    with contextlib.suppress(ConfigError):
        RuleSet.compile(config)


@given(
    st.lists(SCALARS, max_size=6),
    st.lists(st.one_of(SCALARS, st.lists(SCALARS, max_size=3)), max_size=40),
    st.booleans(),
)
def test_all_on_long_arrays_equals_the_reference(
    members: list[Any], value: list[Any], fold: bool
) -> None:
    op = "$alli" if fold else "$all"
    got = compile_condition({"a": {op: members}})({"a": value})
    if fold:  # $alli: a string member equals an element ignoring case; others as $all
        expected = all(
            any(isinstance(e, str) and e.lower() == m.lower() for e in value)
            if isinstance(m, str)
            else reference({"a": {"$all": [m]}}, {"a": value})
            for m in members
        )
    else:
        expected = reference({"a": {"$all": members}}, {"a": value})
    assert got is expected


def _nodes(node: Any, field: Any = None) -> list[tuple[Any, Any]]:
    """Every node of a compiled tree, with the field test a value test belongs to."""
    found = [(node, field)]
    if isinstance(node, FieldTest):
        found += _nodes(node.test, node)
    for child in (
        getattr(node, "children", ())
        or getattr(node, "tests", ())
        or [getattr(node, n) for n in ("child", "inner") if hasattr(node, n)]
    ):
        found += _nodes(child, field)
    return found


@given(conditions(), facts())
def test_an_explanation_names_a_sub_condition_that_really_fails(
    cond: dict[str, Any], doc: dict[str, Any]
) -> None:
    compiled = ConditionCompiler().compile_full(cond, "cond")
    failure = compiled.node.explain(doc, None)
    if failure is None:
        return
    named = [(n, f) for n, f in _nodes(compiled.node) if n.where == failure.where]
    assert named, failure
    if isinstance(named[0][0], CondNode) and failure.path in (None, "segments"):
        holds = failure.test.startswith("$nor: this holds")  # the child that made $nor false
        assert any(n.holds(doc, None) is holds for n, _ in named if isinstance(n, CondNode))
        return
    value = read_path(doc, failure.path.split("."))
    assert failure.actual == value or failure.actual is value
    assert any(
        not n.test(value, None)
        for n, field in named
        if isinstance(n, VNode) and field is not None and field.dotted == failure.path
    ), failure


def _cyclic() -> tuple[list[Any], dict[str, Any]]:
    items: list[Any] = [1]
    items.append(items)
    mapping: dict[str, Any] = {}
    mapping["a"] = mapping
    return items, mapping


_ODD = st.sampled_from(
    [
        math.inf, -math.inf, math.nan, 10**400, -(10**400), datetime.min, datetime.max,
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))), date.min, date.max,
        "\ud800", "x" * 5000, *_cyclic(), b"bytes", {1, 2}, object(), 1j, "\x00", "1e999",
        "0x" + "f" * 400, "9" * 5000, "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
        {"latitude": math.inf, "longitude": 1}, {"lat": 10**400, "lon": 0}, [math.nan],
    ]
)  # fmt: skip
_ODD_VALUES = st.recursive(
    st.one_of(_ODD, st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "lat", "lon"]), inner, max_size=2),
    ),
    max_leaves=5,
)
_EVERY_OPERATOR = [
    {"$gt": 5}, {"$lt": "x"}, {"$eq": 1}, {"$ne": None}, {"$in": [1, "a", None, [1]]},
    {"$nin": [True]}, {"$ini": ["A"]}, {"$all": [1, "a"]}, {"$alli": ["A", 2]},
    {"$size": {"$gt": 0}}, {"$elemMatch": {"$gt": 1}}, {"$elemMatch": {"a": 1}},
    {"$exists": True}, {"$type": "number"}, {"$regex": "^a"}, {"$notRegex": "\\s"},
    {"$veq": "1.2.3"}, {"$vgt": "1"}, {"$between": [1, 5]}, {"$between": [22, 5]},
    {"$near": {"lat": 1, "lon": 2, "km": 100}}, {"$before": "2026-01-01"},
    {"$after": "2026-01-01T00:00"}, {"$before": "2026-01-01T00:00:00+14:00"},
    {"$after": "7d"}, {"$withinLast": "1d"}, {"$olderThan": "1d"}, 1, "a", [1], {"a": 1}, None,
]  # fmt: skip
_COMPILED = [ConditionCompiler().compile_full({"v": op}, "v") for op in _EVERY_OPERATOR]


@given(_ODD_VALUES, st.sampled_from([None, datetime(2026, 1, 1, tzinfo=UTC), datetime.min]))
def test_every_operator_on_odd_values_never_raises_and_the_code_equals_the_tree(
    value: Any, now: datetime | None
) -> None:
    facts = {"v": value} if now is None else {"v": value, "now": now}
    for compiled in _COMPILED:
        result = compiled.predicate(facts)
        assert result is compiled.node.holds(facts, Evaluation(now))
        failure = compiled.node.explain(facts, Evaluation(now))
        assert (failure is None) is result
        str(failure)
