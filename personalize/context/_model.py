"""The resolved context of one request, and the fact schema the rule language reads.

The context is built on every request, so its parts are frozen, slotted dataclasses rather
than validated models. :meth:`Context.facts` renders it as the nested mapping that compiled
conditions read (``facts["geo"]["country"]``); :data:`FACT_SCHEMA` lists every path of that
mapping with its kind, for validating conditions when a configuration loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "FACT_SCHEMA",
    "FACT_VALUES",
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
    "StoredFrequency",
    "TimeFacts",
]

#: The kind of value a fact path holds: used to type-check conditions at load time.
FactKind = Literal["string", "number", "boolean", "datetime", "array", "object", "any"]


@dataclass(frozen=True, slots=True)
class Device:
    """What the user agent says about the device.

    ``type`` is one of ``mobile``, ``tablet``, ``desktop``, ``bot``, ``tv``, ``console``,
    ``other``.
    """

    type: str = "other"
    os: str | None = None
    os_version: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    brand: str | None = None
    model: str | None = None
    is_bot: bool = False
    is_touch: bool = False


@dataclass(frozen=True, slots=True)
class Geo:
    """Where the visitor is. ``source`` is ``mmdb``, ``header`` or ``none``."""

    country: str | None = None
    region: str | None = None
    city: str | None = None
    postal: str | None = None
    continent: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    timezone: str | None = None
    is_eu: bool | None = None
    hemisphere: str | None = None
    climate: str | None = None
    source: str = "none"


@dataclass(frozen=True, slots=True)
class TimeFacts:
    """The visitor's local time. ``daypart`` is ``morning``/``afternoon``/``evening``/
    ``night``; ``season`` follows the visitor's hemisphere."""

    local: datetime | None = None
    hour: int | None = None
    weekday: int | None = None
    is_weekend: bool | None = None
    daypart: str | None = None
    season: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Referral:
    """Where the visitor came from. ``source`` is ``search``, ``social``, ``email``,
    ``paid``, ``affiliate``, ``internal``, ``direct`` or ``other``."""

    source: str = "direct"
    medium: str | None = None
    campaign: str | None = None
    site: str | None = None
    term: str | None = None


@dataclass(frozen=True, slots=True)
class Cart:
    """Items in a cart: product id to quantity, their value and unit count."""

    items: tuple[str, ...] = ()
    quantities: MappingProxyType[str, float] = field(default_factory=lambda: MappingProxyType({}))
    value: float = 0.0
    count: float = 0.0


