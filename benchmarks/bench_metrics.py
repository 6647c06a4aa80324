"""Thread-CPU of the metrics module on hostile inputs that used to cost quadratic time.

* ``attribution_by`` on one visitor who clicks and buys one product 20,000 times each;
* ``format_table`` with a control, over 40 groups of 20 sessions;
* ``kpis_by`` on the UCI Online Retail log (541,909 purchase lines as mappings, shared data),
  with ``--retail``: what reading ids as text and summing revenue with ``fsum`` cost
  (``--base <export of an earlier commit>`` times that code too, in the same process).

Run: ``python benchmarks/bench_metrics.py`` (this tree), or with ``PYTHONPATH`` set to an
export of an earlier commit (``git archive <commit> personalize | tar -x -C /tmp/base``)
to measure that code. Each figure is the median of ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from personalize import Event
from personalize.metrics import attribution_by, format_table, kpis_by

T0 = datetime(2026, 11, 2, tzinfo=UTC)
RETAIL = "/work/shared/data/retail/online_retail.csv.gz"


def _cpu_ms(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.thread_time_ns()
        run()
        times.append((time.thread_time_ns() - start) / 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clicks", type=int, default=20_000)
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--retail", action="store_true", help="only kpis_by on the retail log")
    parser.add_argument(
        "--base", help="with --retail: also time the personalize package under this directory"
    )
    args = parser.parse_args()
    if args.retail:
        _retail(args.rounds, args.base)
        return
    n = args.clicks
    shown = Event(
        type="impression", customer_id="c", product_id="p", decision_id="d", variant="A", at=T0
    )
    log = [shown]
    log += [
        Event(type=kind, customer_id="c", product_id="p", decision_id="d", price=1.0, at=at)
        for i in range(n)
        for kind, at in (
            ("click", T0 + timedelta(minutes=i)),
            ("purchase", T0 + timedelta(minutes=i, seconds=30)),
        )
    ]
    events = [
        Event(
            type=kind,
            session_id=f"{g}-{s}",
            variant=f"v{g:02d}",
            price=float(s % 3),
            at=T0 + timedelta(seconds=s),
        )
        for g in range(args.groups)
        for s in range(20)
        for kind in ("page_view", "purchase")
    ]
    table = kpis_by(events)
    attribution = _cpu_ms(lambda: attribution_by(log), args.rounds)
    print(f"attribution_by, {n:,} clicks + {n:,} purchases: {attribution:,.0f} ms thread-CPU")
    printed = _cpu_ms(lambda: format_table(table, "v00"), args.rounds)
    print(f"format_table, {args.groups} groups: {printed:,.0f} ms thread-CPU")


def _retail(rounds: int, base: str | None) -> None:
    with gzip.open(RETAIL, "rt", newline="") as handle:
        lines = list(csv.DictReader(handle))
    # Text ids, so that code from before ids were read as text (int ids raised) runs too.
    events = [
        {
            "type": "purchase",
            "at": row["InvoiceDate"],
            "session_id": row["CustomerID"] or None,
            "order_id": row["InvoiceNo"],
            "price": float(row["UnitPrice"]),
            "quantity": int(row["Quantity"]),
            "product_id": row["StockCode"],
            "variant": "a" if int(row["CustomerID"] or 0) % 2 else "b",
        }
        for row in lines
    ]
    if base is None:
        spent = _cpu_ms(lambda: kpis_by(events), rounds)
        print(f"kpis_by, {len(events):,} retail purchase lines: {spent:,.0f} ms thread-CPU")
        return
    # Both versions in one process, rounds interleaved: the better-controlled ratio.
    versions = {"this tree": kpis_by, "base": _load_kpis_by(base)}
    times: dict[str, list[float]] = {name: [] for name in versions}
    for _ in range(rounds):
        for name, run in versions.items():
            times[name].append(_cpu_ms(lambda run=run: run(events), 1))
    for name, spent_ms in times.items():
        print(
            f"kpis_by, {len(events):,} retail purchase lines, {name}: median"
            f" {statistics.median(spent_ms):,.0f} ms, min {min(spent_ms):,.0f} ms thread-CPU"
        )


def _load_kpis_by(directory: str) -> Callable[..., object]:
    """``kpis_by`` of the ``personalize`` package under ``directory``, imported afresh."""
    saved = {
        name: sys.modules.pop(name) for name in list(sys.modules) if name.startswith("personalize")
    }
    sys.path.insert(0, directory)
    try:
        function: Callable[..., object] = importlib.import_module("personalize.metrics").kpis_by
    finally:
        sys.path.remove(directory)
        for name in [n for n in sys.modules if n.startswith("personalize")]:
            del sys.modules[name]
        sys.modules.update(saved)
    return function


if __name__ == "__main__":
    main()
