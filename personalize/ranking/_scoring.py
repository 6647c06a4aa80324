"""The arithmetic of one request's candidates: source parts, scorer lookups, order.

The score of a candidate is ``sum(weight[f] * feature[f])``: first over the sources that
proposed it (in source order), then over the scorers (in scorer order) for the features no
source gave it. :func:`source_scores` sums the first part straight from each source's
proposals, without a feature mapping per candidate; :class:`StaticFeatures` adds the
built-in scorers' part from one cached row per product (popularity, trending, creation
time in integer microseconds). The additions happen in the same order as a plain
``sum`` over a feature mapping would make them, so the floats are the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from personalize.catalog import Catalog
from personalize.ranking._index import InteractionIndex
from personalize.ranking._sources import (
    BUILTIN_SCORERS,
    NEW_ARRIVAL_HALF_LIFE_DAYS,
    arrival_score,
    epoch_us,
)
from personalize.ranking._types import RankingInput, Scorer

__all__ = [
    "NOTHING",
    "Lookup",
    "PluginLookup",
    "StaticFeatures",
    "best_first",
    "lookup_scores",
    "source_scores",
]

NOTHING: Mapping[str, float] = MappingProxyType({})
_DAY = 86400.0
#: Products whose static row is kept.
_STATIC_LIMIT = 500_000
#: The columns of a product's static row.
_POPULARITY, _TRENDING, _CREATED = 0, 1, 2
_StaticRow = tuple[float, float, int | None]
#: The built-in scorers, by the column of the static row they read.
_COLUMNS: Mapping[object, int] = MappingProxyType(
    {
        BUILTIN_SCORERS["popularity"]: _POPULARITY,
        BUILTIN_SCORERS["trending"]: _TRENDING,
        BUILTIN_SCORERS["new_arrival"]: _CREATED,
    }
)

#: A scorer bound to one request: feature name, the products a source already gave that
#: feature (they are not looked up), the lookup, the feature's weight, and for a built-in
#: scorer the column of the static row it reads.
Lookup = tuple[str, Mapping[str, float], Callable[[str], "float | None"], float, int | None]


class PluginLookup:
    """A plugin scorer bound to a request, remembering its values for the reasons."""

    __slots__ = ("_lookup", "values")

    def __init__(self, lookup: Callable[[str], float | None]) -> None:
        self._lookup = lookup
        self.values: dict[str, float] = {}

    def __call__(self, pid: str) -> float | None:
        value = self._lookup(pid)
        if value is not None:
            self.values[pid] = value
        return value


def source_scores(
    found_by: Sequence[tuple[str, Mapping[str, float]]], weights: Mapping[str, float]
) -> dict[str, float]:
    """Every proposed product (in the order first proposed) to ``sum(weight * feature)``
    over the sources that proposed it, added in source order."""
    scores: dict[str, float] = {}
    get = scores.get
    for name, found in found_by:
        weight = weights.get(name, 0.0)
        for pid, value in found.items():
            scores[pid] = get(pid, 0.0) + weight * value
    return scores


def lookup_scores(
    candidates: Sequence[str], base: Mapping[str, float], lookups: Sequence[Lookup]
) -> dict[str, float]:
    """Each candidate's score: its sources' part plus ``weight * feature`` of each scorer
    (in scorer order) for the features no source gave it. A scorer that fails is skipped
    from then on."""
    scores: dict[str, float] = {}
    failed: set[str] = set()
    for pid in candidates:
        score = base[pid]
        for name, proposed, lookup, weight, _ in lookups:
            if pid in proposed or name in failed:
                continue
            value = lookup(pid)
            if value is None:
                failed.add(name)
            elif value:
                score += weight * value
        scores[pid] = score
    return scores


def best_first(scores: Mapping[str, float], count: int | None) -> list[str]:
    """Product ids by score descending, then id ascending: all of them, or (``count``
    given) a prefix of that order holding at least the ``count`` best."""
    if count is not None and len(scores) > count > 0:
        cut = sorted(scores.values(), reverse=True)[count - 1]
        best = [(-score, pid) for pid, score in scores.items() if score >= cut]
    else:
        best = [(-score, pid) for pid, score in scores.items()]
    best.sort()
    return [pid for _, pid in best]


class StaticFeatures:
    """The built-in scorers of one ranker, as lookups in a cached row per product.

    Args:
        catalog: Where creation times come from.
        index: Where popularity and trending come from.

    The rows are filled idempotently, so concurrent requests may share them.
    """

    def __init__(self, catalog: Catalog, index: InteractionIndex) -> None:
        self._catalog = catalog
        self._index = index
        self._rows: dict[str, _StaticRow] = {}

    @staticmethod
    def column(scorer: Scorer) -> int | None:
        """The column a built-in scorer reads, or ``None`` for any other scorer."""
        return _COLUMNS.get(scorer)

    def row(self, pid: str) -> _StaticRow:
        """The request-independent features of a product: popularity, trending and its
        creation time in microseconds (remembered per product)."""
        row = self._rows.get(pid)
        if row is None:
            product = self._catalog.get(pid)
            stamp = product.created_at if product is not None else None
            row = (
                self._index.popularity(pid),
                self._index.trending(pid),
                epoch_us(stamp) if stamp is not None else None,
            )
            if len(self._rows) >= _STATIC_LIMIT:
                self._rows.clear()
            self._rows[pid] = row
        return row

    def lookup(self, column: int, request: RankingInput) -> Callable[[str], float]:
        """The built-in scorer reading ``column``, bound to this request."""
        if column != _CREATED:
            return lambda pid: self.row(pid)[column]  # type: ignore[return-value]
        now_us = epoch_us(request.now) if request.now is not None else None

        def arrival(pid: str) -> float:
            created = self.row(pid)[2]
            if created is None or now_us is None:
                return 0.0
            return arrival_score(now_us, created)

        return arrival

    def scores(
        self,
        candidates: Sequence[str],
        base: Mapping[str, float],
        lookups: Sequence[Lookup],
        now: datetime | None,
    ) -> dict[str, float]:
        """Each candidate's score (see :func:`lookup_scores`); with only the built-in
        scorers, in one loop over the static rows."""
        if any(column is None for *_, column in lookups):
            return lookup_scores(candidates, base, lookups)
        on = [False] * 3
        skip: list[Mapping[str, float]] = [NOTHING] * 3
        weight = [0.0] * 3
        for _, proposed, _, w, column in lookups:
            on[column], skip[column], weight[column] = True, proposed, w  # type: ignore[index]
        pop_on, trend_on, new_on = on
        pop_skip, trend_skip, new_skip = skip
        pop_w, trend_w, new_w = weight
        now_us = epoch_us(now) if now is not None else 0
        new_on = new_on and now is not None  # without a time, nothing is new
        rows, row_of = self._rows, self.row
        scores: dict[str, float] = {}
        for pid in candidates:
            score = base[pid]
            row = rows.get(pid) or row_of(pid)
            if pop_on and pid not in pop_skip and (value := row[0]):
                score += pop_w * value
            if trend_on and pid not in trend_skip and (value := row[1]):
                score += trend_w * value
            if new_on and pid not in new_skip and (created := row[2]) is not None:
                age = (now_us - created) / 1_000_000 / _DAY  # as arrival_score computes it
                value = math.pow(0.5, (age if age > 0.0 else 0.0) / NEW_ARRIVAL_HALF_LIFE_DAYS)
                if value:
                    score += new_w * value
            scores[pid] = score
        return scores
