"""The baselines the ranking is measured against, each tuned on a validation split.

* ``repeat purchase``: the customer's own products by order count, then recency ("all" only);
* ``recent popularity``: most orders in the last ``days`` days of train;
* ``TIFU-KNN`` (Hu et al., SIGIR 2020): time-decayed per-customer frequency vectors with
  group decay, blended ``alpha * own + (1 - alpha) * mean of the k nearest customers``
  (cosine);
* ``ALS`` and ``BM25 item-kNN`` from ``implicit`` ("new" only; ``pip install
  personalize[evaluate]``).

Every baseline maps a split to top-k product positions per evaluated customer. In ``new``
mode the customer's train products are never recommended.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from personalize.evaluation._log import Purchases, Split
from personalize.evaluation._metrics import Scores

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["BASELINES", "Baseline", "tune"]

_DAY = 86400.0
Lists = dict[int, list[int]]


@dataclass(frozen=True, slots=True)
class Baseline:
    """A baseline: its name, the modes it runs in, its grid and how it recommends."""

    name: str
    modes: tuple[str, ...]
    grid: Mapping[str, Sequence[Any]]
    recommend: Callable[[Purchases, Split, str, Sequence[int], int, Mapping[str, Any]], Lists]

    def settings(self) -> list[dict[str, Any]]:
        """Every point of the grid."""
        keys = sorted(self.grid)
        return [
            dict(zip(keys, values, strict=True))
            for values in product(*(self.grid[k] for k in keys))
        ]


@dataclass(frozen=True, slots=True)
class _Ask:
    """One call of a baseline: log, split, mode, whom to rank, how many, grid point."""

    purchases: Purchases
    split: Split
    mode: str
    customers: Sequence[int]
    k: int
    params: Mapping[str, Any]


def _baseline(
    name: str,
    modes: tuple[str, ...],
    grid: Mapping[str, Sequence[Any]],
    rank: Callable[[_Ask], Lists],
) -> Baseline:
    """A :class:`Baseline` whose ``recommend`` bundles its arguments into one :class:`_Ask`."""

    def recommend(
        purchases: Purchases,
        split: Split,
        mode: str,
        customers: Sequence[int],
        k: int,
        params: Mapping[str, Any],
    ) -> Lists:
        return rank(_Ask(purchases, split, mode, customers, k, params))

    return Baseline(name, modes, grid, recommend)


def _orders(purchases: Purchases, mask: NDArray[np.bool_]) -> tuple[NDArray[np.int64], ...]:
    """Distinct (order, item) rows of the masked lines: customer, item, order, time."""
    cust, item, order, at = (
        purchases.customer[mask],
        purchases.item[mask],
        purchases.order[mask],
        purchases.at[mask],
    )
    _, first = np.unique(order * len(purchases.items) + item, return_index=True)
    return cust[first], item[first], order[first], at[first]  # type: ignore[return-value]


def _top(
    scores: NDArray[np.float64], rows: Sequence[int], split: Split, mode: str, k: int
) -> Lists:
    """Top-k columns of each row of ``scores`` (ties by position); train items off in "new"."""
    out: Lists = {}
    for row, cust in enumerate(rows):
        s = np.array(scores[row], dtype=np.float64)
        if mode == "new":
            s[list(split.bought[cust])] = -np.inf
        keep = s > 0
        if not keep.any():
            out[cust] = []
            continue
        cand = np.flatnonzero(keep)
        best = cand[np.lexsort((cand, -s[cand]))][:k]
        out[cust] = best.tolist()
    return out


def repeat_purchase(ask: _Ask) -> Lists:
    """The customer's own products by order count, then latest purchase."""
    cust, item, _, at = _orders(ask.purchases, ask.split.train)
    wanted = set(ask.customers)
    counts: dict[int, dict[int, list[float]]] = {}
    for c, i, t in zip(cust.tolist(), item.tolist(), at.tolist(), strict=True):
        if c in wanted:
            row = counts.setdefault(c, {}).setdefault(i, [0.0, 0.0])
            row[0] += 1
            row[1] = max(row[1], t)
    return {
        c: sorted(counts.get(c, {}), key=lambda i: (-counts[c][i][0], -counts[c][i][1], i))[: ask.k]
        for c in ask.customers
    }


