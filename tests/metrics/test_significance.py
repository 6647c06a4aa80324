"""The statistics, by hand and against scipy.stats (skipped when scipy is missing)."""

from __future__ import annotations

import math
import random
import re
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize.metrics import (
    chi_square_sf,
    kpis_by,
    normal_cdf,
    normal_ppf,
    sample_ratio_mismatch,
    srm,
    student_t_ppf,
    student_t_sf,
    two_proportion_z_test,
    welch_t_test,
)

scipy_stats = pytest.importorskip("scipy.stats")


def test_two_proportion_z_test_by_hand() -> None:
    # 120/1000 vs 150/1000: pooled p = 270/2000 = 0.135,
    # se = sqrt(0.135 * 0.865 * (1/1000 + 1/1000)) = 0.0152824, z = 0.03 / se = 1.96305,
    # p = 2 * (1 - Phi(1.96305)) = 0.04964.
    # Unpooled se = sqrt(0.12*0.88/1000 + 0.15*0.85/1000) = sqrt(0.0002331) = 0.0152676;
    # CI = 0.03 -/+ 1.959964 * 0.0152676 = [0.0000760, 0.0599240].
    r = two_proportion_z_test(120, 1000, 150, 1000)
    assert r.statistic == pytest.approx(1.96305, abs=1e-5)
    assert r.p_value == pytest.approx(0.04964, abs=1e-5)
    assert r.ci_low == pytest.approx(0.03 - 1.959964 * 0.0152676, abs=1e-6)
    assert r.ci_high == pytest.approx(0.03 + 1.959964 * 0.0152676, abs=1e-6)
    assert r.relative_lift == pytest.approx(0.25)


@given(
    n1=st.integers(5, 5000),
    n2=st.integers(5, 5000),
    f1=st.floats(0.01, 0.99),
    f2=st.floats(0.01, 0.99),
)
def test_z_test_p_value_equals_the_uncorrected_chi_square_of_the_2x2_table(
    n1: int, n2: int, f1: float, f2: float
) -> None:
    x1, x2 = max(1, min(n1 - 1, round(n1 * f1))), max(1, min(n2 - 1, round(n2 * f2)))
    r = two_proportion_z_test(x1, n1, x2, n2)
    chi2, p, _, _ = scipy_stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    assert r.statistic**2 == pytest.approx(chi2, rel=1e-9, abs=1e-9)
    assert r.p_value == pytest.approx(p, rel=1e-7, abs=1e-12)


def test_z_test_degenerate_inputs() -> None:
    assert math.isnan(two_proportion_z_test(0, 0, 1, 10).p_value)
    same = two_proportion_z_test(0, 10, 0, 10)
    assert same.p_value == 1.0
    assert same.difference == 0.0


samples = st.lists(st.floats(-1000, 1000, allow_nan=False), min_size=2, max_size=40)


@given(a=samples, b=samples)
def test_welch_matches_scipy(a: list[float], b: list[float]) -> None:
    ours = welch_t_test(a, b)
    if statistics_degenerate(a, b):
        return
    with warnings.catch_warnings():
        # scipy warns about precision when one sample is constant; its answer still holds.
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = scipy_stats.ttest_ind(b, a, equal_var=False)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-6, abs=1e-9)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-6, abs=1e-12)
    assert ours.dof == pytest.approx(theirs.df, rel=1e-6)
    low, high = theirs.confidence_interval(0.95)
    assert ours.ci_low == pytest.approx(low, rel=1e-6, abs=1e-6)
    assert ours.ci_high == pytest.approx(high, rel=1e-6, abs=1e-6)


def statistics_degenerate(a: list[float], b: list[float]) -> bool:
    # Near-zero variance: both libraries' answers are dominated by rounding.
    def var(x: list[float]) -> float:
        m = sum(x) / len(x)
        return sum((v - m) ** 2 for v in x) / (len(x) - 1)

    return var(a) / len(a) + var(b) / len(b) < 1e-6


def test_welch_on_skewed_revenue_like_samples() -> None:
    rng = random.Random(7)
    control = [rng.expovariate(1 / 20) if rng.random() < 0.1 else 0.0 for _ in range(3000)]
    treatment = [rng.expovariate(1 / 22) if rng.random() < 0.12 else 0.0 for _ in range(3000)]
    ours = welch_t_test(control, treatment)
    theirs = scipy_stats.ttest_ind(treatment, control, equal_var=False)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)


