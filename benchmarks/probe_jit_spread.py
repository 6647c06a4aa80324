"""What a JIT-compiled kernel would save on the ranker's neighbour spread and top-k.

A probe of a path not taken, kept so its figures can be checked. It builds the store of
``bench_realistic.py``, records every call of the positional sources' neighbour spread
(``_positional._spread``) over a pass of its requests, then times two ways of turning
each call into the source's proposal (its ``per_source`` best neighbours, scaled by the
best):

* ``numpy``: what the ranker does, ``_spread`` and then ``top_by_value``;
* ``numba``: one ``@njit`` kernel doing both, over scratch arrays reused between calls.

It first checks that both give the same positions and the same floats on every recorded
call, and prints the kernel's compile time (cold, or loaded from Numba's cache).

Needs Numba, which personalize does not depend on::

    pip install numba
    python benchmarks/probe_jit_spread.py
    python benchmarks/probe_jit_spread.py --requests 500 --passes 5
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_realistic as realistic

from personalize import Catalog, Personalizer
from personalize.ranking import InteractionIndex
from personalize.ranking import _positional as positional

Call = tuple[Any, list[int], list[float], int]


def recorded_calls(requests: int) -> tuple[list[Call], Any, int]:
    """The spread calls of one pass over the realistic requests, the ranker's space and
    the requests' ``per_source``."""
    rng = random.Random(2026)
    catalog = Catalog(realistic.make_products(rng))
    index = InteractionIndex.build(realistic.stream_events(rng), catalog=catalog)
    config = realistic.make_config(rng)
    p = Personalizer(config, catalog=catalog, interactions=index, geoip=str(realistic.GEOIP))
    calls: list[Call] = []
    spread = positional._spread

    def recording(rows: Any, anchors: list[int], weights: list[float], size: int) -> Any:
        calls.append((rows, list(anchors), list(weights), size))
        return spread(rows, anchors, weights, size)

    positional._spread = recording
    try:
        for request, history in realistic.make_requests(rng, requests):
            p.personalize(request, history, limit=10)
    finally:
        positional._spread = spread
    ranker = p._state.base.ranker
    return calls, ranker._space, ranker.config.candidates_per_source


def compiled_kernel() -> Callable[..., tuple[Any, Any]]:
    """The spread and top-k as one Numba kernel (compiled, or read from the cache)."""
    import numba

    @numba.njit(cache=True, nogil=True)
    def spread_top(indptr, indices, data, anchors, weights, id_rank, limit, sums, seen, touched):
        found = 0
        for i in range(anchors.shape[0]):  # anchor by anchor: the order bincount adds in
            anchor, weight = anchors[i], weights[i]
            for j in range(indptr[anchor], indptr[anchor + 1]):
                neighbour = indices[j]
                term = weight * data[j]
                if seen[neighbour]:
                    sums[neighbour] += term
                else:
                    seen[neighbour] = True
                    touched[found] = neighbour
                    found += 1
                    sums[neighbour] = 0.0 + term
        positions = np.empty(found, np.int64)
        values = np.empty(found)
        for k in range(found):
            neighbour = touched[k]
            positions[k], values[k] = neighbour, sums[neighbour]
            seen[neighbour] = False
        if found == 0 or limit <= 0:
            return positions[:0], values[:0]
        if found > limit:  # only entries at least as good as the limit-th make the cut
            cut = np.partition(values, found - limit)[found - limit]
            keep = values >= cut
            positions, values = positions[keep], values[keep]
        by_id = np.argsort(id_rank[positions], kind="mergesort")
        order = by_id[np.argsort(-values[by_id], kind="mergesort")][:limit]
        positions, values = positions[order], values[order]
        top = values[0]
        if top <= 0.0:
            return positions[:0], values[:0]
        count = 0
        while count < values.shape[0] and values[count] > 0.0:
            count += 1
        return positions[:count], values[:count] / top

    return spread_top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=3, help="timed passes of each way")
    args = parser.parse_args()
    try:
        import numba
    except ImportError:
        sys.exit("this probe needs Numba: pip install numba")
    calls, space, per_source = recorded_calls(args.requests)
    started = time.perf_counter()
    kernel = compiled_kernel()
    sums = np.zeros(space.size)
    seen = np.zeros(space.size, dtype=np.bool_)
    touched = np.zeros(space.size, dtype=np.int64)
    id_rank = space.id_rank.astype(np.int64)

    def with_numpy(call: Call) -> tuple[Any, Any]:
        rows, anchors, weights, size = call
        found = positional.top_by_value(
            *positional._spread(rows, anchors, weights, size), per_source, space
        )
        return found.positions, found.values

    def with_numba(call: Call) -> tuple[Any, Any]:
        (indptr, indices, data), anchors, weights, _ = call
        at = np.array(anchors, dtype=np.intp)
        by = np.array(weights, dtype=np.float64)
        return kernel(indptr, indices, data, at, by, id_rank, per_source, sums, seen, touched)

    with_numba(calls[0])
    compile_s = time.perf_counter() - started
    differ = sum(
        not (np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]))
        for a, b in ((with_numpy(c), with_numba(c)) for c in calls)
    )
    per_request = len(calls) / args.requests
    print(f"numba {numba.__version__}, numpy {np.__version__}")
    print(f"{len(calls)} spread calls ({per_request:.2f} a request), per_source {per_source}")
    print(f"kernel ready in {compile_s:.2f} s; calls whose results differ: {differ}")
    for n in range(args.passes):
        line = []
        for name, way in (("numpy", with_numpy), ("numba", with_numba)):
            spent = []
            for call in calls:
                t0 = time.thread_time_ns()
                way(call)
                spent.append(time.thread_time_ns() - t0)
            p50, p99 = realistic.pct(spent, 0.5) / 1e3, realistic.pct(spent, 0.99) / 1e3
            line.append(f"{name} p50 {p50:.1f} us, p99 {p99:.1f} us")
        print(f"pass {n + 1}: " + "; ".join(line))


if __name__ == "__main__":
    main()
