"""The built-in candidate sources on positions: the ranker's fast twins of :mod:`._sources`.

Each twin proposes exactly what its namesake in :mod:`personalize.ranking._sources` does
(the same products, the same float values) but as a :class:`Proposal` of positions in the
ranker's :class:`~personalize.ranking._space.Space`. Neighbour rows are gathered and summed
in one pass: the rows of every anchor are concatenated, marked in a mask of the space
(whose nonzero entries are the neighbours, ascending) and summed with ``np.bincount``,
which adds in input order, anchor by anchor, as the loop over dicts does, so every sum
is the same float. The top ``per_source`` are chosen with a
partition and a sort of the few that pass the cut, by value descending and then id
ascending (through the ids' ranks). Work per source is bounded by its anchors and
``per_source``, never by the length of the history.

The dict-returning functions stay the reference (and what plugins see registered); the
ranker uses a twin when it knows the function (:data:`POSITIONAL`), else it reads the
function's mapping into positions (:meth:`Proposal.of`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from itertools import repeat as forever
from operator import itemgetter
from typing import cast

import numpy as np
from numpy.typing import NDArray

from personalize.ranking import _personal as own
from personalize.ranking import _sources as ref
from personalize.ranking._space import Rows, Space, marked, span
from personalize.ranking._top import DAY, EXACT_US, age_days, decay
from personalize.ranking._types import CandidateSource, RankingInput

__all__ = ["POSITIONAL", "NewArrivalsAt", "On", "Proposal", "arrival_values", "top_by_value"]

Positions = NDArray[np.intp]
Values = NDArray[np.float64]
_NO_POSITIONS: Positions = np.zeros(0, dtype=np.intp)
_NO_VALUES: Values = np.zeros(0, dtype=np.float64)


class Proposal:
    """What one source proposed: positions and values, and the ids without a position.

    Attributes:
        positions: Distinct positions, best first.
        values: Their feature values.
        unknown: Proposed ids that are in neither the index nor the catalog, with their
            values (they are only counted, then excluded).
    """

    __slots__ = ("positions", "unknown", "values")

    def __init__(
        self, positions: Positions, values: Values, unknown: Mapping[str, float] | None = None
    ) -> None:
        self.positions = positions
        self.values = values
        self.unknown: Mapping[str, float] = unknown or {}

    def __len__(self) -> int:
        return len(self.positions) + len(self.unknown)

    @classmethod
    def of(cls, found: Mapping[str, float], space: Space) -> Proposal:
        """The proposal of a source's mapping of ids to values."""
        get = space.position.get
        positions: list[int] = []
        values: list[float] = []
        unknown: dict[str, float] = {}
        for pid, value in found.items():
            pos = get(pid)
            if pos is None:
                unknown[pid] = value
            else:
                positions.append(pos)
                values.append(value)
        return cls(np.array(positions, dtype=np.intp), np.array(values, dtype=np.float64), unknown)

    def mapping(self, space: Space) -> dict[str, float]:
        """Back to ids: the mapping the source's dict twin gives."""
        ids = map(space.ids.__getitem__, self.positions.tolist())
        found = dict(zip(ids, self.values.tolist(), strict=True))
        return {**found, **self.unknown}


EMPTY = Proposal(_NO_POSITIONS, _NO_VALUES)


class Bought:
    """The customer's latest distinct purchases (:func:`~._sources.recent_purchases`),
    each with its position (``None``: unknown), order count and age in days (``None``:
    no time; computed on first use), read once per request for every source that starts
    from them."""

    __slots__ = ("_ages", "_request", "counts", "ids", "positions")

    def __init__(self, request: RankingInput, space: Space, limit: int) -> None:
        counts = request.context.history.purchase_counts
        get = space.position.get
        self._request = request
        self.ids = ref.recent_purchases(request, limit)
        self.positions = [get(pid) for pid in self.ids]
        self.counts = [counts.get(pid, 1) for pid in self.ids]
        self._ages: list[float | None] | None = None

    @property
    def ages(self) -> list[float | None]:
        """Days since each was last bought."""
        if self._ages is None:
            last, now = self._request.context.history.last_purchased, self._request.now
            self._ages = [age_days(now, last.get(pid)) for pid in self.ids]
        return self._ages


