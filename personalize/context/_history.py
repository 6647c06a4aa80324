"""Behaviour, purchase history, loyalty and engagement, from a customer's events.

Events come in any order; they are sorted by time once (stable, so ties keep their order)
and read in one pass, so a history of thousands of events costs a few milliseconds.

* ``recently_viewed``: products of ``view``/``page_view`` events, newest first, each once,
  at most :data:`RECENTLY_VIEWED_LIMIT`. ``viewed_categories`` counts their ``category``.
* ``cart``: adds minus removes in the current session (``Request.session_id``); without a
  session id, since the last purchase. A purchase empties the cart of its session.
* ``abandoned_cart``: the cart left at the end of the most recent earlier session whose cart
  was not empty, unless a purchase happened after that session ended. ``value`` uses the
  add event's price (else the product's latest known price); ``age_days`` counts from the
  session's last event.
* ``last_session_products``/``last_session_category``: what was viewed in the most recent
  earlier session with views (newest first), and its most viewed category.
* purchases: ``purchase`` events; an order is its ``order_id`` (else session and time).
  With ``History.profile`` the totals come from the profile (sanitized first, see
  :mod:`personalize.context._profile`) and purchase events are not counted again.
* an event whose ``product_id`` or ``session_id`` is longer than
  :data:`~personalize._models.MAX_ID_LENGTH` is skipped (and noted).
* engagement ``score`` (0-100): ``100 * (1 - exp(-points / 50))`` over the last 90 days, with
  points: email open 1, email click 3, chat 5, product view 0.5, add to cart 2, order 10.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from personalize._models import MAX_ID_LENGTH, Event, History, Profile, as_utc
from personalize.context._model import (
    AbandonedCart,
    Behaviour,
    Cart,
    Engagement,
    HistoryFacts,
    Loyalty,
    StoredFrequency,
)
from personalize.context._profile import clean_profile

__all__ = [
    "ENGAGEMENT_POINTS",
    "RECENTLY_VIEWED_LIMIT",
    "HistorySummary",
    "build_profile",
    "session_entry",
    "summarize",
]

RECENTLY_VIEWED_LIMIT = 50
ENGAGEMENT_WINDOW = timedelta(days=90)
ENGAGEMENT_SCALE = 50.0
#: Points per interaction in the engagement window (``order`` counts distinct orders).
ENGAGEMENT_POINTS: Mapping[str, float] = MappingProxyType(
    {
        "email_open": 1.0,
        "email_click": 3.0,
        "chat": 5.0,
        "view": 0.5,
        "add_to_cart": 2.0,
        "order": 10.0,
    }
)
_VIEW_TYPES = frozenset({"view", "page_view"})
_CART_TYPES = frozenset({"add_to_cart", "remove_from_cart"})
_AT = attrgetter("at")
_DAY = 86400.0


class _Session:
    """What one session did; ``views`` maps a product to the position of its latest view."""

    __slots__ = ("cart", "categories", "ended", "prices", "views")

    def __init__(self) -> None:
        self.cart: dict[str, float] = {}
        self.prices: dict[str, float] = {}
        self.views: dict[str, int] = {}
        self.categories: dict[str, int] = {}
        self.ended: datetime | None = None


@dataclass(slots=True)
class _Purchases:
    orders: dict[str, datetime] = field(default_factory=dict)
    product_orders: dict[str, set[str]] = field(default_factory=dict)
    last_purchased: dict[str, datetime] = field(default_factory=dict)
    value: float = 0.0
    first: datetime | None = None
    last: datetime | None = None

    def add(self, event: Event, notes: list[str]) -> str:
        """Count a purchase event; return its order."""
        return self.add_fields(event.__dict__, notes)

    def add_fields(self, fields: Mapping[str, Any], notes: list[str]) -> str:
        """:meth:`add` from a purchase event's fields (its ``__dict__``)."""
        at, product = fields["at"], fields["product_id"]
        order: str = fields["order_id"] or f"{fields['session_id'] or ''}@{at.isoformat()}"
        self.orders.setdefault(order, at)
        if product is not None:
            known = self.product_orders.get(product)
            if known is None:
                self.product_orders[product] = {order}
            else:
                known.add(order)
            self.last_purchased[product] = at
        price = fields["price"]
        if price is not None:
            amount = price * fields["quantity"]
            if math.isfinite(amount):
                self.value += amount
            else:
                notes.append(f"history: non-finite amount on {fields['type']} of {product}")
        if self.first is None:
            self.first = at
        self.last = at
        return order


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """The facts read from a history."""

    behaviour: Behaviour
    history: HistoryFacts
    loyalty: Loyalty
    engagement: Engagement


