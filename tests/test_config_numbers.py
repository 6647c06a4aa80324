"""Every number and date a configuration accepts is one every stage can compute with.

A value the validator lets through but a later stage chokes on breaks the all-or-nothing
promise: the load succeeds and then every request degrades (or the load fails with an
``OverflowError`` instead of a :class:`ConfigError`). These tests load such values and
either expect a ``ConfigError`` naming the value's path, or a configuration that serves.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize import Catalog, Event, History, Personalizer, Product, Request
from personalize.errors import ConfigError

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
NON_FINITE = [math.inf, -math.inf, math.nan]


def _paths(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        Personalizer(config, autoload_plugins=False)
    return [problem.path for problem in caught.value.problems]


@pytest.mark.parametrize("value", NON_FINITE, ids=str)
@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"ranking": {"weights": {"popularity": "X"}}}, "ranking.weights.popularity"),
        ({"ranking": {"personal_half_life_days": "X"}}, "ranking.personal_half_life_days"),
        ({"ranking": {"repurchase_window_days": "X"}}, "ranking.repurchase_window_days"),
        ({"ranking": {"index": {"half_life_days": "X"}}}, "ranking.index.half_life_days"),
        ({"offers": [{"id": "o", "cap": {"per_customer": 1, "days": "X"}}]}, "offers[0].cap.days"),
        (
            {"experiments": [{"key": "e", "variants": [{"key": "a", "weight": "X"}]}]},
            "experiments[0].variants[0].weight",
        ),
        (
            {"rules": [{"id": "r", "then": [{"boost": {"where": {}, "by": "X"}}]}]},
            "rules[0].then[0].boost.by",
        ),
        (
            {"rules": [{"id": "r", "then": [{"set_weights": {"popularity": "X"}}]}]},
            "rules[0].then[0].set_weights.popularity",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_number_that_is_not_finite_is_a_problem_at_its_path(
    config: dict[str, Any], path: str, value: float
) -> None:
    config = _replace(config, "X", value)
    assert path in _paths(config)


def _replace(node: Any, marker: str, value: float) -> Any:
    if node == marker:
        return value
    if isinstance(node, dict):
        return {k: _replace(v, marker, value) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, marker, value) for v in node]
    return node


def test_a_non_finite_weight_in_a_variant_override_is_a_problem_at_the_override() -> None:
    config = {
        "experiments": [
            {
                "key": "e",
                "variants": [
                    {"key": "a"},
                    {"key": "b", "overrides": {"ranking.weights.popularity": math.nan}},
                ],
            }
        ]
    }
    assert _paths(config) == ["experiments[0].variants[1].overrides.ranking.weights.popularity"]


def test_variant_weights_whose_sum_overflows_are_a_problem() -> None:
    variants = [{"key": "a", "weight": 1e308}, {"key": "b", "weight": 1e308}]
    assert _paths({"experiments": [{"key": "e", "variants": variants}]}) == [
        "experiments[0].variants"
    ]


@pytest.mark.parametrize("days", [1e6, 1e12, 1e308])
def test_a_day_count_beyond_the_calendar_is_a_problem(days: float) -> None:
    config = {
        "ranking": {"exclude_purchased": True, "repurchase_window_days": days},
        "offers": [{"id": "o", "cap": {"per_customer": 3, "days": days}}],
    }
    assert sorted(_paths(config)) == ["offers[0].cap.days", "ranking.repurchase_window_days"]


CATALOG = Catalog(products=[Product(id=f"p{i}", title=f"P{i}", price=10.0) for i in range(5)])


@given(st.floats(min_value=1e-3, max_value=36_500))
def test_every_accepted_day_count_serves_without_degrading(days: float) -> None:
    p = Personalizer(
        {
            "ranking": {"exclude_purchased": True, "repurchase_window_days": days},
            "offers": [{"id": "o", "cap": {"per_customer": 3, "days": days, "count": "shown"}}],
        },
        catalog=CATALOG,
        autoload_plugins=False,
    )
    bought = Event(type="purchase", product_id="p1", customer_id="c", at=NOW - timedelta(days=1))
    p.track(bought)
    for history in (None, History(events=[bought])):
        result = p.personalize(Request(user_id="c", now=NOW), history, customer_id="c")
        assert not result.degraded, result.trace.errors
        assert [o.offer_id for o in result.offers] == ["o"]


@pytest.mark.parametrize("until", ["9999-12-31", "9999-12-31T23:59:59.999999"])
@pytest.mark.parametrize("section", ["rules", "offers"])
def test_a_window_open_to_the_end_of_the_calendar_loads_and_is_open(
    section: str, until: str
) -> None:
    config = {section: [{"id": "x", "active": {"from": "2026-01-01", "until": until}}]}
    p = Personalizer(config, autoload_plugins=False)
    result = p.personalize(Request(user_id="c", now=NOW))
    assert not result.degraded
    if section == "offers":
        assert [o.offer_id for o in result.offers] == ["x"]
    else:
        assert result.rules == ("x",)
