"""Sanitizing a caller's :class:`~personalize.Profile` before the request path reads it.

A profile is stored by the caller and may hold anything: a count of -1, ``NaN``,
``10**400``, a date that is not a date (``Profile`` is not frozen and may be built with
``model_construct``). One such value used to wipe out every recommendation (``math domain
error`` in a candidate source), so every number is brought into range here, once per
request, and each kind of repair is written to ``Context.notes``:

* counts (``purchase_counts`` values, ``order_count``) become integers in
  ``[0, MAX_COUNT]``; ``inf`` clamps to the top, a value that is no number (``NaN``, text)
  is dropped (``order_count`` becomes 0);
* ``lifetime_value`` becomes a float in ``[-MAX_VALUE, MAX_VALUE]``; ``NaN`` becomes 0;
* product ids longer than :data:`~personalize._models.MAX_ID_LENGTH` and dates that are not
  datetimes are dropped.

A clean profile is returned as it is, without a copy.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from personalize._models import MAX_ID_LENGTH, Profile, as_utc

__all__ = ["MAX_COUNT", "MAX_VALUE", "clean_profile"]

#: The largest count a profile may hold (orders of one customer, orders of one product).
MAX_COUNT = 1_000_000
#: The largest lifetime value, in either direction.
MAX_VALUE = 1e12


def _number(value: Any) -> float | None:
    """``value`` as a float (``inf`` for an int too large for one); ``None`` for NaN or
    anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        number = math.inf if value > 0 else -math.inf
    return None if math.isnan(number) else number


def _count(value: Any) -> int | None:
    number = _number(value)
    if number is None:
        return None
    if isinstance(value, int) and 0 <= value <= MAX_COUNT:
        return value
    return int(min(max(number, 0.0), MAX_COUNT))


def _valid_id(pid: Any) -> bool:
    return isinstance(pid, str) and len(pid) <= MAX_ID_LENGTH


def _date(value: Any) -> datetime | None:
    return as_utc(value) if isinstance(value, datetime) else None


def clean_profile(profile: Profile, notes: list[str]) -> Profile:
    """``profile`` with every count and value in range; each repair is noted.

    Args:
        profile: The caller's profile.
        notes: Where to say what was repaired.

    Returns:
        ``profile`` itself when nothing needed repair, else a repaired copy.
    """
    repairs: list[str] = []
    counts: dict[str, int] = {}
    clamped = dropped = 0
    for pid, raw in profile.purchase_counts.items():
        count = _count(raw) if _valid_id(pid) else None
        if count is None:
            dropped += 1
            continue
        if count is not raw:
            clamped += 1
        counts[pid] = count
    if clamped:
        repairs.append(f"{clamped} purchase count(s) clamped to 0..{MAX_COUNT}")
    if dropped:
        repairs.append(f"{dropped} purchase count(s) dropped (not a number, or a bad id)")

    last: dict[str, datetime] = {}
    for pid, at in profile.last_purchased.items():
        when = _date(at) if _valid_id(pid) else None
        if when is not None:
            last[pid] = when
    if len(last) < len(profile.last_purchased):
        bad = len(profile.last_purchased) - len(last)
        repairs.append(f"{bad} last-purchase date(s) dropped (not a date, or a bad id)")

    order_count = _count(profile.order_count)
    if order_count is not profile.order_count:
        repairs.append(f"order_count {_show(profile.order_count)} made {order_count or 0}")

    raw_value = profile.lifetime_value
    value = _number(raw_value)
    value = 0.0 if value is None else min(max(value, -MAX_VALUE), MAX_VALUE)
    if _number(raw_value) is None or value != raw_value:
        repairs.append(f"lifetime_value {_show(raw_value)} made {value:g}")

    first, latest = _date(profile.first_purchase_at), _date(profile.last_purchase_at)
    for name, given, clean in (
        ("first_purchase_at", profile.first_purchase_at, first),
        ("last_purchase_at", profile.last_purchase_at, latest),
    ):
        if given is not None and clean is None:
            repairs.append(f"{name} {_show(given)} dropped (not a date)")

    if not repairs:
        return profile
    notes.append("history: profile sanitized: " + "; ".join(repairs))
    return profile.model_copy(
        update={
            "purchase_counts": counts,
            "last_purchased": last,
            "order_count": order_count or 0,
            "lifetime_value": value,
            "first_purchase_at": first,
            "last_purchase_at": latest,
        }
    )


def _show(value: Any) -> str:
    """A short rendering of a bad value for a note (a 400-digit int is cut)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**12:
        digits = int(abs(value).bit_length() * math.log10(2))  # str() refuses huge ints
        return f"{'-' if value < 0 else ''}~10**{digits}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
