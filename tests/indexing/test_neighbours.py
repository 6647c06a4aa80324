"""Co-occurrence neighbours: one defined order of every sum, whatever the block size.

The reference below is plain Python over the same definition; the Spark build relies on
it too (it reproduces these sums in the same order).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize.ranking import _cooccurrence


def reference(
    basket: list[int], item: list[int], weight: list[float], n_items: int, k: int
) -> list[list[tuple[int, float]]]:
    cells: dict[tuple[int, int], float] = {}
    for b, i, w in zip(basket, item, weight, strict=True):  # input order
        cells[b, i] = cells.get((b, i), 0.0) + w
    # NumPy's log1p over an array, as the build (its SIMD loop may differ from math.log1p).
    logs = np.log1p(np.array(list(cells.values()), dtype=np.float64)).tolist()
    x = dict(zip(cells, logs, strict=True))
    by_basket: dict[int, list[tuple[int, float]]] = {}
    for (b, i), v in sorted(x.items()):
        by_basket.setdefault(b, []).append((i, v))
    co: dict[tuple[int, int], float] = {}
    for b in sorted(by_basket):  # ascending baskets
        for i, vi in by_basket[b]:
            for j, vj in by_basket[b]:
                co[i, j] = co.get((i, j), 0.0) + vi * vj
    norms = [math.sqrt(co.get((i, i), 0.0)) or 1.0 for i in range(n_items)]
    inverse = [1.0 / n for n in norms]
    rows: list[list[tuple[int, float]]] = []
    for i in range(n_items):
        scored = [
            (j, (inverse[i] * v) * inverse[j])
            for (a, j), v in co.items()
            if a == i and j != i and v != 0
        ]
        scored = [(j, s) for j, s in scored if s != 0]
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        rows.append(scored[:k])
    return rows


lines = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 7), st.sampled_from([1.0, 0.5, 0.25, 0.3, 1e-3])),
    min_size=1,
    max_size=60,
)


@pytest.mark.parametrize("block", [1, 7, 10**9])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # same value each run
@given(lines=lines, k=st.integers(1, 4))
def test_neighbours_equal_the_plain_definition_in_any_block_size(
    block: int, lines: list[tuple[int, int, float]], k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cooccurrence, "_BLOCK_ENTRIES", block)
    basket = np.array([b for b, _, _ in lines], dtype=np.int64)
    item = np.array([i for _, i, _ in lines], dtype=np.int64)
    weight = np.array([w for _, _, w in lines])
    indptr, indices, data = _cooccurrence.neighbours(basket, item, weight, 8, k)
    expected = reference(basket.tolist(), item.tolist(), weight.tolist(), 8, k)
    got = [
        list(zip(indices[indptr[r] : indptr[r + 1]], data[indptr[r] : indptr[r + 1]], strict=True))
        for r in range(8)
    ]
    assert got == [[(j, float(np.float32(s))) for j, s in row] for row in expected]
