"""Thread-CPU of the metrics module on hostile inputs that used to cost quadratic time.

* ``attribution_by`` on one visitor who clicks and buys one product 20,000 times each;
* ``format_table`` with a control, over 40 groups of 20 sessions;
* ``kpis_by`` on the UCI Online Retail log (541,909 purchase lines as mappings, shared data),
  with ``--retail``: what reading ids as text and summing revenue with ``fsum`` cost.

Run: ``python benchmarks/bench_metrics.py`` (this tree), or with ``PYTHONPATH`` set to an
export of an earlier commit (``git archive <commit> personalize | tar -x -C /tmp/base``)
to measure that code. Each figure is the median of ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import statistics
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
    args = parser.parse_args()
    if args.retail:
        _retail(args.rounds)
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


def _retail(rounds: int) -> None:
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
    spent = _cpu_ms(lambda: kpis_by(events), rounds)
    print(f"kpis_by, {len(events):,} retail purchase lines: {spent:,.0f} ms thread-CPU")


if __name__ == "__main__":
    main()
