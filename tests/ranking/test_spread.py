"""Neighbour rows summed as arrays give the floats a loop over the anchors gives."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from ranking_helpers import PRODUCT_IDS, shop_index

from personalize.ranking._index import Neighbours
from personalize.ranking._sources import _spread_top, top_by_value

INDEX = shop_index()


def _loop(
    anchors: list[tuple[str, float]], neighbours: Callable[[str], Neighbours]
) -> dict[str, float]:
    scores: dict[str, float] = {}
    for anchor, weight in anchors:
        ids, sims = neighbours(anchor)
        for pid, sim in zip(ids, sims, strict=True):
            scores[pid] = scores.get(pid, 0.0) + weight * sim
    return scores


@given(
    st.lists(st.tuples(st.sampled_from(PRODUCT_IDS), st.floats(0.001, 10.0)), max_size=12),
    st.sampled_from(["co_purchase", "co_view"]),
    st.integers(0, 12),
)
def test_spread_top_equals_the_loop_over_anchors_then_top_by_value(
    anchors: list[tuple[str, float]], kind: str, limit: int
) -> None:
    neighbours = INDEX.co_purchase if kind == "co_purchase" else INDEX.co_view
    expected = top_by_value(_loop(anchors, neighbours), limit)
    got = _spread_top(anchors, INDEX.neighbour_rows(kind), limit)
    assert list(got.items()) == list(expected.items())
