"""Personalized offers: eligibility, schedule, frequency caps and exclusivity groups.

Offers are compiled once. Per request, :meth:`CompiledOffers.choose` walks them by priority
(highest first, ties in file order) and keeps an offer when its condition holds, its window
is open, its placement and channel fit, it is under every cap (counted from the offer
counters of a store's profile, else from ``offer_shown``, ``offer_sent`` and
``offer_redeemed`` events in the history; a sent offer counts as shown) and no higher offer
of its group was kept; it stops at ``settings.max_offers``. A plugin operator that raises in
an offer's condition makes it false; the error goes to the ``report`` of the
:class:`~personalize.rules.Evaluation` passed to ``choose``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from personalize._models import Event, Profile
from personalize.config import Offer, OfferCap
from personalize.errors import Problem
from personalize.rules import Evaluation
from personalize.schedule import Window, compile_window

__all__ = [
    "CompiledOffers",
    "OfferChoice",
    "OfferNote",
    "compile_offers",
    "count_offer_events",
    "count_profile_offers",
]

#: The event types a cap counts: an offer sent in a campaign counts as shown.
_CAP_EVENTS = {"shown": ("offer_shown", "offer_sent"), "redeemed": ("offer_redeemed",)}
_CAP_KIND = {"offer_shown": "shown", "offer_sent": "shown", "offer_redeemed": "redeemed"}


@dataclass(frozen=True, slots=True)
class OfferChoice:
    """An offer chosen for this visitor.

    Attributes:
        offer_id: The offer's id.
        code: The coupon code to show.
        value: What it is worth (``{"percent": 10}`` ...); read-only (a ``dict`` that
            refuses changes, its lists tuples): ``dict(value)`` gives a copy to change.
        reason: Why it was chosen, in words.
        group: Its exclusivity group.
        priority: Its priority.
    """

    offer_id: str
    code: str | None
    value: Mapping[str, Any]
    reason: str
    group: str | None = None
    priority: int = 0


@dataclass(frozen=True, slots=True)
class _CompiledOffer:
    offer: Offer
    order: int
    when: Callable[..., bool]
    window: Window | None
    caps: tuple[OfferCap, ...]
    placements: frozenset[str] | None
    reason: str = field(default="")
    channels: frozenset[str] | None = None
    value: Mapping[str, Any] = field(default_factory=dict)  # read-only, shared by requests


def count_offer_events(
    events: Iterable[Event], now: datetime
) -> dict[tuple[str, str], list[float]]:
    """Ages in days of offer events, by ``(offer_id, event type)``; future events are ignored.

    ``offer_sent`` (an offer sent in a campaign) is counted under ``offer_shown``.
    """
    ages: dict[tuple[str, str], list[float]] = {}
    for event in [e for e in events if e.offer_id is not None]:  # few events have one
        kind = _CAP_KIND.get(event.type)
        if kind is None or event.offer_id is None:
            continue
        age = (now - event.at) / timedelta(days=1)
        if age >= 0:
            ages.setdefault((event.offer_id, _CAP_EVENTS[kind][0]), []).append(age)
    return ages


def count_profile_offers(profile: Profile, now: datetime) -> dict[tuple[str, str], list[float]]:
    """Like :func:`count_offer_events`, from the offer counters of a store's profile."""
    ages: dict[tuple[str, str], list[float]] = {}
    day = timedelta(days=1)
    for kind, counters in _counters(profile):
        for offer_id, times in counters.items():
            found = [age for at in times if (age := (now - at) / day) >= 0]
            if found:
                ages[(offer_id, kind)] = found
    return ages


def _counters(profile: Profile) -> tuple[tuple[str, Mapping[str, list[datetime]]], ...]:
    return (("offer_shown", profile.offers_shown), ("offer_redeemed", profile.offers_redeemed))


#: How many times an offer was shown or redeemed (``kind``) in the last ``days`` (``None``:
#: ever) before the request.
_Count = Callable[[str, str, "float | None"], int]


