"""Top-k metrics per evaluated customer, catalog coverage, and a paired bootstrap CI."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Scores", "coverage", "paired_bootstrap", "rank_metrics"]

_PICKS = 2**20  # resampled picks drawn at once by the bootstrap


def rank_metrics(
    recommended: Sequence[int], target: Collection[int], k: int
) -> tuple[float, float, float]:
    """HR@k, Recall@k (hits / min(|target|, k)) and NDCG@k with binary relevance.

    A product listed twice is a hit at its first position only; the repeat still takes its
    slot of the k.
    """
    top = list(recommended)[:k]
    seen: set[int] = set()
    ranks = []
    for rank, pid in enumerate(top):
        if pid in target and pid not in seen:
            seen.add(pid)
            ranks.append(rank)
    dcg = sum(1.0 / math.log2(rank + 2) for rank in ranks)
    hits = len(ranks)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(target), k)))
    return (
        1.0 if hits else 0.0,
        hits / min(len(target), k) if target else 0.0,
        dcg / ideal if ideal else 0.0,
    )


@dataclass(slots=True)
class Scores:
    """The metrics of one recommender over the customers of one split and mode."""

    k: int
    rows: list[tuple[float, float, float]]
    shown: set[int]

    @classmethod
    def empty(cls, k: int) -> Scores:
        """No customers yet."""
        return cls(k, [], set())

    def add(self, recommended: Sequence[int], target: Collection[int]) -> None:
        """Score one customer's list (a negative position, a product outside the log, is a
        miss and no part of the coverage)."""
        top = list(recommended)[: self.k]
        self.rows.append(rank_metrics(top, target, self.k))
        self.shown.update(pid for pid in top if pid >= 0)

    def ndcg(self) -> np.ndarray:
        """Per-customer NDCG@k, in the order added."""
        return np.array([row[2] for row in self.rows], dtype=np.float64)

    def summary(self, n_items: int) -> dict[str, float]:
        """Mean HR, Recall and NDCG at k, and the catalog coverage of the lists."""
        n = len(self.rows) or 1
        k = self.k
        return {
            f"HR@{k}": sum(r[0] for r in self.rows) / n,
            f"Recall@{k}": sum(r[1] for r in self.rows) / n,
            f"NDCG@{k}": sum(r[2] for r in self.rows) / n,
            "coverage": coverage(self.shown, n_items),
        }


def coverage(shown: Collection[int], n_items: int) -> float:
    """Share of the catalog that appears in at least one list."""
    return len(shown) / n_items if n_items else 0.0


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    *,
    rounds: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of ``a - b`` over customers and its percentile bootstrap CI (customers resampled).

    The rounds are drawn in blocks of about a million picks, so memory stays bounded however
    many customers there are; the draws are the same as all rounds drawn at once.
    """
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if diff.size == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    block = max(1, _PICKS // diff.size)
    means = []
    for done in range(0, rounds, block):
        picks = rng.integers(0, diff.size, size=(min(block, rounds - done), diff.size))
        means.append(diff[picks].mean(axis=1))
    tail = (1.0 - level) / 2
    every = np.concatenate(means)
    return float(diff.mean()), float(np.quantile(every, tail)), float(np.quantile(every, 1 - tail))
