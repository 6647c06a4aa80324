"""Thread-CPU cost of ``Window.is_open``: an ordinary moment and the second pass of a
repeated hour (clocks going back), for a window in a named zone with wall-clock bounds.

Run::

    python benchmarks/bench_windows.py            # 3000 rounds of 50 calls each
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from personalize.schedule import Window

TORONTO = ZoneInfo("America/Toronto")
CASES = {
    "ordinary moment": datetime(2026, 11, 20, 12, tzinfo=UTC),
    "repeated hour, second pass": datetime(2026, 11, 1, 6, 10, tzinfo=UTC),  # 01:10 EST
}


def main(rounds: int = 3000, calls: int = 50) -> None:
    window = Window(datetime(2026, 10, 1), datetime(2026, 12, 31), TORONTO, TORONTO)
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(rounds):
        for name, now in CASES.items():
            started = time.thread_time_ns()
            for _ in range(calls):
                window.is_open(now)
            samples[name].append((time.thread_time_ns() - started) / calls)
    for name, values in samples.items():
        values.sort()
        p99 = values[int(len(values) * 0.99)]
        print(f"{name}: median {statistics.median(values):.0f} ns, p99 {p99:.0f} ns")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
