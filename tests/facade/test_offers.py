"""Offers: eligibility, windows, caps from history, exclusivity groups, limits."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from personalize import Event
from personalize.config import Offer
from personalize.context import AbandonedCart, Behaviour, Context, Loyalty
from personalize.errors import Problem
from personalize.offers import CompiledOffers, compile_offers
from personalize.rules import ConditionCompiler

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def _offers(specs: list[dict[str, Any]], max_offers: int = 3) -> CompiledOffers:
    compiler = ConditionCompiler()
    problems: list[Problem] = []
    offers = compile_offers(
        [Offer.model_validate(s) for s in specs],
        compiler.compile,
        max_offers=max_offers,
        store=UTC,
        problems=problems,
    )
    assert problems == []
    assert compiler.problems == []
    return offers


def _ids(offers: CompiledOffers, facts: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
    facts = facts if facts is not None else Context().facts()
    kwargs.setdefault("now", NOW)
    return [o.offer_id for o in offers.choose(facts, **kwargs)]


def _offer_event(kind: str, offer_id: str, days_ago: float) -> Event:
    return Event(type=kind, offer_id=offer_id, at=NOW - timedelta(days=days_ago))


def test_eligibility_condition_decides() -> None:
    offers = _offers([{"id": "gold", "when": {"loyalty.tier": "gold"}, "code": "G"}])
    assert _ids(offers, Context(loyalty=Loyalty(tier="gold")).facts()) == ["gold"]
    assert _ids(offers, Context(loyalty=Loyalty(tier="silver")).facts()) == []


def test_abandoned_cart_value_threshold() -> None:
    offers = _offers([{"id": "c", "when": {"behaviour.abandoned_cart.value": {"$gte": 50}}}])
    rich = Context(behaviour=Behaviour(abandoned_cart=AbandonedCart(items=("a",), value=80.0)))
    poor = Context(behaviour=Behaviour(abandoned_cart=AbandonedCart(items=("a",), value=20.0)))
    assert _ids(offers, rich.facts()) == ["c"]
    assert _ids(offers, poor.facts()) == []


def test_schedule_window() -> None:
    offers = _offers([{"id": "x", "active": {"from": "2026-12-01", "until": "2026-12-10"}}])
    assert _ids(offers, now=NOW) == ["x"]
    assert _ids(offers, now=NOW + timedelta(days=1)) == []
    assert _ids(offers, now=datetime(2026, 11, 30, 23, 0, tzinfo=UTC)) == []


@pytest.mark.parametrize(
    ("events", "shown"),
    [
        ([], True),
        ([_offer_event("offer_redeemed", "x", 5)], False),
        ([_offer_event("offer_redeemed", "x", 31)], True),  # outside the 30-day cap
        ([_offer_event("offer_redeemed", "other", 5)], True),  # another offer
        ([_offer_event("offer_shown", "x", 1)], True),  # shown, but the cap counts redemptions
        ([_offer_event("offer_redeemed", "x", -1)], True),  # in the future: ignored
    ],
)
def test_redemption_cap_counted_from_history(events: list[Event], shown: bool) -> None:
    offers = _offers([{"id": "x", "cap": {"per_customer": 1, "days": 30}}])
    assert _ids(offers, events=events) == (["x"] if shown else [])


def test_shown_cap_and_several_caps() -> None:
    offers = _offers(
        [
            {
                "id": "x",
                "cap": [
                    {"per_customer": 2, "days": 7, "count": "shown"},
                    {"per_customer": 1, "count": "redeemed"},
                ],
            }
        ]
    )
    once = [_offer_event("offer_shown", "x", 1)]
    twice = [*once, _offer_event("offer_shown", "x", 2)]
    long_ago = [_offer_event("offer_redeemed", "x", 400)]
    assert _ids(offers, events=once) == ["x"]
    assert _ids(offers, events=twice) == []
    assert _ids(offers, events=long_ago) == []  # no `days`: counted forever


def test_one_offer_per_group_highest_priority_first() -> None:
    offers = _offers(
        [
            {"id": "low", "group": "g", "priority": 1},
            {"id": "high", "group": "g", "priority": 5},
            {"id": "solo", "priority": 3},
        ]
    )
    assert _ids(offers) == ["high", "solo"]


def test_capped_offer_leaves_its_group_to_the_next() -> None:
    offers = _offers(
        [
            {"id": "high", "group": "g", "priority": 5, "cap": {"per_customer": 1}},
            {"id": "low", "group": "g", "priority": 1},
        ]
    )
    assert _ids(offers, events=[_offer_event("offer_redeemed", "high", 1)]) == ["low"]


def test_max_offers_and_ties_keep_file_order() -> None:
    offers = _offers([{"id": f"o{i}"} for i in range(5)], max_offers=2)
    assert _ids(offers) == ["o0", "o1"]


def test_placement_and_switch() -> None:
    offers = _offers([{"id": "cart-only", "placements": ["cart"]}, {"id": "off", "enabled": False}])
    assert _ids(offers, placement="home") == []
    assert _ids(offers, placement="cart") == ["cart-only"]


def test_choice_carries_code_value_and_reason() -> None:
    offers = _offers(
        [{"id": "x", "code": "X10", "value": {"percent": 10}, "description": "Ten off"}]
    )
    trace: list[str] = []
    (choice,) = offers.choose(Context().facts(), now=NOW, trace=trace)
    assert (choice.code, dict(choice.value), choice.reason) == ("X10", {"percent": 10}, "Ten off")
    assert trace == ["offer x: chosen (Ten off)"]


def test_trace_says_why_offers_were_skipped() -> None:
    offers = _offers(
        [
            {"id": "a", "group": "g", "priority": 2},
            {"id": "b", "group": "g"},
            {"id": "c", "when": {"loyalty.tier": "gold"}},
            {"id": "d", "cap": {"per_customer": 1}},
        ]
    )
    trace: list[str] = []
    offers.choose(
        Context().facts(), now=NOW, events=[_offer_event("offer_redeemed", "d", 1)], trace=trace
    )
    assert trace == [
        "offer a: chosen (offered to everyone)",
        "offer b: group 'g' taken by a",
        "offer c: condition not met",
        "offer d: capped (redeemed 1 time(s), cap 1)",
    ]


def test_every_offer_past_the_limit_is_traced_and_notes_describe_the_same_lines() -> None:
    offers = _offers(
        [
            {"id": "a"},
            {"id": "off", "enabled": False},
            {"id": "cart-only", "placements": ["cart"]},
            {"id": "email-only", "channels": ["email"]},
            {"id": "past", "active": {"until": "2026-01-01"}},
            {"id": "b"},
            {"id": "late-1"},
            {"id": "late-2"},
        ],
        max_offers=2,
    )
    trace: list[str] = []
    notes: list[Any] = []
    chosen = offers.choose(Context().facts(), now=NOW, placement="home", trace=trace)
    assert [o.offer_id for o in chosen] == ["a", "b"]
    assert trace == [
        "offer a: chosen (offered to everyone)",
        "offer off: switched off",
        "offer cart-only: not for placement 'home'",
        "offer email-only: not for channel 'web'",
        "offer past: outside its active window",
        "offer b: chosen (offered to everyone)",
        "offer late-1: skipped, already 2 offer(s)",
        "offer late-2: skipped, already 2 offer(s)",
    ]
    again = offers.choose(Context().facts(), now=NOW, placement="home", notes=notes)
    assert again == chosen
    assert offers.describe(notes) == trace


@pytest.mark.parametrize(
    "value", [{"percent": 10}, {"percent": 5, "bundle": {"sku": "kettle", "tags": ["mug"]}}]
)
def test_a_chosen_offer_s_value_cannot_be_changed_for_later_visitors(
    value: dict[str, Any],
) -> None:
    # before: `value` was the configuration's own mapping, so a shop adjusting the value
    # it was handed changed the offer for every later visitor
    expected = copy.deepcopy(value)
    offers = _offers([{"id": "o", "value": value}])
    handed = offers.choose(Context().facts(), now=NOW)[0].value
    with pytest.raises(TypeError, match="read-only"):
        handed["percent"] = 90  # type: ignore[index]
    if "bundle" in handed:
        with pytest.raises(TypeError):
            handed["bundle"]["sku"] = "spoon"
        with pytest.raises(AttributeError):
            handed["bundle"]["tags"].append("spoon")
    mine = dict(handed)  # a copy is the caller's to change
    mine["percent"] = 90
    again = offers.choose(Context().facts(), now=NOW)[0].value
    assert json.loads(json.dumps(again)) == expected  # unchanged, and JSON as before
    assert pickle.loads(pickle.dumps(again)) == again
