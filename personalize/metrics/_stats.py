"""The statistics behind the KPI comparisons, with the standard library only.

Distribution functions come from the regularized incomplete gamma and beta functions
(series and Lentz continued fractions, as in any numerical-methods text):

* normal: ``Phi(z) = erfc(-z / sqrt 2) / 2``;
* chi-square with ``k`` degrees of freedom: ``P(X > x) = Q(k/2, x/2)``;
* Student's t with ``v`` degrees of freedom: ``P(|T| > t) = I_{v/(v+t^2)}(v/2, 1/2)``.

Quantiles invert the distribution functions by bisection (in a bracket widened until it
holds the quantile): slow, exact to 1e-12, and only used when a table is built, never per
request.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "SrmResult",
    "TestResult",
    "chi_square_sf",
    "normal_cdf",
    "normal_ppf",
    "sample_ratio_mismatch",
    "student_t_ppf",
    "student_t_sf",
    "two_proportion_z_test",
    "welch_t_test",
]

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 500


def _fsum(values: Iterable[float]) -> float:
    """The correctly rounded sum (``math.fsum``, whatever the order), ``inf`` beyond a float.

    ``math.fsum`` raises OverflowError when a partial sum passes the largest float (two
    values of 1e308); the values are then summed scaled down by a power of two, which no
    partial sum can overflow, and scaled back (``inf`` when the sum is beyond a float). It
    raises ValueError for ``inf`` and ``-inf`` together, whose sum is NaN.
    """
    items = list(values)
    try:
        return math.fsum(items)
    except ValueError:
        return math.nan
    except OverflowError:
        scale = 2.0 ** (len(items).bit_length() + 1)
        return _fsum([x / scale for x in items]) * scale


def normal_cdf(z: float) -> float:
    """The standard normal distribution function."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _bisect(f: object, target: float, low: float, high: float) -> float:
    assert callable(f)
    for _ in range(200):
        mid = (low + high) / 2
        if f(mid) < target:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    return (low + high) / 2


def normal_ppf(p: float) -> float:
    """The standard normal quantile: ``normal_cdf(normal_ppf(p)) == p`` for ``0 < p < 1``."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be strictly between 0 and 1")
    return _bisect(normal_cdf, p, -40.0, 40.0)


def _gamma_q(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x)."""
    if x <= 0:
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    # Near x = a both expansions need about 8 sqrt(a) steps: a large dof needs more.
    steps = _MAX_ITER + 10 * math.isqrt(int(a))
    if x < a + 1:
        # Series for P(a, x), then Q = 1 - P.
        term = total = 1.0 / a
        denom = a
        for _ in range(steps):
            denom += 1
            term *= x / denom
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # Continued fraction for Q(a, x) (modified Lentz).
    b = x + 1 - a
    c = 1 / _TINY
    d = 1 / b
    h = d
    for i in range(1, steps):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return min(1.0, math.exp(log_prefix) * h)


def chi_square_sf(x: float, dof: int) -> float:
    """``P(X > x)`` for a chi-square variable with ``dof`` degrees of freedom."""
    if dof <= 0:
        raise ValueError("degrees of freedom must be positive")
    return _gamma_q(dof / 2, x / 2)


def _beta_cf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1 / d
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return h


def _beta_i(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1) / (a + b + 2):
        return front * _beta_cf(a, b, x) / a
    return 1 - front * _beta_cf(b, a, 1 - x) / b


def student_t_sf(t: float, dof: float) -> float:
    """``P(T > t)`` for Student's t with ``dof`` (possibly fractional) degrees of freedom."""
    if dof <= 0:
        raise ValueError("degrees of freedom must be positive")
    x = dof / (dof + t * t)
    a = dof / 2
    if x < (a + 1) / (a + 2.5):
        # Where the continued fraction of I_x(a, 1/2) converges: the tail itself, with no
        # cancellation (x < 0.5 would send a far tail of a large dof to 0.5 - 0.5 * ~1).
        tail = 0.5 * _beta_i(a, 0.5, x)
    else:
        # Near t = 0, use I_x(a, b) = 1 - I_{1-x}(b, a) with 1 - x computed directly.
        tail = 0.5 - 0.5 * _beta_i(0.5, a, t * t / (dof + t * t))
    return tail if t >= 0 else 1 - tail


