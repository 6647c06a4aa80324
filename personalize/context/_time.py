"""The visitor's local time: hour, weekday, daypart and a hemisphere-aware season.

* ``daypart``: ``morning`` 05:00-11:59, ``afternoon`` 12:00-16:59, ``evening`` 17:00-21:59,
  ``night`` 22:00-04:59, in local time.
* ``weekday``: 0 is Monday ... 6 is Sunday; ``is_weekend`` is Saturday or Sunday.
* ``season``: meteorological seasons by local month. North: December-February ``winter``,
  March-May ``spring``, June-August ``summer``, September-November ``autumn``; the south has
  the opposite season. An unknown hemisphere counts as north.
"""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from personalize.context._model import TimeFacts

__all__ = ["daypart", "load_zone", "season", "time_facts"]

_NORTH_SEASONS = (
    "winter",
    "winter",
    "spring",
    "spring",
    "spring",
    "summer",
    "summer",
    "summer",
    "autumn",
    "autumn",
    "autumn",
    "winter",
)
_OPPOSITE = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}
_SOUTH_SEASONS = tuple(_OPPOSITE[s] for s in _NORTH_SEASONS)
_DAYPARTS = tuple(
    "night" if h < 5 or h >= 22 else "morning" if h < 12 else "afternoon" if h < 17 else "evening"
    for h in range(24)
)

_zones: dict[str, ZoneInfo | None] = {}
_zones_lock = threading.Lock()
_MAX_ZONES = 1024


def load_zone(name: str) -> ZoneInfo | None:
    """The zone called ``name``, or ``None`` when there is no such zone (remembered)."""
    if name in _zones:
        return _zones[name]
    try:
        found: ZoneInfo | None = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        found = None
    with _zones_lock:
        if len(_zones) < _MAX_ZONES:
            _zones[name] = found
    return found


def daypart(hour: int) -> str:
    """The part of the day of a local hour (0-23)."""
    return _DAYPARTS[hour]


def season(month: int, hemisphere: str | None) -> str:
    """The meteorological season of a local month (1-12) in a hemisphere."""
    table = _SOUTH_SEASONS if hemisphere == "south" else _NORTH_SEASONS
    return table[month - 1]


def time_facts(
    now: datetime,
    timezone: str | None,
    default_zone: ZoneInfo,
    hemisphere: str | None,
    notes: list[str],
) -> TimeFacts:
    """Local time facts for an aware ``now`` in ``timezone`` (or the default zone).

    Args:
        now: The moment of the request, timezone-aware.
        timezone: The visitor's IANA zone name, if known.
        default_zone: The zone used when ``timezone`` is missing or unknown.
        hemisphere: ``north``/``south``/``None``, for the season.
        notes: Where to record what degraded.
    """
    zone = default_zone
    if timezone is not None:
        found = load_zone(timezone[:64])
        if found is None:
            notes.append(f"time: unknown time zone {timezone[:64]!r}, using {default_zone.key}")
        else:
            zone = found
    try:
        local = now.astimezone(zone)
    except (OverflowError, ValueError):
        notes.append("time: request time out of range for the time zone")
        return TimeFacts()
    return TimeFacts(
        local=local,
        hour=local.hour,
        weekday=local.weekday(),
        is_weekend=local.weekday() >= 5,
        daypart=_DAYPARTS[local.hour],
        season=season(local.month, hemisphere),
        timezone=zone.key,
    )
