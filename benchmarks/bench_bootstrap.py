"""Memory and thread-CPU of ``paired_bootstrap`` (2000 rounds) over many customers.

Run: ``python benchmarks/bench_bootstrap.py`` (this tree), or with ``PYTHONPATH`` set to an
export of an earlier commit (``git archive <commit> personalize | tar -x -C /tmp/base``) to
measure that code. The peak is of one separate call under ``tracemalloc`` (never timed); the
time is the thread-CPU median and maximum of ``--rounds`` untraced calls.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

from personalize.evaluation import paired_bootstrap


def main() -> None:
    """Print the peak traced memory and the thread-CPU of one bootstrap."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    a = np.random.default_rng(1).random(args.customers)
    b = np.zeros_like(a)
    tracemalloc.start()
    paired_bootstrap(a, b)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    times = []
    for _ in range(args.rounds):
        start = time.thread_time_ns()
        paired_bootstrap(a, b)
        times.append((time.thread_time_ns() - start) / 1e6)
    print(
        f"{args.customers:,} customers: peak {peak / 2**20:.1f} MiB;"
        f" thread-CPU median {statistics.median(times):.0f} ms, max {max(times):.0f} ms"
    )


if __name__ == "__main__":
    main()