def student_t_ppf(p: float, dof: float) -> float:
    """The quantile of Student's t: ``1 - student_t_sf(student_t_ppf(p, v), v) == p``."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be strictly between 0 and 1")
    # Search the upper tail (the quantile of p < 0.5 is minus that of 1 - p), in a bracket
    # doubled until it holds the quantile: with one degree of freedom a far tail needs t
    # in the millions. Bisecting on the tail keeps its precision near p = 1.
    tail = min(p, 1.0 - p)
    high = 1.0
    while student_t_sf(high, dof) > tail and high < 1e300:
        high *= 2
    t = _bisect(lambda x: -student_t_sf(x, dof), -tail, 0.0, high)
    return t if p >= 0.5 else -t


@dataclass(frozen=True, slots=True)
class TestResult:
    """A treatment compared with a control.

    Attributes:
        control: The control's estimate (a rate or a mean).
        treatment: The treatment's estimate.
        difference: ``treatment - control``.
        ci_low: Lower end of the confidence interval of the difference.
        ci_high: Upper end.
        p_value: Two-sided p-value of "no difference" (``nan`` when undefined).
        statistic: The z or t statistic.
        dof: Degrees of freedom (Welch), ``None`` for the z-test.
    """

    __test__ = False  # not a pytest test class

    control: float
    treatment: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    dof: float | None = None

    @property
    def relative_lift(self) -> float:
        """``difference / control`` (``nan`` when the control is 0)."""
        return self.difference / self.control if self.control else math.nan


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, not {confidence!r}")


def two_proportion_z_test(
    successes_control: int,
    n_control: int,
    successes_treatment: int,
    n_treatment: int,
    *,
    confidence: float = 0.95,
) -> TestResult:
    """Compare two rates.

    The p-value uses the pooled standard error (the null says both rates are equal); the
    interval of the difference uses the unpooled one (Wald).

    Args:
        successes_control: Successes among the control's trials.
        n_control: The control's trials (sessions).
        successes_treatment: Successes among the treatment's trials.
        n_treatment: The treatment's trials.
        confidence: Confidence level of the interval.

    Returns:
        The comparison; ``nan`` where a sample is empty or the rates are degenerate.

    Raises:
        ValueError: ``confidence`` is not strictly between 0 and 1.
    """
    _check_confidence(confidence)
    if n_control <= 0 or n_treatment <= 0:
        nan = math.nan
        return TestResult(nan, nan, nan, nan, nan, nan, nan)
    p1 = successes_control / n_control
    p2 = successes_treatment / n_treatment
    diff = p2 - p1
    pooled = (successes_control + successes_treatment) / (n_control + n_treatment)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_control + 1 / n_treatment))
    if se_pooled > 0:
        z = diff / se_pooled
        p_value = 2 * normal_cdf(-abs(z))
    else:
        z, p_value = 0.0, 1.0
    se = math.sqrt(p1 * (1 - p1) / n_control + p2 * (1 - p2) / n_treatment)
    half = normal_ppf(0.5 + confidence / 2) * se
    return TestResult(p1, p2, diff, diff - half, diff + half, p_value, z)


def _mean_var(sample: Sequence[float]) -> tuple[float, float]:
    """Mean and sample variance; the variance is ``inf`` when it overflows a float."""
    n = len(sample)
    # x / n: the sum of huge values would overflow where their mean does not.
    mean = _fsum(x / n for x in sample)
    # d * d, not d ** 2: a float power raises OverflowError instead of giving inf.
    # _fsum: squares near 1e308 are finite, but their sum would overflow fsum.
    var = _fsum((x - mean) * (x - mean) for x in sample) / (n - 1) if n > 1 else 0.0
    return mean, var


def welch_t_test(
    control: Sequence[float], treatment: Sequence[float], *, confidence: float = 0.95
) -> TestResult:
    """Compare two means without assuming equal variances (Welch's t-test).

    ``t = (m2 - m1) / sqrt(s1²/n1 + s2²/n2)`` with Welch-Satterthwaite degrees of freedom
    ``(s1²/n1 + s2²/n2)² / ((s1²/n1)²/(n1-1) + (s2²/n2)²/(n2-1))``.

    Args:
        control: One value per control session.
        treatment: One value per treatment session.
        confidence: Confidence level of the interval.

    Returns:
        The comparison; ``nan`` where a sample has fewer than two values, or values so
        large that their variance overflows a float.

    Raises:
        ValueError: ``confidence`` is not strictly between 0 and 1.
    """
    _check_confidence(confidence)
    if len(control) < 2 or len(treatment) < 2:
        nan = math.nan
        m1 = math.fsum(control) / len(control) if control else nan
        m2 = math.fsum(treatment) / len(treatment) if treatment else nan
        return TestResult(m1, m2, m2 - m1, nan, nan, nan, nan)
    m1, v1 = _mean_var(control)
    m2, v2 = _mean_var(treatment)
    a, b = v1 / len(control), v2 / len(treatment)
    diff = m2 - m1
    se = math.sqrt(a + b)
    if not math.isfinite(se):
        # Values so large (~1e154) that their variance overflows: no test is possible.
        nan = math.nan
        return TestResult(m1, m2, diff, nan, nan, nan, nan)
    if se == 0:
        p_value = 1.0 if diff == 0 else 0.0
        return TestResult(m1, m2, diff, diff, diff, p_value, 0.0 if diff == 0 else math.inf)
    # (a + b)^2 / (a^2/(n1-1) + b^2/(n2-1)), with a and b as shares of a + b so that
    # squaring tiny (or huge) variances neither underflows nor overflows.
    share_a, share_b = a / (a + b), b / (a + b)
    dof = 1 / (share_a * share_a / (len(control) - 1) + share_b * share_b / (len(treatment) - 1))
    t = diff / se
    p_value = min(1.0, 2 * student_t_sf(abs(t), dof))
    half = student_t_ppf(0.5 + confidence / 2, dof) * se
    return TestResult(m1, m2, diff, diff - half, diff + half, p_value, t, dof)


@dataclass(frozen=True, slots=True)
class SrmResult:
    """A sample-ratio-mismatch check: are the arms' sizes what the weights promise?

    Attributes:
        observed: Sessions per arm.
        expected: Expected sessions per arm, from the weights.
        chi_square: Pearson's statistic.
        dof: Arms minus one.
        p_value: Goodness-of-fit p-value.
        threshold: Below this p-value the split is declared mismatched.
    """

    observed: Mapping[str, int]
    expected: Mapping[str, float]
    chi_square: float
    dof: int
    p_value: float
    threshold: float = 0.001

    @property
    def mismatch(self) -> bool:
        """The observed split is implausible under the weights (``p < threshold``)."""
        return self.p_value < self.threshold


def sample_ratio_mismatch(
    observed: Mapping[str, int],
    weights: Mapping[str, float] | None = None,
    *,
    threshold: float = 0.001,
) -> SrmResult:
    """Pearson's chi-square goodness of fit of arm sizes against their weights.

    Args:
        observed: Sessions (or users) per arm.
        weights: Relative weight per arm (normalized here); equal weights when ``None``.
            Arms with a weight but no sessions count as 0 observed.
        threshold: The p-value below which :attr:`SrmResult.mismatch` is true; 0.001 is
            the usual choice, since the check runs on every experiment and every day.

    Returns:
        The :class:`SrmResult`.

    Raises:
        ValueError: A weight is negative, NaN or infinite, or no weight is above 0: such
            weights are no split (a bug in the caller, not in the data).
    """
    if weights is not None:
        bad = [f"{arm!r} is {w}" for arm, w in weights.items() if not 0 <= w < math.inf]
        if bad:
            raise ValueError("SRM weights must be finite and not negative: " + ", ".join(bad))
        if not any(w > 0 for w in weights.values()):
            raise ValueError("SRM weights have no weight above 0: no split to check against")
    arms = list(weights) if weights is not None else list(observed)
    for arm in observed:
        if arm not in arms:
            arms.append(arm)
    raw = {arm: (weights.get(arm, 0.0) if weights is not None else 1.0) for arm in arms}
    # Weights are relative: as shares of the largest, huge ones (1e308) cannot overflow.
    top = max(raw.values(), default=1.0) or 1.0
    raw = {arm: w / top for arm, w in raw.items()}
    total_weight = math.fsum(raw.values())
    total = sum(observed.values())
    counts = {arm: observed.get(arm, 0) for arm in arms}
    expected = {arm: total * raw[arm] / total_weight if total_weight else 0.0 for arm in arms}
    stat = 0.0
    impossible = False
    for arm in arms:
        if expected[arm] > 0:
            stat += (counts[arm] - expected[arm]) ** 2 / expected[arm]
        elif counts[arm] > 0:
            impossible = True
    dof = sum(1 for arm in arms if expected[arm] > 0) - 1
    if impossible:
        p_value = 0.0
        stat = math.inf
    elif dof <= 0 or total == 0:
        p_value = 1.0
    else:
        p_value = chi_square_sf(stat, dof)
    return SrmResult(counts, expected, stat, max(dof, 0), p_value, threshold)
