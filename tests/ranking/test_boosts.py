"""Boosts multiply the scores, trace each boost and report which candidate each matched,
exactly as a product-by-product loop over the boosts in action order does."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_membership import _compile, catalogs, selectors

from personalize import Catalog
from personalize.ranking._boosts import Boosts
from personalize.rules import Boost

factors = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False)
scores = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)


def _by_loop(
    catalog: Catalog, positions: list[int], start: list[float], boosts: list[Boost]
) -> tuple[list[float], list[str], list[list[bool]]]:
    """The reference: each product's score times each matching boost, one at a time."""
    ids = [product.id for product in catalog]
    hits = [[bool(b.where(catalog.facts(ids[p]))) for p in positions] for b in boosts]
    final = list(start)
    for j in range(len(positions)):
        for i, boost in enumerate(boosts):
            if hits[i][j]:
                final[j] *= boost.by
    trace = [
        f"{b.kind} {b.rule_id} x{b.by:g}: {sum(row)} products"
        for b, row in zip(boosts, hits, strict=True)
    ]
    return final, trace, hits


@given(
    catalogs(),
    st.lists(st.tuples(selectors, factors, st.booleans()), max_size=8),
    st.data(),
)
def test_boosts_give_the_scores_trace_and_hits_of_a_product_by_product_loop(
    catalog: Catalog, specs: list[tuple[dict[str, Any], float, bool]], data: st.DataObject
) -> None:
    boosts = [
        Boost(_compile(where), by, f"r{i}", kind="bury" if bury else "boost")
        for i, (where, by, bury) in enumerate(specs)
    ]
    boosts += boosts[: data.draw(st.integers(0, len(boosts)))]  # a rule may fire twice
    positions = data.draw(st.permutations(range(len(catalog))))
    positions = positions[: data.draw(st.integers(0, len(positions)))]
    start = data.draw(st.lists(scores, min_size=len(positions), max_size=len(positions)))
    final, lines, hits = _by_loop(catalog, positions, start, boosts)

    trace: list[str] = []
    got, matched = Boosts(catalog).apply(
        np.array(positions, dtype=np.intp), np.array(start, dtype=np.float64), boosts, trace
    )

    assert got.tolist() == final  # the same floats, not merely close ones
    assert trace == lines
    if matched is None:
        assert not boosts or not positions
    else:
        assert matched.tolist() == hits


def test_a_boost_label_is_the_start_of_its_trace_line() -> None:
    assert Boost(lambda facts: True, 1.5, "r1").label == "boost r1 x1.5: "
    assert Boost(lambda facts: True, 0.25, "r2", kind="bury").label == "bury r2 x0.25: "
