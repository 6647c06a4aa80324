"""One evaluation run: the configuration and the baselines on rolling-origin splits.

For each split and mode the personalizer runs the configuration given; each baseline is tuned
on the month before the split's test period (as ``benchmarks/retail_splits.py`` does) and then
scored on the test period; the configuration's NDCG@k is compared with the best baseline's by
a paired bootstrap over customers.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from personalize._models import Event
from personalize.catalog import Catalog
from personalize.config import load_config
from personalize.evaluation._log import MODES, Purchases, Split, make_split, month_start
from personalize.evaluation._metrics import Scores, paired_bootstrap
from personalize.evaluation._run import build_options, prepare, prepared_lists
from personalize.evaluation.baselines import BASELINES, score_lists, tune

__all__ = [
    "BASELINE_KEYS",
    "OURS",
    "evaluate",
    "last_months",
    "one_cutoff",
    "steps",
    "validation_split",
]

#: Short command-line names of the baselines.
BASELINE_KEYS: Mapping[str, str] = {
    "repeat": "repeat purchase",
    "popular": "recent popularity",
    "tifu": "TIFU-KNN",
    "als": "ALS",
    "bm25": "BM25 item-kNN",
}
#: The configuration's name in the report.
OURS = "personalize"

Step = Callable[[str], None]


def last_months(purchases: Purchases, n: int) -> list[Split]:
    """The splits of the ``n`` last months of the log, oldest first.

    A trailing month that the log covers for less than half (its last event before the 15th)
    is left out. A month is kept only if some purchase precedes it.
    """
    if not len(purchases):
        return []
    first = datetime.fromtimestamp(float(purchases.at[0]), UTC)
    last_event = datetime.fromtimestamp(float(purchases.at[-1]), UTC)
    last = month_start(last_event, 0 if last_event.day >= 15 else -1)
    starts = [month_start(last, -shift) for shift in range(n - 1, -1, -1)]
    return [make_split(purchases, s, month_start(s, 1)) for s in starts if s > first]


def one_cutoff(purchases: Purchases, cutoff: datetime) -> Split:
    """The split with train before ``cutoff`` and test from it to the end of the log."""
    end = datetime.fromtimestamp(float(purchases.at[-1]) + 1, UTC)
    return make_split(purchases, cutoff, max(end, cutoff))


def validation_split(purchases: Purchases, split: Split) -> Split:
    """The month before ``split``'s cutoff, the baselines are tuned on: from the same day and
    time a month earlier (the month's last day when it is shorter) to the cutoff."""
    cutoff = split.cutoff
    months = cutoff.year * 12 + cutoff.month - 2
    year, month = divmod(months, 12)
    day = min(cutoff.day, calendar.monthrange(year, month + 1)[1])
    return make_split(purchases, cutoff.replace(year=year, month=month + 1, day=day), cutoff)


def evaluate(
    purchases: Purchases,
    splits: Sequence[Split],
    *,
    catalog: Catalog,
    config: Mapping[str, Any] | None = None,
    baselines: Sequence[str] = tuple(BASELINES),
    k: int = 10,
    events: Iterable[Event] | None = None,
    step: Step | None = None,
) -> dict[str, Any]:
    """The figures of the configuration and the baselines on every split, in both modes.

    Args:
        purchases: The purchases of the log.
        splits: The splits (see :func:`last_months`, :func:`one_cutoff`).
        catalog: The catalog.
        config: The configuration (``ranking.exclude_purchased`` is set by the mode).
        baselines: Names in :data:`~personalize.evaluation.BASELINES`.
        k: The list length.
        events: The whole log if it holds more than purchases (views feed the index).
        step: Called after every unit of work with its label (for a progress bar).

    Returns:
        ``{"k", "months": {label: {mode: row}}, "mean": {mode: {name: NDCG}}}``; a row holds
        ``customers``, one summary per recommender (``HR@k``, ``Recall@k``, ``NDCG@k``,
        ``coverage``, and the tuned ``params`` of a baseline) and ``vs best`` (the best
        baseline, the mean NDCG difference, its 95% CI and the relative difference); the
        ``mean`` is over the months with customers in that mode.
    """
    log = list(events) if events is not None else None
    n_items = len(purchases.items)
    report: dict[str, Any] = {"k": k, "months": {}, "mean": {}}
    index = load_config({"ranking": (config or {}).get("ranking", {})}).ranking.index
    options = build_options(index.model_dump())
    for split in splits:
        prepared = prepare(purchases, split, catalog=catalog, events=log, index_options=options)
        validation = validation_split(purchases, split)
        for mode in MODES:
            cases = split.cases(mode)
            customers = [c for c, _ in cases]
            ours = score_lists(
                prepared_lists(prepared, mode, customers, k, config=config), cases, k
            )
            row: dict[str, Any] = {"customers": len(cases), OURS: ours.summary(n_items)}
            _notify(step, f"{split.label} {mode} {OURS}")
            best: tuple[str, Scores, float] | None = None
            for name in baselines:
                baseline = BASELINES[name]
                if mode not in baseline.modes:
                    continue
                params, _ = tune(baseline, purchases, validation, mode, k)
                theirs = score_lists(
                    baseline.recommend(purchases, split, mode, customers, k, params), cases, k
                )
                row[name] = {**theirs.summary(n_items), "params": params}
                ndcg = row[name][f"NDCG@{k}"]  # 0 with no customers (no empty-mean warning)
                if best is None or ndcg > best[2]:
                    best = (name, theirs, ndcg)
                _notify(step, f"{split.label} {mode} {name}")
            if best is not None and cases:
                diff, lo, hi = paired_bootstrap(ours.ndcg(), best[1].ndcg())
                mean = best[2]
                row["vs best"] = {
                    "baseline": best[0],
                    "diff": diff,
                    "ci95": [lo, hi],
                    "relative": float(ours.ndcg().mean()) / mean - 1 if mean else 0.0,
                }
            report["months"].setdefault(split.label, {})[mode] = row
    for mode in MODES:
        rows = [m[mode] for m in report["months"].values() if m.get(mode, {}).get("customers")]
        names = [n for n in (OURS, *baselines) if rows and all(n in r for r in rows)]
        report["mean"][mode] = {n: float(np.mean([r[n][f"NDCG@{k}"] for r in rows])) for n in names}
    return report


def steps(splits: Sequence[Split], baselines: Sequence[str]) -> int:
    """How many times :func:`evaluate` calls ``step``."""
    per_mode = {m: 1 + sum(m in BASELINES[b].modes for b in baselines) for m in MODES}
    return len(splits) * sum(per_mode.values())


def _notify(step: Step | None, label: str) -> None:
    if step is not None:
        step(label)
