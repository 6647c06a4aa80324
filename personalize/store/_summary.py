"""The summary of one customer, updated in O(1) per event and stored as JSON.

A store folds every appended event into a :class:`Summary` and turns it into a
:class:`~personalize._models.Profile` on read, so a request never walks the events. The
state is plain JSON (times are Unix seconds), the same in memory, SQLite and Redis.

What each part means, and where it is exact:

* purchases: an order is its ``order_id`` (else ``session_id@at``), as in
  :func:`~personalize.context.build_profile`. Lines of one order are recognised among the
  latest :data:`RECENT_ORDERS` orders, so ``order_count`` and ``purchase_counts`` are exact
  unless lines of one order arrive more than 100 orders apart.
* purchased products: the :data:`PURCHASED_PRODUCTS` most recently bought products keep
  their order counts and last times; a new product beyond that pushes out the one bought
  longest ago (a request then reads a bounded profile, whatever the history's length).
* sessions: a session is the events of one ``session_id``; events without one join the
  current session while they come within the idle timeout (30 minutes by default), else
  they open a new one. A new session ends the previous one: its cart, if not empty,
  becomes the abandoned cart, unless a purchase comes later.
* cart values use the latest price seen on that product's cart events in the cart.
* engagement points are kept per UTC day for the last 90 days, so the score's window is
  read to the day.
* offers: the latest :data:`OFFER_TIMES` show and redeem times per offer (an offer sent in
  a campaign, ``offer_sent``, counts as shown), so a cap of up to
  100 in any window is counted exactly.
* order frequency: each purchased product's decayed order frequency (the ranking's
  ``personal`` source, ``docs/ranking.md``) at the time of the latest order, folded with
  :data:`FREQUENCY_DECAY` and :data:`FREQUENCY_HALF_LIFE_DAYS` (the ranking's defaults;
  ``Retention.order_decay`` and ``personal_half_life_days`` set others for new customers):
  a new order multiplies every product's value by the decay and by the half-life's decay
  over the time since the previous order, then adds 1 to each of its products; another
  line of a known order adds that order's weight now. Exact (up to float rounding) when
  orders arrive in time order; an order older than the latest one counts as if one order
  came after it. A state written before it was kept has none (the ranking then falls
  back to order counts).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from personalize._models import Event, Profile
from personalize.config import RankingConfig
from personalize.store._events import dumps

__all__ = [
    "DEFAULT_FOLD",
    "FREQUENCY_DECAY",
    "FREQUENCY_HALF_LIFE_DAYS",
    "LEDGER_KEYS",
    "OFFER_TIMES",
    "RECENTLY_VIEWED",
    "RECENT_ORDERS",
    "SESSION_TIMEOUT",
    "Summary",
]

RECENT_ORDERS = 100
PURCHASED_PRODUCTS = 200
OFFER_TIMES = 100
RECENTLY_VIEWED = 50
SESSION_TIMEOUT = timedelta(minutes=30)
ENGAGEMENT_DAYS = 90
#: Experiments whose exposure is remembered per visitor (the latest first to go).
EXPERIMENTS = 100
#: The per-order decay and the half-life the order frequency is folded with: the defaults
#: of ``RankingConfig.order_decay`` and ``personal_half_life_days``, read from it.
FREQUENCY_DECAY: float = RankingConfig.model_fields["order_decay"].default
FREQUENCY_HALF_LIFE_DAYS: float = RankingConfig.model_fields["personal_half_life_days"].default
#: Both, as the ``fold`` a summary takes.
DEFAULT_FOLD = (FREQUENCY_DECAY, FREQUENCY_HALF_LIFE_DAYS)
_DAY = 86400
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_VIEWS = frozenset({"view", "page_view"})
_POINTS = {"email_open": 1.0, "email_click": 3.0, "chat": 5.0, "add_to_cart": 2.0}
_VIEW_POINTS = 0.5
_ORDER_POINTS = 10.0
_OFFER_KIND = {"offer_shown": "shown", "offer_sent": "shown", "offer_redeemed": "redeemed"}
_COUNTERS = {"email_open": "opens", "email_click": "clicks", "chat": "chats"}
#: The parts of the state that only appends use (the lines of the latest orders, to tell a
#: new order from another line of a known one). SQLite and Redis keep them apart from the
#: rest, so that a read loads a state that does not grow with the number of orders.
LEDGER_KEYS = ("recent_orders", "order_marks")


def _new_session(sid: str, at: float) -> dict[str, Any]:
    return {"id": sid, "start": at, "last": at, "cart": {}, "views": [], "cats": {}, "entry": None}


def _value(items: dict[str, list[Any]]) -> float:
    value = sum(q * (p or 0.0) for q, p in items.values())
    return value if math.isfinite(value) else 0.0


def _front(items: list[str], item: str, limit: int) -> None:
    """Move ``item`` to the front of ``items`` (each once), keeping at most ``limit``."""
    if item in items:
        items.remove(item)
    items.insert(0, item)
    del items[limit:]


class Summary:
    """What a store knows about one customer, folded from their events.

    Args:
        state: A state from :meth:`to_json`, or ``None`` for a new customer.
        session_timeout: Idle time after which events without a session id open a new
            session, and after which the current session counts as ended on read.
    """

    __slots__ = ("_timeout", "state")

    def __init__(
        self,
        state: dict[str, Any] | None = None,
        *,
        session_timeout: timedelta = SESSION_TIMEOUT,
        fold: tuple[float, float] = DEFAULT_FOLD,
    ) -> None:
        self.state: dict[str, Any] = state if state is not None else self._empty(*fold)
        self._timeout = session_timeout.total_seconds()

    @staticmethod
    def _empty(decay: float, half_life_days: float) -> dict[str, Any]:
        return {
            "events": 0,
            "purchases": {},  # product -> [orders containing it, last time]
            "orders": 0,
            "value": 0.0,
            "first_purchase": None,
            "last_purchase": None,
            "recent_orders": {},  # order key -> products in it
            "order_marks": {},  # order key -> [its number among the orders, its time]
            # the order frequency's fold: the latest order's time, decay, half-life (days)
            "frequency": {"at": None, "decay": decay, "days": half_life_days},
            "categories": {},  # category -> [views, last time]
            "viewed": [],
            "cart": {},  # since the last purchase: product -> [quantity, price]
            "session": None,
            "abandoned": None,
            "last_session": None,
            "opens": 0,
            "clicks": 0,
            "chats": 0,
            "points": {},  # UTC day number -> points
            "offers": {"shown": {}, "redeemed": {}},
            "loyalty": {},
        }

    def to_json(self) -> dict[str, Any]:
        """The state, as JSON-able plain data."""
        return self.state

    @classmethod
    def stored(
        cls,
        state: str | bytes | None,
        ledger: str | bytes | None = None,
        *,
        session_timeout: timedelta = SESSION_TIMEOUT,
        fold: tuple[float, float] = DEFAULT_FOLD,
    ) -> Summary:
        """A summary from the two JSON texts of :meth:`parts` (``None`` for a missing one;
        a new customer's frequency is folded with ``fold``, decay and half-life in days).

        A state stored whole, before the ledger was kept apart, still reads: its ledger is
        in it, and moves out on the next write.
        """
        summary = cls(
            orjson.loads(state) if state is not None else None,
            session_timeout=session_timeout,
            fold=fold,
        )
        kept = orjson.loads(ledger) if ledger is not None else {}
        for name in LEDGER_KEYS:
            summary.state.setdefault(name, kept.get(name, {}))
        return summary

    def parts(self) -> tuple[str, str]:
        """The state as the two JSON texts a store keeps: what reads need, and the ledger."""
        state = {k: v for k, v in self.state.items() if k not in LEDGER_KEYS}
        ledger = {k: self.state[k] for k in LEDGER_KEYS if k in self.state}
        return dumps(state), dumps(ledger)

    def apply(self, event: Event) -> None:
        """Fold one event in: O(1), bounded by the fixed limits of this module."""
        s = self.state
        at = event.at.timestamp()
        kind, product = event.type, event.product_id
        s["events"] += 1
        session = self._session_for(event, at)
        if kind in _VIEWS:
            if product is not None:
                _front(s["viewed"], product, RECENTLY_VIEWED)
                _front(session["views"], product, RECENTLY_VIEWED)
                self._points(at, _VIEW_POINTS)
            if (category := event.category) is not None:
                seen = s["categories"].setdefault(category, [0, at])
                seen[0] += 1
                seen[1] = max(seen[1], at)
                cats = session["cats"]
                cats[category] = cats.get(category, 0) + 1
        elif kind in ("add_to_cart", "remove_from_cart") and product is not None:
            delta = event.quantity if kind == "add_to_cart" else -event.quantity
            _change(s["cart"], product, delta, event.price)
            _change(session["cart"], product, delta, event.price)
            if kind == "add_to_cart":
                self._points(at, _POINTS[kind])
        elif kind == "purchase":
            self._purchase(event, at)
            session["cart"].clear()
        elif (counter := _COUNTERS.get(kind)) is not None:
            s[counter] += 1
            self._points(at, _POINTS[kind])
        elif (offer_kind := _OFFER_KIND.get(kind)) is not None and event.offer_id is not None:
            times = s["offers"][offer_kind].setdefault(event.offer_id, [])
            times.append(at)
            del times[:-OFFER_TIMES]
        elif kind == "exposure":
            exposed = s.setdefault("exposed", {})
            exposed.update(event.experiments)
            while len(exposed) > EXPERIMENTS:
                del exposed[next(iter(exposed))]

    def set_loyalty(self, loyalty: dict[str, Any]) -> None:
        """Replace the loyalty details (tier, points ...)."""
        self.state["loyalty"] = dict(loyalty)

    def _session_for(self, event: Event, at: float) -> dict[str, Any]:
        s = self.state
        current = s["session"]
        sid = event.session_id
        if current is not None and (
            (sid is None and at - current["last"] <= self._timeout) or sid == current["id"]
        ):
            current["last"] = max(current["last"], at)
        else:
            if current is not None:
                self._end_session(current)
            current = s["session"] = _new_session(sid or f"auto:{int(at)}", at)
        if current["entry"] is None and (event.referrer is not None or event.url is not None):
            current["entry"] = [event.referrer, event.url]
        return current  # type: ignore[no-any-return]

    def _end_session(self, session: dict[str, Any]) -> None:
        s = self.state
        if session["cart"]:
            s["abandoned"] = {"items": session["cart"], "at": session["last"], "id": session["id"]}
        if session["views"] or session["cats"]:
            s["last_session"] = {"products": session["views"], "category": _top(session["cats"])}

    def _purchase(self, event: Event, at: float) -> None:
        s = self.state
        s["cart"].clear()
        if (abandoned := s["abandoned"]) is not None and at > abandoned["at"]:
            s["abandoned"] = None
        order = event.order_id or f"{event.session_id or ''}@{event.at.isoformat()}"
        recent = s["recent_orders"]
        fold = s.get("frequency")  # None in a state written before the frequency was kept
        lines = recent.get(order)
        if lines is None:
            lines = recent[order] = []
            s["orders"] += 1
            self._points(at, _ORDER_POINTS)
            if len(recent) > RECENT_ORDERS:
                del recent[next(iter(recent))]
            weight = self._new_order(fold, order, at) if fold is not None else 0.0
        else:
            weight = self._order_weight(fold, order) if fold is not None else 0.0
        product = event.product_id
        if product is not None:
            purchases = s["purchases"]
            bought = purchases.get(product)
            if bought is None:
                bought = purchases[product] = [0, at, 0.0] if fold is not None else [0, at]
                if len(purchases) > PURCHASED_PRODUCTS:
                    del purchases[min(purchases, key=lambda p: purchases[p][1])]
            if product not in lines:
                lines.append(product)
                bought[0] += 1
                if fold is not None:
                    bought[2] += weight
            bought[1] = max(bought[1], at)
        if event.price is not None:
            s["value"] += event.price * event.quantity
        if s["first_purchase"] is None or at < s["first_purchase"]:
            s["first_purchase"] = at
        if s["last_purchase"] is None or at > s["last_purchase"]:
            s["last_purchase"] = at

    def _new_order(self, fold: dict[str, Any], order: str, at: float) -> float:
        """Fold a new order at ``at`` into the order frequency; its weight now."""
        s = self.state
        marks = s["order_marks"]
        marks[order] = [s["orders"], at]
        if len(marks) > RECENT_ORDERS:
            del marks[next(iter(marks))]
        latest = fold["at"]
        if latest is not None and at < latest:  # older than the latest: one order after it
            return _weight(fold, 1, latest - at)
        if latest is not None:
            factor = _weight(fold, 1, at - latest)
            for bought in s["purchases"].values():
                bought[2] *= factor
        fold["at"] = at
        return 1.0

    def _order_weight(self, fold: dict[str, Any], order: str) -> float:
        """The weight now of a known order (another of its lines came)."""
        mark = self.state["order_marks"].get(order)
        if mark is None or fold["at"] is None:
            return 0.0
        number, at = mark
        return _weight(fold, self.state["orders"] - number, fold["at"] - at)

    def _points(self, at: float, points: float) -> None:
        buckets = self.state["points"]
        day = str(int(at // _DAY))
        buckets[day] = buckets.get(day, 0.0) + points
        if len(buckets) > ENGAGEMENT_DAYS + 1:
            newest = max(int(d) for d in buckets)
            for old in [d for d in buckets if int(d) < newest - ENGAGEMENT_DAYS]:
                del buckets[old]

    def to_profile(self, now: datetime, session_id: str | None = None) -> Profile:
        """The summary as a profile, for a request at ``now`` in session ``session_id``.

        The current session counts as ended when the request names another session, or
        names none and comes after the idle timeout; its cart then reads as abandoned.
        Without a session id, ``cart`` is everything added since the last purchase.
        """
        s = self.state
        current = s["session"]
        ended = current is None or (
            current["id"] != session_id
            if session_id is not None
            else now.timestamp() - current["last"] > self._timeout
        )
        abandoned, last_session = s["abandoned"], s["last_session"]
        if current is not None and ended:
            if current["cart"]:
                abandoned = {"items": current["cart"], "at": current["last"], "id": current["id"]}
            if current["views"] or current["cats"]:
                last_session = {"products": current["views"], "category": _top(current["cats"])}
        if session_id is None:
            cart = s["cart"]
        else:
            cart = current["cart"] if current is not None and not ended else {}
        open_session = current if current is not None and not ended else None
        entry = (open_session or {}).get("entry") or [None, None]
        oldest_day = int(now.timestamp() // _DAY) - ENGAGEMENT_DAYS
        shown, redeemed = s["offers"]["shown"], s["offers"]["redeemed"]
        purchases, categories = s["purchases"], s["categories"]
        # The state was checked on append: build without validation, and turn the Unix
        # times into datetimes through a cache (a customer's times repeat on every read).
        return Profile.from_store(
            purchase_counts={p: bought[0] for p, bought in purchases.items()},
            last_purchased={p: _utc(bought[1]) for p, bought in purchases.items()},
            order_count=s["orders"],
            lifetime_value=s["value"],
            first_purchase_at=_utc_or_none(s["first_purchase"]),
            last_purchase_at=_utc_or_none(s["last_purchase"]),
            viewed_categories={c: n for c, (n, _) in categories.items()},
            category_last_viewed={c: _utc(t) for c, (_, t) in categories.items()},
            recently_viewed=list(s["viewed"]),
            cart={p: q for p, (q, _) in cart.items()},
            cart_value=_value(cart),
            abandoned_cart={p: q for p, (q, _) in abandoned["items"].items()} if abandoned else {},
            abandoned_cart_value=_value(abandoned["items"]) if abandoned else 0.0,
            abandoned_cart_at=_utc(abandoned["at"]) if abandoned else None,
            abandoned_cart_session=abandoned["id"] if abandoned else None,
            last_session_products=list(last_session["products"]) if last_session else [],
            last_session_category=last_session["category"] if last_session else None,
            email_opens=s["opens"],
            email_clicks=s["clicks"],
            chats=s["chats"],
            engagement_points=dict(_engagement(tuple(s["points"].items()), oldest_day)),
            offers_shown={o: list(_times(tuple(times))) for o, times in shown.items()},
            offers_redeemed={o: list(_times(tuple(times))) for o, times in redeemed.items()},
            session_id=open_session["id"] if open_session else None,
            session_started_at=_utc(open_session["start"]) if open_session else None,
            session_referrer=entry[0],
            session_url=entry[1],
            session_utm=_utm(entry[1]),
            exposures=dict(s.get("exposed") or {}),
            **_frequency(s),
        )


def _weight(fold: dict[str, Any], later: int, seconds: float) -> float:
    """An order's weight after ``later`` orders and ``seconds``: ``decay ** later * 0.5
    ** (days / half-life)``."""
    days = max(seconds, 0.0) / _DAY
    return float(fold["decay"] ** later * 0.5 ** (days / fold["days"]))


def _frequency(state: dict[str, Any]) -> dict[str, Any]:
    """The profile fields of the order frequency (none for a state without it)."""
    fold = state.get("frequency")
    if fold is None or fold["at"] is None:
        return {}
    return {
        "order_frequency": {p: bought[2] for p, bought in state["purchases"].items()},
        "order_frequency_at": _utc(fold["at"]),
        "order_frequency_decay": fold["decay"],
        "order_frequency_half_life_days": fold["days"],
    }


@lru_cache(maxsize=65_536)
def _utc(timestamp: float) -> datetime:
    """A state time as an aware datetime, cached (the same times are read on every request)."""
    return datetime.fromtimestamp(timestamp, UTC)


@lru_cache(maxsize=4096)
def _times(times: tuple[float, ...]) -> tuple[datetime, ...]:
    """An offer's times, sorted, as datetimes; cached, since they change only when the offer
    is shown or redeemed again."""
    return tuple(_utc(t) for t in sorted(times))


def _utc_or_none(timestamp: float | None) -> datetime | None:
    return _utc(timestamp) if timestamp is not None else None


@lru_cache(maxsize=4096)
def _engagement(points: tuple[tuple[str, float], ...], oldest_day: int) -> dict[str, float]:
    """Engagement points by ``YYYY-MM-DD`` since ``oldest_day``; cached (they change only
    with the day's events)."""
    return {day[1]: p for d, p in points if (day := _day(d))[0] >= oldest_day}


@lru_cache(maxsize=4096)
def _day(number: str) -> tuple[int, str]:
    """A day number of the state, as an int and as ``YYYY-MM-DD``."""
    return int(number), date.fromordinal(_EPOCH_DAY + int(number)).isoformat()


def _change(cart: dict[str, list[Any]], product: str, delta: float, price: float | None) -> None:
    line = cart.get(product)
    quantity = (line[0] if line else 0.0) + delta
    if quantity > 0:
        cart[product] = [quantity, price if price is not None else (line[1] if line else None)]
    else:
        cart.pop(product, None)


def _top(categories: dict[str, int]) -> str | None:
    """The most viewed category; ties go to the one first seen latest."""
    if not categories:
        return None
    top = max(categories.values())
    return next(c for c in reversed(categories) if categories[c] == top)


def _utm(url: str | None) -> dict[str, str]:
    return dict(_utm_pairs(url)) if url else {}


@lru_cache(maxsize=4096)
def _utm_pairs(url: str) -> tuple[tuple[str, str], ...]:
    """The UTM parameters of ``url``, without their prefix; none for a URL ``urlsplit``
    rejects (``http://[::1/``), which an app may have tracked: the summary stays readable."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return ()
    pairs = parse_qsl(query)
    return tuple((k[4:], v) for k, v in pairs if k.startswith("utm_") and len(k) > 4)
