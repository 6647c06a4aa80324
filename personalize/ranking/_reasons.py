"""The recommendations of the products shown: their reasons, rules, source and boost.

Only the products returned (and, with plugin actions, every candidate the actions see)
become :class:`~personalize.ranking.Recommendation` values. Their columns are read out of
the request's arrays in one go per array; the rest is a few dict operations per product.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import compress

import numpy as np
from numpy.typing import NDArray

from personalize.ranking._candidates import Candidates
from personalize.ranking._types import Recommendation
from personalize.rules import Boost

__all__ = ["Scored", "recommendations"]

#: The live candidates' columns, scores, each scorer's values (and where it has one), and
#: which boost matched which of them (``None``: no boost matched any).
Scored = tuple[
    NDArray[np.intp],
    NDArray[np.float64],
    Sequence[tuple[str, NDArray[np.float64], NDArray[np.bool_]]],
    "NDArray[np.bool_] | None",
]


def recommendations(
    candidates: Candidates,
    scored: Scored,
    boosts: Sequence[Boost],
    weights: Mapping[str, float],
    shown: Sequence[tuple[int, int]],
    source: str | None = None,
) -> list[Recommendation]:
    """The recommendations of ``shown``: ``(place, position)`` pairs, where ``place`` is
    the product's place among the live candidates (``-1``: not one of them).

    Reasons are ``weight * feature`` of each feature the product was scored with (its
    sources' and its scorers'), without the zero ones, by feature name; a product that was
    not scored (a pinned one no source proposed, or one left out before scoring) has none,
    and a score of 0, so that ``score == sum(reasons) * boost`` holds. Its source is the
    proposing source (else reason) with the largest contribution, or ``source`` when that
    is given and the product was not scored.
    """
    if not shown:
        return []
    if min(place for place, _ in shown) < 0:  # not scored: nothing to read from the arrays
        ids = candidates.space.ids
        scored_ones = [pair for pair in shown if pair[0] >= 0]
        made = iter(recommendations(candidates, scored, boosts, weights, scored_ones))
        unscored = source or ""
        return [
            next(made) if place >= 0 else Recommendation(ids[position], 0.0, {}, source=unscored)
            for place, position in shown
        ]
    live, scores, features, hits = scored
    at = np.array([place for place, _ in shown], dtype=np.intp)
    at_columns = live[at]
    names = candidates.names
    proposed = candidates.proposed[:, at_columns].T.tolist()
    values = candidates.values[:, at_columns].T.tolist()
    looked_up = [(name, found[at].tolist(), has[at].tolist()) for name, found, has in features]
    final = scores[at].tolist()
    matched = hits[:, at].T.tolist() if hits is not None else []
    ids = candidates.space.ids
    factors = [boost.by for boost in boosts]
    rule_ids = [boost.rule_id for boost in boosts]
    out: list[Recommendation] = []
    for k, (_, position) in enumerate(shown):
        row = dict(compress(zip(names, values[k], strict=True), proposed[k]))
        proposers = list(row)
        for name, found, has in looked_up:  # its looked-up features too
            if has[k] and found[k] and name not in row:
                row[name] = found[k]
        rules: tuple[str, ...] = ()
        factor = 1.0
        if matched and any(matched[k]):  # the boosts it met
            # One product after another in action order, as the boosts multiplied it.
            factor = math.prod(compress(factors, matched[k]))
            rules = tuple(compress(rule_ids, matched[k]))
        reasons = {f: c for f, x in sorted(row.items()) if (c := weights.get(f, 0.0) * x) != 0.0}
        own = proposers or list(reasons)  # (reasons are sorted)
        if len(own) > 1:
            best = max(own, key=lambda f: (reasons.get(f, 0.0), f))
        else:
            best = own[0] if own else ""
        out.append(Recommendation(ids[position], final[k], reasons, rules, best, factor))
    return out
