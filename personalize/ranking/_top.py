"""What the sources share: the best entries of their scores, scaled to [0, 1], the decay of
an age by a half-life, and the units their ages are counted in."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

__all__ = ["DAY", "EXACT_US", "MICROSECOND", "age_days", "decay", "top_by_value"]

#: Seconds in a day.
DAY = 86400.0
MICROSECOND = timedelta(microseconds=1)
#: Differences of microseconds from this on lose bits as float64: they are computed one
#: by one.
EXACT_US = 2**53


def age_days(now: datetime | None, then: datetime | None) -> float | None:
    """Days from ``then`` to ``now`` (0 if ``then`` is later), ``None`` without either."""
    if now is None or then is None:
        return None
    return max((now - then).total_seconds() / DAY, 0.0)


def decay(age: float | None, half_life_days: float) -> float:
    """``0.5 ** (age / half_life_days)``; 1 without an age."""
    return 1.0 if age is None else math.pow(0.5, age / half_life_days)


def top_by_value(scores: Mapping[str, float], limit: int, best: float = 1.0) -> dict[str, float]:
    """The ``limit`` best entries scaled so the best is ``best`` (ties broken by id); none
    if the best is not above 0, and entries of 0 are left out."""
    if limit <= 0:
        return {}
    if len(scores) > limit:  # only entries at least as good as the limit-th can make the cut
        cut = sorted(scores.values(), reverse=True)[limit - 1]
        ranked = [(-value, pid) for pid, value in scores.items() if value >= cut]
    else:
        ranked = [(-value, pid) for pid, value in scores.items()]
    ranked.sort()  # best first, then by id
    del ranked[limit:]
    top = -ranked[0][0] if ranked else 0.0
    if top <= 0.0:
        return {}
    if best != 1.0:
        top /= best
    return {pid: -negated / top for negated, pid in ranked if negated < 0.0}
