"""``report.md``: the personalized arm(s) against the non-personalized control.

The KPI table comes from :mod:`personalize.metrics` (``kpis_by(events, "variant")``,
:func:`~personalize.metrics.compare`, :func:`~personalize.metrics.srm`); the configuration's
own experiments get a table each, restricted to the personalized arm.
"""

from __future__ import annotations

import math
from pathlib import Path

from personalize._atomic import atomic_text
from personalize._models import Event
from personalize.journeys._arms import ARM_EXPERIMENT, CONTROL, PERSONALIZED
from personalize.journeys._plots import INSTALL_HINT, plot_daily_revenue, plot_kpis
from personalize.journeys._records import SimulationSummary
from personalize.metrics import (
    KpiTable,
    compare,
    format_table,
    iter_events,
    kpis_by,
    sample_ratio_mismatch,
)

__all__ = ["CAVEAT", "kpi_markdown", "write_report"]

#: What a simulated lift is and is not evidence of.
CAVEAT = (
    "A simulated lift checks the plumbing and the direction of the configuration's effect "
    "on a synthetic population whose responses were written down in advance "
    "(see docs/journeys.md). It is no evidence of real-world lift: measure that with a "
    "split test on real traffic."
)

_DIGITS = {"revenue_per_session": 2, "average_time_on_site": 1, "page_views_per_session": 3}


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}"


def _p(value: float) -> str:
    if math.isnan(value):
        return "-"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def kpi_markdown(table: KpiTable, control: str) -> list[str]:
    """A Markdown table: every KPI per group, the difference with its 95% CI and p-value."""
    lines = []
    for comp in compare(table, control):
        r = comp.result
        digits = _DIGITS.get(comp.metric, 4)
        lift = "" if math.isnan(r.relative_lift) else f" ({r.relative_lift:+.1%})"
        lines.append(
            f"| {comp.label} | {_fmt(r.control, digits)} | {_fmt(r.treatment, digits)} "
            f"| {r.difference:+.{digits}f}{lift} "
            f"| [{r.ci_low:+.{digits}f}, {r.ci_high:+.{digits}f}] | {_p(r.p_value)} |"
        )
    variants = [g for g in table.groups if g != control]
    head = f"| KPI | {control} | {' / '.join(variants)} | difference | 95% CI | p-value |"
    return [head, "|---|---:|---:|---:|---|---:|", *lines]


def _runtime(summary: SimulationSummary) -> list[str]:
    calls = summary.personalizer_calls
    per_call = summary.personalizer_seconds / calls * 1000 if calls else 0.0
    return [
        f"- shoppers: {summary.shoppers:,}; sessions: {summary.sessions:,}; "
        f"events: {summary.events:,}",
        f"- days: {summary.days} from {summary.start.isoformat()}; seed: {summary.seed}",
        "- sessions per arm: "
        + ", ".join(f"{arm} {n:,}" for arm, n in summary.arms.items())
        + " (expected split "
        + ", ".join(f"{arm} {share:.0%}" for arm, share in summary.shares.items())
        + ")",
        f"- wall time: {summary.seconds:.1f} s ({summary.sessions_per_second:,.0f} sessions/s);"
        f" inside the Personalizer: {summary.personalizer_seconds:.1f} s"
        f" ({summary.personalizer_share:.0%}), {calls:,} calls, {per_call:.2f} ms per call",
    ]


def _experiment_tables(path: Path, summary: SimulationSummary) -> list[str]:
    out: list[str] = []
    for key in summary.experiments:

        def group(event: Event, key: str = key) -> str | None:
            if event.variant != PERSONALIZED:
                return None
            return event.experiments.get(key)

        group.__name__ = f"experiments.{key}"
        table = kpis_by(iter_events(path), group)  # type: ignore[arg-type]
        if len(table.groups) < 2:
            continue
        control = CONTROL if CONTROL in table.rows else table.groups[0]
        out += [
            "",
            f"## Within the personalized arm: experiment `{key}`",
            "",
            f"Sessions of the personalized arm only, by their `{key}` variant, against "
            f"`{control}`.",
            "",
            *kpi_markdown(table, control),
            "",
            "```text",
            format_table(table, control, weights=summary.variant_shares.get(key)),
            "```",
        ]
    return out


def write_report(
    out_dir: str | Path,
    summary: SimulationSummary,
    events_path: str | Path | None = None,
    *,
    plots: bool = True,
    command: str | None = None,
) -> Path:
    """Write ``report.md`` (and, with matplotlib, PNG plots) into ``out_dir``.

    Args:
        out_dir: The run's folder.
        summary: What :meth:`~personalize.journeys.Simulator.run` returned.
        events_path: The event log; ``out_dir/events.jsonl`` by default.
        plots: Draw the plots (skipped, with a note, when matplotlib is missing).
        command: The command line that produced the run, quoted in the report.

    Returns:
        The path of ``report.md``.
    """
    out = Path(out_dir)
    log = Path(events_path) if events_path is not None else out / "events.jsonl"
    table = kpis_by(iter_events(log), "variant")
    lines = ["# Journey simulation report", ""]
    if command:
        lines += ["```sh", command, "```", ""]
    lines += [*_runtime(summary), "", f"> {CAVEAT}", ""]
    lines += ["## Personalized vs control", ""]
    if CONTROL in table.rows and len(table.groups) > 1:
        check = sample_ratio_mismatch(dict(summary.shoppers_per_arm), summary.shares)
        verdict = "**mismatch**" if check.mismatch else "ok"
        lines += [
            *kpi_markdown(table, CONTROL),
            "",
            "Rates: two-proportion z-test; per-session means: Welch's t-test "
            "(definitions in docs/metrics.md).",
            f"Sample ratio check on shoppers, the unit `{ARM_EXPERIMENT}` assigns ("
            + ", ".join(f"{a} {n:,}" for a, n in summary.shoppers_per_arm.items())
            + "; expected "
            + ", ".join(f"{a} {s:.0%}" for a, s in summary.shares.items())
            + f"): chi2 = {check.chi_square:.2f}, p = {_p(check.p_value)}, {verdict}. "
            "The check in the table below counts sessions, which returning shoppers "
            "make over-dispersed: read it as a rough guide.",
            "",
            "```text",
            format_table(table, CONTROL, weights=summary.shares),
            "```",
        ]
    else:
        lines += ["Not enough arms to compare (too few shoppers?).", "", "```text"]
        lines += [format_table(table), "```"]
    lines += _experiment_tables(log, summary)
    lines += ["", "## Plots", ""]
    if not plots:
        lines.append("Plots were not requested.")
    else:
        try:
            kpi_png = plot_kpis(table, out / "kpis.png")
            daily_png = plot_daily_revenue(
                table, summary.start, out / "daily_revenue.png", days=summary.days
            )
        except ImportError:
            lines.append(f"Plots were skipped: matplotlib is not installed ({INSTALL_HINT}).")
        else:
            lines += [
                f"![KPIs per arm, with 95% confidence intervals]({kpi_png.name})",
                "",
                f"![Daily revenue per session, by arm]({daily_png.name})",
            ]
    path = out / "report.md"
    with atomic_text(path) as handle:
        handle.write("\n".join(lines) + "\n")
    return path