def recent_popularity(ask: _Ask) -> Lists:
    """Most orders in the last ``days`` days of train."""
    _, item, _, at = _orders(ask.purchases, ask.split.train)
    since = ask.split.cutoff.timestamp() - ask.params["days"] * _DAY
    counts = np.bincount(item[at >= since], minlength=len(ask.purchases.items)).astype(np.float64)
    ranked = np.lexsort((np.arange(counts.size), -counts))
    ranked = ranked[counts[ranked] > 0].tolist()
    out: Lists = {}
    for c in ask.customers:
        skip = ask.split.bought[c] if ask.mode == "new" else frozenset()
        out[c] = [i for i in ranked[: ask.k + len(skip)] if i not in skip][: ask.k]
    return out


def tifu_vectors(
    purchases: Purchases, split: Split, group_size: int, r_basket: float, r_group: float
) -> sp.csr_matrix:
    """Every train customer's TIFU vector: baskets decayed within groups, groups decayed."""
    cust, item, order, at = _orders(purchases, split.train)
    # Baskets of each customer, oldest first: rank of each order within its customer.
    first_at: dict[int, float] = {}
    for o, t in zip(order.tolist(), at.tolist(), strict=True):
        first_at.setdefault(o, t)
    basket_cust: dict[int, int] = dict(zip(order.tolist(), cust.tolist(), strict=True))
    by_cust: dict[int, list[int]] = {}
    for o in sorted(first_at, key=lambda o: (first_at[o], o)):
        by_cust.setdefault(basket_cust[o], []).append(o)
    weight: dict[int, float] = {}
    for baskets in by_cust.values():
        n = len(baskets)
        groups = -(-n // group_size)
        for pos, o in enumerate(baskets):
            g, within = divmod(pos, group_size)
            size = min(group_size, n - g * group_size)
            weight[o] = (
                r_basket ** (size - 1 - within) / size * r_group ** (groups - 1 - g) / groups
            )
    w = np.array([weight[o] for o in order.tolist()], dtype=np.float64)
    shape = (len(purchases.customers), len(purchases.items))
    return sp.csr_matrix((w, (cust, item)), shape=shape)


def tifu_knn(ask: _Ask) -> Lists:
    """TIFU-KNN: ``alpha * own + (1 - alpha) * mean of the k nearest customers' vectors``."""
    p = ask.params
    vectors = tifu_vectors(ask.purchases, ask.split, p["group_size"], p["r_basket"], p["r_group"])
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    unit = sp.csr_matrix(sp.diags(1.0 / norms) @ vectors)
    rows = list(ask.customers)
    sims = (unit[rows] @ unit.T).toarray()
    sims[np.arange(len(rows)), rows] = -np.inf  # never one's own neighbour
    n = min(ask.params["neighbours"], sims.shape[1] - 1)
    if n < 1:  # a single customer: nobody to borrow from
        return _top(vectors[rows].toarray(), rows, ask.split, ask.mode, ask.k)
    nearest = np.argpartition(-sims, n - 1, axis=1)[:, :n]
    mix = sp.csr_matrix(
        (np.full(nearest.size, 1.0 / n), (np.repeat(np.arange(len(rows)), n), nearest.ravel())),
        shape=(len(rows), vectors.shape[0]),
    )
    alpha = ask.params["alpha"]
    scores = alpha * vectors[rows].toarray() + (1 - alpha) * (mix @ vectors).toarray()
    return _top(scores, rows, ask.split, ask.mode, ask.k)


def _user_items(purchases: Purchases, split: Split) -> sp.csr_matrix:
    cust, item, _, _ = _orders(purchases, split.train)
    shape = (len(purchases.customers), len(purchases.items))
    return sp.csr_matrix((np.ones(item.size, dtype=np.float32), (cust, item)), shape=shape)


def _implicit(model: Any, ask: _Ask) -> Lists:
    user_items = _user_items(ask.purchases, ask.split)
    with warnings.catch_warnings():  # implicit converts its own BM25 weights to CSR, loudly
        warnings.simplefilter("ignore")
        model.fit(user_items, show_progress=False)
    rows = np.array(list(ask.customers), dtype=np.int64)
    new = ask.mode == "new"
    ids, _ = model.recommend(rows, user_items[rows], N=ask.k, filter_already_liked_items=new)
    return {int(c): [int(i) for i in row if i >= 0] for c, row in zip(rows, ids, strict=True)}


def _import_implicit() -> Any:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        import implicit
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the ALS and BM25 baselines need implicit: pip install 'personalize[evaluate]'"
        ) from exc
    return implicit