def _event_counter(events: Iterable[Event], now: datetime) -> _Count:
    ages = count_offer_events(events, now)

    def count(offer_id: str, kind: str, days: float | None) -> int:
        seen = ages.get((offer_id, kind), ())
        return sum(1 for age in seen if days is None or age <= days)

    return count


def _profile_counter(profile: Profile, now: datetime) -> _Count:
    """Counts from a store's profile: its times are sorted, so a count is two bisections."""
    counters = dict(_counters(profile))

    def count(offer_id: str, kind: str, days: float | None) -> int:
        times = counters[kind].get(offer_id)
        if not times:
            return 0
        end = bisect_right(times, now)
        return end - (bisect_left(times, now - timedelta(days=days)) if days is not None else 0)

    return count


class CompiledOffers:
    """The offers of a configuration, compiled once and sorted by priority."""

    __slots__ = ("_max_offers", "_offers")

    def __init__(self, offers: Sequence[_CompiledOffer], max_offers: int) -> None:
        self._offers = tuple(sorted(offers, key=lambda o: (-o.offer.priority, o.order)))
        self._max_offers = max_offers

    def __len__(self) -> int:
        return len(self._offers)

    def choose(
        self,
        facts: Mapping[str, Any],
        *,
        events: Iterable[Event] = (),
        profile: Profile | None = None,
        now: datetime,
        visitor_local: datetime | None = None,
        placement: str | None = None,
        trace: list[str] | None = None,
        evaluation: Evaluation | None = None,
        channel: str = "web",
        notes: list[OfferNote] | None = None,
    ) -> list[OfferChoice]:
        """The offers to show, best first.

        Args:
            facts: The request's facts.
            events: The customer's history events (offer events are counted for caps).
            profile: The history's profile; when a store made it (``complete``), caps
                read its offer counters and ``events`` are not walked.
            now: The request time (aware).
            visitor_local: The visitor's local time, for windows in the visitor's zone.
            placement: Where the offers will show.
            trace: When given, one line per offer says why it was kept or skipped.
            evaluation: The request time and the reporter of plugin errors.
            channel: Where the offers go out (``web``, ``email``); offers limited to other
                channels are skipped.
            notes: When given, receives the same account unformatted, for
                :meth:`describe` to turn into ``trace``'s lines later (or never).
        """
        if notes is None and trace is not None:
            notes = []
        chosen = self._choose(
            facts, events, profile, now, visitor_local, placement, evaluation, channel, notes
        )
        if trace is not None and notes is not None:
            trace.extend(self.describe(notes))
        return chosen

    def _choose(
        self,
        facts: Mapping[str, Any],
        events: Iterable[Event],
        profile: Profile | None,
        now: datetime,
        visitor_local: datetime | None,
        placement: str | None,
        evaluation: Evaluation | None,
        channel: str,
        notes: list[OfferNote] | None,
    ) -> list[OfferChoice]:
        note = notes.append if notes is not None else _ignore
        visitor = visitor_local.tzinfo if visitor_local is not None else None
        chosen: list[OfferChoice] = []
        taken_groups: dict[str, str] = {}
        count: _Count | None = None
        for position, c in enumerate(self._offers):
            offer = c.offer
            if len(chosen) >= self._max_offers:
                note((position, "full", None))  # this offer and every one after it
                break
            if not offer.enabled:
                note((position, "off", None))
                continue
            if c.placements is not None and placement not in c.placements:
                note((position, "placement", placement))
                continue
            if c.channels is not None and channel not in c.channels:
                note((position, "channel", channel))
                continue
            if c.window is not None and not c.window.is_open(now, visitor):
                note((position, "window", None))
                continue
            if offer.group is not None and offer.group in taken_groups:
                note((position, "group", taken_groups[offer.group]))
                continue
            if not c.when(facts, evaluation):
                note((position, "condition", None))
                continue
            if c.caps:
                if count is None:
                    count = (
                        _profile_counter(profile, now)
                        if profile is not None and profile.complete
                        else _event_counter(events, now)
                    )
                capped = _first_cap_reached(offer.id, c.caps, count)
                if capped is not None:
                    note((position, "capped", capped))
                    continue
            if offer.group is not None:
                taken_groups[offer.group] = offer.id
            note((position, "chosen", None))
            chosen.append(
                OfferChoice(
                    offer_id=offer.id,
                    code=offer.code,
                    value=c.value,
                    reason=c.reason,
                    group=offer.group,
                    priority=offer.priority,
                )
            )
        return chosen

    def describe(self, notes: Iterable[OfferNote]) -> list[str]:
        """The trace lines of the ``notes`` that :meth:`choose` recorded: one per offer."""
        lines: list[str] = []
        offers = self._offers
        for position, what, detail in notes:
            offer = offers[position].offer
            if what == "full":
                lines.extend(
                    f"offer {later.offer.id}: skipped, already {self._max_offers} offer(s)"
                    for later in offers[position:]
                )
            elif what == "chosen":
                lines.append(f"offer {offer.id}: chosen ({offers[position].reason})")
            else:
                lines.append(f"offer {offer.id}: " + _WHY[what].format(detail=detail, offer=offer))
        return lines