class On:
    """One request as the sources on positions read it: the input, the positions, and
    what several sources share (the latest purchases), computed on first use."""

    __slots__ = ("_bought", "_frequency", "note", "request", "space")

    def __init__(self, request: RankingInput, space: Space) -> None:
        self.request = request
        self.space = space
        self._bought: Bought | None = None
        self._frequency: dict[str, float] | None = None
        #: A line for the ranking's trace, from what the sources read (or ``None``).
        self.note: str | None = None

    def frequency(self) -> dict[str, float]:
        """The customer's decayed order frequency of each product
        (:func:`personalize.ranking._personal.frequency`); when a store's folded values
        could not be read, :attr:`note` says why."""
        if self._frequency is None:
            self._frequency = own.frequency(self.request)
            if self.request.context.history.stored_frequency is not None:
                self.note = own.stored_mismatch(self.request)
        return self._frequency

    def bought(self) -> Bought:
        """The latest purchases, as many as any source reads."""
        if self._bought is None:
            config = self.request.config
            limit = max(self.request.per_source, config.max_anchors)
            self._bought = Bought(self.request, self.space, limit)
        return self._bought


PositionalSource = Callable[[On], Proposal]


def top_by_value(positions: Positions, values: Values, limit: int, space: Space) -> Proposal:
    """:func:`personalize.ranking._sources.top_by_value` on distinct positions."""
    n = len(values)
    if limit <= 0 or n == 0:
        return EMPTY
    if n > limit:  # only entries at least as good as the limit-th can make the cut
        cut = np.partition(values, n - limit)[n - limit]
        keep = values >= cut
        positions, values = positions[keep], values[keep]
    order = np.lexsort((space.id_rank[positions], -values))[:limit]
    values = values[order]
    top = float(values[0])
    if top <= 0.0:
        return EMPTY
    positions = positions[order]
    if values[-1] <= 0.0:  # best first: the entries of 0 (or less) are a tail
        count = int(np.count_nonzero(values > 0.0))
        positions, values = positions[:count], values[:count]
    return Proposal(positions.astype(np.intp, copy=False), values / top)


