"""Offline evaluation: splits, metrics, bootstrap and the NumPy baselines."""

from __future__ import annotations

import math
import tracemalloc
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from personalize import Event
from personalize.evaluation import (
    BASELINES,
    Purchases,
    make_split,
    monthly_splits,
    paired_bootstrap,
    rank_metrics,
    tune,
)
from personalize.evaluation.baselines import tifu_vectors

START = datetime(2011, 1, 1, tzinfo=UTC)


def buy(customer: str, product: str, day: float, order: str | None = None) -> Event:
    at = START + timedelta(days=day)
    return Event(
        type="purchase",
        product_id=product,
        at=at,
        customer_id=customer,
        order_id=order or f"{customer}-{day}",
    )


LOG = Purchases.from_events(
    [
        buy("a", "tea", 1),
        buy("a", "cup", 1),
        buy("a", "tea", 20),
        buy("b", "tea", 3),
        buy("b", "pot", 25),
        buy("c", "cup", 5),
        buy("a", "tea", 35),  # February: the test month
        buy("a", "pot", 36),
        buy("b", "pot", 40),
        buy("d", "tea", 40),  # no train purchases: not evaluated
    ]
)


def test_monthly_split_trains_before_the_month_and_targets_its_purchases() -> None:
    (split,) = monthly_splits(LOG, ["2011-02"])
    pos = {c: i for i, c in enumerate(LOG.customers)}
    item = {p: i for i, p in enumerate(LOG.items)}
    assert split.train.sum() == 6
    assert set(split.targets) == {pos["a"], pos["b"]}
    assert split.targets[pos["a"]] == {item["tea"], item["pot"]}
    assert split.cases("new") == [(pos["a"], frozenset({item["pot"]}))]


def test_rank_metrics_of_a_perfect_and_an_empty_list() -> None:
    assert rank_metrics([1, 2], {1, 2}, 10) == (1.0, 1.0, 1.0)
    assert rank_metrics([3, 4], {1, 2}, 10) == (0.0, 0.0, 0.0)


def test_ndcg_discounts_a_hit_by_its_position() -> None:
    _, _, ndcg = rank_metrics([9, 1], {1}, 10)
    assert ndcg == pytest.approx(1 / math.log2(3))


def test_a_repeated_product_is_a_hit_once_and_takes_its_slot() -> None:
    hr, recall, ndcg = rank_metrics([1, 1, 2], {1, 3}, 3)
    ideal = 1 + 1 / math.log2(3)
    assert (hr, recall) == (1.0, 0.5)
    assert ndcg == pytest.approx(1 / ideal)


@given(
    st.lists(st.integers(0, 3), max_size=8),
    st.frozensets(st.integers(0, 3), max_size=3),
    st.integers(1, 6),
)
@example([0, 0], frozenset({0}), 2)
def test_rank_metrics_stay_between_zero_and_one(
    recommended: list[int], target: frozenset[int], k: int
) -> None:
    assert all(0.0 <= m <= 1.0 for m in rank_metrics(recommended, target, k))


@given(st.lists(st.floats(-1, 1), min_size=1, max_size=50))
def test_bootstrap_interval_holds_the_mean_difference(values: list[float]) -> None:
    a = np.array(values)
    mean, lo, hi = paired_bootstrap(a, np.zeros_like(a), rounds=200)
    assert lo - 1e-9 <= mean <= hi + 1e-9
    assert mean == pytest.approx(float(a.mean()))


def test_bootstrap_memory_stays_bounded_for_many_customers() -> None:
    a = np.random.default_rng(1).random(5000)
    tracemalloc.start()
    try:
        paired_bootstrap(a, np.zeros_like(a))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30 * 2**20  # all 2000 rounds at once held 2 x 80 MB


def test_bootstrap_is_the_seeded_percentile_interval_of_resampled_means() -> None:
    a, b = np.random.default_rng(2).random((2, 300))
    diff = a - b
    picks = np.random.default_rng(5).integers(0, diff.size, size=(500, diff.size))
    means = diff[picks].mean(axis=1)
    expected = (diff.mean(), np.quantile(means, 0.05), np.quantile(means, 0.95))
    assert paired_bootstrap(a, b, rounds=500, seed=5, level=0.9) == pytest.approx(expected)


def test_tifu_vector_weighs_recent_groups_more() -> None:
    events = [buy("a", "old", day) for day in range(3)] + [buy("a", "new", 10)]
    log = Purchases.from_events(events)
    split = make_split(log, START + timedelta(days=30), START + timedelta(days=60))
    row = tifu_vectors(log, split, group_size=3, r_basket=1.0, r_group=0.5).toarray()[0]
    old, new = row[log.items.index("old")], row[log.items.index("new")]
    # Two groups: [old, old, old] decayed by 0.5, then [new]; each group averaged, /2 groups.
    assert old == pytest.approx(3 * (1 / 3) * 0.5 / 2)
    assert new == pytest.approx(1.0 / 2)


def test_repeat_purchase_ranks_own_products_by_order_count() -> None:
    (split,) = monthly_splits(LOG, ["2011-02"])
    a = LOG.customers.index("a")
    lists = BASELINES["repeat purchase"].recommend(LOG, split, "all", [a], 10, {})
    assert [LOG.items[i] for i in lists[a]] == ["tea", "cup"]


def test_new_mode_never_recommends_a_train_purchase() -> None:
    (split,) = monthly_splits(LOG, ["2011-02"])
    customers = [c for c, _ in split.cases("new")]
    for name in ("recent popularity", "TIFU-KNN"):
        baseline = BASELINES[name]
        lists = baseline.recommend(LOG, split, "new", customers, 10, baseline.settings()[0])
        for cust in customers:
            assert not set(lists[cust]) & split.bought[cust]


def test_tifu_knn_with_a_single_customer_ranks_their_own_products() -> None:
    log = Purchases.from_events([buy("a", "tea", 1), buy("a", "cup", 2), buy("a", "pot", 35)])
    (split,) = monthly_splits(log, ["2011-02"])
    a = log.customers.index("a")
    baseline = BASELINES["TIFU-KNN"]
    lists = baseline.recommend(log, split, "all", [a], 10, baseline.settings()[0])
    assert sorted(log.items[i] for i in lists[a]) == ["cup", "tea"]
    assert tune(baseline, log, split, "new", 10)[1] == 0.0


def test_tune_picks_a_point_of_the_grid() -> None:
    (split,) = monthly_splits(LOG, ["2011-02"])
    params, ndcg = tune(BASELINES["recent popularity"], LOG, split, "all", 10)
    assert params in BASELINES["recent popularity"].settings()
    assert 0.0 <= ndcg <= 1.0