@dataclass(frozen=True, slots=True)
class AbandonedCart:
    """Cart items from an earlier session that ended without a purchase."""

    items: tuple[str, ...] = ()
    value: float = 0.0
    count: float = 0.0
    age_days: float | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Recent browsing: viewed products (newest first), category view counts, carts."""

    recently_viewed: tuple[str, ...] = ()
    viewed_categories: MappingProxyType[str, int] = field(
        default_factory=lambda: MappingProxyType({})
    )
    cart: Cart = field(default_factory=Cart)
    abandoned_cart: AbandonedCart = field(default_factory=AbandonedCart)
    last_session_products: tuple[str, ...] = ()
    last_session_category: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryFacts:
    """Purchase history: products bought (most recent first) and totals.

    ``order_times`` (each distinct order's time, oldest first) and ``product_orders``
    (product id to the positions in ``order_times`` of the orders holding it) are read from
    purchase events only; they stay empty when the totals come from a stored profile, which
    gives ``stored_frequency`` instead (a store's profile only). They feed the ranking's
    time-decayed personal frequency and are not rule facts.
    """

    purchases: tuple[str, ...] = ()
    purchase_counts: MappingProxyType[str, int] = field(
        default_factory=lambda: MappingProxyType({})
    )
    last_purchased: MappingProxyType[str, datetime] = field(
        default_factory=lambda: MappingProxyType({})
    )
    order_count: int = 0
    lifetime_value: float = 0.0
    days_since_last_purchase: float | None = None
    order_times: tuple[datetime, ...] = ()
    product_orders: MappingProxyType[str, tuple[int, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    stored_frequency: StoredFrequency | None = None


@dataclass(frozen=True, slots=True)
class StoredFrequency:
    """A store's decayed order frequency of each product (``Profile.order_frequency``).

    Attributes:
        values: Product id to its frequency at ``at``.
        at: The moment the values are given at.
        decay: The per-order decay they were folded with.
        half_life_days: The half-life they were folded with.
    """

    values: Mapping[str, float]
    at: datetime
    decay: float
    half_life_days: float


@dataclass(frozen=True, slots=True)
class Loyalty:
    """Loyalty programme details."""

    tier: str | None = None
    points: float = 0.0


@dataclass(frozen=True, slots=True)
class Engagement:
    """Past interactions outside the shop and their score (0-100)."""

    email_opens: int = 0
    email_clicks: int = 0
    chats: int = 0
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Context:
    """Everything known about one request, resolved once and read by rules and ranking.

    Attributes:
        notes: What degraded while resolving (a malformed IP, an unknown user agent ...),
            in the order it happened; shown by ``explain()``.
        extra: Facts that plugins provide, by their top-level name.
        query: The query string of the request's URL as ``(name, value)`` pairs, in
            order, parsed once by the resolver (experiments read ``pz_force`` from it).
    """

    device: Device = field(default_factory=Device)
    geo: Geo = field(default_factory=Geo)
    time: TimeFacts = field(default_factory=TimeFacts)
    referral: Referral = field(default_factory=Referral)
    behaviour: Behaviour = field(default_factory=Behaviour)
    history: HistoryFacts = field(default_factory=HistoryFacts)
    loyalty: Loyalty = field(default_factory=Loyalty)
    engagement: Engagement = field(default_factory=Engagement)
    segments: frozenset[str] = frozenset()
    client_ip: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    notes: tuple[str, ...] = ()
    extra: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    query: tuple[tuple[str, str], ...] = ()

    def facts(self) -> dict[str, Any]:
        """The context as the nested mapping that compiled conditions read."""
        b = self.behaviour
        h = self.history
        facts: dict[str, Any] = {
            "device": _slots_dict(self.device),
            "geo": _slots_dict(self.geo),
            "time": _slots_dict(self.time),
            "referral": _slots_dict(self.referral),
            "behaviour": {
                "recently_viewed": list(b.recently_viewed),
                "viewed_categories": dict(b.viewed_categories),
                "cart": {
                    "items": list(b.cart.items),
                    "quantities": dict(b.cart.quantities),
                    "value": b.cart.value,
                    "count": b.cart.count,
                },
                "abandoned_cart": {
                    "items": list(b.abandoned_cart.items),
                    "value": b.abandoned_cart.value,
                    "count": b.abandoned_cart.count,
                    "age_days": b.abandoned_cart.age_days,
                },
                "last_session_products": list(b.last_session_products),
                "last_session_category": b.last_session_category,
            },
            "history": {
                "purchases": list(h.purchases),
                "order_count": h.order_count,
                "lifetime_value": h.lifetime_value,
                "days_since_last_purchase": h.days_since_last_purchase,
            },
            "loyalty": _slots_dict(self.loyalty),
            "engagement": _slots_dict(self.engagement),
            "segments": sorted(self.segments),
            "user_id": self.user_id,
            "session_id": self.session_id,
        }
        facts.update(self.extra)
        return facts


def _slots_dict(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


#: Every fact path the rule language knows, with the kind of its value. Plugins add theirs.
FACT_SCHEMA: MappingProxyType[str, FactKind] = MappingProxyType(
    {
        "device": "object",
        "device.type": "string",
        "device.os": "string",
        "device.os_version": "string",
        "device.browser": "string",
        "device.browser_version": "string",
        "device.brand": "string",
        "device.model": "string",
        "device.is_bot": "boolean",
        "device.is_touch": "boolean",
        "geo": "object",
        "geo.country": "string",
        "geo.region": "string",
        "geo.city": "string",
        "geo.postal": "string",
        "geo.continent": "string",
        "geo.latitude": "number",
        "geo.longitude": "number",
        "geo.timezone": "string",
        "geo.is_eu": "boolean",
        "geo.hemisphere": "string",
        "geo.climate": "string",
        "geo.source": "string",
        "time": "object",
        "time.local": "datetime",
        "time.hour": "number",
        "time.weekday": "number",
        "time.is_weekend": "boolean",
        "time.daypart": "string",
        "time.season": "string",
        "time.timezone": "string",
        "referral": "object",
        "referral.source": "string",
        "referral.medium": "string",
        "referral.campaign": "string",
        "referral.site": "string",
        "referral.term": "string",
        "behaviour": "object",
        "behaviour.recently_viewed": "array",
        "behaviour.viewed_categories": "object",
        "behaviour.cart": "object",
        "behaviour.cart.items": "array",
        "behaviour.cart.quantities": "object",
        "behaviour.cart.value": "number",
        "behaviour.cart.count": "number",
        "behaviour.abandoned_cart": "object",
        "behaviour.abandoned_cart.items": "array",
        "behaviour.abandoned_cart.value": "number",
        "behaviour.abandoned_cart.count": "number",
        "behaviour.abandoned_cart.age_days": "number",
        "behaviour.last_session_products": "array",
        "behaviour.last_session_category": "string",
        "history": "object",
        "history.purchases": "array",
        "history.order_count": "number",
        "history.lifetime_value": "number",
        "history.days_since_last_purchase": "number",
        "loyalty": "object",
        "loyalty.tier": "string",
        "loyalty.points": "number",
        "engagement": "object",
        "engagement.email_opens": "number",
        "engagement.email_clicks": "number",
        "engagement.chats": "number",
        "engagement.score": "number",
        "segments": "array",
        "user_id": "string",
        "session_id": "string",
    }
)

#: The only strings an enumerated fact ever holds: a condition comparing one with anything
#: else can never hold, so it is an error at load time.
FACT_VALUES: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "device.type": frozenset({"mobile", "tablet", "desktop", "bot", "tv", "console", "other"}),
        "time.daypart": frozenset({"morning", "afternoon", "evening", "night"}),
        "time.season": frozenset({"spring", "summer", "autumn", "winter"}),
        "referral.source": frozenset(
            {"search", "social", "email", "paid", "affiliate", "internal", "direct", "other"}
        ),
        "geo.climate": frozenset({"tropical", "subtropical", "temperate", "cold", "polar"}),
        "geo.hemisphere": frozenset({"north", "south"}),
        "geo.source": frozenset({"mmdb", "header", "none"}),
    }
)

#: Paths whose values are open mappings: any sub-key is a valid path (a category name ...).
OPEN_PATHS = frozenset({"behaviour.viewed_categories", "behaviour.cart.quantities"})
