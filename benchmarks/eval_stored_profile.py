"""Ranking quality when the history comes from a store, against the same events passed in.

A store keeps a customer's summary (purchase counts, last purchase times, ...) and not the
time of every order, so the ``personal`` and ``neighbours`` sources fall back from the
decayed frequency over every order to ``orders x decay(latest purchase)``
(``docs/ranking.md``). This measures what that costs on the retail log: each of the last
``--months`` months is the test month (protocol of ``personalize evaluate``, default
configuration, both modes), once with ``History(events=...)`` and once with the history a
:class:`~personalize.store.MemoryStore` gives after it recorded the same train events
(``store.history(customer, events=False)``, what a decision reads).

Run::

    python benchmarks/eval_stored_profile.py --months 3
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from personalize.evaluation import MODES, Purchases, score_lists
from personalize.evaluation._compare import last_months
from personalize.evaluation._read import catalog_from_events, read_log
from personalize.evaluation._run import Prepared, prepare, prepared_lists
from personalize.store import MemoryStore

#: The retail log of the shared data beside the repository (``PERSONALIZE_SHARED_DATA``
#: points elsewhere).
LOG = (
    Path(
        os.environ.get("PERSONALIZE_SHARED_DATA")
        or Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    / "retail"
    / "online_retail.csv.gz"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=LOG)
    parser.add_argument("--months", type=int, default=3)
    args = parser.parse_args()
    events = read_log(args.log)
    purchases = Purchases.from_events(events)
    catalog = catalog_from_events(events)
    print("| month | mode | customers | NDCG@10 events | NDCG@10 store | store / events |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    means: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    for split in last_months(purchases, args.months):
        prepared = prepare(purchases, split, catalog=catalog)
        store = MemoryStore()
        for history in prepared.histories.values():
            store.append(history)
        for mode in MODES:
            cases = split.cases(mode)
            customers = [c for c, _ in cases]
            given = score_lists(prepared_lists(prepared, mode, customers, 10), cases, 10)
            # The same split, index and customers; the histories read from the store.
            stored = Prepared(
                split,
                catalog,
                prepared.index,
                prepared.histories,
                prepared.positions,
                prepared.train,
            )
            for cust in customers:
                events_of = prepared.histories.get(cust, [])
                cid = str(events_of[0].customer_id) if events_of else None
                stored._history[cust] = store.history(cid, now=split.cutoff, events=False)
            read = score_lists(prepared_lists(stored, mode, customers, 10), cases, 10)
            a, b = float(given.ndcg().mean()), float(read.ndcg().mean())
            means[mode].append((a, b))
            print(
                f"| {split.label} | {mode} | {len(cases)} | {a:.4f} | {b:.4f} | {b / a - 1:+.1%} |"
            )
    for mode, rows in means.items():
        a = statistics.fmean(x for x, _ in rows)
        b = statistics.fmean(y for _, y in rows)
        print(f"| mean | {mode} | | {a:.4f} | {b:.4f} | {b / a - 1:+.1%} |")


if __name__ == "__main__":
    main()
