"""The scorers of one request on the live candidates, and their order by score.

The score of a candidate is ``sum(weight[f] * feature[f])``: first over the sources that
proposed it, in source order (:class:`~personalize.ranking._candidates.Candidates` adds
that part), then over the scorers, in scorer order, for the features no source gave it.
A scorer is bound to a request as a :data:`Lookup`: the built-in ones gather a static
column (popularity, trending) or compute the arrival score of every live candidate in one
go; any other scorer is called per candidate, in the order the candidates were first
proposed (a plugin one guarded: once it fails it is not called again).

The order is score descending, then product id ascending: :func:`best_first` partitions
at the ``count``-th best score and sorts only the candidates at least that good, with the
ranks of their ids as the second key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from personalize.ranking._candidates import Candidates, Lookup
from personalize.ranking._positional import arrival_values
from personalize.ranking._sources import epoch_us
from personalize.ranking._space import Space

__all__ = ["arrivals", "best_first", "one_by_one", "static"]

Floats = NDArray[np.float64]
Mask = NDArray[np.bool_]
Places = NDArray[np.intp]


def static(column: Floats) -> Lookup:
    """A built-in scorer reading ``column`` at the candidates' positions."""

    def lookup(candidates: Candidates, columns: Places) -> tuple[Floats, Mask]:
        values: Floats = column[candidates.positions[columns]]
        return values, np.full(len(columns), True)

    return lookup


def arrivals(space: Space, now: datetime | None) -> Lookup:
    """The ``new_arrival`` scorer at ``now``: 0 for an undated product or without a time.
    The candidates the ``new_arrival`` source proposed keep the source's value (their
    scorer value is never read), so they are left at 0 here."""
    now_us = epoch_us(now) if now is not None else None

    def lookup(candidates: Candidates, columns: Places) -> tuple[Floats, Mask]:
        values = np.zeros(len(columns), dtype=np.float64)
        if now_us is not None:
            positions = candidates.positions[columns]
            dated = space.dated[positions]
            s = candidates.row.get("new_arrival")
            if s is not None:
                dated &= ~candidates.proposed[s, columns]
            values[dated] = arrival_values(
                space.created_us[positions[dated]], now_us, space.created_span
            )
        return values, np.full(len(columns), True)

    return lookup


def one_by_one(name: str, score: Callable[[str], float | None]) -> Lookup:
    """A scorer called per candidate, in the order the candidates were first proposed,
    skipping those its namesake source gave the feature; once it gives ``None`` (a plugin
    scorer that failed) it is not called again."""

    def lookup(candidates: Candidates, columns: Places) -> tuple[Floats, Mask]:
        values = np.zeros(len(columns), dtype=np.float64)
        has = np.zeros(len(columns), dtype=np.bool_)
        s = candidates.row.get(name)
        ids = candidates.space.ids
        for place in np.argsort(candidates.order_of(columns), kind="stable").tolist():
            column = int(columns[place])
            if s is not None and candidates.proposed[s, column]:
                continue
            value = score(ids[int(candidates.positions[column])])
            if value is None:
                break
            values[place], has[place] = value, True
        return values, has

    return lookup


def best_first(id_rank: NDArray[np.int64], scores: Floats, count: int | None) -> Places:
    """Places of the candidates (whose ids rank ``id_rank``) by score descending, then id
    ascending: all of them, or (``count`` given) a prefix of that order holding at least
    the ``count`` best."""
    n = len(scores)
    if count is not None and n > count > 0:
        cut = np.partition(scores, n - count)[n - count]
        places = (scores >= cut).nonzero()[0]
        best: Places = places[np.lexsort((id_rank[places], -scores[places]))]
        return best
    every: Places = np.lexsort((id_rank, -scores))
    return every
