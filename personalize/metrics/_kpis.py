"""Commerce KPIs per session and per group of sessions (a variant, a channel ...).

A session is every event with the same ``session_id``. Per session we count page views,
product views, cart events and purchases, sum revenue (``price * quantity`` of purchase
events) and measure time on site (last event minus first). Aggregates divide by the number
of sessions unless said otherwise; ``docs/metrics.md`` gives every definition.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from personalize._models import Event
from personalize.metrics._stats import _fsum

__all__ = ["GroupKey", "KpiTable", "Kpis", "SessionKpis", "kpis", "kpis_by", "session_kpis"]

#: How sessions are grouped: ``"variant"`` (the events' ``variant``), ``"experiments.<key>"``
#: (the variant of one experiment), another event field name, or a function of an event.
GroupKey = str | Callable[[Event | Mapping[str, Any]], str | None]


@dataclass(frozen=True, slots=True)
class SessionKpis:
    """What happened in one session.

    Attributes:
        session_id: The session, as text (a mapping event's ``7`` is session ``"7"``).
        group: The session's group (its variant), ``None`` when ungrouped.
        events: Events of any type.
        page_views: ``page_view`` events.
        product_views: ``view`` events.
        add_to_cart: ``add_to_cart`` events.
        remove_from_cart: ``remove_from_cart`` events.
        purchases: ``purchase`` events (order lines).
        orders: Distinct ``order_id`` values of purchases, as text (lines without one, or
            with a list or mapping, form one order).
        revenue: Sum of ``price * quantity`` over purchases (a missing price counts 0, and
            so does one that is not a finite number, with a note), correctly rounded
            (``math.fsum``), so the order of the lines does not change it.
        started_at: The first event.
        ended_at: The last event.
    """

    session_id: str
    group: str | None
    events: int
    page_views: int
    product_views: int
    add_to_cart: int
    remove_from_cart: int
    purchases: int
    orders: int
    revenue: float
    started_at: datetime
    ended_at: datetime

    @property
    def duration(self) -> float:
        """Time on site in seconds: last event minus first (0 for a single event)."""
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def added_to_cart(self) -> bool:
        """At least one ``add_to_cart``."""
        return self.add_to_cart > 0

    @property
    def converted(self) -> bool:
        """At least one ``purchase``."""
        return self.purchases > 0

    @property
    def abandoned(self) -> bool:
        """Added to cart and bought nothing in the session."""
        return self.add_to_cart > 0 and self.purchases == 0


@dataclass(frozen=True, slots=True)
class Kpis:
    """The KPIs of a set of sessions; a rate is ``None`` when its denominator is 0.

    Attributes:
        sessions: Sessions counted.
        page_views_per_session: Page views / sessions.
        product_views_per_session: Product views / sessions.
        add_to_cart_rate: Sessions with an add-to-cart / sessions.
        cart_abandonment_rate: Sessions with an add-to-cart and no purchase / sessions with
            an add-to-cart.
        conversion_rate: Sessions with a purchase / sessions.
        revenue_per_session: Revenue / sessions.
        average_order_value: Revenue / orders.
        average_time_on_site: Mean session duration in seconds.
        total_time_on_site: Sum of session durations in seconds.
        revenue: Total revenue.
        orders: Total orders.
        cart_sessions: Sessions with an add-to-cart.
        converted_sessions: Sessions with a purchase.
        abandoned_sessions: Sessions with an add-to-cart and no purchase.
    """

    sessions: int
    page_views_per_session: float | None
    product_views_per_session: float | None
    add_to_cart_rate: float | None
    cart_abandonment_rate: float | None
    conversion_rate: float | None
    revenue_per_session: float | None
    average_order_value: float | None
    average_time_on_site: float | None
    total_time_on_site: float
    revenue: float
    orders: int
    cart_sessions: int
    converted_sessions: int
    abandoned_sessions: int

    @classmethod
    def of(cls, sessions: Iterable[SessionKpis]) -> Kpis:
        """Aggregate per-session figures."""
        rows = list(sessions)
        n = len(rows)

        def per(total: float, count: int) -> float | None:
            return total / count if count else None

        revenue = _fsum(s.revenue for s in rows)
        orders = sum(s.orders for s in rows)
        carts = sum(1 for s in rows if s.added_to_cart)
        converted = sum(1 for s in rows if s.converted)
        abandoned = sum(1 for s in rows if s.abandoned)
        time_total = sum(s.duration for s in rows)
        return cls(
            sessions=n,
            page_views_per_session=per(sum(s.page_views for s in rows), n),
            product_views_per_session=per(sum(s.product_views for s in rows), n),
            add_to_cart_rate=per(carts, n),
            cart_abandonment_rate=per(abandoned, carts),
            conversion_rate=per(converted, n),
            revenue_per_session=per(revenue, n),
            average_order_value=per(revenue, orders),
            average_time_on_site=per(time_total, n),
            total_time_on_site=time_total,
            revenue=revenue,
            orders=orders,
            cart_sessions=carts,
            converted_sessions=converted,
            abandoned_sessions=abandoned,
        )


@dataclass(frozen=True, slots=True)
class KpiTable:
    """KPIs per group, with the sessions behind them.

    Attributes:
        key: What the groups are (``"all"`` for :func:`kpis`, else the group key's name).
        rows: Group name to its :class:`Kpis`, groups sorted by name.
        sessions: Group name to its sessions, sorted by start.
        notes: What was skipped and why (events without a session or with one that is
            not text, events without a valid time, purchases with no finite amount,
            sessions without a group, sessions seen in two groups).
    """

    key: str
    rows: Mapping[str, Kpis]
    sessions: Mapping[str, tuple[SessionKpis, ...]] = field(repr=False)
    notes: tuple[str, ...] = ()

    def __getitem__(self, group: str) -> Kpis:
        return self.rows[group]

    @property
    def groups(self) -> tuple[str, ...]:
        """The group names, in table order."""
        return tuple(self.rows)


class _Session:
    __slots__ = (
        "adds",
        "amounts",
        "events",
        "first",
        "group",
        "group_at",
        "last",
        "orders",
        "page_views",
        "product_views",
        "purchases",
        "removes",
    )

    def __init__(self, at: datetime) -> None:
        self.first = self.last = at
        self.events = self.page_views = self.product_views = 0
        self.adds = self.removes = self.purchases = 0
        self.amounts: list[float] = []  # summed once, with fsum: any order, one sum
        self.orders: set[str | None] = set()
        self.group: str | None = None
        self.group_at: datetime | None = None


def _field(event: Event | Mapping[str, Any], name: str) -> Any:
    if isinstance(event, Event):
        return getattr(event, name, None)
    return event.get(name)


def _text(value: Any) -> str | None:
    """An id as text (``7`` and ``"7"`` are one id), ``None`` when missing or unhashable.

    A list or a mapping (``Hashable`` says no) is no id, nor is NaN (how pandas writes a
    missing value); any other value reads as its ``str``, so mapping events from JSON or
    a database may carry numeric ids.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value) if isinstance(value, Hashable) else None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _amount(price: Any, quantity: Any) -> float | None:
    """``price * quantity`` (no price: 0; no quantity: 1), ``None`` when not a finite number."""
    if price is None:
        return 0.0
    try:
        amount = float(price) * float(1.0 if quantity is None else quantity)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond a double
        return None
    return amount if math.isfinite(amount) else None


def _grouper(key: GroupKey | None) -> Callable[[Event | Mapping[str, Any]], Any] | None:
    if key is None or callable(key):
        return key
    if key.startswith("experiments."):
        experiment = key.removeprefix("experiments.")

        def from_experiments(event: Event | Mapping[str, Any]) -> Any:
            assigned = _field(event, "experiments")
            return assigned.get(experiment) if isinstance(assigned, Mapping) else None

        return from_experiments
    return lambda event: _field(event, key)


def session_kpis(
    events: Iterable[Event | Mapping[str, Any]], key: GroupKey | None = None
) -> tuple[list[SessionKpis], list[str]]:
    """Per-session figures from an event stream, in any order.

    Args:
        events: :class:`~personalize.Event` objects or mappings with the same fields
            (``at`` may be an ISO 8601 string).
        key: How to group sessions (see :data:`GroupKey`); a session's group is the value
            on its earliest event that has one (on a tie, the smaller name).

    Returns:
        The sessions, sorted by start then id, and notes on what was skipped.
    """
    get_group = _grouper(key)
    sessions: dict[str, _Session] = {}
    no_session = not_text = bad_time = bad_amount = 0
    conflicts: set[str] = set()
    for event in events:
        raw = _field(event, "session_id")
        sid = raw if type(raw) is str else _text(raw)  # the common case without a call
        if not sid:  # None, NaN, an empty id, or a list or mapping: no session
            if raw is not None and not isinstance(raw, Hashable):
                not_text += 1
            else:
                no_session += 1
            continue
        at = event.at if isinstance(event, Event) else _timestamp(event.get("at"))
        if at is None:
            bad_time += 1
            continue
        s = sessions.get(sid)
        if s is None:
            s = sessions[sid] = _Session(at)
        elif at < s.first:
            s.first = at
        elif at > s.last:
            s.last = at
        s.events += 1
        kind = _field(event, "type")
        if kind == "page_view":
            s.page_views += 1
        elif kind == "view":
            s.product_views += 1
        elif kind == "add_to_cart":
            s.adds += 1
        elif kind == "remove_from_cart":
            s.removes += 1
        elif kind == "purchase":
            s.purchases += 1
            amount = _amount(_field(event, "price"), _field(event, "quantity"))
            if amount is None:
                bad_amount += 1
            else:
                s.amounts.append(amount)
            order = _field(event, "order_id")
            s.orders.add(order if type(order) is str else _text(order))
        if get_group is not None:
            group = get_group(event)
            if group is not None:
                group = str(group)
                if group != s.group and s.group is not None:
                    conflicts.add(sid)
                # The earliest grouped event so far sets the group and its time, even when
                # the group is unchanged: a rival is compared with the earliest time. A tie
                # goes to the smaller name, so the order events arrive in does not matter.
                if (
                    s.group_at is None
                    or at < s.group_at
                    or (at == s.group_at and s.group is not None and group < s.group)
                ):
                    s.group, s.group_at = group, at
    notes = []
    if no_session:
        notes.append(f"{no_session} events without a session_id were skipped")
    if not_text:
        notes.append(
            f"{not_text} events with a session_id that is not text (a list, a mapping) were skipped"
        )
    if bad_time:
        notes.append(f"{bad_time} events without a valid 'at' were skipped")
    if bad_amount:
        notes.append(
            f"{bad_amount} purchases with a price or quantity that is not a finite number"
            " counted no revenue"
        )
    if conflicts:
        notes.append(f"{len(conflicts)} sessions had events in two groups (earliest kept)")
    rows = [
        SessionKpis(
            session_id=sid,
            group=s.group,
            events=s.events,
            page_views=s.page_views,
            product_views=s.product_views,
            add_to_cart=s.adds,
            remove_from_cart=s.removes,
            purchases=s.purchases,
            orders=len(s.orders),
            revenue=_fsum(s.amounts),
            started_at=s.first,
            ended_at=s.last,
        )
        for sid, s in sessions.items()
    ]
    rows.sort(key=lambda r: (r.started_at, r.session_id))
    return rows, notes


def kpis(events: Iterable[Event | Mapping[str, Any]]) -> KpiTable:
    """KPIs of all sessions together, as a one-row table (group ``"all"``).

    Args:
        events: :class:`~personalize.Event` objects or mappings of their fields.
    """
    rows, notes = session_kpis(events)
    return KpiTable(
        key="all",
        rows={"all": Kpis.of(rows)},
        sessions={"all": tuple(rows)},
        notes=tuple(notes),
    )


def kpis_by(events: Iterable[Event | Mapping[str, Any]], key: GroupKey = "variant") -> KpiTable:
    """KPIs per group of sessions: per variant by default.

    Args:
        events: :class:`~personalize.Event` objects or mappings of their fields.
        key: ``"variant"``, ``"experiments.<experiment-key>"``, another event field, or a
            function of an event returning the group (``None``: no group).

    Returns:
        One row per group, sorted by name. Sessions without a group are left out (a note
        says how many).
    """
    rows, notes = session_kpis(events, key)
    grouped: dict[str, list[SessionKpis]] = {}
    ungrouped = 0
    for row in rows:
        if row.group is None:
            ungrouped += 1
        else:
            grouped.setdefault(row.group, []).append(row)
    if ungrouped:
        notes.append(f"{ungrouped} sessions without a group were left out")
    names = sorted(grouped)
    name = key if isinstance(key, str) else getattr(key, "__name__", "group")
    return KpiTable(
        key=name,
        rows={g: Kpis.of(grouped[g]) for g in names},
        sessions={g: tuple(grouped[g]) for g in names},
        notes=tuple(notes),
    )
