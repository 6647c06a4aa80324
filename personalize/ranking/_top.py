"""The best entries of a source's scores, scaled to [0, 1] (shared by the dict sources)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["top_by_value"]


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
