"""The engagement score counts exactly the events inside the 90-day window, edges included."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from personalize import Event, History
from personalize.context._history import ENGAGEMENT_POINTS, ENGAGEMENT_WINDOW, summarize

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
#: Times around both edges of the window (``now - 90 days`` and ``now``), and inside it.
TIMES = [
    NOW - ENGAGEMENT_WINDOW - TICK,
    NOW - ENGAGEMENT_WINDOW,
    NOW - ENGAGEMENT_WINDOW + TICK,
    NOW - timedelta(days=3),
    NOW - TICK,
    NOW,
    NOW + TICK,
    NOW + timedelta(days=1),
]
KINDS = ["view", "add_to_cart", "purchase", "email_open", "email_click", "chat", "impression"]

events = st.builds(
    lambda kind, at, order: Event(type=kind, product_id="p", at=at, order_id=order),
    st.sampled_from(KINDS),
    st.sampled_from(TIMES),
    st.sampled_from(["o1", "o2", "o3"]),
)


def _score(history: list[Event]) -> float:
    """The reference: every event tested against the window on its own, in time order."""
    points, orders = 0.0, set()
    for event in sorted(history, key=lambda e: e.at):
        if not NOW - ENGAGEMENT_WINDOW <= event.at <= NOW:
            continue
        if event.type == "purchase":
            if event.order_id not in orders:
                orders.add(event.order_id)
                points += ENGAGEMENT_POINTS["order"]
        else:
            points += ENGAGEMENT_POINTS.get(event.type, 0.0)
    return round(100.0 * (1.0 - math.exp(-points / 50.0)), 1)


@given(st.lists(events, max_size=30))
def test_the_engagement_score_counts_the_events_inside_the_window(history: list[Event]) -> None:
    summary = summarize(History(events=history), NOW, "s1", [])
    assert summary.engagement.score == _score(history)
