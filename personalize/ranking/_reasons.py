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

    Reasons are ``weight * feature`` of each feature the product has (its sources' and,
    when it was scored, its scorers'), without the zero ones, by feature name. Its source
    is the proposing source (else reason) with the largest contribution, or ``source``
    when that is given and no source proposed the product.
    """
    if not shown:
        return []
    live, scores, features, hits = scored
    places = [place for place, _ in shown]
    at = np.array(places, dtype=np.intp)
    if min(places) >= 0:  # the usual case: every product shown was scored
        at_columns = live[at]
        columns: list[int] = at_columns.tolist()
    else:
        columns = [int(live[p]) if p >= 0 else candidates.column(q) for p, q in shown]
        at_columns = np.array(columns, dtype=np.intp)
        at = np.maximum(at, 0)
    names = candidates.names
    proposed = candidates.proposed[:, at_columns].T.tolist()
    values = candidates.values[:, at_columns].T.tolist()
    looked_up = [(name, found[at].tolist(), has[at].tolist()) for name, found, has in features]
    final = scores[at].tolist() if len(scores) else [0.0] * len(places)
    matched = hits[:, at].T.tolist() if hits is not None else []
    ids = candidates.space.ids
    factors = [boost.by for boost in boosts]
    rule_ids = [boost.rule_id for boost in boosts]
    out: list[Recommendation] = []
    for k, (place, position) in enumerate(shown):
        column = columns[k]
        row: dict[str, float] = {}
        if column >= 0:
            row = dict(compress(zip(names, values[k], strict=True), proposed[k]))
        proposers = list(row)
        rules: tuple[str, ...] = ()
        factor = 1.0
        if place >= 0:  # scored: its looked-up features too, and the boosts it met
            for name, found, has in looked_up:
                if has[k] and found[k] and name not in row:
                    row[name] = found[k]
            if matched and any(matched[k]):
                # One product after another in action order, as the boosts multiplied it.
                factor = math.prod(compress(factors, matched[k]))
                rules = tuple(compress(rule_ids, matched[k]))
        reasons = {f: c for f, x in sorted(row.items()) if (c := weights.get(f, 0.0) * x) != 0.0}
        own = proposers or list(reasons)  # (reasons are sorted)
        if len(own) > 1:
            best = max(own, key=lambda f: (reasons.get(f, 0.0), f))
        else:
            best = own[0] if own else ""
        score = final[k] if place >= 0 else 0.0
        chosen = source if source is not None and column < 0 else best
        out.append(Recommendation(ids[position], score, reasons, rules, chosen, factor))
    return out
