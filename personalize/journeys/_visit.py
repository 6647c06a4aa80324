"""One session being simulated: its mutable state, and what an offer is worth at checkout."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from personalize._models import Event, Request
from personalize.journeys._population import Shopper
from personalize.journeys._records import SessionRecord

__all__ = ["Visit", "offer_percent"]


@dataclass(slots=True)
class Visit:
    """The mutable state of one session being simulated."""

    record: SessionRecord
    shopper: Shopper
    rng: random.Random
    request: Request
    history: list[Event]
    now: datetime
    variant: str | None = None
    experiments: dict[str, str] = field(default_factory=dict)
    cart: dict[str, float] = field(default_factory=dict)
    viewed: set[str] = field(default_factory=set)
    offers: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    pages: int = 0


def offer_percent(value: Mapping[str, Any], total: float) -> float:
    """An offer's worth as a percentage of the cart (0 for non-discounts)."""
    percent = value.get("percent")
    if isinstance(percent, int | float) and not isinstance(percent, bool):
        return max(0.0, min(float(percent), 100.0))
    amount = value.get("amount")
    if isinstance(amount, int | float) and not isinstance(amount, bool) and total > 0:
        return max(0.0, min(100.0 * float(amount) / total, 100.0))
    return 0.0
