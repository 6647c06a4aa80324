"""``compile_condition`` against the ``growthbook`` package's own ``evalCondition``.

Hypothesis builds nested conditions (``$and``/``$or``/``$nor``/``$not``, ``$elemMatch``,
``$all``, ``$size``, ``$exists``, ``$type``, ``$in``/``$nin`` with mixed types, ordering,
versions, regexes, dotted and missing paths) and attribute documents, and both evaluators
must agree, leniently and strictly.

The documents are typed per path (``s`` a string, ``n`` a number, ``t`` a list of strings
...), and each path is tested with the operators whose meaning both evaluators share on
that type, so that the deliberate differences listed in docs/rules.md ("Conformance with
GrowthBook") stay out: bare scalars matching array members, JavaScript's number coercions
under ordering and versions, a missing fact counting as 0, deep equality of arrays, and
falsy ``$elemMatch`` elements. Each of those has its own test below, which pins the
difference down as documented.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_strategies import logical

from personalize.errors import ConfigError
from personalize.rules import compile_condition
from personalize.rules._values import js_string
from tests.conftest import in_ci

try:
    import growthbook.core as growthbook_core
except ImportError:  # the test extra installs it; under CI its absence is a failure
    if in_ci():
        raise
    pytest.skip("growthbook is not installed (pip install -e '.[test]')", allow_module_level=True)


def reference(condition: dict[str, Any], attributes: dict[str, Any]) -> bool:
    """The growthbook package's verdict."""
    return bool(growthbook_core.evalCondition(attributes, condition))


# ------------------------------------------------------------------ documents

# Non-ASCII strings include one above U+FFFF and one in U+E000..U+FFFF: JavaScript orders
# strings by UTF-16 code units, so the emoji sorts before the fullwidth letter.
TEXT = st.sampled_from(
    ["a", "b", "ab", "A", "B", "1", "10", "2", "é", "\uff46", "\U0001f600", "x y"]
)
STRING = st.one_of(TEXT, st.just(""))
VERSION = st.sampled_from(["1.2.3", "1.10.0", "v1.2.3", "1.2.3-rc.1", "1.2.3+b7", "2", "0"])
NUMBER = st.one_of(st.sampled_from([0, 1, 2, 10, -1]), st.sampled_from([0.5, 1.0, 2.5]))
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, STRING)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """Attributes with one JSON type per path; ``m`` and ``o.x`` are never present."""
    item = st.fixed_dictionaries({"s": st.one_of(STRING, VERSION), "n": NUMBER})
    return {
        "s": draw(st.one_of(STRING, VERSION)),
        "n": draw(NUMBER),
        "f": draw(st.booleans()),
        "z": None,
        "t": draw(st.lists(TEXT, max_size=4)),
        "u": draw(st.lists(NUMBER.filter(bool), max_size=3)),
        "o": {"s": draw(STRING), "n": draw(NUMBER)},
        "docs": draw(st.lists(item, max_size=3)),
    }


# ------------------------------------------------------------------ value tests per type

ORDER = st.sampled_from(["$gt", "$gte", "$lt", "$lte"])
MEMBERSHIP = st.sampled_from(["$in", "$nin"])
PATTERN = st.sampled_from(["a", "^a", "b$", "1|A", "^$", r"\d", "^[a-b]+$", "x\\sy", "é"])
REGEX_OPS = st.sampled_from(["$regex", "$regexi", "$notRegex", "$notRegexi"])
VERSION_OPS = st.sampled_from(["$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"])
TYPES = st.sampled_from(["string", "number", "boolean", "array", "object", "null"])