def _sorted(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=_AT)


def _newest_first(positions: Mapping[str, int]) -> tuple[str, ...]:
    """Products by the position of their latest event, latest first, at most the limit."""
    return tuple(sorted(positions, key=positions.__getitem__, reverse=True)[:RECENTLY_VIEWED_LIMIT])


def build_profile(events: Iterable[Event]) -> Profile:
    """Aggregate the purchase events of one customer into a :class:`Profile`.

    Store the profile and pass it as ``History.profile`` to skip re-reading a long purchase
    history on every request.
    """
    purchases = _Purchases()
    notes: list[str] = []
    for event in _sorted(events):
        if event.type == "purchase":
            purchases.add(event, notes)
    return Profile(
        purchase_counts={p: len(o) for p, o in purchases.product_orders.items()},
        last_purchased=dict(purchases.last_purchased),
        order_count=len(purchases.orders),
        lifetime_value=purchases.value,
        first_purchase_at=purchases.first,
        last_purchase_at=purchases.last,
    )


def summarize(
    history: History | None, now: datetime, session_id: str | None, notes: list[str]
) -> HistorySummary:
    """Read behaviour, history, loyalty and engagement facts from ``history``.

    Args:
        history: The customer's history, or ``None`` for an unknown visitor.
        now: The moment of the request, timezone-aware.
        session_id: The current session, if known.
        notes: Where to record what degraded.
    """
    if history is None:
        return HistorySummary(Behaviour(), HistoryFacts(), Loyalty(), Engagement())
    profile = history.profile
    if profile is not None and not profile.from_a_store:
        profile = clean_profile(profile, notes)
    if profile is not None and profile.complete:
        return _from_summary(profile, history.loyalty, now, notes)
    recent: dict[str, int] = {}  # product -> position of its latest view
    categories: dict[str, int] = {}
    sessions: dict[str, _Session] = {}
    cart_since_purchase: dict[str, float] = {}
    prices: dict[str, float] = {}
    purchases = _Purchases()
    last_purchase_at: datetime | None = None
    opens = clicks = chats = 0
    points = 0.0
    recent_orders: set[str] = set()
    view_points, cart_points = ENGAGEMENT_POINTS["view"], ENGAGEMENT_POINTS["add_to_cart"]
    too_long = 0
    longest, isfinite = MAX_ID_LENGTH, math.isfinite
    events = _sorted(history.events)
    # The events are in time order, so those in the engagement window are one run of them.
    window = range(
        bisect_left(events, now - ENGAGEMENT_WINDOW, key=_AT), bisect_right(events, now, key=_AT)
    )

    for position, event in enumerate(events):
        fields = event.__dict__  # one lookup, then dict reads: a model's attributes are slower
        kind, product, sid = fields["type"], fields["product_id"], fields["session_id"]
        if (product is not None and len(product) > longest) or (
            sid is not None and len(sid) > longest
        ):
            too_long += 1
            continue
        session = None
        if sid is not None:
            session = sessions.get(sid)
            if session is None:
                session = sessions[sid] = _Session()
            session.ended = fields["at"]
        if kind in _VIEW_TYPES:
            if product is not None:
                recent[product] = position
                if session is not None:
                    session.views[product] = position
                if position in window:
                    points += view_points
            if (category := fields["category"]) is not None:
                categories[category] = categories.get(category, 0) + 1
                if session is not None:
                    counts = session.categories
                    counts[category] = counts.get(category, 0) + 1
        elif kind in _CART_TYPES and product is not None:
            delta = fields["quantity"] if kind == "add_to_cart" else -fields["quantity"]
            if not isfinite(delta):
                notes.append(f"history: non-finite quantity on {kind} of {product}")
                continue
            _change(cart_since_purchase, product, delta)
            if session is not None:
                _change(session.cart, product, delta)
            price = fields["price"]
            if price is not None and isfinite(price):
                prices[product] = price
                if session is not None and kind == "add_to_cart":
                    session.prices[product] = price
            if kind == "add_to_cart" and position in window:
                points += cart_points
        elif kind == "purchase":
            cart_since_purchase.clear()
            if session is not None:
                session.cart.clear()
            last_purchase_at = fields["at"]
            price = fields["price"]
            if product is not None and price is not None and isfinite(price):
                prices[product] = price
            if profile is None:
                order = purchases.add_fields(fields, notes)
            else:
                order = fields["order_id"] or f"{sid or ''}@{last_purchase_at.isoformat()}"
            if position in window and order not in recent_orders:
                recent_orders.add(order)
                points += ENGAGEMENT_POINTS["order"]
        elif kind == "email_open":
            opens += 1
            points += ENGAGEMENT_POINTS["email_open"] if position in window else 0.0
        elif kind == "email_click":
            clicks += 1
            points += ENGAGEMENT_POINTS["email_click"] if position in window else 0.0
        elif kind == "chat":
            chats += 1
            points += ENGAGEMENT_POINTS["chat"] if position in window else 0.0

    if too_long:
        notes.append(
            f"history: {too_long} event(s) with an id over {MAX_ID_LENGTH} characters skipped"
        )
    current = sessions.get(session_id) if session_id is not None else None
    cart_items = current.cart if session_id is not None and current else {}
    if session_id is None:
        cart_items = cart_since_purchase
    earlier = sorted(
        ((s.ended, sid, s) for sid, s in sessions.items() if sid != session_id and s.ended),
        key=lambda item: item[0],
        reverse=True,
    )
    behaviour = Behaviour(
        recently_viewed=_newest_first(recent),
        viewed_categories=MappingProxyType(categories),
        cart=_cart(cart_items, prices, prices),
        abandoned_cart=_abandoned(earlier, last_purchase_at, prices, now),
        **_last_session(earlier),
    )
    return HistorySummary(
        behaviour=behaviour,
        history=_history_facts(profile, purchases, now, notes),
        loyalty=_loyalty(history.loyalty, notes),
        engagement=Engagement(
            email_opens=opens,
            email_clicks=clicks,
            chats=chats,
            score=round(100.0 * (1.0 - math.exp(-points / ENGAGEMENT_SCALE)), 1),
        ),
    )


