"""Rolling-origin monthly evaluation on the UCI online-retail log, baselines included.

For each test month (default 2011-06 .. 2011-11) train is everything before it; the
protocol is ``eval_retail.py``'s (see ``personalize.evaluation``). Each baseline is tuned on
the month before the test month only; the personalizer runs with the configuration given
(default: the untuned default configuration).

Run: ``python benchmarks/retail_splits.py`` (``--months 2011-09,2011-10``, ``--mode new``,
``--config '{"ranking": {...}}'``, ``--index '{...}'``, ``--sample 400``, ``--cache FILE``
to reuse baseline lists between runs, ``--json FILE``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_retail import DATA, catalog_of, read_lines, to_event

from personalize.evaluation import (
    BASELINES,
    MODES,
    Purchases,
    make_split,
    month_start,
    monthly_splits,
    paired_bootstrap,
    personalizer_lists,
    score_lists,
    tune,
)

K = 10
#: The baselines the default must beat, per mode.
TARGETS = {
    "all": ("TIFU-KNN", "repeat purchase"),
    "new": ("ALS", "BM25 item-kNN", "recent popularity"),
}
MONTHS = ("2011-06", "2011-07", "2011-08", "2011-09", "2011-10", "2011-11")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", default=",".join(MONTHS))
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--config", default="{}", help="JSON configuration for the personalizer")
    parser.add_argument("--index", default="{}", help="JSON InteractionIndex.build options")
    parser.add_argument("--sample", type=int, default=0, help="evaluate every n-th customer only")
    parser.add_argument("--cache", help="JSON file keeping the baselines' lists between runs")
    parser.add_argument("--baselines", default=",".join(BASELINES))
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--data", default=str(DATA / "online_retail.csv.gz"))
    args = parser.parse_args(argv)

    lines = read_lines(Path(args.data))
    catalog = catalog_of(lines)
    purchases = Purchases.from_events(to_event(line) for line in lines)
    config, index_options = json.loads(args.config), json.loads(args.index)
    modes = list(MODES) if args.mode == "both" else [args.mode]
    cache: dict[str, Any] = {}
    if args.cache and Path(args.cache).exists():
        cache = json.loads(Path(args.cache).read_text())
    report: dict[str, Any] = {"config": config, "index": index_options, "months": {}}
    names = args.baselines.split(",") if args.baselines else []
    for split in monthly_splits(purchases, args.months.split(",")):
        validation = make_split(purchases, month_start(split.cutoff, -1), split.cutoff)
        for mode in modes:
            cases = split.cases(mode)
            if args.sample > 1:
                cases = cases[:: args.sample]
            customers = [c for c, _ in cases]
            start = time.perf_counter()
            mine = personalizer_lists(
                purchases,
                split,
                mode,
                customers,
                K,
                catalog=catalog,
                config=config,
                index_options=index_options,
            )
            seconds = time.perf_counter() - start
            ours = score_lists(mine, cases, K)
            row: dict[str, Any] = {
                "customers": len(cases),
                "seconds": round(seconds, 1),
                "personalize": ours.summary(len(purchases.items)),
            }
            best_name, best_ndcg = None, -1.0
            for name in names:
                baseline = BASELINES[name]
                if mode not in baseline.modes:
                    continue
                key = f"{split.label}/{mode}/{name}/{args.sample}"
                if key not in cache:
                    params, _ = tune(baseline, purchases, validation, mode, K)
                    every = [c for c, _ in split.cases(mode)]
                    lists = baseline.recommend(purchases, split, mode, every, K, params)
                    cache[key] = {"params": params, "lists": {str(c): lists[c] for c in customers}}
                lists = {int(c): v for c, v in cache[key]["lists"].items()}
                theirs = score_lists(lists, cases, K)
                summary = theirs.summary(len(purchases.items))
                summary["params"] = cache[key]["params"]
                row[name] = summary
                if name in TARGETS[mode] and summary[f"NDCG@{K}"] > best_ndcg:
                    best_name, best_ndcg = name, summary[f"NDCG@{K}"]
                    best_scores = theirs
            if best_name is not None:
                diff, lo, hi = paired_bootstrap(ours.ndcg(), best_scores.ndcg())
                row["vs best"] = {
                    "baseline": best_name,
                    "diff": diff,
                    "ci95": [lo, hi],
                    "relative": ours.ndcg().mean() / best_ndcg - 1,
                }
            report["months"].setdefault(split.label, {})[mode] = row
            _print_row(split.label, mode, row)
    if args.cache:
        Path(args.cache).write_text(json.dumps(cache))
    for mode in modes:
        _print_average(report, mode)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=float))
    return 0


def _print_row(label: str, mode: str, row: dict[str, Any]) -> None:
    parts = [f"{label} {mode:3} n={row['customers']:4} ({row['seconds']:.0f} s)"]
    for name, figures in row.items():
        if isinstance(figures, dict) and f"NDCG@{K}" in figures:
            parts.append(f"{name} {figures[f'NDCG@{K}']:.4f}/{figures[f'HR@{K}']:.3f}")
    if "vs best" in row:
        vs = row["vs best"]
        parts.append(
            f"vs {vs['baseline']}: {vs['relative']:+.1%}"
            f" CI [{vs['ci95'][0]:+.4f}, {vs['ci95'][1]:+.4f}]"
        )
    print(" | ".join(parts), flush=True)


def _print_average(report: dict[str, Any], mode: str) -> None:
    rows = [m[mode] for m in report["months"].values() if mode in m]
    names = [n for n, f in rows[0].items() if isinstance(f, dict) and f"NDCG@{K}" in f]
    means = {n: float(np.mean([r[n][f"NDCG@{K}"] for r in rows])) for n in names}
    print(f"mean {mode}: " + " | ".join(f"{n} {v:.4f}" for n, v in means.items()))


if __name__ == "__main__":
    sys.exit(main())
