"""The summary a store keeps equals the facts read by walking all events (differential)."""

from __future__ import annotations

import json
import math
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize import Event, History
from personalize.context._history import build_profile, summarize
from personalize.store import Store, Summary
from personalize.store._summary import PURCHASED_PRODUCTS
from tests.store.conftest import BACKENDS, make_store
from tests.store.strategies import customer_events


@pytest.fixture(scope="module", params=BACKENDS)
def shared_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    return make_store(request.param, request, tmp_path_factory.mktemp("store"))


def _chunks(events: list[Event], sizes: list[int]) -> Iterator[list[Event]]:
    start = 0
    for size in sizes:
        if start < len(events):
            yield events[start : start + size]
            start += size
    if start < len(events):
        yield events[start:]


# Bounded: the whole store suite must stay under 30 s on every backend.
@settings(max_examples=30)
@given(
    data=st.data(),
    sizes=st.lists(st.integers(1, 5), max_size=10),
    request_session=st.sampled_from([None, "new", "last"]),
)
def test_store_summary_equals_the_facts_of_all_events(
    shared_store: Store, data: st.DataObject, sizes: list[int], request_session: str | None
) -> None:
    customer = uuid.uuid4().hex
    events = data.draw(customer_events(customer))
    for chunk in _chunks(events, sizes):
        shared_store.append(chunk)
    now = events[-1].at + timedelta(days=1)
    session = events[-1].session_id if request_session == "last" else request_session
    profile = shared_store.history(customer, session, now=now).profile
    assert profile is not None
    facts = summarize(History(events=events), now, session, [])
    behaviour, expected = facts.behaviour, build_profile(events)

    assert profile.purchase_counts == expected.purchase_counts
    assert profile.last_purchased == expected.last_purchased
    assert profile.order_count == expected.order_count
    assert math.isclose(profile.lifetime_value, expected.lifetime_value)
    assert profile.last_purchase_at == expected.last_purchase_at
    assert profile.viewed_categories == dict(behaviour.viewed_categories)
    assert tuple(profile.recently_viewed) == behaviour.recently_viewed
    assert profile.cart == pytest.approx(dict(behaviour.cart.quantities))
    assert math.isclose(profile.cart_value, behaviour.cart.value, abs_tol=1e-9)
    abandoned = behaviour.abandoned_cart
    assert set(profile.abandoned_cart) == set(abandoned.items)
    assert math.isclose(profile.abandoned_cart_value, abandoned.value, abs_tol=1e-9)
    assert profile.abandoned_cart_session == abandoned.session_id
    if profile.abandoned_cart_at is not None:
        age = (now - profile.abandoned_cart_at).total_seconds() / 86400
        assert math.isclose(age, abandoned.age_days)
    assert tuple(profile.last_session_products) == behaviour.last_session_products
    assert profile.last_session_category == behaviour.last_session_category
    engagement = facts.engagement
    assert (profile.email_opens, profile.email_clicks, profile.chats) == (
        engagement.email_opens,
        engagement.email_clicks,
        engagement.chats,
    )
    points = sum(profile.engagement_points.values())
    assert round(100 * (1 - math.exp(-points / 50)), 1) == pytest.approx(engagement.score, abs=0.1)
    shown = Counter(e.offer_id for e in events if e.type == "offer_shown")
    assert {o: len(t) for o, t in profile.offers_shown.items()} == dict(shown)


def test_only_the_most_recently_bought_products_are_kept() -> None:
    summary = Summary()
    start = datetime.now(UTC) - timedelta(days=10)
    for i in range(PURCHASED_PRODUCTS + 5):
        at = start + timedelta(minutes=i)
        summary.apply(Event(type="purchase", customer_id="c", product_id=f"p{i}", at=at))
    counts = summary.to_profile(start + timedelta(days=1)).purchase_counts
    assert len(counts) == PURCHASED_PRODUCTS
    assert "p4" not in counts
    assert counts[f"p{PURCHASED_PRODUCTS + 4}"] == 1


def test_a_summary_survives_a_json_round_trip() -> None:
    summary = Summary()
    start = datetime.now(UTC) - timedelta(days=1)
    summary.apply(Event(type="add_to_cart", customer_id="c", product_id="p", price=2.0, at=start))
    again = Summary(json.loads(json.dumps(summary.to_json(), allow_nan=False)))
    assert again.to_profile(start) == summary.to_profile(start)