def _from_summary(
    profile: Profile, loyalty: Mapping[str, Any], now: datetime, notes: list[str]
) -> HistorySummary:
    """The facts of a store's profile, which summarizes every event: no event is read."""
    counts = profile.cart
    cart_count = sum(counts.values())
    abandoned = AbandonedCart()
    if profile.abandoned_cart:
        ended = profile.abandoned_cart_at
        abandoned = AbandonedCart(
            items=tuple(profile.abandoned_cart),
            value=profile.abandoned_cart_value,
            count=sum(profile.abandoned_cart.values()),
            age_days=(now - as_utc(ended)).total_seconds() / _DAY if ended is not None else None,
            session_id=profile.abandoned_cart_session,
        )
    first_day = (now - ENGAGEMENT_WINDOW).date().isoformat()
    today = now.date().isoformat()
    points = sum(p for day, p in profile.engagement_points.items() if first_day <= day <= today)
    behaviour = Behaviour(
        recently_viewed=tuple(profile.recently_viewed[:RECENTLY_VIEWED_LIMIT]),
        viewed_categories=MappingProxyType(dict(profile.viewed_categories)),
        cart=Cart(
            items=tuple(counts),
            quantities=MappingProxyType(dict(counts)),
            value=profile.cart_value,
            count=cart_count,
        ),
        abandoned_cart=abandoned,
        last_session_products=tuple(profile.last_session_products[:RECENTLY_VIEWED_LIMIT]),
        last_session_category=profile.last_session_category,
    )
    return HistorySummary(
        behaviour=behaviour,
        history=_history_facts(profile, _Purchases(), now, notes),
        loyalty=_loyalty(loyalty, notes),
        engagement=Engagement(
            email_opens=profile.email_opens,
            email_clicks=profile.email_clicks,
            chats=profile.chats,
            score=round(100.0 * (1.0 - math.exp(-points / ENGAGEMENT_SCALE)), 1),
        ),
    )


def session_entry(
    profile: Profile | None, session_id: str | None
) -> tuple[str | None, str | None] | None:
    """The entry ``(url, referrer)`` of the visit a request belongs to, when a store knows it.

    The visit is the store profile's open session (the store ends an idle one on read):
    the request names it, or names no session at all.
    """
    if profile is None or not profile.complete or profile.session_id is None:
        return None
    if session_id is not None and session_id != profile.session_id:
        return None
    if profile.session_url is None and profile.session_referrer is None:
        return None
    return profile.session_url, profile.session_referrer


def _change(cart: dict[str, float], product: str, delta: float) -> None:
    quantity = cart.get(product, 0.0) + delta
    if quantity > 0:
        cart[product] = quantity
    else:
        cart.pop(product, None)


def _cart(
    items: Mapping[str, float], prices: Mapping[str, float], fallback: Mapping[str, float]
) -> Cart:
    value = sum(q * prices.get(p, fallback.get(p, 0.0)) for p, q in items.items())
    count = sum(items.values())
    return Cart(
        items=tuple(items),
        quantities=MappingProxyType(dict(items)),
        value=value if math.isfinite(value) else 0.0,
        count=count if math.isfinite(count) else 0.0,
    )


