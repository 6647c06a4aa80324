"""Active windows: when a rule or an offer is live, compiled once from ``active:``.

A bound written as a date covers that whole day; ``until`` is inclusive. Bounds without a
time zone are wall-clock times in the window's zone: the visitor's (``visitor``), the
store's (``store``, from ``settings.timezone``) or a named IANA zone. Bounds with an offset
are absolute instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from personalize.config import ActiveWindow
from personalize.errors import Problem

__all__ = ["Window", "compile_window", "zone_or_none"]


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone called ``name``, or ``None`` when the name is unknown or malformed."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _bound(value: date | datetime | None, *, end: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time.min)


@dataclass(frozen=True, slots=True)
class Window:
    """A compiled active window: ``start <= t < end`` in the window's zone.

    Attributes:
        start: Inclusive lower bound (naive = wall clock in ``zone``).
        end: Exclusive upper bound (an inclusive ``until`` date is moved to the next midnight).
        zone: A fixed zone, or ``None`` for the visitor's own.
    """

    start: datetime | None
    end: datetime | None
    zone: tzinfo | None

    def is_open(self, now: datetime, visitor_local: datetime | None = None) -> bool:
        """Whether the window is open at ``now`` (aware), for a visitor whose local time is
        ``visitor_local`` (aware, in their zone; ``now`` is used when unknown)."""
        if self.zone is not None:
            local = now.astimezone(self.zone)
        else:
            local = visitor_local if visitor_local is not None else now
        start, end = self.start, self.end
        if start is not None and local < (
            start if start.tzinfo else start.replace(tzinfo=local.tzinfo)
        ):
            return False
        return end is None or local < (end if end.tzinfo else end.replace(tzinfo=local.tzinfo))


def compile_window(
    active: ActiveWindow | None, *, store_zone: str, path: str, problems: list[Problem]
) -> Window | None:
    """Compile ``active:`` into a :class:`Window`; record problems instead of raising."""
    if active is None:
        return None
    zone: tzinfo | None
    if active.timezone == "visitor":
        zone = None
    else:
        name = store_zone if active.timezone == "store" else active.timezone
        zone = zone_or_none(name)
        if zone is None:
            problems.append(Problem(f"{path}.timezone", f"unknown time zone {name!r}"))
            zone = UTC
    window = Window(_bound(active.start, end=False), _bound(active.until, end=True), zone)
    if window.start is not None and window.end is not None:
        start, end = window.start, window.end
        comparable = (start.tzinfo is None) == (end.tzinfo is None)
        if comparable and start >= end:
            problems.append(Problem(f"{path}", "'from' must come before 'until'"))
    return window
