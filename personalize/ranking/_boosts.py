"""Rule actions over product selectors, on product positions: boosts, filters, excludes.

:class:`Boosts` keeps what every request of a ranker shares: the membership of each
selector it has met (:mod:`personalize.ranking._membership`), resolved once through the
catalog's indexes. A request turns its candidates into positions once and reads each fired
boost's membership at those positions (a gather of a bit matrix). The ``(boost,
candidate)`` pairs that match, in action order, are then multiplied into the scores one
pair after the other (``np.multiply.at`` is unbuffered and goes in index order), so every
score is the same float a product-by-product loop gives, while only the matching pairs
(about a tenth of ``boosts x candidates``) are touched. There is no per-combination plan:
hundreds of distinct combinations of fired boosts cost what one does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import add

import numpy as np
from numpy.typing import NDArray

from personalize.catalog import Catalog
from personalize.ranking._membership import Memberships, ProductTable
from personalize.rules import Boost, Evaluation, Exclude, Filter

__all__ = ["Boosts"]

#: The ends of the trace lines of the usual match counts, formatted once.
_COUNTS = tuple(f"{n} products" for n in range(1024))


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
        positions: NDArray[np.intp],
        scores: NDArray[np.float64],
        boosts: Sequence[Boost],
        trace: list[str],
        now: datetime | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_] | None]:
        """Apply every ``Boost``/``Bury`` at once to the candidates at catalog ``positions``.

        Each score is multiplied by the factors of the boosts whose selectors its product
        matches, in action order; selectors reading the time read ``now``. Returns the
        scores and ``hits[i, j]``, whether boost ``i`` matched candidate ``j`` (``None``
        without boosts or candidates).
        """
        if not boosts or not len(positions):
            trace += [b.label + _COUNTS[0] for b in boosts]
            return scores, None
        evaluation = Evaluation(now=now)
        hits = self._memberships.hits([b.where for b in boosts], positions, evaluation)
        # The matching pairs, by boost then candidate: each candidate meets its boosts in
        # action order, and multiplying pair by pair in that order is the product loop.
        pairs = hits.ravel().nonzero()[0]
        boost_of = pairs // len(positions)
        factors = np.array([b.by for b in boosts], dtype=np.float64)
        boosted = np.array(scores, dtype=np.float64)
        np.multiply.at(boosted, pairs - boost_of * len(positions), factors[boost_of])
        counts = np.bincount(boost_of, minlength=len(boosts)).tolist()
        labels = [b.label for b in boosts]
        if len(positions) < len(_COUNTS):  # every count has its line end formatted
            trace += map(add, labels, map(_COUNTS.__getitem__, counts))
        else:
            trace += [f"{label}{n} products" for label, n in zip(labels, counts, strict=True)]
        return boosted, hits

    def keep(
        self,
        positions: NDArray[np.intp],
        action: Filter | Exclude,
        now: datetime | None = None,
    ) -> NDArray[np.bool_]:
        """Which candidates at catalog ``positions`` a ``Filter`` keeps, or an ``Exclude``
        does not drop."""
        kept = np.full(len(positions), True)
        if not len(positions):
            return kept
        if isinstance(action, Exclude) and action.products:
            table = self.table
            listed = {table.position[p] for p in action.products if p in table.position}
            kept = np.array([p not in listed for p in positions.tolist()], dtype=np.bool_)
        if action.where is None or not kept.any():
            return kept
        matched = self._memberships.of(action.where).hits(positions, Evaluation(now=now))
        return kept & (matched if isinstance(action, Filter) else ~matched)
