"""Dates and durations in conditions: ``$before``, ``$after``, ``$withinLast``, ``$olderThan``.

A bound is an ISO date (``2026-11-01``), an ISO date-time (``2026-11-01T09:00``, with or
without an offset) or a duration (``7d``, ``12h``, ``30m``, ``2w``, ``1d12h``) counted back
from *now*. Now is the evaluation's time (``RuleSet.evaluate(now=...)``), else the ``now``
fact, else ``time.local``; without any, relative bounds are false.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from personalize.config import MAX_DAYS

__all__ = ["Bound", "as_datetime", "compare", "now_of", "parse_bound", "parse_duration", "within"]

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)([wdhms]))+?")
_DURATION_FULL = re.compile(r"(?:\d+(?:\.\d+)?[wdhms])+\Z")
_UNIT = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> timedelta:
    """``"7d"`` → 7 days; units w, d, h, m, s, combinable (``1d12h``).

    Raises:
        ValueError: Not a duration.
    """
    compact = text.replace(" ", "")
    if not _DURATION_FULL.match(compact):
        raise ValueError(f"{text!r} is not a duration such as '7d', '12h' or '30m'")
    seconds = sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(compact))
    if not seconds <= MAX_DAYS * _UNIT["d"]:  # also the infinity of a very long number
        raise ValueError(f"{text!r} is longer than {MAX_DAYS:g} days")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Bound:
    """A parsed bound: exactly one of ``day`` (a calendar date), ``moment`` (naive means
    wall-clock time of the value compared) or ``ago`` (a duration before now)."""

    day: date | None = None
    moment: datetime | None = None
    ago: timedelta | None = None


def parse_bound(value: Any) -> Bound:
    """Parse a date bound from config (a string, or a date/datetime YAML already parsed).

    Raises:
        ValueError: Neither an ISO date, an ISO date-time nor a duration.
    """
    if isinstance(value, datetime):
        return Bound(moment=value)
    if isinstance(value, date):
        return Bound(day=value)
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO date or a duration, got {value!r}")
    text = value.strip()
    if _DURATION_FULL.match(text.replace(" ", "")):
        return Bound(ago=parse_duration(text))
    try:
        if len(text) == 10:
            return Bound(day=date.fromisoformat(text))
        return Bound(moment=datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(
            f"{value!r} is neither an ISO date, an ISO date-time nor a duration such as '7d'"
        ) from None


def as_datetime(value: Any) -> datetime | date | None:
    """A fact value as a date or datetime: ISO strings are parsed; others give ``None``."""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def now_of(facts: Mapping[str, Any]) -> datetime | None:
    """The evaluation time a fact mapping carries: ``now``, else ``time.local``."""
    now = facts.get("now") if isinstance(facts, Mapping) else None
    if isinstance(now, datetime):
        return now
    time = facts.get("time") if isinstance(facts, Mapping) else None
    local = time.get("local") if isinstance(time, Mapping) else None
    return local if isinstance(local, datetime) else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def compare(actual: Any, bound: Bound, now: datetime | None) -> int | None:
    """-1, 0 or 1 as ``actual`` is before, at or after ``bound``; ``None`` if unknown."""
    value = as_datetime(actual)
    if value is None:
        return None
    if bound.day is not None:
        day = value.date() if isinstance(value, datetime) else value
        return (day > bound.day) - (day < bound.day)
    if bound.moment is not None:
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        moment = bound.moment
        # a naive bound is wall-clock time, compared with the value's own wall clock
        value = value.replace(tzinfo=None) if moment.tzinfo is None else _aware(value)
        return (value > moment) - (value < moment)
    if now is None or bound.ago is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    threshold = _since(now, bound.ago)
    if threshold is None:  # before the calendar starts: every value is after it
        return 1
    value = _aware(value)
    return (value > threshold) - (value < threshold)


def _since(now: datetime, ago: timedelta) -> datetime | None:
    """``now - ago``, or ``None`` when that is before the year 1."""
    try:
        return _aware(now) - ago
    except OverflowError:
        return None


def within(actual: Any, ago: timedelta, now: datetime | None) -> bool:
    """Whether ``actual`` lies between ``now - ago`` and ``now`` (both inclusive)."""
    value = as_datetime(actual)
    if value is None or now is None:
        return False
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    value, ref = _aware(value), _aware(now)
    start = _since(ref, ago)
    return (start is None or start <= value) and value <= ref
