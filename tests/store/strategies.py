"""Hypothesis strategies for event sequences of one customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from personalize import Event

PRODUCTS = [f"p{i}" for i in range(6)]
#: One price per product, so that every price rule reads the same value.
PRICES = {p: 10.0 + i for i, p in enumerate(PRODUCTS)}
KINDS = [
    "view",
    "page_view",
    "add_to_cart",
    "remove_from_cart",
    "purchase",
    "email_open",
    "email_click",
    "chat",
    "offer_shown",
    "offer_redeemed",
]


@st.composite
def event_fields(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(KINDS))
    product = draw(st.sampled_from(PRODUCTS))
    fields: dict[str, object] = {"type": kind}
    if kind in ("view", "page_view"):
        fields["product_id"] = draw(st.none() | st.just(product))
        fields["category"] = draw(st.none() | st.sampled_from(["c0", "c1", "c2"]))
    elif kind in ("add_to_cart", "remove_from_cart", "purchase"):
        fields.update(product_id=product, price=PRICES[product])
        fields["quantity"] = float(draw(st.integers(1, 3)))
        if kind == "purchase":
            fields["order_id"] = draw(st.none() | st.sampled_from(["o1", "o2", "o3"]))
    elif kind.startswith("offer"):
        fields["offer_id"] = draw(st.sampled_from(["welcome", "rescue"]))
    return fields


@st.composite
def customer_events(draw: st.DrawFn, customer_id: str) -> list[Event]:
    """Events of up to four sessions, at strictly increasing times in the last 30 days."""
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    events: list[Event] = []
    for number in range(draw(st.integers(1, 4))):
        at += timedelta(seconds=draw(st.integers(31 * 60, 3 * 86400)))
        for fields in draw(st.lists(event_fields(), min_size=1, max_size=12)):
            at += timedelta(seconds=draw(st.integers(1, 600)))
            events.append(
                Event(customer_id=customer_id, session_id=f"s{number}", at=at, **fields)  # type: ignore[arg-type]
            )
    return events
