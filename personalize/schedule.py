"""Active windows: when a rule or an offer is live, compiled once from ``active:``.

A bound written as a date covers that whole day, and ``until`` is inclusive (a date-time
``until`` includes that instant). Bounds without a time zone are wall-clock times in the
window's zone: the visitor's (``visitor``), the store's (``store``, from
``settings.timezone``) or a named IANA zone. Bounds with an offset are absolute instants.
A visitor whose zone is unknown is read in the store's zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from personalize.config import ActiveWindow
from personalize.errors import Problem

__all__ = ["Window", "compile_window", "store_zone", "visitor_zone", "zone_or_none"]

_TICK = timedelta(microseconds=1)
#: The zones where a wall-clock time comes first (UTC+14) and last (UTC-12).
_EARLIEST, _LATEST = timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone called ``name``, or ``None`` when the name is unknown or malformed
    (or names a folder of zones, such as ``America``, or a data file of the database)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def store_zone(name: str, problems: list[Problem], path: str = "settings.timezone") -> tzinfo:
    """The store's zone; an unknown name is recorded as a problem and UTC is used."""
    zone = zone_or_none(name)
    if zone is None:
        problems.append(Problem(path, f"unknown time zone {name!r}"))
        return UTC
    return zone


def visitor_zone(facts: Mapping[str, Any]) -> tzinfo | None:
    """The visitor's zone from the ``time`` facts (``time.local``, else ``time.timezone``)."""
    time_facts = facts.get("time")
    if not isinstance(time_facts, Mapping):
        return None
    local = time_facts.get("local")
    if isinstance(local, datetime) and local.tzinfo is not None:
        return local.tzinfo
    name = time_facts.get("timezone")
    return zone_or_none(name) if isinstance(name, str) else None


def _bound(value: date | datetime | None, *, end: bool) -> datetime | None:
    """A bound as a datetime; ``end`` bounds become exclusive (a date covers its day).

    An end at the last moment of the calendar (``9999-12-31``) has no exclusive form:
    such a window never closes (``None``).
    """
    if value is None:
        return None
    try:
        if isinstance(value, datetime):
            return value + _TICK if end else value
        day = value + timedelta(days=1) if end else value
    except OverflowError:
        return None
    return datetime.combine(day, time.min)


def _ends_first(start: datetime, end: datetime, zone: tzinfo | None) -> bool:
    """Whether no moment is in the window, for any visitor.

    Two instants, or two wall-clock times, compare as they are. A wall-clock bound against
    an instant is read in the window's zone or, for the visitor's own, in the zone where
    the window is longest (the start at UTC+14, the end at UTC-12).
    """
    if start.tzinfo is None and end.tzinfo is not None:
        start = start.replace(tzinfo=zone or _EARLIEST)
    elif end.tzinfo is None and start.tzinfo is not None:
        end = end.replace(tzinfo=zone or _LATEST)
    return start >= end


@dataclass(frozen=True, slots=True)
class Window:
    """A compiled active window: open while ``start <= t < end``.

    Attributes:
        start: Inclusive lower bound (naive: wall clock in the zone; aware: an instant).
        end: Exclusive upper bound.
        zone: A fixed zone, or ``None`` for the visitor's own.
        fallback: The zone for a visitor whose zone is unknown (the store's).
    """

    start: datetime | None
    end: datetime | None
    zone: tzinfo | None
    fallback: tzinfo = UTC

    def is_open(self, now: datetime, visitor: tzinfo | None = None) -> bool:
        """Whether the window is open at ``now`` for a visitor in zone ``visitor``.

        A wall-clock bound is passed at the first moment the clock shows it: in the hour
        that comes twice when clocks go back, the second pass does not pass it again.
        """
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        zone = self.zone or visitor or self.fallback
        local = now.astimezone(zone)
        if local.fold:  # the second pass of a repeated hour: rare, the slow way
            return self._open_in_second_pass(now, zone)
        wall = local.replace(tzinfo=None)  # the latest time the clock has shown
        start, end = self.start, self.end
        if start is not None and (wall if start.tzinfo is None else now) < start:
            return False
        return end is None or (wall if end.tzinfo is None else now) < end

    def _open_in_second_pass(self, now: datetime, zone: tzinfo) -> bool:
        """A wall-clock bound was passed if its first showing is behind ``now``."""
        utc = now.astimezone(UTC)
        start, end = self.start, self.end
        if start is not None and utc < (start if start.tzinfo else start.replace(tzinfo=zone)):
            return False
        return end is None or utc < (end if end.tzinfo else end.replace(tzinfo=zone))


def compile_window(
    active: ActiveWindow | None, *, store: tzinfo, path: str, problems: list[Problem]
) -> Window | None:
    """Compile ``active:`` into a :class:`Window`; record problems instead of raising.

    Args:
        active: The ``active:`` mapping, or ``None`` (always live).
        store: The store's zone.
        path: Where ``active:`` is in the file, for problems.
        problems: Where problems are appended.
    """
    if active is None:
        return None
    zone: tzinfo | None = None
    if active.timezone == "store":
        zone = store
    elif active.timezone != "visitor":
        zone = zone_or_none(active.timezone)
        if zone is None:
            problems.append(Problem(f"{path}.timezone", f"unknown time zone {active.timezone!r}"))
            zone = UTC
    start = _bound(active.start, end=False)
    end = _bound(active.until, end=True)
    if start is not None and end is not None and _ends_first(start, end, zone):
        problems.append(Problem(f"{path}.until", "the window ends before it starts"))
    return Window(start, end, zone, store)
