"""Attribution KPIs per variant: recommendation click-through, attributed revenue, offer
redemption, from ``impression``, ``click``, ``purchase`` and offer events.

Definitions (``docs/metrics.md``):

* **impressions**: distinct ``(decision_id, product_id)`` of ``impression`` events;
  **clicks**: distinct pairs of ``click`` events matching an impression.
  ``ctr = clicks / impressions``.
* **attributed revenue**: ``price * quantity`` of each purchase line of a clicked product
  by the same visitor (``customer_id``, else ``session_id``) within ``window`` after the
  click (the latest such click gets it; a line counts once).
* **offer redemption rate**: visitor-offer pairs with an ``offer_redeemed`` at or after
  their first ``offer_shown``, over the visitor-offer pairs shown.

The group of an impression or show is read from that event (``variant`` or
``experiments.<key>``); a click goes to the group of the impression it matches, a purchase
to the group of the click it is attributed to, a redemption to the group of the show.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from personalize._models import Event
from personalize.metrics._kpis import GroupKey, _amount, _grouper, _text, _timestamp
from personalize.metrics._stats import _fsum

__all__ = ["ATTRIBUTION_WINDOW", "Attribution", "attribution_by"]

#: How long after a click a purchase of the clicked product is attributed to it.
ATTRIBUTION_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Attribution:
    """The attribution KPIs of one group.

    Attributes:
        impressions: Recommended products shown (distinct decision and product).
        clicks: Those clicked.
        attributed_revenue: Revenue of purchases of clicked products within the window.
        attributed_orders: Purchase lines attributed.
        offers_shown: Visitor-offer pairs shown.
        offers_redeemed: Those redeemed at or after being shown.
    """

    impressions: int = 0
    clicks: int = 0
    attributed_revenue: float = 0.0
    attributed_orders: int = 0
    offers_shown: int = 0
    offers_redeemed: int = 0

    @property
    def ctr(self) -> float | None:
        """Click-through rate of recommendations (``None`` without impressions)."""
        return self.clicks / self.impressions if self.impressions else None

    @property
    def redemption_rate(self) -> float | None:
        """Offer redemption rate (``None`` when no offer was shown)."""
        return self.offers_redeemed / self.offers_shown if self.offers_shown else None


def _get(event: Event | Mapping[str, Any], name: str) -> Any:
    return event.get(name) if isinstance(event, Mapping) else getattr(event, name, None)


def _id(event: Event | Mapping[str, Any], name: str) -> str | None:
    # As kpis reads ids: as text (7 and "7" are one id); a list or a mapping is no id.
    return _text(_get(event, name))


def _at(event: Event | Mapping[str, Any]) -> datetime | None:
    # As kpis_by reads it: naive is UTC; not a time (or not ISO 8601): skipped.
    return event.at if isinstance(event, Event) else _timestamp(event.get("at"))


def _owner(event: Event | Mapping[str, Any]) -> str | None:
    customer, session = _id(event, "customer_id"), _id(event, "session_id")
    return f"c:{customer}" if customer else (f"s:{session}" if session else None)


def _earliest(
    first: dict[tuple[str, str], tuple[datetime, str]],
    key: tuple[str, str],
    seen: tuple[datetime, str],
) -> None:
    """Keep the earliest ``(time, group)`` of ``key``; at the same time, the smaller group."""
    if key not in first or seen < first[key]:
        first[key] = seen


class _Group:
    __slots__ = ("amounts", "clicks", "impressions", "orders", "redeemed", "shown")

    def __init__(self) -> None:
        self.impressions: set[tuple[str, str]] = set()
        self.clicks: set[tuple[str, str]] = set()
        self.amounts: list[float] = []  # summed once, with fsum: any order, one sum
        self.orders = 0
        self.shown: set[tuple[str, str]] = set()
        self.redeemed: set[tuple[str, str]] = set()


def attribution_by(
    events: Iterable[Event | Mapping[str, Any]],
    key: GroupKey = "variant",
    *,
    window: timedelta = ATTRIBUTION_WINDOW,
) -> dict[str, Attribution]:
    """Attribution KPIs per group (per variant by default), sorted by group name.

    Args:
        events: :class:`~personalize.Event` objects or mappings of their fields, any order.
        key: How to group (see :data:`~personalize.metrics.GroupKey`).
        window: How long after a click a purchase of that product is attributed.
    """
    group_of = _grouper(key)
    assert group_of is not None
    rows: list[tuple[datetime, int, Event | Mapping[str, Any]]] = []
    for i, event in enumerate(events):
        at = _at(event)
        if at is not None:
            rows.append((at, i, event))
    rows.sort(key=lambda row: (row[0], row[1]))
    groups: dict[str, _Group] = {}
    # (owner, product) -> the click times, in order, and the group of the click(s) at each
    clicked: dict[tuple[str, str], tuple[list[datetime], list[str]]] = {}
    first_shown: dict[tuple[str, str], tuple[datetime, str]] = {}  # (owner, offer)
    impression_group: dict[tuple[str, str], tuple[datetime, str]] = {}  # the first one
    purchases: list[tuple[datetime, Event | Mapping[str, Any]]] = []
    # Impressions and shows first: a click matches its impression wherever the log puts
    # it (logs merged from the app and the server, clocks a little apart), and a
    # redemption stamped the second of its show counts whichever is listed first. The
    # first impression (show) decides the group; a tie goes to the smaller name.
    for at, _, event in rows:
        kind, product = _get(event, "type"), _id(event, "product_id")
        if kind == "impression" and (decision := _id(event, "decision_id")) and product:
            group = group_of(event)
            if group is not None:
                _earliest(impression_group, (decision, product), (at, str(group)))
                groups.setdefault(str(group), _Group()).impressions.add((decision, product))
        elif kind == "offer_shown" and (owner := _owner(event)) is not None:
            offer, group = _id(event, "offer_id"), group_of(event)
            if offer and group is not None:
                _earliest(first_shown, (owner, offer), (at, str(group)))
    for pair, (_, name) in first_shown.items():
        groups.setdefault(name, _Group()).shown.add(pair)
    for at, _, event in rows:
        kind, product, decision = _get(event, "type"), _id(event, "product_id"), None
        owner = _owner(event)
        if kind == "click":
            decision = _id(event, "decision_id")
            if not decision or not product:
                continue
            pair = (decision, product)
            if pair in impression_group:
                group_name = impression_group[pair][1]
                groups[group_name].clicks.add(pair)
                if owner is not None:
                    times, names = clicked.setdefault((owner, product), ([], []))
                    if times and times[-1] == at:
                        # Clicks at the same time: the smaller group gets what follows.
                        names[-1] = min(names[-1], group_name)
                    else:
                        times.append(at)
                        names.append(group_name)
        elif kind == "purchase" and owner is not None and product:
            purchases.append((at, event))
        elif kind == "offer_redeemed" and owner is not None:
            offer = _id(event, "offer_id")
            shown = first_shown.get((owner, offer)) if offer else None
            if offer and shown is not None and at >= shown[0]:
                groups[shown[1]].redeemed.add((owner, offer))
    for at, event in purchases:
        owner, product = _owner(event), _id(event, "product_id")
        clicks = clicked.get((str(owner), str(product)))
        if not clicks:
            continue
        times, names = clicks
        latest = bisect_right(times, at) - 1
        if latest < 0 or at - times[latest] > window:
            continue
        amount = _amount(_get(event, "price"), _get(event, "quantity"))
        target = groups[names[latest]]
        target.amounts.append(amount or 0.0)
        target.orders += 1
    return {
        name: Attribution(
            impressions=len(g.impressions),
            clicks=len(g.clicks),
            attributed_revenue=_fsum(g.amounts),
            attributed_orders=g.orders,
            offers_shown=len(g.shown),
            offers_redeemed=len(g.redeemed),
        )
        for name, g in sorted(groups.items())
    }
