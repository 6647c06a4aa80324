"""Statistical and structural properties of assignment.

Uniformity and independence use Pearson's chi-square over 100k ids; a correct hash fails
each at the 0.001 level one time in a thousand, and the ids are fixed, so these tests are
deterministic: they either always pass or always fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from personalize import Request
from personalize.config import load_config
from personalize.experiments import ExperimentPlan, bucket, bucket_ranges, compile_experiments
from personalize.metrics import chi_square_sf

N_IDS = 100_000
ALPHA = 0.001


def plan_of(*experiments: dict[str, Any]) -> ExperimentPlan:
    return compile_experiments(load_config({"experiments": list(experiments)}))


def experiment(key: str, weights: list[float], traffic: float = 1.0) -> dict[str, Any]:
    variants = [{"key": f"v{i}", "weight": w} for i, w in enumerate(weights)]
    return {"key": key, "traffic": traffic, "variants": variants}


def chi_square(observed: list[int], expected: list[float]) -> tuple[float, float]:
    stat = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    return stat, chi_square_sf(stat, len(observed) - 1)


def test_buckets_are_uniform_over_100k_ids() -> None:
    bins = 50
    counts = Counter(int(bucket("uniformity", f"user-{i}") * bins) for i in range(N_IDS))
    observed = [counts[b] for b in range(bins)]
    stat, p = chi_square(observed, [N_IDS / bins] * bins)
    # Observed: chi2 = 54.67 on 49 dof, p = 0.268.
    assert p > ALPHA, (stat, p)


def test_variant_split_follows_uneven_weights_over_100k_ids() -> None:
    weights = [1.0, 2.0, 3.0, 4.0]
    plan = plan_of(experiment("uneven", weights))
    counts = Counter(plan.assign(Request(user_id=f"u{i}")).variants["uneven"] for i in range(N_IDS))
    observed = [counts[f"v{i}"] for i in range(4)]
    stat, p = chi_square(observed, [N_IDS * w / 10 for w in weights])
    # Observed: [10152, 20037, 29965, 39846]; chi2 = 3.01 on 3 dof, p = 0.390.
    assert p > ALPHA, (observed, stat, p)


def test_a_skewed_split_would_be_detected() -> None:
    # The test above can fail: a 51/49 split of 100k is far outside chance.
    _, p = chi_square([51_000, 49_000], [50_000, 50_000])
    assert p < ALPHA


def test_two_experiments_are_independent() -> None:
    plan = plan_of(experiment("first", [1, 1, 1]), experiment("second", [1, 1]))
    table: Counter[tuple[str, str]] = Counter()
    for i in range(N_IDS):
        variants = plan.assign(Request(user_id=f"u{i}")).variants
        table[(variants["first"], variants["second"])] += 1
    rows, cols = ["v0", "v1", "v2"], ["v0", "v1"]
    row_sum = {r: sum(table[(r, c)] for c in cols) for r in rows}
    col_sum = {c: sum(table[(r, c)] for r in rows) for c in cols}
    stat = sum(
        (table[(r, c)] - row_sum[r] * col_sum[c] / N_IDS) ** 2 / (row_sum[r] * col_sum[c] / N_IDS)
        for r in rows
        for c in cols
    )
    p = chi_square_sf(stat, (len(rows) - 1) * (len(cols) - 1))
    # Observed: chi2 = 2.43 on 2 dof, p = 0.296 (scipy.stats.chi2_contingency agrees).
    assert p > ALPHA, (stat, p)


weights_lists = st.lists(
    st.floats(min_value=0.05, max_value=5, allow_nan=False), min_size=1, max_size=5
)


def variant_of(weights: list[float], value: str, traffic: float = 1.0) -> int:
    total = sum(weights)
    ranges = bucket_ranges([w / total for w in weights], traffic)
    n = bucket("stable", value)
    return next((i for i, (s, e) in enumerate(ranges) if s <= n < e), -1)


@given(weights=weights_lists, added=st.floats(min_value=0.05, max_value=5))
def test_appending_a_variant_never_moves_anyone_to_an_earlier_one(
    weights: list[float], added: float
) -> None:
    # With the earlier weights kept, the cumulative boundaries can only move left, so an
    # id either keeps its variant or moves to a later one (often the new one).
    total, new_total = sum(weights), sum(weights) + added
    old_ranges = bucket_ranges([w / total for w in weights])
    new_ranges = bucket_ranges([w / new_total for w in [*weights, added]])
    for i in range(300):
        value = f"id-{i}"
        n = bucket("stable", value)
        before = variant_of(weights, value)
        after = variant_of([*weights, added], value)
        assert after >= before
        s_old, e_old = old_ranges[before]
        s_new, e_new = new_ranges[before]
        if max(s_old, s_new) <= n < min(e_old, e_new):
            assert after == before  # ids in the overlap of their variant's ranges stay


def test_appending_a_variant_keeps_the_overlap_of_each_range() -> None:
    # [1, 1] -> [1, 1, 1]: v0 keeps [0, 1/3), v1 keeps [1/2, 2/3): 1/3 + 1/6 = 1/2 stay.
    kept = sum(variant_of([1, 1], f"u{i}") == variant_of([1, 1, 1], f"u{i}") for i in range(N_IDS))
    assert abs(kept / N_IDS - 0.5) < 0.01
    # A new variant of weight 0 moves nobody.
    assert all(variant_of([1, 1], f"u{i}") == variant_of([1, 1, 0], f"u{i}") for i in range(5000))


@given(
    weights=weights_lists,
    low=st.floats(min_value=0, max_value=1),
    high=st.floats(min_value=0, max_value=1),
)
def test_raising_traffic_keeps_everyone_enrolled_in_their_variant(
    weights: list[float], low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    for i in range(300):
        before = variant_of(weights, f"id-{i}", low)
        if before >= 0:
            assert variant_of(weights, f"id-{i}", high) == before


@given(
    user_id=st.text(max_size=20) | st.none(),
    session_id=st.text(max_size=20) | st.none(),
)
def test_assignment_is_a_function_of_the_ids(user_id: str | None, session_id: str | None) -> None:
    one = plan_of(experiment("a", [1, 2]), experiment("b", [1, 1, 1], traffic=0.5))
    two = plan_of(experiment("a", [1, 2]), experiment("b", [1, 1, 1], traffic=0.5))
    request = Request(user_id=user_id, session_id=session_id)
    assert one.assign(request) == two.assign(request)


def test_assignment_does_not_depend_on_the_process_hash_seed() -> None:
    script = (
        "from personalize.experiments import bucket;"
        "print([bucket('exp', f'u{i}') for i in range(20)])"
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
