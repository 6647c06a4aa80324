"""Rule actions over product selectors, on product positions: boosts, filters, excludes.

:class:`Boosts` keeps what every request of a ranker shares: the membership of each
selector it has met (:mod:`personalize.ranking._membership`), resolved once through the
catalog's indexes. A request turns its candidates into positions once, reads each fired
boost's membership at those positions (a gather of a boolean mask), and multiplies the
factors in one reduction over a ``(1 + boosts) x candidates`` array: the score row, then
each boost's row holding its factor where it matched and 1 elsewhere. Multiplying by 1 is
exact and the rows are multiplied in action order, so every score is the same float a
product-by-product loop gives. There is no per-combination plan: hundreds of distinct
combinations of fired boosts cost what one does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from personalize.catalog import Catalog
from personalize.ranking._membership import Memberships, ProductTable
from personalize.rules import Boost, Evaluation, Exclude, Filter

__all__ = ["Boosts"]

#: What moved a product: the ids of the rules whose boosts matched it, and their product.
Moved = Callable[[str], tuple[tuple[str, ...], float]]


def _no_rules(pid: str) -> tuple[tuple[str, ...], float]:
    return (), 1.0


class Boosts:
    """Selector memberships shared by the requests of one ranker.

    Args:
        catalog: The products the selectors read.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._memberships = Memberships(catalog)

    @property
    def table(self) -> ProductTable:
        """The catalog by position."""
        return self._memberships.table

    def apply(
        self,
        candidates: Sequence[str],
        scores: dict[str, float],
        boosts: Sequence[Boost],
        trace: list[str],
        now: datetime | None = None,
    ) -> Moved:
        """Apply every ``Boost``/``Bury`` at once; return what moved a product.

        Each candidate's score is multiplied by the factors of the boosts whose selectors
        it matches, in action order; selectors reading the time read ``now``. The returned
        function gives a product's rule ids and the product of its factors; it is only
        called for the products shown.
        """
        if not boosts or not candidates:
            trace += [f"{b.kind} {b.rule_id} x{b.by:g}: 0 products" for b in boosts]
            return _no_rules
        positions = self.table.positions(candidates)
        evaluation = Evaluation(now=now)
        hits = self._memberships.hits([b.where for b in boosts], positions, evaluation)
        factors = np.array([b.by for b in boosts], dtype=np.float64)
        rows = np.empty((len(boosts) + 1, len(candidates)), dtype=np.float64)
        rows[0] = list(map(scores.__getitem__, candidates))
        rows[1:] = np.where(hits, factors[:, None], 1.0)
        boosted = np.multiply.reduce(rows, axis=0)  # row by row: in action order
        moved_any = np.asarray(hits.any(axis=0), dtype=np.bool_)
        for j in np.flatnonzero(moved_any).tolist():
            scores[candidates[j]] = float(boosted[j])
        counts = hits.sum(axis=1).tolist()
        trace += [
            f"{b.kind} {b.rule_id} x{b.by:g}: {n} products"
            for b, n in zip(boosts, counts, strict=True)
        ]
        column: dict[str, int] = {}

        def moved(pid: str) -> tuple[tuple[str, ...], float]:
            if not column:
                column.update((p, j) for j, p in enumerate(candidates))
            j = column.get(pid)
            if j is None or not moved_any[j]:
                return (), 1.0
            matched = np.flatnonzero(hits[:, j]).tolist()
            factor = 1.0
            for i in matched:
                factor *= boosts[i].by
            return tuple(boosts[i].rule_id for i in matched), factor

        return moved

    def select(
        self,
        candidates: list[str],
        action: Filter | Exclude,
        now: datetime | None = None,
    ) -> list[str]:
        """The candidates a ``Filter`` keeps, or those an ``Exclude`` does not drop."""
        if isinstance(action, Exclude) and action.products:
            candidates = [pid for pid in candidates if pid not in action.products]
        if action.where is None or not candidates:
            return candidates
        matched = self._hits(candidates, action.where, now)
        keep: NDArray[np.bool_] = matched if isinstance(action, Filter) else ~matched
        return [pid for pid, kept in zip(candidates, keep.tolist(), strict=True) if kept]

    def _hits(
        self, candidates: Sequence[str], where: Callable[..., bool], now: datetime | None
    ) -> NDArray[np.bool_]:
        positions = self.table.positions(candidates)
        return self._memberships.of(where).hits(positions, Evaluation(now=now))