def _op(name: st.SearchStrategy[str], arg: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.builds(lambda o, a: {o: a}, name, arg)


def _common(scalar: st.SearchStrategy[Any]) -> list[st.SearchStrategy[Any]]:
    """Tests that mean the same on any scalar (and on a missing value)."""
    return [
        _op(st.sampled_from(["$eq", "$ne"]), SCALAR),
        _op(MEMBERSHIP, st.lists(SCALAR, max_size=4)),
        _op(st.sampled_from(["$ini", "$nini"]), st.lists(scalar, max_size=3)),
        _op(st.just("$exists"), st.booleans()),
        _op(st.just("$type"), TYPES),
    ]


def _nested(leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``$not`` and several operators in one mapping, over operator mappings."""
    nested = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda t: {"$not": t}, inner),
            st.builds(lambda a, b: {**a, **b}, inner, inner),
        ),
        max_leaves=3,
    )
    return st.deferred(lambda: nested)  # keeps the strategies' repr short


STRING_TEST = _nested(
    st.one_of(
        *_common(STRING),
        _op(ORDER, STRING),
        _op(REGEX_OPS, PATTERN),
        _op(VERSION_OPS, VERSION),
    )
)
NUMBER_TEST = _nested(st.one_of(*_common(NUMBER), _op(ORDER, NUMBER)))
BOOLEAN_TEST = _nested(st.one_of(*_common(st.booleans())))
# A missing value: only the tests that read null the same way (no ordering, no versions).
MISSING_TEST = _nested(
    st.one_of(
        *_common(SCALAR),
        _op(REGEX_OPS, PATTERN),
        _op(st.just("$size"), st.integers(0, 2)),
        _op(st.just("$all"), st.lists(TEXT, max_size=2)),
        _op(st.just("$elemMatch"), st.just({"$eq": "a"})),
    )
)
SIZE = st.one_of(st.integers(0, 4), NUMBER_TEST)
STRING_LIST_TEST = _nested(
    st.one_of(
        _op(MEMBERSHIP, st.lists(SCALAR, max_size=4)),
        _op(st.sampled_from(["$ini", "$nini"]), st.lists(STRING, max_size=3)),
        _op(st.just("$size"), SIZE),
        _op(st.sampled_from(["$all", "$alli"]), st.lists(TEXT, max_size=3)),
        _op(st.just("$all"), st.lists(STRING_TEST, max_size=2)),
        _op(st.just("$elemMatch"), STRING_TEST),
        _op(st.just("$exists"), st.booleans()),
        _op(st.just("$type"), TYPES),
    )
)
NUMBER_LIST_TEST = _nested(
    st.one_of(
        _op(MEMBERSHIP, st.lists(SCALAR, max_size=4)),
        _op(st.just("$size"), SIZE),
        _op(st.just("$all"), st.lists(NUMBER, max_size=2)),
        _op(st.just("$elemMatch"), NUMBER_TEST),
    )
)


def fields(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping of paths to tests fitting each path's type."""
    per_path: list[st.SearchStrategy[tuple[str, Any]]] = [
        st.tuples(st.sampled_from(["s", "o.s"]), st.one_of(STRING, STRING_TEST)),
        st.tuples(st.sampled_from(["n", "o.n"]), st.one_of(NUMBER, NUMBER_TEST)),
        st.tuples(st.just("f"), st.one_of(st.booleans(), BOOLEAN_TEST)),
        st.tuples(st.sampled_from(["m", "z", "o.x", "s.x"]), MISSING_TEST),
        st.tuples(st.just("t"), STRING_LIST_TEST),
        st.tuples(st.just("u"), NUMBER_LIST_TEST),
    ]
    if depth > 0:
        per_path.append(
            st.tuples(
                st.just("docs"),
                st.builds(lambda f, c: {"$elemMatch": {**f, **c}}, FIELDS, INNER),
            )
        )
    mapping = st.lists(st.one_of(per_path), min_size=1, max_size=3).map(dict)
    return st.deferred(lambda: mapping)


def conditions(depth: int = 1) -> st.SearchStrategy[dict[str, Any]]:
    """Nested conditions: logical operators over fields."""
    nested = st.recursive(fields(depth), logical, max_leaves=5)
    return st.deferred(lambda: nested)


FIELDS = fields(0)
INNER = conditions(0)


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # the strategy's repr
@settings(max_examples=300)
@given(conditions(), documents())
def test_compiled_conditions_agree_with_growthbooks_evaluator(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    expected = reference(condition, attributes)
    assert compile_condition(condition, strict=False)(attributes) is expected
    try:
        strict = compile_condition(condition)
    except ConfigError as exc:
        rejected = [p.path for p in exc.problems]
    else:
        rejected = []
        assert strict(attributes) is expected
    assert all(".$size" in path for path in rejected)  # $size compared with a non-number


# ------------------------------------------------------------------ documented differences


@pytest.mark.parametrize(
    ("condition", "attributes", "ours", "theirs"),
    [
        # a bare scalar matches an array member (MongoDB)
        ({"t": "a"}, {"t": ["a", "b"]}, True, False),
        # ordering follows JavaScript: a missing fact is 0, "10" is 10
        ({"m": {"$lt": 5}}, {}, True, False),
        ({"s": {"$gt": 2}}, {"s": "10"}, True, False),
        # a value that is not a version string is "0"
        ({"m": {"$vlt": "1.0.0"}}, {}, True, False),
        # arrays compare deeply under $eq
        ({"t": {"$eq": ["a"]}}, {"t": ["a"]}, True, False),
        # $elemMatch skips JavaScript-falsy elements (growthbook-python only skips null)
        ({"u": {"$elemMatch": {"$eq": 0}}}, {"u": [0]}, False, True),
        # a mapping of $ keys under $elemMatch is operators, as in JavaScript
        ({"docs": {"$elemMatch": {"$or": []}}}, {"docs": [{}]}, False, True),
        # an empty mapping is a bare value (JavaScript), not an empty operator mapping
        ({"o": {}}, {"o": {"s": "a"}}, False, True),
        # a path does not step into arrays
        ({"t.0": "a"}, {"t": ["a"]}, False, True),
    ],
)
def test_documented_differences_from_growthbook_python_hold(
    condition: dict[str, Any], attributes: dict[str, Any], ours: bool, theirs: bool
) -> None:
    assert compile_condition(condition, strict=False)(attributes) is ours
    assert reference(condition, attributes) is theirs


@given(st.one_of(st.floats(allow_nan=False), st.integers(-(10**30), 10**30)))
def test_numbers_become_the_text_growthbook_writes(number: float) -> None:
    assert js_string(number) == growthbook_core._js_number_to_string(number)
