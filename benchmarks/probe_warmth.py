"""What a stage costs inside the whole decision, against the same stage timed in a loop.

A probe of where the realistic call's time goes, kept so its figures can be checked. It
builds the store of ``bench_realistic.py`` and, request by request, times the context
resolver (user agent, geo, local time, the history's summary) on request ``i`` right
after one of three things was done with request ``i - 1``:

* ``resolve``: the resolver alone, as a loop over the stage would run it;
* ``decision``: the whole ``personalize()`` call (rules, eight sources, boosts, offers);
* ``dense``: the resolver, then eight ``np.bincount`` over the space's size and eight
  dense masks, about the dense scratch arrays a decision writes.

If the resolver costs more after a decision than after ``dense``, what slows it is not
the dense scratch arrays pushing it out of the caches but the breadth of what a decision
runs and reads (the interpreter's and NumPy's code paths, the rules', sources' and
offers' objects), which a loop over one stage never pays.

It also times the whole call with the garbage collector on and off, in alternating
order request by request (``gc.freeze()`` first, as ``Personalizer`` does with what it
loaded), to tell whether collections are part of the p50.

Run::

    python benchmarks/probe_warmth.py
    python benchmarks/probe_warmth.py --requests 500 --passes 5
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_realistic as realistic

from personalize import Catalog, History, Personalizer, Request
from personalize.ranking import InteractionIndex

Pair = tuple[Request, History]


def store(requests: int) -> tuple[Personalizer, list[Pair]]:
    """The realistic personalizer and its requests, each decided once (the warm-up)."""
    rng = random.Random(2026)
    catalog = Catalog(realistic.make_products(rng))
    index = InteractionIndex.build(realistic.stream_events(rng), catalog=catalog)
    config = realistic.make_config(rng)
    p = Personalizer(config, catalog=catalog, interactions=index, geoip=str(realistic.GEOIP))
    pairs = realistic.make_requests(rng, requests)
    for request, history in pairs:
        p.personalize(request, history, limit=10)
    return p, pairs


def resolve_after(p: Personalizer, pairs: list[Pair]) -> dict[str, list[int]]:
    """The resolver's thread-CPU on each request after each kind of work on the one before."""
    resolver = p._resolver
    size = p._state.base.ranker._space.size
    spots = np.arange(300) * (size // 300)
    ones = np.ones(300)

    def dense(request: Request, history: History) -> None:
        resolver.resolve(request, history, now=request.now)
        for _ in range(8):
            np.bincount(spots, weights=ones, minlength=size)
            np.zeros(size, dtype=np.bool_)

    before: dict[str, Callable[[Request, History], object]] = {
        "resolve": lambda request, history: resolver.resolve(request, history, now=request.now),
        "decision": lambda request, history: p.personalize(request, history, limit=10),
        "dense": dense,
    }
    spent: dict[str, list[int]] = {name: [] for name in before}
    previous = pairs[-1]
    for request, history in pairs:
        for name, work in before.items():
            work(*previous)
            t = time.thread_time_ns()
            resolver.resolve(request, history, now=request.now)
            spent[name].append(time.thread_time_ns() - t)
        previous = (request, history)
    return spent


def with_and_without_gc(p: Personalizer, pairs: list[Pair]) -> dict[str, list[int]]:
    """The call's thread-CPU with the collector on and off, the order alternating."""
    spent: dict[str, list[int]] = {"gc on": [], "gc off": []}
    for i, (request, history) in enumerate(pairs):
        for off in (False, True) if i % 2 else (True, False):
            if off:
                gc.disable()
            t = time.thread_time_ns()
            p.personalize(request, history, limit=10)
            spent["gc off" if off else "gc on"].append(time.thread_time_ns() - t)
            gc.enable()
    return spent


def pct(values: list[int], q: float) -> float:
    """The ``q`` quantile of ``values``, in microseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    p, pairs = store(args.requests)
    gc.freeze()
    print(f"{args.requests} realistic requests, {args.passes} passes (thread CPU, µs)")
    for n in range(1, args.passes + 1):
        after = resolve_after(p, pairs)
        base = statistics.median(after["resolve"])
        cells = [
            f"after {name} p50 {pct(v, 0.5):.1f} ({statistics.median(v) / base:.2f}x)"
            for name, v in after.items()
        ]
        print(f"pass {n}: resolve " + ", ".join(cells))
        calls = with_and_without_gc(p, pairs)
        ratio = statistics.median(calls["gc on"]) / statistics.median(calls["gc off"])
        cells = [f"{k} p50 {pct(v, 0.5):.1f} p99 {pct(v, 0.99):.1f}" for k, v in calls.items()]
        print(f"pass {n}: call " + ", ".join(cells) + f" (on / off {ratio:.3f})")


if __name__ == "__main__":
    main()
