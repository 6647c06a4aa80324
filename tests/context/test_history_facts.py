"""Behaviour, purchase history, loyalty and engagement read from a History."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from personalize import Event, History, Request
from personalize._models import MAX_ID_LENGTH, Profile
from personalize.context import ContextResolver, build_profile
from personalize.context._profile import MAX_COUNT, MAX_VALUE, clean_profile

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
RESOLVER = ContextResolver()


def _at(days: float = 0.0, minutes: float = 0.0) -> datetime:
    return NOW - timedelta(days=days, minutes=minutes)


def _resolve(events: list[Event], session_id: str | None = "s-now", **history: object):  # type: ignore[no-untyped-def]
    return RESOLVER.resolve(
        Request(session_id=session_id, user_id="u1"),
        History(events=events, **history),  # type: ignore[arg-type]
        now=NOW,
    )


def test_recently_viewed_is_newest_first_without_duplicates() -> None:
    events = [
        Event(type="view", product_id="a", at=_at(minutes=30), category="shoes"),
        Event(type="view", product_id="b", at=_at(minutes=20), category="shoes"),
        Event(type="view", product_id="a", at=_at(minutes=10), category="shoes"),
        Event(type="page_view", product_id="c", at=_at(minutes=5), category="hats"),
        Event(type="view", at=_at(minutes=1), category="hats"),
    ]
    # Events arrive in any order.
    context = _resolve(list(reversed(events)))
    assert context.behaviour.recently_viewed == ("c", "a", "b")
    assert dict(context.behaviour.viewed_categories) == {"shoes": 3, "hats": 2}
    assert (context.user_id, context.session_id) == ("u1", "s-now")


def test_the_cart_is_adds_minus_removes_in_the_current_session() -> None:
    events = [
        Event(
            type="add_to_cart",
            product_id="a",
            at=_at(minutes=9),
            price=10.0,
            quantity=2,
            session_id="s-now",
        ),
        Event(type="add_to_cart", product_id="b", at=_at(minutes=8), price=5.0, session_id="s-now"),
        Event(type="remove_from_cart", product_id="b", at=_at(minutes=7), session_id="s-now"),
        Event(type="remove_from_cart", product_id="a", at=_at(minutes=6), session_id="s-now"),
        Event(type="add_to_cart", product_id="z", at=_at(days=3), price=99.0, session_id="s-old"),
    ]
    cart = _resolve(events).behaviour.cart
    assert cart.items == ("a",)
    assert dict(cart.quantities) == {"a": 1.0}
    assert (cart.value, cart.count) == (10.0, 1.0)


def test_without_a_session_the_cart_counts_since_the_last_purchase() -> None:
    events = [
        Event(type="add_to_cart", product_id="old", at=_at(days=5), price=1.0),
        Event(type="purchase", product_id="old", at=_at(days=4), price=1.0, order_id="o1"),
        Event(type="add_to_cart", product_id="new", at=_at(days=1), price=7.0),
    ]
    cart = _resolve(events, session_id=None).behaviour.cart
    assert cart.items == ("new",)
    assert cart.value == 7.0


def test_the_abandoned_cart_is_the_last_earlier_session_left_without_buying() -> None:
    events = [
        Event(type="add_to_cart", product_id="x", at=_at(days=9), price=20.0, session_id="s1"),
        Event(
            type="add_to_cart",
            product_id="p",
            at=_at(days=2, minutes=30),
            price=30.0,
            quantity=2,
            session_id="s2",
        ),
        Event(
            type="add_to_cart",
            product_id="q",
            at=_at(days=2, minutes=20),
            price=15.0,
            session_id="s2",
        ),
        Event(type="view", product_id="r", at=_at(days=2), session_id="s2"),
        Event(type="view", product_id="now", at=_at(minutes=1), session_id="s-now"),
    ]
    abandoned = _resolve(events).behaviour.abandoned_cart
    assert abandoned.items == ("p", "q")
    assert (abandoned.value, abandoned.count, abandoned.session_id) == (75.0, 3.0, "s2")
    assert abandoned.age_days == pytest.approx(2.0)


def test_a_later_purchase_means_no_abandoned_cart() -> None:
    events = [
        Event(type="add_to_cart", product_id="x", at=_at(days=3), price=20.0, session_id="s1"),
        Event(type="purchase", product_id="x", at=_at(days=1), price=20.0, session_id="s2"),
    ]
    assert _resolve(events).behaviour.abandoned_cart.items == ()


def test_a_session_that_ended_in_a_purchase_is_not_abandoned() -> None:
    events = [
        Event(type="add_to_cart", product_id="x", at=_at(days=3), price=20.0, session_id="s1"),
        Event(type="add_to_cart", product_id="y", at=_at(days=3), price=5.0, session_id="s1"),
        Event(type="purchase", product_id="x", at=_at(days=3), price=20.0, session_id="s1"),
        Event(type="view", product_id="k", at=_at(days=1), session_id="s2"),
    ]
    behaviour = _resolve(events).behaviour
    assert behaviour.abandoned_cart.items == ()
    assert behaviour.last_session_products == ("k",)


def test_continue_where_you_left_off_reads_the_last_earlier_session() -> None:
    events = [
        Event(type="view", product_id="old", at=_at(days=6), category="hats", session_id="s1"),
        Event(
            type="view",
            product_id="b1",
            at=_at(days=1, minutes=9),
            category="boots",
            session_id="s2",
        ),
        Event(
            type="view",
            product_id="b2",
            at=_at(days=1, minutes=8),
            category="boots",
            session_id="s2",
        ),
        Event(
            type="view",
            product_id="s1",
            at=_at(days=1, minutes=7),
            category="socks",
            session_id="s2",
        ),
        Event(
            type="view",
            product_id="b1",
            at=_at(days=1, minutes=6),
            category="boots",
            session_id="s2",
        ),
        Event(
            type="view", product_id="cur", at=_at(minutes=1), category="hats", session_id="s-now"
        ),
    ]
    behaviour = _resolve(events).behaviour
    assert behaviour.last_session_products == ("b1", "s1", "b2")
    assert behaviour.last_session_category == "boots"


def test_purchases_orders_and_lifetime_value() -> None:
    events = [
        Event(
            type="purchase", product_id="a", at=_at(days=30), price=10.0, quantity=2, order_id="o1"
        ),
        Event(type="purchase", product_id="b", at=_at(days=30), price=5.0, order_id="o1"),
        Event(type="purchase", product_id="a", at=_at(days=3), price=10.0, order_id="o2"),
        Event(type="purchase", product_id="a", at=_at(days=3), price=10.0, order_id="o2"),
    ]
    facts = _resolve(events).history
    assert facts.purchases == ("a", "b")
    assert dict(facts.purchase_counts) == {"a": 2, "b": 1}
    assert facts.last_purchased["a"] == _at(days=3)
    assert (facts.order_count, facts.lifetime_value) == (2, 45.0)
    assert facts.days_since_last_purchase == pytest.approx(3.0)


def test_a_profile_replaces_purchase_events_for_the_totals() -> None:
    old = [
        Event(type="purchase", product_id="a", at=_at(days=100), price=50.0, order_id="o1"),
        Event(type="purchase", product_id="b", at=_at(days=10), price=20.0, order_id="o2"),
        Event(type="view", product_id="c", at=_at(days=1)),
    ]
    profile = build_profile(old)
    assert (profile.order_count, profile.lifetime_value) == (2, 70.0)
    assert profile.first_purchase_at == _at(days=100)
    assert profile.last_purchase_at == _at(days=10)
    assert profile.purchase_counts == {"a": 1, "b": 1}
    # The stored events are passed too: the totals must not be counted twice.
    facts = _resolve(old, profile=profile).history
    assert (facts.order_count, facts.lifetime_value) == (2, 70.0)
    assert facts.purchases == ("b", "a")
    assert facts.days_since_last_purchase == pytest.approx(10.0)
    # With the profile alone, the same facts come out.
    assert _resolve([], profile=profile).history == facts


def test_loyalty_and_engagement() -> None:
    events = [Event(type="email_open", at=_at(days=d)) for d in (1, 2, 3)]
    events += [Event(type="email_click", at=_at(days=1)), Event(type="chat", at=_at(days=200))]
    context = _resolve(events, loyalty={"tier": "gold", "points": "1200"})
    assert (context.loyalty.tier, context.loyalty.points) == ("gold", 1200.0)
    engagement = context.engagement
    assert (engagement.email_opens, engagement.email_clicks, engagement.chats) == (3, 1, 1)
    # 3 opens + 1 click in the 90-day window = 6 points; the old chat is out of the window.
    assert engagement.score == pytest.approx(100 * (1 - 2.718281828 ** (-6 / 50)), abs=0.1)


def test_engagement_score_grows_with_activity_and_stays_below_100() -> None:
    quiet = _resolve([Event(type="email_open", at=_at(days=1))]).engagement.score
    busy_events = [
        Event(type="purchase", product_id="a", at=_at(days=1), order_id=f"o{i}") for i in range(40)
    ]
    busy = _resolve(busy_events).engagement.score
    assert 0 < quiet < busy <= 100


def test_bad_loyalty_points_degrade_with_a_note() -> None:
    context = _resolve([], loyalty={"tier": 3, "points": "lots"})
    assert (context.loyalty.tier, context.loyalty.points) == ("3", 0.0)
    assert any("loyalty" in note for note in context.notes)


def test_a_long_history_is_read_in_one_pass() -> None:
    kinds = ["view", "view", "add_to_cart", "view", "remove_from_cart", "purchase", "email_open"]
    events = [
        Event(
            type=kinds[i % len(kinds)],
            product_id=f"p{i % 300}",
            at=_at(minutes=i),
            price=1.0 + i % 7,
            session_id=f"s{i // 20}",
            order_id=f"o{i // 40}",
            category=f"c{i % 12}",
        )
        for i in range(6000)
    ]
    history = History(events=events)
    start = time.perf_counter()
    context = RESOLVER.resolve(Request(session_id="s0"), history, now=NOW)
    elapsed = time.perf_counter() - start
    assert len(context.behaviour.recently_viewed) == 50
    assert context.history.order_count == 150
    assert elapsed < 1.0  # one pass: a few milliseconds; quadratic work would take seconds


# -- bad profiles and over-long ids ---------------------------------------------------------

_HUGE = 10**400


@pytest.mark.parametrize(
    ("raw", "clean"),
    [(-1, 0), (float("nan"), None), (float("inf"), MAX_COUNT), (_HUGE, MAX_COUNT), (2.0, 2)],
    ids=["-1", "nan", "inf", "10**400", "float"],
)
def test_a_bad_profile_count_is_sanitized_with_a_note(raw: object, clean: int | None) -> None:
    profile = Profile.model_construct(
        purchase_counts={"a": raw, "b": 3}, last_purchased={}, order_count=raw,
        lifetime_value=0.0, first_purchase_at=None, last_purchase_at=None,
    )  # fmt: skip
    context = _resolve([], profile=profile)
    counts = dict(context.history.purchase_counts)
    assert counts == ({"b": 3} if clean is None else {"a": clean, "b": 3})
    assert context.history.order_count == (clean or 0)
    assert any(note.startswith("history: profile sanitized") for note in context.notes)
    assert all(len(note) < 300 for note in context.notes)  # 10**400 is shown as ~10**400


def test_validated_profiles_with_out_of_range_numbers_are_sanitized() -> None:
    profile = Profile(purchase_counts={"a": -1, "b": _HUGE}, order_count=-3, lifetime_value=1e300)
    context = _resolve([], profile=profile)
    assert dict(context.history.purchase_counts) == {"a": 0, "b": MAX_COUNT}
    assert context.history.order_count == 0
    assert context.history.lifetime_value == MAX_VALUE
    (note,) = [n for n in context.notes if n.startswith("history: profile")]
    assert "2 purchase count(s) clamped" in note


def test_profile_dates_and_ids_that_are_garbage_are_dropped() -> None:
    profile = Profile.model_construct(
        purchase_counts={"a": 1, "x" * (MAX_ID_LENGTH + 1): 1},
        last_purchased={"a": "yesterday", "b": _at(days=3)},
        order_count=1, lifetime_value=float("nan"),
        first_purchase_at=17, last_purchase_at=None,
    )  # fmt: skip
    facts = _resolve([], profile=profile).history
    assert dict(facts.purchase_counts) == {"a": 1}
    assert dict(facts.last_purchased) == {"b": _at(days=3)}
    assert facts.lifetime_value == 0.0


def test_a_clean_profile_is_read_as_it_is() -> None:
    profile = build_profile([Event(type="purchase", product_id="a", at=_at(days=1), price=5.0)])
    notes: list[str] = []
    assert clean_profile(profile, notes) is profile
    assert notes == []


def test_events_with_over_long_ids_are_skipped_with_a_note() -> None:
    long_id = "p" * (MAX_ID_LENGTH + 1)
    events = [
        Event(type="view", product_id=long_id, at=_at(minutes=3)),
        Event(type="view", product_id="a", at=_at(minutes=2), session_id=long_id),
        Event(type="view", product_id="b", at=_at(minutes=1)),
        Event(type="view", product_id="c" * MAX_ID_LENGTH, at=_at(minutes=1)),
    ]
    context = _resolve(events)
    assert context.behaviour.recently_viewed == ("c" * MAX_ID_LENGTH, "b")
    assert f"history: 2 event(s) with an id over {MAX_ID_LENGTH} characters skipped" in (
        context.notes
    )
