"""The per-customer cap keeps each basket's most recent distinct items (a reference check)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from personalize.ranking._build import _capped


def reference(basket: list[int], item: list[int], age: list[float], cap: int) -> list[bool]:
    """Plain Python: per basket, rank its distinct items by newest line, keep ``cap``."""
    newest: dict[tuple[int, int], float] = {}
    for b, i, a in zip(basket, item, age, strict=True):
        newest[b, i] = min(a, newest.get((b, i), a))
    kept: set[tuple[int, int]] = set()
    for b in set(basket):
        ranked = sorted((newest[b, i], i) for (bb, i) in newest if bb == b)
        kept.update((b, i) for _, i in ranked[:cap])
    return [(b, i) in kept for b, i in zip(basket, item, strict=True)]


lines = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 9), st.sampled_from([0.0, 1.0, 2.5, 7.0])),
    max_size=80,
)


@given(lines=lines, cap=st.integers(1, 6))
def test_cap_equals_the_reference(lines: list[tuple[int, int, float]], cap: int) -> None:
    basket = np.array([b for b, _, _ in lines], dtype=np.int64)
    item = np.array([i for _, i, _ in lines], dtype=np.int64)
    age = np.array([a for _, _, a in lines], dtype=np.float64)
    weight = np.arange(len(lines), dtype=np.float64)
    kept_basket, kept_item, kept_weight = _capped(basket, item, weight, age, 10, cap)
    expected = reference(basket.tolist(), item.tolist(), age.tolist(), cap)
    assert kept_weight.tolist() == weight[expected].tolist()
    assert kept_basket.tolist() == basket[expected].tolist()
    assert kept_item.tolist() == item[expected].tolist()


def test_no_cap_keeps_every_line() -> None:
    basket = np.zeros(5, dtype=np.int64)
    item = np.arange(5, dtype=np.int64)
    weight = np.ones(5)
    assert _capped(basket, item, weight, weight, 5, None)[1].tolist() == [0, 1, 2, 3, 4]