def _spread(
    rows: Rows, anchors: list[int], weights: list[float], size: int
) -> tuple[Positions, Values]:
    """Every neighbour of the anchors (item positions, ascending) with the sum of ``weight
    * sim`` over the anchors' rows, added in anchor order (``size``: the space's)."""
    if not anchors:
        return _NO_POSITIONS, _NO_VALUES
    indptr, indices, data = rows
    at = np.array(anchors, dtype=np.intp)
    starts = indptr[at]
    lengths = indptr[at + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return _NO_POSITIONS, _NO_VALUES
    shift = (starts - (lengths.cumsum() - lengths)).repeat(lengths)
    flat = np.arange(total) + shift
    weighted = np.array(weights, dtype=np.float64).repeat(lengths) * data[flat]
    neighbour = indices[flat]
    seen = np.zeros(size, dtype=np.bool_)
    seen[neighbour] = True
    found = seen.nonzero()[0]
    # bincount adds each neighbour's entries in input order: anchor by anchor.
    sums = np.bincount(neighbour, weights=weighted, minlength=size)[found]
    return found, cast(Values, sums)


def _anchored(space: Space, anchors: list[tuple[str, float]]) -> tuple[list[int], list[float]]:
    """The anchors that have neighbour rows (index items), as positions, with weights."""
    get, n_index = space.position.get, space.n_index
    positions: list[int] = []
    weights: list[float] = []
    for pid, weight in anchors:
        pos = get(pid)
        if pos is not None and pos < n_index:
            positions.append(pos)
            weights.append(weight)
    return positions, weights


def repeat(on: On) -> Proposal:
    """:func:`personalize.ranking._sources.repeat` on positions."""
    request, space = on.request, on.space
    bought, per_source = on.bought(), request.per_source
    positions = bought.positions[:per_source]
    if None in positions:  # a purchase of an unknown product: ties need its id
        return Proposal.of(ref.repeat(request), space)
    at = np.array(positions, dtype=np.intp)
    half_life = request.config.repeat_half_life_days
    recency = [decay(age, half_life) for age in bought.ages[:per_source]]
    counts = np.array(bought.counts[:per_source], dtype=np.float64)
    raw = counts * np.array(recency) * (ref._REPEAT_FLOOR + space.replenish[at])
    return top_by_value(at, raw, per_source, space)


def co_purchase(on: On) -> Proposal:
    """:func:`personalize.ranking._sources.co_purchase` on positions."""
    request, space = on.request, on.space
    bought, k = on.bought(), request.config.max_anchors
    half_life = request.config.anchor_half_life_days
    n_index = space.n_index
    anchors: list[int] = []
    weights: list[float] = []
    positions, counts, ages = bought.positions[:k], bought.counts[:k], bought.ages[:k]
    for pos, count, age in zip(positions, counts, ages, strict=True):
        if pos is not None and pos < n_index:
            anchors.append(pos)
            weights.append(math.log1p(count) * decay(age, half_life))
    found = _spread(space.co_purchase, anchors, weights, space.size)
    return top_by_value(*found, request.per_source, space)


def co_view(on: On) -> Proposal:
    """:func:`personalize.ranking._sources.co_view` on positions."""
    request, space = on.request, on.space
    viewed = dict.fromkeys(request.context.behaviour.recently_viewed)
    latest = list(viewed)[: request.config.max_anchors]
    anchors = [(pid, 0.8**rank) for rank, pid in enumerate(latest)]
    found = _spread(space.co_view, *_anchored(space, anchors), space.size)
    return top_by_value(*found, request.per_source, space)


def complement(on: On) -> Proposal:
    """:func:`personalize.ranking._sources.complement` on positions."""
    request, space = on.request, on.space
    if not request.anchors:
        return EMPTY
    per_source = request.per_source
    anchored = _anchored(space, [(a, 1.0) for a in request.anchors])
    bought = _spread(space.co_purchase, *anchored, space.size)
    near = top_by_value(*bought, per_source, space)
    scores: dict[int | str, float] = dict(
        zip(near.positions.tolist(), (0.6 * near.values).tolist(), strict=True)
    )
    for anchor in request.anchors:
        declared = request.index.complements(anchor)
        if not declared:
            product = request.catalog.get(anchor)
            declared = product.complements if product is not None else ()
        positions, unknown = space.locate(declared)
        scores.update(zip(positions, forever(1.0)))
        scores.update(zip(unknown, forever(1.0)))
    if any(isinstance(key, str) for key in scores):  # ties need the unknown ids: by id
        ids = space.ids
        named = {key if isinstance(key, str) else ids[key]: v for key, v in scores.items()}
        return Proposal.of(ref.top_by_value(named, per_source), space)
    at = np.fromiter(scores.keys(), dtype=np.intp, count=len(scores))
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    return top_by_value(at, values, per_source, space)


def affinity(on: On) -> Proposal:
    """:func:`personalize.ranking._sources.affinity` on positions."""
    request, space = on.request, on.space
    bought, k = on.bought(), request.config.max_anchors
    categories: dict[str, float] = dict(request.context.behaviour.viewed_categories)
    brands: dict[str, float] = {}
    leaf_names, brand_names = space.leaf_names, space.brand_names
    for pos, count in zip(bought.positions[:k], bought.counts[:k], strict=True):
        if pos is None:  # unknown; a position off the catalog has no names
            continue
        weight = float(count)
        leaf, brand = leaf_names[pos], brand_names[pos]
        if leaf is not None:
            categories[leaf] = categories.get(leaf, 0.0) + weight
        if brand is not None:
            brands[brand] = brands.get(brand, 0.0) + weight
    per_group = max(request.per_source // (2 * ref._AFFINITY_GROUPS), 1)
    parts: list[Positions] = []
    shares: list[float] = []
    for groups, kind in ((categories, "category"), (brands, "brand")):
        total = sum(groups.values())
        if total <= 0:
            continue
        # Heaviest first, then by name: tuples compare without a key function.
        heaviest = heapq.nsmallest(ref._AFFINITY_GROUPS, [(-w, g) for g, w in groups.items()])
        for negated, name in heaviest:
            members, complete = space.members(kind, name)
            if not complete:  # the index names a product with no position: as the reference
                return Proposal.of(ref.affinity(request), space)
            parts.append(members[:per_group])
            shares.append(-negated / total)
    if not parts:
        return EMPTY
    # A product in several groups keeps its largest share (``share * factor`` is monotone
    # in ``share``, so the largest product is the product of the largest share): the
    # groups are written lightest first, so the heaviest is the one left.
    best = np.zeros(space.size, dtype=np.float64)
    seen = np.zeros(space.size, dtype=np.bool_)
    for part, share in sorted(zip(parts, shares, strict=True), key=itemgetter(1)):
        best[part] = share
        seen[part] = True
    found = seen.nonzero()[0]
    values = best[found] * (0.5 + 0.5 * space.popularity[found])
    return top_by_value(found, values, request.per_source, space)


def personal(on: On) -> Proposal:
    """:func:`personalize.ranking._personal.personal` from the request's shared frequency
    (a customer's own products are few: the dict sort beats array calls there)."""
    return Proposal.of(own.personal_of(on.request, on.frequency()), on.space)


def neighbours(on: On) -> Proposal:
    """:func:`personalize.ranking._personal.neighbours` on positions."""
    request, space = on.request, on.space
    raw = on.frequency()
    if not raw:
        return EMPTY
    config = request.config
    rows = space.powered("co_purchase", config.neighbour_power)
    found, sums = _spread(
        rows, *_anchored(space, own.heaviest(raw, config.max_anchors)), space.size
    )
    if config.exclude_purchased and len(found):
        skip = space.locate(own.purchased(request, raw))[0]
        kept = ~marked(found, skip)
        found, sums = found[kept], sums[kept]
    return top_by_value(found, sums, request.per_source, space)


def popularity(on: On) -> Proposal:
    """:func:`personalize.ranking._sources.popularity` on positions."""
    request, space = on.request, on.space
    limit = min(request.config.popular_candidates, request.per_source)
    country = request.context.geo.country
    if country is not None and request.index.country_popularity(country):
        positions, values, complete = space.country(country)
        if not complete:
            return Proposal.of(ref.popularity(request), space)
        return Proposal(positions[:limit], values[:limit])
    positions, values = space.top
    return Proposal(positions[:limit], values[:limit])


def trending(on: On) -> Proposal:
    """:func:`personalize.ranking._sources.trending` on positions."""
    request, space = on.request, on.space
    limit = min(request.config.popular_candidates, request.per_source)
    positions, values = space.trending_top
    return Proposal(positions[:limit], values[:limit])


def arrival_values(
    created_us: NDArray[np.int64], now_us: int, known: tuple[int, int] | None = None
) -> Values:
    """:func:`~personalize.ranking._sources.arrival_score` of each creation time, the same
    floats: the age in NumPy (exact while it fits in 53 bits), the power by ``math.pow``
    (NumPy's vectorised power may differ from it in the last bit). ``known``: the earliest
    and latest creation time there can be, when known (saves looking)."""
    if not len(created_us):
        return _NO_VALUES
    early, late = known if known is not None else span(created_us)
    if now_us - early >= EXACT_US or late - now_us >= EXACT_US:
        return np.array([ref.arrival_score(now_us, int(at)) for at in created_us.tolist()])
    days = np.maximum((now_us - created_us) / 1_000_000 / DAY, 0.0)
    days /= ref.NEW_ARRIVAL_HALF_LIFE_DAYS
    return np.fromiter(map(math.pow, forever(0.5), days.tolist()), np.float64, len(days))


class NewArrivalsAt:
    """:class:`personalize.ranking._sources.NewArrivals` on positions.

    Args:
        newest: The reference source, whose newest products it proposes.
        space: The ranker's positions.
    """

    __slots__ = ("_created", "_positions", "_span")

    def __init__(self, newest: ref.NewArrivals, space: Space) -> None:
        pids = [pid for pid, _ in newest.newest]
        self._positions = np.array([space.position[pid] for pid in pids], dtype=np.intp)
        self._created = np.array([at for _, at in newest.newest], dtype=np.int64)
        self._span = span(self._created)

    def __call__(self, on: On) -> Proposal:
        """The newest products with their arrival score (those above 0)."""
        request = on.request
        limit = min(request.config.popular_candidates, request.per_source)
        if request.now is None:
            return EMPTY
        values = arrival_values(self._created[:limit], ref.epoch_us(request.now), self._span)
        positions = self._positions[:limit]
        if len(values) and values[-1] <= 0.0:  # newest first: the scores of 0 are a tail
            positive = values > 0.0
            positions, values = positions[positive], values[positive]
        return Proposal(positions, values)


#: The built-in sources with a twin on positions.
POSITIONAL: Mapping[CandidateSource, PositionalSource] = {
    ref.repeat: repeat,
    ref.co_purchase: co_purchase,
    ref.co_view: co_view,
    ref.complement: complement,
    ref.affinity: affinity,
    ref.popularity: popularity,
    ref.trending: trending,
    own.personal: personal,
    own.neighbours: neighbours,
}