def test_welch_with_too_few_values_is_undefined() -> None:
    r = welch_t_test([1.0], [2.0, 3.0])
    assert math.isnan(r.p_value)
    assert r.control == 1.0
    assert r.treatment == 2.5


@pytest.mark.parametrize("big", [2e154, 1e160])
def test_welch_of_values_whose_variance_overflows_is_undefined_not_an_error(big: float) -> None:
    # Deviations near 1e154 have finite squares whose sum passes the largest float:
    # math.fsum raised OverflowError (intermediate overflow) out of compare().
    result = welch_t_test([0.0, big], [0.0, 1.0])
    assert result.control == pytest.approx(big / 2)
    assert math.isnan(result.p_value)
    assert math.isnan(result.ci_low)


def test_welch_with_constant_samples() -> None:
    assert welch_t_test([1.0, 1.0], [1.0, 1.0]).p_value == 1.0
    assert welch_t_test([1.0, 1.0], [2.0, 2.0]).p_value == 0.0


@given(x=st.floats(0, 500), dof=st.integers(1, 300))
def test_chi_square_sf_matches_scipy(x: float, dof: int) -> None:
    assert chi_square_sf(x, dof) == pytest.approx(scipy_stats.chi2.sf(x, dof), rel=1e-8, abs=1e-14)


@given(t=st.floats(-50, 50), dof=st.floats(0.5, 1e5))
def test_student_t_sf_matches_scipy(t: float, dof: float) -> None:
    assert student_t_sf(t, dof) == pytest.approx(scipy_stats.t.sf(t, dof), rel=1e-7, abs=1e-14)


@given(p=st.floats(0.001, 0.999), dof=st.floats(1, 1000))
def test_quantiles_match_scipy(p: float, dof: float) -> None:
    assert normal_ppf(p) == pytest.approx(scipy_stats.norm.ppf(p), abs=1e-9)
    assert student_t_ppf(p, dof) == pytest.approx(scipy_stats.t.ppf(p, dof), rel=1e-7, abs=1e-8)
    assert normal_cdf(normal_ppf(p)) == pytest.approx(p, abs=1e-12)


@pytest.mark.parametrize(
    ("p", "dof"), [(1 - 5e-8, 1.0), (1e-8, 1.0), (1 - 1e-9, 1.3), (1e-12, 2.0)]
)
def test_student_t_ppf_of_a_far_tail_is_not_clipped(p: float, dof: float) -> None:
    # The bisection searched [-1e6, 1e6]: with one or two degrees of freedom (two sessions
    # per arm) a 99.99999% interval needs t = 6.4e6 and got 1e6, an interval six times
    # too narrow.
    assert student_t_ppf(p, dof) == pytest.approx(scipy_stats.t.ppf(p, dof), rel=1e-7)


def test_srm_detects_a_skewed_split() -> None:
    # 5500 vs 4500 under 50/50: chi2 = (500^2/5000) * 2 = 100, p ~ 1.5e-23.
    check = sample_ratio_mismatch({"control": 5500, "treatment": 4500})
    assert check.chi_square == pytest.approx(100.0)
    assert check.mismatch
    assert check.p_value == pytest.approx(scipy_stats.chisquare([5500, 4500]).pvalue)


def test_srm_accepts_a_fair_split_under_uneven_weights() -> None:
    # 2040 vs 7960 under 20/80: chi2 = 40^2/2000 + 40^2/8000 = 0.8 + 0.2 = 1.0, p = 0.317.
    check = sample_ratio_mismatch({"a": 2040, "b": 7960}, {"a": 1, "b": 4})
    assert check.chi_square == pytest.approx(1.0)
    assert check.p_value == pytest.approx(0.3173, abs=1e-4)
    assert not check.mismatch


