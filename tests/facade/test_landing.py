"""Landing choices: first match wins, the default catches the rest."""

from __future__ import annotations

from typing import Any

import pytest

from personalize.config import LandingRule
from personalize.context import Context, Geo, TimeFacts
from personalize.landing import compile_landing
from personalize.rules import ConditionCompiler

RULES = [
    LandingRule(id="toronto", when={"geo.city": "Toronto"}, page="/ca/toronto/"),
    LandingRule(id="canada", when={"geo.country": "CA"}, page="/ca/"),
    LandingRule(id="quebec", when={"geo.region": "QC"}, page="/ca/qc/"),
    LandingRule(when={"geo.hemisphere": "south", "time.season": "summer"}, page="/summer/"),
    LandingRule(id="cold", when={"geo.climate": {"$in": ["cold", "polar"]}}, page="/winter/"),
    LandingRule(id="late", when={"time.hour": {"$between": [22, 5]}}, page="/tonight/"),
    LandingRule(id="default", page="/"),
]


def _landing(rules: list[LandingRule] = RULES) -> Any:
    compiler = ConditionCompiler()
    landing = compile_landing(rules, compiler.compile)
    assert compiler.problems == []
    return landing


def _facts(**parts: Any) -> dict[str, Any]:
    return Context(**parts).facts()


@pytest.mark.parametrize(
    ("context", "page", "rule_id"),
    [
        ({"geo": Geo(country="CA", city="Toronto")}, "/ca/toronto/", "toronto"),
        ({"geo": Geo(country="CA", city="Montreal", region="QC")}, "/ca/", "canada"),
        ({"geo": Geo(country="AU", hemisphere="south"), "time": TimeFacts(season="summer")},
         "/summer/", "landing[3]"),
        ({"geo": Geo(country="NO", climate="cold")}, "/winter/", "cold"),
        ({"time": TimeFacts(hour=23)}, "/tonight/", "late"),
        ({"time": TimeFacts(hour=3)}, "/tonight/", "late"),
        ({"time": TimeFacts(hour=12)}, "/", "default"),
        ({}, "/", "default"),
    ],
)  # fmt: skip
def test_first_matching_landing_rule_wins(context: dict[str, Any], page: str, rule_id: str) -> None:
    choice = _landing().choose(_facts(**context))
    assert choice is not None
    assert (choice.page, choice.rule_id) == (page, rule_id)
    assert choice.default is (rule_id == "default")


def test_unknown_location_falls_back_to_the_default() -> None:
    choice = _landing().choose(_facts(geo=Geo(source="none")))
    assert choice is not None
    assert choice.default
    assert choice.page == "/"


def test_no_landing_rules_gives_none() -> None:
    assert _landing([]).choose(_facts()) is None


def test_no_match_and_no_default_gives_none() -> None:
    landing = _landing([LandingRule(when={"geo.country": "CA"}, page="/ca/")])
    assert landing.choose(_facts(geo=Geo(country="FR"))) is None


def test_trace_lists_every_rule_tried() -> None:
    trace: list[str] = []
    _landing().choose(_facts(geo=Geo(country="CA", region="QC")), trace)
    assert trace == ["landing toronto: no match", "landing canada: matched"]


@pytest.mark.parametrize(
    ("when", "holds"),
    [
        ({"geo.country": "CA"}, False),
        ({"geo.country": {"$in": ["CA", "US"]}}, False),
        ({"geo.climate": {"$in": ["cold", "polar"]}}, False),
        ({"geo.country": {"$ne": "CA"}}, True),
        ({"geo.country": {"$nin": ["CA", "US"]}}, True),
        ({"$not": {"geo.climate": "cold"}}, True),
        ({"geo.country": {"$ne": "CA"}, "geo.source": {"$ne": "none"}}, False),
    ],
)
def test_an_unknown_location_fails_tests_that_need_a_place_and_passes_negated_ones(
    when: dict[str, Any], holds: bool
) -> None:
    # landing.md said every geo condition is false for an unknown location; a negated
    # test of a missing value holds (rules.md), so the page now says so
    landing = _landing([LandingRule(id="x", when=when, page="/x/"), LandingRule(page="/")])
    choice = landing.choose(_facts(geo=Geo(source="none")))
    assert choice is not None
    assert (choice.rule_id == "x") is holds
