"""Report plots (PNG), drawn with matplotlib from the optional ``plots`` extra.

matplotlib is imported only when a plot is drawn; without it :func:`load_pyplot` raises
:class:`ImportError` with the install hint, and the report says the plots were skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from personalize.metrics import METRICS, KpiTable, SessionKpis

__all__ = ["INSTALL_HINT", "arm_interval", "load_pyplot", "plot_daily_revenue", "plot_kpis"]

#: What to run to get the plots.
INSTALL_HINT = "pip install 'personalize[plots]'  (or: pip install matplotlib)"

_Z95 = 1.959963984540054

# metric -> (per-session value, the sessions it is measured over)
_VALUES: dict[str, tuple[Callable[[SessionKpis], float], Callable[[SessionKpis], bool]]] = {
    "page_views_per_session": (lambda s: float(s.page_views), lambda s: True),
    "add_to_cart_rate": (lambda s: float(s.added_to_cart), lambda s: True),
    "cart_abandonment_rate": (lambda s: float(s.abandoned), lambda s: s.added_to_cart),
    "conversion_rate": (lambda s: float(s.converted), lambda s: True),
    "revenue_per_session": (lambda s: s.revenue, lambda s: True),
    "average_time_on_site": (lambda s: s.duration, lambda s: True),
}


def load_pyplot() -> Any:
    """Import ``matplotlib.pyplot`` on the file-only Agg backend.

    Raises:
        ImportError: matplotlib is not installed; the message says how to install it.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(f"plots need matplotlib: {INSTALL_HINT}") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def arm_interval(metric: str, sessions: Sequence[SessionKpis]) -> tuple[float, float]:
    """A metric's estimate in one arm and the half-width of its 95% normal interval."""
    value, counted = _VALUES[metric]
    xs = [value(s) for s in sessions if counted(s)]
    n = len(xs)
    if n == 0:
        return math.nan, 0.0
    mean = sum(xs) / n
    if n < 2:
        return mean, 0.0
    var = sum((x - mean) ** 2 for x in xs) / (n - 1)
    return mean, _Z95 * math.sqrt(var / n)


def plot_kpis(table: KpiTable, path: Path) -> Path:
    """Bars of every KPI per arm, with 95% confidence whiskers, to ``path`` (PNG)."""
    plt = load_pyplot()
    groups = list(table.sessions)
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    colors = ["#8c8c8c", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
    for ax, (metric, label) in zip(axes.flat, METRICS.items(), strict=True):
        stats = [arm_interval(metric, table.sessions[g]) for g in groups]
        ax.bar(
            range(len(groups)),
            [m for m, _ in stats],
            yerr=[h for _, h in stats],
            capsize=6,
            color=[colors[i % len(colors)] for i in range(len(groups))],
        )
        ax.set_xticks(range(len(groups)), groups)
        ax.set_title(label)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("KPIs per arm (95% confidence intervals)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def daily_revenue(table: KpiTable, start: date) -> dict[str, dict[int, tuple[float, int]]]:
    """Arm to day (0-based, by session start in UTC) to (revenue, sessions)."""
    out: dict[str, dict[int, tuple[float, int]]] = {}
    for group, sessions in table.sessions.items():
        days: dict[int, tuple[float, int]] = {}
        for s in sessions:
            day = (s.started_at.date() - start).days
            revenue, count = days.get(day, (0.0, 0))
            days[day] = (revenue + s.revenue, count + 1)
        out[group] = days
    return out


def plot_daily_revenue(
    table: KpiTable, start: date, path: Path, *, days: int | None = None
) -> Path:
    """Revenue per session, day by day, one line per arm, to ``path`` (PNG)."""
    plt = load_pyplot()
    per_day: Mapping[str, dict[int, tuple[float, int]]] = daily_revenue(table, start)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for group, by_day in per_day.items():
        xs = sorted(d for d in by_day if days is None or 0 <= d < days)
        ax.plot(
            xs, [by_day[d][0] / by_day[d][1] for d in xs], marker="o", markersize=3, label=group
        )
    ax.set_xlabel(f"day (from {start.isoformat()})")
    ax.set_ylabel("revenue / session")
    ax.set_title("Daily revenue per session, by arm")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
