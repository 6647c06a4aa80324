"""One request's candidates as arrays: who proposed what, what is left, their scores.

:class:`Candidates` gathers the proposals of every source into one sorted array of
distinct positions, a ``sources x candidates`` matrix of feature values (and one of which
source proposed which candidate), and the sources' part of each score, added source by
source in source order -- the order a loop over a feature mapping adds them in, so the
floats are the same. Exclusions and selections clear entries of one ``live`` mask; the
scorers' part and the boosts then work on the live candidates only; the reasons of a
product are read back from its column only for the products returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from personalize.ranking._positional import Proposal
from personalize.ranking._space import Space, distinct, first_places, marked
from personalize.ranking._types import RankingInput

__all__ = ["Candidates"]

Positions = NDArray[np.intp]
Mask = NDArray[np.bool_]
Floats = NDArray[np.float64]


class Candidates:
    """The proposals of one request, merged by position.

    Args:
        space: The ranker's positions.
        proposals: Source name and its proposal, in source order (names distinct).
        weights: The request's feature weights.
    """

    def __init__(
        self,
        space: Space,
        proposals: Sequence[tuple[str, Proposal]],
        weights: Mapping[str, float],
    ) -> None:
        self.space = space
        self.names = [name for name, _ in proposals]
        self.row = {name: s for s, name in enumerate(self.names)}
        count = len(proposals)
        if count:
            everything = np.concatenate([proposal.positions for _, proposal in proposals])
            found = np.concatenate([proposal.values for _, proposal in proposals])
            sizes = [len(proposal.positions) for _, proposal in proposals]
            source = np.arange(count).repeat(sizes)
            weight = np.array([weights[name] for name in self.names]).repeat(sizes)
        else:
            everything, found = np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float64)
            source, weight = np.zeros(0, dtype=np.intp), found
        positions, inverse = distinct(everything, space.size)
        self.positions: Positions = positions
        self._inverse = inverse
        self._first: Positions | None = None
        n = len(positions)
        self.proposed = np.zeros((count, n), dtype=np.bool_)
        self.proposed[source, inverse] = True
        self.values = np.zeros((count, n), dtype=np.float64)
        self.values[source, inverse] = found
        # Summed in input order: source by source, as a loop over the sources adds them.
        self.base = cast(Floats, np.bincount(inverse, weights=weight * found, minlength=n))
        self.unknown: set[str] = set()
        for _, proposal in proposals:
            self.unknown.update(proposal.unknown)
        self.live: Mask = np.full(n, True)

    def __contains__(self, position: int) -> bool:
        at = int(np.searchsorted(self.positions, position))
        return at < len(self.positions) and int(self.positions[at]) == position

    def found(self, column: int) -> dict[str, float]:
        """The features the sources gave the candidate in ``column``, in source order."""
        proposed = self.proposed[:, column].tolist()
        values = self.values[:, column].tolist()
        return {name: v for name, p, v in zip(self.names, proposed, values, strict=True) if p}

    def order_of(self, columns: Positions) -> Positions:
        """Where each of ``columns`` was first proposed (a key of proposal order)."""
        if self._first is None:
            self._first = first_places(self._inverse, len(self.positions))
        first: Positions = self._first[columns]
        return first

    # -- exclusions ---------------------------------------------------------------------

    def exclude(self, request: RankingInput, trace: list[str]) -> None:
        """Drop what may not be shown: unknown and out-of-stock products, the anchors and
        (with ``exclude_purchased``) purchases; each is counted under its first reason."""
        space, positions = self.space, self.positions
        known = space.in_catalog[positions]
        unknown = len(positions) - int(np.count_nonzero(known)) + len(self.unknown)
        sellable = known & space.in_stock[positions]
        out_of_stock = int(np.count_nonzero(known)) - int(np.count_nonzero(sellable))
        anchors = space.locate(request.anchors)[0]
        anchored = sellable & marked(positions, anchors)
        left = sellable & ~anchored
        bought, window, cutoff = self._purchased(request, left)
        self.live = left & ~bought
        for count, what in (
            (unknown, "unknown products (not in the catalog)"),
            (out_of_stock, "out of stock"),
            (int(np.count_nonzero(anchored)), "the product viewed or in the cart"),
            (
                int(np.count_nonzero(bought)),
                "already purchased" + (f" (last {window:g} days)" if cutoff else ""),
            ),
        ):
            if count:
                trace.append(f"excluded {count} {what}")

    def _purchased(self, request: RankingInput, left: Mask) -> tuple[Mask, float | None, Any]:
        """Which of the ``left`` candidates are purchases to leave out; the window and its
        start. Whichever side is smaller is looked up in the other."""
        window = request.config.repurchase_window_days
        now = request.now
        cutoff = now - timedelta(days=window) if window is not None and now is not None else None
        if not request.config.exclude_purchased:
            return np.zeros(len(self.positions), dtype=np.bool_), window, cutoff
        history = request.context.history
        counts, purchases, last = history.purchase_counts, history.purchases, history.last_purchased
        columns = left.nonzero()[0]
        ids = self.space.ids
        if len(counts) + len(purchases) <= len(columns):
            bought_ids: Any = counts.keys() | set(purchases)
            found = marked(self.positions, self.space.locate(bought_ids)[0]) & left
            if cutoff is None:
                return found, window, cutoff
            hits = found.nonzero()[0].tolist()
        else:
            listed = set(purchases) if purchases else ()
            named = map(ids.__getitem__, self.positions[columns].tolist())
            hits = [
                c
                for c, pid in zip(columns.tolist(), named, strict=True)
                if pid in counts or pid in listed
            ]
        if cutoff is not None:
            pos = self.positions
            hits = [c for c in hits if (at := last.get(ids[int(pos[c])])) is None or at >= cutoff]
        mask = np.zeros(len(self.positions), dtype=np.bool_)
        mask[hits] = True
        return mask, window, cutoff

    # -- scoring ------------------------------------------------------------------------

    def scores(
        self, columns: Positions, lookups: Sequence[tuple[str, float, Lookup]]
    ) -> tuple[NDArray[np.float64], list[tuple[str, NDArray[np.float64], Mask]]]:
        """The score of each of ``columns``: the sources' part, plus ``weight * feature``
        of each scorer (in scorer order) for the features no source gave it. Returns the
        scores and each scorer's values and where it has one."""
        score = self.base[columns]
        features: list[tuple[str, NDArray[np.float64], Mask]] = []
        for name, weight, lookup in lookups:
            values, has = lookup(self, columns)
            s = self.row.get(name)
            add = has & (values != 0.0)
            if s is not None:
                add &= ~self.proposed[s, columns]
            if add.any():
                score = score + np.where(add, weight * values, 0.0)
            features.append((name, values, has))
        return score, features


#: A scorer bound to a request: the candidates and columns to their values and a mask of
#: those it gave a value (a plugin scorer that failed gives none from then on).
Lookup = Callable[[Candidates, Positions], tuple[NDArray[np.float64], Mask]]
