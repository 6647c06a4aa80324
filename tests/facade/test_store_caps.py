"""Caps read from a store's offer counters agree with caps counted from the events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from personalize import Event, History, Personalizer, Request
from personalize.offers import _event_counter, _profile_counter
from personalize.store import MemoryStore

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)

offer_events = st.lists(
    st.tuples(
        st.sampled_from(["offer_shown", "offer_redeemed"]),
        st.sampled_from(["a", "b"]),
        st.floats(min_value=-0.5, max_value=60.0),  # days before NOW (negative: later)
    ),
    min_size=1,
    max_size=60,
)


@given(offer_events, st.sampled_from([None, 0.5, 1.0, 7.0, 30.0]))
def test_profile_counters_count_like_the_event_walk(
    spec: list[tuple[str, str, float]], days: float | None
) -> None:
    events = [
        Event(type=kind, offer_id=offer, customer_id="c", at=NOW - timedelta(days=ago))
        for kind, offer, ago in spec
    ]
    store = MemoryStore()
    store.append(events)
    profile = store.history("c", now=NOW).profile
    assert profile is not None
    from_profile = _profile_counter(profile, NOW)
    from_events = _event_counter(events, NOW)
    for kind in ("offer_shown", "offer_redeemed"):
        for offer in ("a", "b"):
            assert from_profile(offer, kind, days) == from_events(offer, kind, days)


def test_the_default_store_is_a_bounded_memory_store() -> None:
    p = Personalizer({"offers": [{"id": "o", "cap": {"per_customer": 1, "count": "shown"}}]})
    assert isinstance(p.store, MemoryStore)
    request = Request(user_id="c1", now=NOW)
    assert [o.offer_id for o in p.personalize(request).offers] == ["o"]
    assert p.personalize(request).offers == []  # recorded as shown: the cap binds
    # An explicit history is the caller's: nothing recorded, nothing read.
    assert [o.offer_id for o in p.personalize(Request(user_id="c2", now=NOW), History()).offers]
