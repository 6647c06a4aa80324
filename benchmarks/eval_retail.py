"""Offline evaluation of the ranking on the UCI online-retail log (issue 4, item 8).

Protocol (exactly as the issue states it):

* rows with a CustomerID, Quantity > 0, UnitPrice > 0 and an InvoiceNo not starting with "C";
* split: train is InvoiceDate < 2011-11-09, test is the rest (``--split test``); for tuning,
  ``--split validation`` trains on < 2011-10-09 and tests on 2011-10-09 .. 2011-11-09, so the
  test period is never looked at while tuning;
* evaluated: customers with rows on both sides; the index is built from train events only;
  each customer's ``History`` holds their train purchases, ``Request(now=<cutoff>)``, and
  ``Personalizer.personalize`` is asked for 10 products on ``placement="home"``;
* target: the distinct StockCodes the customer bought in the test period;
* metrics: HR@10, Recall@10 = hits / min(|target|, 10), NDCG@10 with binary relevance;
* modes: ``all`` (repurchases count) and ``new`` (the customer's train items are excluded from
  the recommendations with ``exclude_purchased`` and from the target; customers with nothing
  new are dropped).

Baselines computed in the same run: popularity (most orders in train), recent popularity
(most orders in the last 30 days of train), and repeat purchase (the customer's own items by
order count, then recency; "all" mode only).

Run: ``python benchmarks/eval_retail.py --split test`` (add ``--mode all`` / ``--mode new``).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from personalize import Catalog, Event, History, Personalizer, Product, Request
from personalize.context import Context
from personalize.ranking import InteractionIndex

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "retail"
SPLITS = {
    "test": (datetime(2011, 11, 9), None),
    "validation": (datetime(2011, 10, 9), datetime(2011, 11, 9)),
}
K = 10

#: Weights chosen on the validation split (see docs/performance.md, "## Ranking").
TUNED: dict[str, Any] = {
    "weights": {
        "repeat": 1.0,
        "co_purchase": 0.15,
        "popularity": 0.0,
        "trending": 0.3,
        "personal": 5.0,  # the defaults these settings were measured with
    },
    "repurchase_weight": 8.0,
    "repeat_share_weight": 0.0,
    "anchor_half_life_days": 5,
    "repeat_half_life_days": 1000,
    "max_anchors": 30,
    "popular_candidates": 60,
}
#: Index options chosen on the validation split.
TUNED_INDEX: dict[str, Any] = {
    "co_purchase_scope": "order",
    "half_life_days": 30,
    "max_neighbours": 20,
    "trending_half_life_days": 7,
    "trending_rise": None,  # the plain velocity these settings were chosen with
}


@dataclass(frozen=True, slots=True)
class Line:
    invoice: str
    stock: str
    title: str
    quantity: float
    at: datetime
    price: float
    customer: str
    country: str


def read_lines(path: Path) -> list[Line]:
    """The clean purchase lines of the log, in file order."""
    lines = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if not row["CustomerID"] or row["InvoiceNo"].startswith("C"):
                continue
            quantity, price = float(row["Quantity"]), float(row["UnitPrice"])
            if quantity <= 0 or price <= 0:
                continue
            lines.append(
                Line(
                    row["InvoiceNo"],
                    row["StockCode"],
                    row["Description"].strip(),
                    quantity,
                    datetime.fromisoformat(row["InvoiceDate"]),
                    price,
                    row["CustomerID"],
                    row["Country"],
                )
            )
    return lines


def to_event(line: Line) -> Event:
    return Event(
        type="purchase",
        product_id=line.stock,
        at=line.at.replace(tzinfo=UTC),
        quantity=line.quantity,
        price=line.price,
        order_id=line.invoice,
        customer_id=line.customer,
    )


def catalog_of(lines: Iterable[Line]) -> Catalog:
    """Every StockCode of the log as a product with only a title and a price."""
    seen: dict[str, Product] = {}
    for line in lines:
        if line.stock not in seen:
            seen[line.stock] = Product(id=line.stock, title=line.title or None, price=line.price)
    return Catalog(seen.values())


# -- metrics ----------------------------------------------------------------------------


def metrics(recommended: Sequence[str], target: set[str]) -> tuple[float, float, float]:
    """HR@K, Recall@K (hits / min(|target|, K)) and binary NDCG@K."""
    top = list(recommended)[:K]
    hits = [1.0 if pid in target else 0.0 for pid in top]
    dcg = sum(h / math.log2(rank + 2) for rank, h in enumerate(hits))
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(target), K)))
    n_hits = sum(hits)
    return (
        1.0 if n_hits else 0.0,
        n_hits / min(len(target), K),
        dcg / ideal if ideal else 0.0,
    )


class Scores:
    def __init__(self) -> None:
        self.rows: list[tuple[float, float, float]] = []

    def add(self, recommended: Sequence[str], target: set[str]) -> None:
        self.rows.append(metrics(recommended, target))

    def summary(self) -> dict[str, float]:
        n = len(self.rows) or 1
        return {
            "HR@10": sum(r[0] for r in self.rows) / n,
            "Recall@10": sum(r[1] for r in self.rows) / n,
            "NDCG@10": sum(r[2] for r in self.rows) / n,
        }


def top_without(ranked: Sequence[str], excluded: Mapping[str, Any] | set[str]) -> list[str]:
    out = []
    for pid in ranked:
        if pid not in excluded:
            out.append(pid)
            if len(out) == K:
                break
    return out


# -- the run ----------------------------------------------------------------------------


@dataclass
class Split:
    cutoff: datetime
    train: list[Line]
    targets: dict[str, set[str]]
    histories: dict[str, History]
    bought: dict[str, set[str]]


def make_split(lines: list[Line], split: str) -> Split:
    cutoff, end = SPLITS[split]
    train = [line for line in lines if line.at < cutoff]
    test = [line for line in lines if line.at >= cutoff and (end is None or line.at < end)]
    train_events: dict[str, list[Event]] = defaultdict(list)
    bought: dict[str, set[str]] = defaultdict(set)
    for line in train:
        train_events[line.customer].append(to_event(line))
        bought[line.customer].add(line.stock)
    targets: dict[str, set[str]] = defaultdict(set)
    for line in test:
        if line.customer in train_events:
            targets[line.customer].add(line.stock)
    histories = {c: History(events=train_events[c]) for c in sorted(targets)}
    return Split(cutoff, train, dict(targets), histories, dict(bought))


def build_index(split: Split, **options: Any) -> tuple[InteractionIndex, float, int]:
    events = [to_event(line) for line in split.train]
    now = split.cutoff.replace(tzinfo=UTC)
    start = time.perf_counter()  # timed untraced: tracemalloc slows every allocation
    index = InteractionIndex.build(events, now=now, **options)
    seconds = time.perf_counter() - start
    tracemalloc.start()  # a second build, for its traced peak memory only
    InteractionIndex.build(events, now=now, **options)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return index, seconds, peak


def baselines(split: Split) -> dict[str, list[str]]:
    orders: Counter[str] = Counter()
    recent: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    since = split.cutoff - timedelta(days=30)
    for line in split.train:
        if (line.invoice, line.stock) in seen:
            continue
        seen.add((line.invoice, line.stock))
        orders[line.stock] += 1
        if line.at >= since:
            recent[line.stock] += 1
    return {"popularity": _by_count(orders), "recent popularity": _by_count(recent)}


def _by_count(counts: Counter[str]) -> list[str]:
    return sorted(counts, key=lambda pid: (-counts[pid], pid))


def repeat_baseline(context: Context) -> list[str]:
    h = context.history
    return sorted(
        h.purchase_counts,
        key=lambda pid: (-h.purchase_counts[pid], -h.last_purchased[pid].timestamp(), pid),
    )[:K]


def evaluate(
    split: Split,
    index: InteractionIndex,
    catalog: Catalog,
    mode: str,
    config: dict[str, Any],
) -> tuple[dict[str, dict[str, float]], list[float], int]:
    """Score every evaluated customer through ``Personalizer.personalize``, as a shop would."""
    ranking = {**config, "exclude_purchased": mode == "new"}
    personalizer = Personalizer(
        {"ranking": ranking}, catalog=catalog, interactions=index, autoload_plugins=False
    )
    request = Request(now=split.cutoff.replace(tzinfo=UTC))
    base = baselines(split)
    scores = {name: Scores() for name in ("personalize", *base, "repeat purchase")}
    timings: list[float] = []
    for customer, target in split.targets.items():
        bought = split.bought[customer]
        if mode == "new":
            target = target - bought
            if not target:
                continue
        start = time.perf_counter()
        result = personalizer.personalize(
            request, split.histories[customer], placement="home", limit=K
        )
        timings.append(time.perf_counter() - start)
        assert not result.degraded, result.trace.errors
        scores["personalize"].add([r.product_id for r in result.products], target)
        for name, ranked in base.items():
            scores[name].add(top_without(ranked, bought if mode == "new" else set()), target)
        if mode == "all":
            scores["repeat purchase"].add(repeat_baseline(result.context), target)
    n = len(scores["personalize"].rows)
    summary = {name: s.summary() for name, s in scores.items() if s.rows}
    return summary, timings, n


def tune(lines: list[Line], catalog: Catalog, grid: Mapping[str, Any]) -> None:
    """Coordinate search over ``grid`` on the validation split only, printing every step."""
    split = make_split(lines, "validation")
    indexes: dict[str, InteractionIndex] = {}
    best: dict[str, Any] = json.loads(json.dumps(grid["start"]))

    def score(candidate: Mapping[str, Any]) -> tuple[float, float]:
        key = json.dumps(candidate.get("index", {}), sort_keys=True)
        if key not in indexes:
            indexes[key] = build_index(split, **candidate.get("index", {}))[0]
        config = {k: v for k, v in candidate.items() if k != "index"}
        figures = []
        for mode in ("all", "new"):
            summary = evaluate(split, indexes[key], catalog, mode, config)[0]
            figures.append(summary["personalize"]["NDCG@10"])
        return figures[0], figures[1]

    best_all, best_new = score(best)
    print(f"start {best_all:.4f} {best_new:.4f} {json.dumps(best)}", flush=True)
    for _round in range(grid.get("rounds", 1)):
        for path, values in grid["axes"].items():
            for value in values:
                candidate = json.loads(json.dumps(best))
                node = candidate
                *parents, leaf = path.split(".")
                for part in parents:
                    node = node.setdefault(part, {})
                node[leaf] = value
                got_all, got_new = score(candidate)
                objective = got_all + 3 * got_new
                improved = objective > best_all + 3 * best_new + 1e-6
                print(
                    f"{path}={value}: all {got_all:.4f} new {got_new:.4f}"
                    + (" *" if improved else ""),
                    flush=True,
                )
                if improved:
                    best, best_all, best_new = candidate, got_all, got_new
    print(f"best {best_all:.4f} {best_new:.4f} {json.dumps(best)}")


def build_only(path: Path) -> int:
    """Index build time and memory over the whole clean log (about 400k lines)."""
    import resource

    lines = read_lines(path)
    events = [to_event(line) for line in lines]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    catalog = catalog_of(lines)
    times = []
    for _ in range(3):  # timed untraced: tracemalloc slows every allocation
        start = time.perf_counter()
        index = InteractionIndex.build(events, catalog=catalog, **TUNED_INDEX)
        times.append(time.perf_counter() - start)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()  # one more build, for its traced peak memory only
    InteractionIndex.build(events, catalog=catalog, **TUNED_INDEX)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"lines: {len(events)}, products: {len(index)}, options: {TUNED_INDEX}")
    print(f"build seconds (3 untraced runs): {', '.join(f'{t:.2f}' for t in times)}")
    print(f"build peak traced memory (a fourth, traced build): {peak / 2**20:.0f} MiB")
    print(f"process max RSS: {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} after")
    print(f"index arrays: {index.nbytes / 2**20:.2f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "index.json.gz"
        start = time.perf_counter()
        index.save(saved)
        save_s = time.perf_counter() - start
        start = time.perf_counter()
        InteractionIndex.load(saved)
        load_s = time.perf_counter() - start
        size = saved.stat().st_size
    print(f"save {save_s:.2f} s, load {load_s:.2f} s, file {size / 2**20:.2f} MiB")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=sorted(SPLITS), default="test")
    parser.add_argument("--mode", choices=["all", "new", "both"], default="both")
    parser.add_argument("--config", help="JSON RankingConfig fields (default: the tuned ones)")
    parser.add_argument("--index", help="JSON InteractionIndex.build options")
    parser.add_argument("--data", default=str(DATA / "online_retail.csv.gz"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--tune",
        metavar="GRID_JSON",
        help="coordinate search on the validation split: {start, axes: {path: [values]}}",
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build the index from every clean line of the log and report time and memory",
    )
    args = parser.parse_args(argv)
    if args.build_only:
        return build_only(Path(args.data))
    if args.tune:
        lines = read_lines(Path(args.data))
        tune(lines, catalog_of(lines), json.loads(Path(args.tune).read_text()))
        return 0

    start = time.perf_counter()
    lines = read_lines(Path(args.data))
    catalog = catalog_of(lines)
    split = make_split(lines, args.split)
    read_s = time.perf_counter() - start
    index_options = json.loads(args.index) if args.index else TUNED_INDEX
    index, build_s, peak = build_index(split, **index_options)
    config = json.loads(args.config) if args.config else TUNED
    report: dict[str, Any] = {
        "split": args.split,
        "cutoff": split.cutoff.isoformat(),
        "train_lines": len(split.train),
        "read_seconds": round(read_s, 2),
        "index_build_seconds": round(build_s, 2),
        "index_build_peak_mb": round(peak / 2**20, 1),
        "index_arrays_mb": round(index.nbytes / 2**20, 2),
        "decisions": "Personalizer.personalize (context + ranking), one thread",
        "config": config,
        "index_options": index_options,
    }
    modes = ["all", "new"] if args.mode == "both" else [args.mode]
    for mode in modes:
        summary, timings, n = evaluate(split, index, catalog, mode, config)
        report[mode] = {
            "customers": n,
            "ms_per_decision_median": round(statistics.median(timings) * 1000, 3),
            "ms_per_decision_p99": round(sorted(timings)[int(0.99 * (len(timings) - 1))] * 1000, 3),
            "figures": {k: {m: round(v, 4) for m, v in s.items()} for k, s in summary.items()},
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for key, value in report.items():
        if key in modes:
            continue
        print(f"{key}: {value}")
    for mode in modes:
        r = report[mode]
        median, p99 = r["ms_per_decision_median"], r["ms_per_decision_p99"]
        print(f"\nmode {mode}: {r['customers']} customers, {median} ms per decision, p99 {p99} ms")
        print(f"  {'':20} {'HR@10':>7} {'Recall@10':>10} {'NDCG@10':>8}")
        for name, figs in r["figures"].items():
            hr, recall, ndcg = figs["HR@10"], figs["Recall@10"], figs["NDCG@10"]
            print(f"  {name:20} {hr:7.4f} {recall:10.4f} {ndcg:8.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