def _abandoned(
    earlier: list[tuple[datetime, str, _Session]],
    last_purchase_at: datetime | None,
    prices: Mapping[str, float],
    now: datetime,
) -> AbandonedCart:
    for ended, sid, session in earlier:
        if not session.cart:
            continue
        if last_purchase_at is not None and last_purchase_at > ended:
            break
        cart = _cart(session.cart, session.prices, prices)
        return AbandonedCart(
            items=cart.items,
            value=cart.value,
            count=cart.count,
            age_days=(now - ended).total_seconds() / _DAY,
            session_id=sid,
        )
    return AbandonedCart()


def _last_session(earlier: list[tuple[datetime, str, _Session]]) -> dict[str, Any]:
    for _, _, session in earlier:
        if not session.views and not session.categories:
            continue
        category = None
        if session.categories:
            top = max(session.categories.values())
            # Ties go to the category seen most recently (dicts keep first-seen order).
            category = next(c for c in reversed(session.categories) if session.categories[c] == top)
        return {
            "last_session_products": _newest_first(session.views),
            "last_session_category": category,
        }
    return {}


def _history_facts(
    profile: Profile | None, purchases: _Purchases, now: datetime, notes: list[str]
) -> HistoryFacts:
    if profile is not None:
        last_purchased = {p: as_utc(at) for p, at in profile.last_purchased.items()}
        counts = dict(profile.purchase_counts)
        order_count, value = profile.order_count, profile.lifetime_value
        last = profile.last_purchase_at or max(last_purchased.values(), default=None)
        last = as_utc(last) if last is not None else None
    else:
        last_purchased = purchases.last_purchased
        counts = {p: len(o) for p, o in purchases.product_orders.items()}
        order_count, value, last = len(purchases.orders), purchases.value, purchases.last
        if not math.isfinite(value):
            notes.append("history: lifetime value overflowed")
            value = 0.0
    # Latest first, ties by product id (descending too): sorting (time, product) pairs.
    by_time = sorted(zip(last_purchased.values(), last_purchased, strict=True), reverse=True)
    ordered = [p for _, p in by_time]
    position = {order: i for i, order in enumerate(purchases.orders)}  # oldest first
    return HistoryFacts(
        stored_frequency=_stored_frequency(profile),
        purchases=tuple(ordered),
        purchase_counts=MappingProxyType(counts),
        last_purchased=MappingProxyType(last_purchased),
        order_count=order_count,
        lifetime_value=value,
        days_since_last_purchase=(now - last).total_seconds() / _DAY if last else None,
        order_times=tuple(purchases.orders.values()),
        product_orders=MappingProxyType(
            {
                p: (position[next(iter(orders))],)
                if len(orders) == 1
                else tuple(sorted(position[o] for o in orders))
                for p, orders in purchases.product_orders.items()
            }
        ),
    )


def _stored_frequency(profile: Profile | None) -> StoredFrequency | None:
    """A store's decayed order frequencies (never a caller's profile: they are not checked)."""
    if profile is None or not profile.from_a_store or not profile.order_frequency:
        return None
    at, decay = profile.order_frequency_at, profile.order_frequency_decay
    half_life = profile.order_frequency_half_life_days
    if at is None or decay is None or half_life is None:
        return None
    return StoredFrequency(MappingProxyType(profile.order_frequency), at, decay, half_life)


def _loyalty(loyalty: Mapping[str, Any], notes: list[str]) -> Loyalty:
    tier = loyalty.get("tier")
    raw_points = loyalty.get("points", 0)
    try:
        if isinstance(raw_points, bool):
            raise TypeError("a boolean is not a number of points")
        points = float(raw_points) if raw_points is not None else 0.0
    except OverflowError:  # an int too large for a float
        points = math.inf
    except (TypeError, ValueError):
        notes.append(f"loyalty: points {_shown(raw_points)} is not a number")
        points = 0.0
    if not math.isfinite(points):
        notes.append("loyalty: points is not finite")
        points = 0.0
    tier_text = None
    if tier is not None:
        try:
            tier_text = str(tier)[:100]
        except Exception:  # a huge int (over the digit limit), an object that will not print
            notes.append(f"loyalty: tier of type {type(tier).__name__} cannot be read; ignored")
    return Loyalty(tier=tier_text, points=points)


def _shown(value: Any) -> str:
    """The start of ``value`` for a note; its type when it cannot be printed (a huge int)."""
    try:
        return repr(str(value)[:40])
    except Exception:  # str() of an int over the digit limit raises ValueError
        return f"of type {type(value).__name__}"
