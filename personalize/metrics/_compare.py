"""Variants against a control: differences, confidence intervals, p-values, and SRM.

Rates (add-to-cart, conversion, cart abandonment) use the two-proportion z-test with
sessions as trials (for abandonment: sessions with an add-to-cart). Per-session means
(page views, revenue, time on site) use Welch's t-test on the per-session values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from personalize.metrics._kpis import KpiTable, SessionKpis
from personalize.metrics._stats import (
    SrmResult,
    TestResult,
    sample_ratio_mismatch,
    two_proportion_z_test,
    welch_t_test,
)

__all__ = ["METRICS", "Comparison", "compare", "format_table", "srm"]

_Rate = tuple[Callable[[SessionKpis], bool], Callable[[SessionKpis], bool]]

# rate metric -> (which sessions are trials, which trials are successes)
_RATES: dict[str, _Rate] = {
    "add_to_cart_rate": (lambda s: True, lambda s: s.added_to_cart),
    "conversion_rate": (lambda s: True, lambda s: s.converted),
    "cart_abandonment_rate": (lambda s: s.added_to_cart, lambda s: s.abandoned),
}
# mean metric -> the per-session value
_MEANS: dict[str, Callable[[SessionKpis], float]] = {
    "page_views_per_session": lambda s: float(s.page_views),
    "revenue_per_session": lambda s: s.revenue,
    "average_time_on_site": lambda s: s.duration,
}

#: The compared metrics, in report order, with their labels.
METRICS: Mapping[str, str] = {
    "page_views_per_session": "page views / session",
    "add_to_cart_rate": "add-to-cart rate",
    "cart_abandonment_rate": "cart abandonment rate",
    "conversion_rate": "conversion rate",
    "revenue_per_session": "revenue / session",
    "average_time_on_site": "time on site (s)",
}


@dataclass(frozen=True, slots=True)
class Comparison:
    """One metric of one variant against the control.

    Attributes:
        metric: The metric's name (a :class:`~personalize.metrics.Kpis` field).
        variant: The compared group.
        control: The control group.
        test: ``z`` (two-proportion z-test) or ``welch`` (Welch's t-test).
        result: Estimates, difference, confidence interval and p-value.
    """

    metric: str
    variant: str
    control: str
    test: Literal["z", "welch"]
    result: TestResult

    @property
    def label(self) -> str:
        """A readable name of the metric."""
        return METRICS[self.metric]


def compare(
    table: KpiTable, control: str = "control", *, confidence: float = 0.95
) -> list[Comparison]:
    """Compare every group of a table with the control group, metric by metric.

    Args:
        table: A table from :func:`~personalize.metrics.kpis_by`.
        control: The control group's name.
        confidence: Confidence level of the intervals.

    Returns:
        One :class:`Comparison` per variant and metric, variants in table order and
        metrics in :data:`METRICS` order.

    Raises:
        KeyError: ``control`` is not a group of the table.
        ValueError: ``confidence`` is not strictly between 0 and 1.
    """
    base = table.sessions[control]
    out: list[Comparison] = []
    for group, sessions in table.sessions.items():
        if group == control:
            continue
        for metric in METRICS:
            if metric in _RATES:
                trial, success = _RATES[metric]
                a = [s for s in base if trial(s)]
                b = [s for s in sessions if trial(s)]
                result = two_proportion_z_test(
                    sum(1 for s in a if success(s)),
                    len(a),
                    sum(1 for s in b if success(s)),
                    len(b),
                    confidence=confidence,
                )
                out.append(Comparison(metric, group, control, "z", result))
            else:
                value = _MEANS[metric]
                result = welch_t_test(
                    [value(s) for s in base],
                    [value(s) for s in sessions],
                    confidence=confidence,
                )
                out.append(Comparison(metric, group, control, "welch", result))
    return out


def srm(
    table: KpiTable, weights: Mapping[str, float] | None = None, *, threshold: float = 0.001
) -> SrmResult:
    """Check the table's session counts against the expected split.

    Args:
        table: A table from :func:`~personalize.metrics.kpis_by`.
        weights: Expected relative weight per group (e.g.
            :meth:`personalize.experiments.ExperimentPlan.shares`); equal when ``None``.
        threshold: p-value below which the split is declared mismatched.

    Raises:
        ValueError: A weight is negative, NaN or infinite, or none is above 0.
    """
    observed = {group: row.sessions for group, row in table.rows.items()}
    return sample_ratio_mismatch(observed, weights, threshold=threshold)


def _number(value: float | None, digits: int = 4) -> str:
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:,.{digits}f}"


def _signed(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:+.4f}"


def _p(value: float) -> str:
    if math.isnan(value):
        return "-"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def format_table(
    table: KpiTable,
    control: str | None = None,
    *,
    weights: Mapping[str, float] | None = None,
    confidence: float = 0.95,
) -> str:
    """A plain-text KPI table, with comparisons and an SRM check when a control is named.

    Args:
        table: The table to print.
        control: The control group; ``None`` prints the KPIs only, and so does a name
            that is no group of the table (with a note saying so).
        weights: Expected split for the SRM check (equal when ``None``).
        confidence: Confidence level of the intervals.

    Returns:
        Lines of text, columns aligned, ending without a newline.

    Raises:
        ValueError: ``weights`` that are no split (see :func:`srm`).
    """
    groups = list(table.rows)
    lines: list[list[str]] = [[table.key, *groups]]
    lines.append(["sessions", *(str(table.rows[g].sessions) for g in groups)])
    for metric, label in METRICS.items():
        digits = 1 if metric == "average_time_on_site" else 4
        if metric == "revenue_per_session":
            digits = 2
        lines.append([label, *(_number(getattr(table.rows[g], metric), digits) for g in groups)])
    lines.append(["revenue", *(_number(table.rows[g].revenue, 2) for g in groups)])
    out = _align(lines)
    if control is not None and control in table.rows and len(groups) > 1:
        level = f"{confidence * 100:g}% CI"
        by_group: dict[str, list[Comparison]] = {}
        for c in compare(table, control, confidence=confidence):
            by_group.setdefault(c.variant, []).append(c)
        for group in groups:
            if group == control:
                continue
            rows = [[f"{group} vs {control}", "difference", level, "p-value", "test"]]
            for c in by_group[group]:
                r = c.result
                interval = f"[{_signed(r.ci_low)}, {_signed(r.ci_high)}]"
                rows.append([c.label, _signed(r.difference), interval, _p(r.p_value), c.test])
            out += "\n\n" + _align(rows)
        check = srm(table, weights)
        verdict = "MISMATCH" if check.mismatch else "ok"
        out += (
            f"\n\nsample ratio: chi2 = {check.chi_square:.2f} on {check.dof} dof,"
            f" p = {_p(check.p_value)} ({verdict})"
        )
    notes = list(table.notes)
    if control is not None and control not in table.rows:
        # compare() would raise KeyError; a report says so and prints what it can.
        known = ", ".join(groups) or "no groups"
        notes.insert(0, f"control {control!r} is not a group of the table ({known})")
    for note in notes:
        out += f"\nnote: {note}"
    return out


def _align(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    text = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        text.append("  ".join(cells).rstrip())
    return "\n".join(text)