#: What :meth:`CompiledOffers.choose` records per offer: its position, what happened, and
#: a detail (the placement, the group's taker, the cap reached ...).
OfferNote = tuple[int, str, Any]

_WHY = {
    "off": "switched off",
    "placement": "not for placement {detail!r}",
    "channel": "not for channel {detail!r}",
    "window": "outside its active window",
    "group": "group {offer.group!r} taken by {detail}",
    "condition": "condition not met",
    "capped": "capped ({detail})",
}


class _ReadOnlyDict(dict[str, Any]):
    """An offer's value as every request hands it out: a dict (JSON encoders, ``dict()``
    and pickling take it as one) that refuses changes, so that no caller changes the
    offer for later visitors."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("an offer's value is read-only: copy it with dict(value) to change it")

    __setitem__ = __delitem__ = __ior__ = _refuse
    pop = popitem = clear = update = setdefault = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_ReadOnlyDict, (dict(self),))


def _frozen(value: Any) -> Any:
    """``value`` with its mappings read-only and its lists tuples, all the way down."""
    if isinstance(value, Mapping):
        return _ReadOnlyDict({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _ignore(_: OfferNote) -> None:
    return None


def _first_cap_reached(offer_id: str, caps: Sequence[OfferCap], counter: _Count) -> str | None:
    for cap in caps:
        count = counter(offer_id, _CAP_EVENTS[cap.count][0], cap.days)
        if count >= cap.per_customer:
            span = f" in {cap.days:g} days" if cap.days is not None else ""
            return f"{cap.count} {count} time(s){span}, cap {cap.per_customer}"
    return None


def _describe(offer: Offer) -> str:
    if offer.description:
        return offer.description
    if offer.when:
        return "eligible: " + ", ".join(sorted(offer.when))
    return "offered to everyone"


def compile_offers(
    offers: Sequence[Offer],
    compile_condition: Callable[[Mapping[str, Any], str], Callable[..., bool]],
    *,
    max_offers: int,
    store: tzinfo,
    problems: list[Problem],
) -> CompiledOffers:
    """Compile the ``offers:`` section; problems are appended to ``problems``."""
    compiled = []
    for i, offer in enumerate(offers):
        path = f"offers[{i}]"
        compiled.append(
            _CompiledOffer(
                offer=offer,
                order=i,
                when=compile_condition(offer.when, f"{path}.when"),
                window=compile_window(
                    offer.active, store=store, path=f"{path}.active", problems=problems
                ),
                caps=tuple(offer.caps()),
                placements=frozenset(offer.placements) if offer.placements is not None else None,
                reason=_describe(offer),
                channels=frozenset(offer.channels) if offer.channels is not None else None,
                value=_frozen(offer.value),
            )
        )
    return CompiledOffers(compiled, max_offers)
