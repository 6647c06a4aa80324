"""Garbage-collector pauses with a large catalog loaded, with and without ``gc.freeze()``.

A store of N products (the synthetic store of ``bench_personalize.py``) is loaded once. Then,
for each mode -- ``Personalizer(..., freeze_gc=False)`` and ``freeze_gc=True`` (the default)
-- it measures:

* the thread-CPU (and wall) time of one full ``gc.collect()`` (median of 3);
* the thread-CPU latency of one app request over a run: the app's own work (it allocates
  ``--churn`` small lists that live for 20 requests, a rotating cache) plus one
  ``personalize()`` call. Full (generation 2) collections trigger by themselves, inside
  whichever request is running, as in a real server. Reported: p50, p99, p99.9, max, and
  how many full collections ran.

CPython starts a full collection once the objects promoted since the last one exceed 25 % of
the long-lived heap, so without freezing, a big catalog makes full collections rarer and
each one longer; frozen objects are not traversed at all.

Run::

    python benchmarks/bench_gc.py                        # 1M products, 2,000 calls
    python benchmarks/bench_gc.py --products 100000 --calls 1000
"""

from __future__ import annotations

import argparse
import gc
import inspect
import random
import statistics
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_personalize import (
    make_config,
    make_interactions,
    make_products,
    make_requests,
    percentile,
)

from personalize import Catalog, Personalizer
from personalize.ranking import InteractionIndex


class FullCollections:
    """Counts generation-2 collections and their total wall time (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.count += 1
            self.seconds += time.perf_counter() - self._started


def collect_ms() -> tuple[float, float]:
    """Median thread-CPU and wall milliseconds of three full collections."""
    cpu, wall = [], []
    for _ in range(3):
        t, w = time.thread_time_ns(), time.perf_counter_ns()
        gc.collect()
        cpu.append((time.thread_time_ns() - t) / 1e6)
        wall.append((time.perf_counter_ns() - w) / 1e6)
    return statistics.median(cpu), statistics.median(wall)


def serve(p: Personalizer, requests: list[Any], calls: int, churn: int) -> dict[str, float]:
    """Thread-CPU latencies of ``calls`` app requests: ``churn`` allocations + personalize()."""
    cache: deque[list[list[int]]] = deque(maxlen=20)
    full = FullCollections()
    gc.callbacks.append(full)
    timings = []
    try:
        for i in range(calls):
            request, history = requests[i % len(requests)]
            t = time.thread_time_ns()
            cache.append([[i] for _ in range(churn)])  # the app's own work: lives 20 calls
            p.personalize(request, history, limit=10)
            timings.append((time.thread_time_ns() - t) / 1e6)
    finally:
        gc.callbacks.remove(full)
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p99": percentile(timings, 0.99),
        "p999": percentile(timings, 0.999),
        "max": timings[-1],
        "full": full.count,
        "full_s": full.seconds,
    }


def personalizer(
    config: dict[str, Any], catalog: Catalog, index: InteractionIndex, freeze: bool
) -> Personalizer:
    """A Personalizer; on a version without ``freeze_gc``, freezes by hand when asked."""
    if "freeze_gc" in inspect.signature(Personalizer).parameters:
        return Personalizer(config, catalog=catalog, interactions=index, freeze_gc=freeze)
    p = Personalizer(config, catalog=catalog, interactions=index)
    if freeze:
        gc.freeze()
    return p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--churn", type=int, default=20_000, help="lists allocated per call")
    args = parser.parse_args()

    rng = random.Random(args.products)
    t0 = time.perf_counter()
    catalog = Catalog(make_products(args.products, rng))
    index = InteractionIndex.build(make_interactions(args.products, rng), catalog=catalog)
    config = make_config(rng)
    requests = make_requests(args.products, rng, count=200)
    print(f"{args.products:,} products loaded in {time.perf_counter() - t0:.1f} s")

    for freeze in (False, True):
        p = personalizer(config, catalog, index, freeze)
        for request, history in requests[:50]:  # warm-up: caches, lazy imports
            p.personalize(request, history, limit=10)
        tracked = len(gc.get_objects())
        collect_cpu, collect_wall = collect_ms()
        run = serve(p, requests, args.calls, args.churn)
        print(
            f"freeze_gc={freeze!s:5}  tracked objects {tracked:>10,}  "
            f"gc.collect() {collect_cpu:.1f} ms CPU, {collect_wall:.1f} ms wall  |  request ms: "
            f"p50 {run['p50']:.3f}  p99 {run['p99']:.3f}  p99.9 {run['p999']:.1f}  "
            f"max {run['max']:.1f}  |  {run['full']:.0f} full collections, "
            f"{run['full_s']:.1f} s wall"
        )
        del p
        gc.unfreeze()


if __name__ == "__main__":
    main()