def als(ask: _Ask) -> Lists:
    """Implicit ALS (``implicit.als``), one thread, seeded."""
    implicit = _import_implicit()
    model = implicit.cpu.als.AlternatingLeastSquares(
        factors=ask.params["factors"],
        regularization=ask.params["regularization"],
        alpha=ask.params["alpha"],
        iterations=15,
        num_threads=1,
        random_state=0,
    )
    return _implicit(model, ask)


def bm25_item_knn(ask: _Ask) -> Lists:
    """Item-kNN over BM25-weighted co-occurrence (``implicit.nearest_neighbours``)."""
    implicit = _import_implicit()
    model = implicit.nearest_neighbours.BM25Recommender(
        K=ask.params["neighbours"], K1=ask.params["k1"], B=ask.params["b"], num_threads=1
    )
    return _implicit(model, ask)


#: The baselines, by name.
BASELINES: Mapping[str, Baseline] = {
    b.name: b
    for b in (
        _baseline("repeat purchase", ("all",), {}, repeat_purchase),
        _baseline(
            "recent popularity", ("all", "new"), {"days": (7, 14, 30, 60)}, recent_popularity
        ),
        _baseline(
            "TIFU-KNN",
            ("all", "new"),
            {
                "group_size": (7,),
                "r_basket": (0.9,),
                "r_group": (0.6, 0.9),
                "neighbours": (100, 300, 600),
                "alpha": (0.1, 0.2, 0.3, 0.5, 0.7, 0.9),
            },
            tifu_knn,
        ),
        _baseline(
            "ALS",
            ("new",),
            {"factors": (64, 128), "regularization": (0.05,), "alpha": (0.5, 1.0, 10.0)},
            als,
        ),
        _baseline(
            "BM25 item-kNN",
            ("new",),
            {"neighbours": (20, 50, 200), "k1": (1.2,), "b": (0.25, 0.75)},
            bm25_item_knn,
        ),
    )
}


def score_lists(
    lists: Mapping[int, Sequence[int]], cases: Iterable[tuple[int, frozenset[int]]], k: int
) -> Scores:
    """The metrics of ``lists`` over ``cases`` (customer, target)."""
    scores = Scores.empty(k)
    for cust, target in cases:
        scores.add(lists.get(cust, []), target)
    return scores


def tune(
    baseline: Baseline, purchases: Purchases, validation: Split, mode: str, k: int
) -> tuple[dict[str, Any], float]:
    """The grid point with the best mean NDCG@k on ``validation`` (first best wins)."""
    cases = validation.cases(mode)
    customers = [c for c, _ in cases]
    best: tuple[dict[str, Any], float] = ({}, -1.0)
    for params in baseline.settings():
        lists = baseline.recommend(purchases, validation, mode, customers, k, params)
        ndcg = float(score_lists(lists, cases, k).ndcg().mean()) if cases else 0.0
        if ndcg > best[1]:
            best = (params, ndcg)
    return best
