"""One error channel: every kind of plugin failure reaches ``on_error``, the trace and
``Result.degraded``, and the rest of the decision still comes back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from personalize import Catalog, Event, Personalizer, Product, Request, Result
from personalize.plugins import Registry
from personalize.ranking import RankingInput
from personalize.rules import PluginAction

NOW = datetime(2026, 12, 15, 18, 0, tzinfo=UTC)
CATALOG = Catalog(
    [
        Product(id="a", category=("x",), price=10.0),
        Product(id="b", category=("x",), price=20.0),
        Product(id="c", category=("y",), price=30.0),
    ]
)
EVENTS = [
    Event(type="purchase", product_id=pid, at=NOW - timedelta(days=day), order_id=f"o{day}")
    for day, pid in enumerate(["a", "b", "a", "c", "b", "a"], start=1)
]
BOOM = "$boom"
#: A condition that calls the failing operator.
FAILING = {"device.type": {BOOM: 1}}


class Explode(BaseModel):
    """The body of the failing action."""


@dataclass
class Faulty:
    """A plugin with every kind of part; the part named ``fails`` raises ``error``."""

    fails: str
    error: Exception
    name: str = "faulty"

    def setup(self, registry: Registry) -> None:
        registry.register_operator(BOOM, self._operator)
        registry.register_fact("weather", self._fact, schema={"weather.temp_c": "number"})
        registry.register_action("explode", Explode, self._build)
        registry.register_scorer("margin", self._scorer)
        registry.register_candidate_source("staff", self._source)

    def _part(self, part: str, value: Any) -> Any:
        if part == self.fails:
            raise self.error
        return value

    def _operator(self, actual: Any, arg: Any) -> bool:
        return bool(self._part("operator", False))

    def _fact(self, facts: Mapping[str, Any]) -> Any:
        return self._part("fact", {"temp_c": 5.0})

    def _build(self, spec: Any, rule_id: str, compiler: Any) -> PluginAction:
        return PluginAction(
            "explode", rule_id, {}, apply=lambda ranked, spec: self._part("action", ranked)
        )

    def _scorer(self, pid: str, request: RankingInput) -> float:
        return float(self._part("scorer", 0.1))

    def _source(self, request: RankingInput) -> Mapping[str, float]:
        return dict(self._part("source", {"c": 0.5}))


def _base() -> dict[str, Any]:
    return {
        "ranking": {"weights": {"popularity": 1.0, "margin": 0.0, "staff": 0.0}},
        "landing": [{"page": "/"}],
        "offers": [{"id": "always", "code": "HELLO", "value": {"percent": 5}}],
    }


def _with(**sections: Any) -> dict[str, Any]:
    config = _base()
    for key, value in sections.items():
        config[key] = value
    return config


def _rest_is_there(result: Result) -> None:
    assert [rec.product_id for rec in result.products]
    assert result.landing is not None
    assert result.landing.page == "/"
    assert [offer.offer_id for offer in result.offers] == ["always"]


@dataclass(frozen=True)
class Case:
    part: str
    config: dict[str, Any]
    where: str
    check: Callable[[Result], None] = _rest_is_there


CASES = {
    "operator in a rule": Case(
        "operator",
        _with(rules=[{"id": "r", "when": FAILING, "then": [{"pin": {"products": ["c"]}}]}]),
        "rules: operator $boom (faulty)",
    ),
    "operator in a landing condition": Case(
        "operator",
        _with(landing=[{"id": "winter", "when": FAILING, "page": "/winter/"}, {"page": "/"}]),
        "landing: operator $boom (faulty)",
    ),
    "operator in an offer condition": Case(
        "operator",
        _with(
            offers=[
                {"id": "vip", "when": FAILING, "code": "VIP", "priority": 9},
                {"id": "always", "code": "HELLO", "value": {"percent": 5}},
            ]
        ),
        "offers: operator $boom (faulty)",
    ),
    "operator in experiment targeting": Case(
        "operator",
        _with(
            experiments=[
                {"key": "targeted", "when": FAILING, "variants": [{"key": "on"}]},
                {"key": "everyone", "variants": [{"key": "on"}]},
            ]
        ),
        "experiments: operator $boom (faulty)",
    ),
    "fact provider": Case(
        "fact",
        _with(rules=[{"id": "cold", "when": {"weather.temp_c": {"$lt": 0}}}]),
        "context: fact weather",
    ),
    "action": Case(
        "action",
        _with(rules=[{"id": "party", "then": [{"explode": {}}]}]),
        "ranking: action explode (rule party)",
    ),
    "scorer": Case(
        "scorer",
        _with(ranking={"weights": {"popularity": 1.0, "margin": 1.0, "staff": 0.0}}),
        "ranking: scorer margin",
    ),
    "candidate source": Case(
        "source",
        _with(ranking={"weights": {"popularity": 1.0, "margin": 0.0, "staff": 1.0}}),
        "ranking: source staff",
    ),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_every_plugin_failure_goes_through_the_error_channel(kind: str) -> None:
    case = CASES[kind]
    error = RuntimeError(f"{kind} is broken")
    seen: list[tuple[BaseException, str]] = []
    p = Personalizer(
        case.config,
        catalog=CATALOG,
        interactions=EVENTS,
        plugins=[Faulty(case.part, error)],
        autoload_plugins=False,
        on_error=lambda exc, where: seen.append((exc, where)),
    )
    result = p.personalize(Request(now=NOW, user_id="u1", user_agent="Mozilla/5.0"))

    assert seen, f"{kind}: on_error was not called"
    assert all(exc is error for exc, _ in seen)
    assert {where for _, where in seen} == {case.where}
    assert f"{case.where}: RuntimeError: {kind} is broken" in result.trace.errors
    assert result.degraded
    assert "Degraded:" in result.explain()
    assert case.where in result.explain()
    case.check(result)


def test_a_failing_experiment_condition_leaves_the_other_experiments_assigned() -> None:
    p = Personalizer(
        CASES["operator in experiment targeting"].config,
        catalog=CATALOG,
        plugins=[Faulty("operator", RuntimeError("down"))],
        autoload_plugins=False,
    )
    result = p.personalize(Request(now=NOW, user_id="u1"))
    assert result.experiments == {"everyone": "on"}


def test_a_failing_scorer_is_reported_once_per_request() -> None:
    seen: list[str] = []
    p = Personalizer(
        CASES["scorer"].config,
        catalog=CATALOG,
        interactions=EVENTS,
        plugins=[Faulty("scorer", KeyError("no margin"))],
        autoload_plugins=False,
        on_error=lambda exc, where: seen.append(where),
    )
    result = p.personalize(Request(now=NOW))
    assert seen == ["ranking: scorer margin"]
    assert len(result.products) == 3


def test_a_clean_request_is_not_degraded() -> None:
    p = Personalizer(
        _with(
            rules=[
                {"id": "party", "when": {"weather.temp_c": {"$gt": 0}}, "then": [{"explode": {}}]}
            ]
        ),
        catalog=CATALOG,
        interactions=EVENTS,
        plugins=[Faulty("nothing", RuntimeError("never"))],
        autoload_plugins=False,
    )
    result = p.personalize(Request(now=NOW))
    assert result.rules == ("party",)
    assert not result.degraded
    assert "Degraded:" not in result.explain()
