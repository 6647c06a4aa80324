"""The recommendations of the products shown: their reasons, rules, source and boost.

Only the products returned (and, with plugin actions, every candidate the actions see)
become :class:`~personalize.ranking.Recommendation` values. Their columns are read out of
the request's arrays in one go per array; the rest is a few dict operations per product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
    columns = [int(live[p]) if p >= 0 else candidates.column(q) for p, q in shown]
    names = candidates.names
    at = np.array(columns, dtype=np.intp)
    proposed = candidates.proposed[:, at].T.tolist()
    values = candidates.values[:, at].T.tolist()
    scored_places = np.array([max(p, 0) for p in places], dtype=np.intp)
    looked_up = [
        (name, found[scored_places].tolist(), has[scored_places].tolist())
        for name, found, has in features
    ]
    final = scores[scored_places].tolist() if len(scores) else [0.0] * len(places)
    fired: list[list[int]] = [[] for _ in places]
    if hits is not None:  # (product, boost) pairs, by product then boost: action order
        for k, i in zip(
            *(side.tolist() for side in np.nonzero(hits[:, scored_places].T)), strict=True
        ):
            fired[k].append(i)
    ids = candidates.space.ids
    out: list[Recommendation] = []
    for k, (place, position) in enumerate(shown):
        column = columns[k]
        row: dict[str, float] = {}
        if column >= 0:
            row = {n: v for n, p, v in zip(names, proposed[k], values[k], strict=True) if p}
        proposers = list(row)
        if place >= 0:  # scored: its looked-up features too
            for name, found, has in looked_up:
                if name not in row and has[k] and found[k]:
                    row[name] = found[k]
        reasons = {f: c for f, x in sorted(row.items()) if (c := weights.get(f, 0.0) * x) != 0.0}
        own = proposers or sorted(reasons)
        best = max(own, key=lambda f: (reasons.get(f, 0.0), f)) if own else ""
        rules: tuple[str, ...] = ()
        factor = 1.0
        if place >= 0 and fired[k]:
            for i in fired[k]:
                factor *= boosts[i].by
            rules = tuple(boosts[i].rule_id for i in fired[k])
        score = final[k] if place >= 0 else 0.0
        chosen = source if source is not None and column < 0 else best
        out.append(Recommendation(ids[position], score, reasons, rules, chosen, factor))
    return out