def test_srm_counts_missing_arms_and_impossible_ones() -> None:
    missing = sample_ratio_mismatch({"a": 100}, {"a": 1, "b": 1})
    assert missing.observed == {"a": 100, "b": 0}
    assert missing.mismatch
    impossible = sample_ratio_mismatch({"a": 10, "b": 1}, {"a": 1, "b": 0})
    assert impossible.mismatch
    assert math.isinf(impossible.chi_square)
    assert not sample_ratio_mismatch({}).mismatch


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"a": 1.0, "b": -1.0}, "'b' is -1.0"),
        ({"a": 1.0, "b": math.nan}, "'b' is nan"),
        ({"a": math.inf, "b": 1.0}, "'a' is inf"),
        ({"a": 0.0, "b": 0.0}, "no weight above 0"),
        ({}, "no weight above 0"),
    ],
)
def test_srm_refuses_weights_that_are_no_split(weights: dict[str, float], message: str) -> None:
    # Such weights (a bug in the caller) were read as a split and reported a mismatch, or
    # none: a negative weight gave a negative expected count, NaN a NaN statistic.
    with pytest.raises(ValueError, match=re.escape(message)):
        sample_ratio_mismatch({"a": 50, "b": 50}, weights)
    table = kpis_by(
        [
            {"type": "page_view", "at": "2026-01-05T10:00:00Z", "session_id": f"s{i}", "variant": v}
            for i, v in enumerate("ab")
        ]
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        srm(table, weights)


def test_srm_reads_huge_weights_as_a_split() -> None:
    # Weights are relative: 1e308 and 1e308 are 50/50. Their sum overflowed in fsum and
    # OverflowError escaped.
    check = sample_ratio_mismatch({"a": 50, "b": 50}, {"a": 1e308, "b": 1e308})
    assert check.expected == {"a": pytest.approx(50.0), "b": pytest.approx(50.0)}
    assert check.p_value == pytest.approx(1.0)
    tiny = sample_ratio_mismatch({"a": 20, "b": 80}, {"a": 5e-324, "b": 2e-323})
    assert tiny.expected == {"a": pytest.approx(20.0), "b": pytest.approx(80.0)}


@pytest.mark.parametrize("confidence", [0.0, -0.5, 1.0, 1.5, math.nan])
def test_a_confidence_outside_0_to_1_is_refused_by_name(confidence: float) -> None:
    # -0.5 gave an interval whose low end was above its high end, 0 one of no width, and
    # 1 or more a ValueError about "p", a name the caller never used.
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        two_proportion_z_test(10, 100, 20, 100, confidence=confidence)
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        welch_t_test([1.0, 2.0, 3.0], [2.0, 3.0, 5.0], confidence=confidence)


def test_invalid_arguments_raise() -> None:
    with pytest.raises(ValueError, match="degrees"):
        chi_square_sf(1.0, 0)
    with pytest.raises(ValueError, match="between"):
        normal_ppf(1.0)


@pytest.mark.parametrize("dof", [30, 100, 1_000, 10_000, 1e6])
@pytest.mark.parametrize("t", [6.0, 10.0, 30.0])
def test_student_t_sf_keeps_its_relative_precision_in_the_far_tail(t: float, dof: float) -> None:
    # A big A/B test (dof in the thousands) with t = 10 has p ~ 1e-23: the tail was
    # computed as 0.5 - 0.5 * I(...), which cancels to 0 (or to 5.6e-17 for 4.95e-17).
    expected = scipy_stats.t.sf(t, dof)
    assert student_t_sf(t, dof) == pytest.approx(expected, rel=1e-7)
    assert student_t_sf(-t, dof) == pytest.approx(1 - expected, rel=1e-12)


@pytest.mark.parametrize("dof", [20_000, 50_000, 100_000, 1_000_000])
@pytest.mark.parametrize("z", [-3.0, 0.0, 3.0])
def test_chi_square_sf_converges_for_many_degrees_of_freedom(dof: int, z: float) -> None:
    # Around its mean, the series of P(a, x) needs ~8 sqrt(a) terms; a fixed 500 stopped
    # early from about 20,000 dof (0.5129 instead of 0.5003 at 100,000).
    x = dof + z * math.sqrt(2 * dof)
    assert chi_square_sf(x, dof) == pytest.approx(scipy_stats.chi2.sf(x, dof), rel=1e-8)


@pytest.mark.parametrize("scale", [1e-140, 1e-100, 1e100, 1e150])
def test_welch_is_unchanged_by_the_unit_of_the_values(scale: float) -> None:
    # The Welch-Satterthwaite dof squares the variances: at 1e-140 they underflowed to 0
    # and the pooled dof (n1 + n2 - 2) was used instead; at 1e150 they overflowed and
    # `(a + b) ** 2` raised OverflowError.
    control, treatment = [0.0, 1.0, 2.0], [1.0, 3.0, 8.0, 2.0]
    plain = welch_t_test(control, treatment)
    scaled = welch_t_test([x * scale for x in control], [x * scale for x in treatment])
    assert scaled.dof == pytest.approx(plain.dof, rel=1e-12)
    assert scaled.p_value == pytest.approx(plain.p_value, rel=1e-9)
    assert scaled.ci_low == pytest.approx(plain.ci_low * scale, rel=1e-9)
