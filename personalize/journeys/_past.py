"""A shopper's purchases before the simulation starts (members' earlier orders)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from personalize._models import Event
from personalize.journeys._population import Shopper

__all__ = ["past_events"]


def past_events(
    shopper: Shopper,
    origin: datetime,
    categories: Mapping[str, str | None],
    prices: Mapping[str, float | None],
) -> list[Event]:
    """Purchases before the simulation (members' earlier orders); not written out.

    Args:
        shopper: Whose orders.
        origin: The simulation's first moment; orders are dated back from it.
        categories: Product id to its leaf category.
        prices: Product id to its price.
    """
    events = []
    for k, (product_id, days_ago) in enumerate(shopper.past_orders):
        at = (origin - timedelta(days=days_ago)).replace(microsecond=0)
        session = f"{shopper.user_id}-past{k}"
        category = categories.get(product_id)
        price = prices.get(product_id)
        events.append(
            Event.model_construct(
                type="view", at=at, session_id=session, product_id=product_id,
                category=category, customer_id=shopper.user_id,
            )
        )  # fmt: skip
        events.append(
            Event.model_construct(
                type="purchase", at=at + timedelta(minutes=5), session_id=session,
                product_id=product_id, price=price, order_id=f"{session}-o",
                customer_id=shopper.user_id,
            )
        )  # fmt: skip
    events.sort(key=lambda e: e.at)
    return events
