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

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from personalize.catalog import Catalog
from personalize.ranking._membership import Memberships, ProductTable
from personalize.rules import Boost, Evaluation, Exclude, Filter

__all__ = ["Boosts"]

#: Trace labels of boosts kept (a rule set compiles a few hundred).
_LABELS_KEPT = 8192


class Boosts:
    """Selector memberships shared by the requests of one ranker.

    Args:
        catalog: The products the selectors read.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._memberships = Memberships(catalog)
        self._labels: dict[int, tuple[Boost, str]] = {}

    def _label(self, boost: Boost) -> str:
        """The start of a boost's trace line (``boost r1 x1.5: ``), formatted once: rule
        actions are compiled once, so the same objects come back request after request."""
        known = self._labels.get(id(boost))
        if known is not None and known[0] is boost:
            return known[1]
        label = f"{boost.kind} {boost.rule_id} x{boost.by:g}: "
        if len(self._labels) >= _LABELS_KEPT:
            self._labels.clear()
        self._labels[id(boost)] = (boost, label)
        return label

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
            trace += [self._label(b) + "0 products" for b in boosts]
            return scores, None
        evaluation = Evaluation(now=now)
        hits = self._memberships.hits([b.where for b in boosts], positions, evaluation)
        factors = np.array([b.by for b in boosts], dtype=np.float64)
        rows = np.empty((len(boosts) + 1, len(positions)), dtype=np.float64)
        rows[0] = scores
        rows[1:] = np.where(hits, factors[:, None], 1.0)
        boosted: NDArray[np.float64] = np.multiply.reduce(rows, axis=0)  # in action order
        counts = np.count_nonzero(hits, axis=1).tolist()
        labels = self._labels
        trace += [
            f"{known[1] if (known := labels.get(id(b))) and known[0] is b else self._label(b)}"
            f"{n} products"
            for b, n in zip(boosts, counts, strict=True)
        ]
        return boosted, hits

    def keep(
        self,
        positions: NDArray[np.intp],
        action: Filter | Exclude,
        now: datetime | None = None,
    ) -> NDArray[np.bool_]:
        """Which candidates at catalog ``positions`` a ``Filter`` keeps, or an ``Exclude``
        does not drop."""
        kept = np.ones(len(positions), dtype=np.bool_)
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
