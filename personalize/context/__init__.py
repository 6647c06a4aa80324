"""Request context: device, geo, local time, referral, behaviour and history facts."""

from personalize.context._model import (
    FACT_SCHEMA,
    AbandonedCart,
    Behaviour,
    Cart,
    Context,
    Device,
    Engagement,
    FactKind,
    Geo,
    HistoryFacts,
    Loyalty,
    Referral,
    TimeFacts,
)

__all__ = [
    "FACT_SCHEMA",
    "AbandonedCart",
    "Behaviour",
    "Cart",
    "Context",
    "Device",
    "Engagement",
    "FactKind",
    "Geo",
    "HistoryFacts",
    "Loyalty",
    "Referral",
    "TimeFacts",
]
