"""Thread-CPU cost of the repeat share in ``personal`` (``ranking.repeat_share_weight``).

On ``bench_realistic.py``'s store, each request goes through two personalizers that differ
only in ``repeat_share_weight`` (the default 4, and 0: off), alternating which goes first
from pass to pass; the thread-CPU (``time.thread_time_ns``) of every
``personalize.ranking._personal.personal_of`` call is recorded per personalizer, and of
every ``personalize()`` call. Reported: p50/p99 of both and their difference.

Run: ``python benchmarks/bench_repeat_share.py`` (``--requests 1000 --passes 4``).
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_realistic as store

from personalize import Catalog, Personalizer
from personalize.ranking import InteractionIndex, RankingInput
from personalize.ranking import _personal as own


def pct(values: list[int], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank), in microseconds."""
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(2026)
    catalog = Catalog(store.make_products(rng))
    index = InteractionIndex.build(iter(list(store.stream_events(rng))), catalog=catalog)
    config = store.make_config(rng)
    personalizers = {}
    for name, weight in (("weight 4", 4.0), ("off", 0.0)):
        variant = copy.deepcopy(config)
        variant.setdefault("ranking", {})["repeat_share_weight"] = weight
        personalizers[name] = Personalizer(
            variant, catalog=catalog, interactions=index, geoip=str(store.GEOIP)
        )
    requests = store.make_requests(rng, args.requests)
    inner: dict[str, list[int]] = {name: [] for name in personalizers}
    outer: dict[str, list[int]] = {name: [] for name in personalizers}
    current = ["off"]
    reference = own.personal_of

    def timed(request: RankingInput, raw: Mapping[str, float]) -> dict[str, float]:
        start = time.thread_time_ns()
        found = reference(request, raw)
        inner[current[0]].append(time.thread_time_ns() - start)
        return found

    own.personal_of = timed  # the positional twin calls it through the module
    names = list(personalizers)
    for n in range(args.passes):
        order = names if n % 2 == 0 else names[::-1]
        for request, history in requests:
            for name in order:
                current[0] = name
                start = time.thread_time_ns()
                personalizers[name].personalize(request, history, limit=10)
                outer[name].append(time.thread_time_ns() - start)
    own.personal_of = reference
    for label, samples in (("personal_of", inner), ("personalize()", outer)):
        on, off = samples["weight 4"], samples["off"]
        print(
            f"{label}: weight 4 p50 {pct(on, 0.5):.2f} us, p99 {pct(on, 0.99):.2f} us; "
            f"off p50 {pct(off, 0.5):.2f} us, p99 {pct(off, 0.99):.2f} us; "
            f"difference p50 {pct(on, 0.5) - pct(off, 0.5):+.2f} us, "
            f"p99 {pct(on, 0.99) - pct(off, 0.99):+.2f} us ({len(on)} calls each)"
        )


if __name__ == "__main__":
    main()
