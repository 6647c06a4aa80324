"""The catastrophic-backtracking attack on ``$regex``: its cost, and what it does to other threads.

A segment ``{referral.campaign: {$regex: "(a+)+$"}}`` is matched against a campaign the
visitor controls: ``?utm_campaign=`` of 24 ``a`` plus ``!`` (and a number, so that every
attack request is new to any cache). A backtracking engine tries
every way to split the ``a``s (2**24) before it fails; a linear-time engine (RE2) does not.

Three figures, all in one run:

1. The pattern alone, with the stdlib ``re`` and with ``re2`` (thread-CPU per search).
2. ``Personalizer.personalize`` of the attack request on the checkout under test
   (thread-CPU per call: median and p99, or each call when there are only a few).
3. Throughput of normal ``personalize()`` calls in one thread (calls per second of wall
   time): alone, beside a second thread sending normal requests back to back (two busy
   threads share the interpreter lock: this is the fair baseline), and beside a second
   thread sending attack requests back to back.

Run on any checkout (it needs only the public API)::

    PYTHONPATH=$PWD python benchmarks/bench_redos.py
    PYTHONPATH=$PWD python benchmarks/bench_redos.py --seconds 10 --skip-stdlib
"""

from __future__ import annotations

import argparse
import re
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from personalize import Catalog, Personalizer, Product, Request

PATTERN = "(a+)+$"
CAMPAIGN = "a" * 24 + "!"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
CONFIG = {
    "segments": {
        "spring_campaign": {"referral.campaign": {"$regex": "^spring"}},
        "attacked": {"referral.campaign": {"$regex": PATTERN}},
    },
    "rules": [
        {
            "id": "campaign-boost",
            "when": {"segments": "spring_campaign"},
            "then": [{"boost": {"where": {"category": "cat1"}, "by": 2.0}}],
        }
    ],
}


def _request(campaign: str) -> Request:
    return Request(
        user_agent=UA,
        ip="192.0.2.1",
        url=f"https://shop.example/?utm_campaign={campaign}",
        now=NOW,
        session_id="s",
    )


NORMAL = _request("spring-sale")
#: Attack requests, each with its own campaign (``aaa...a!17``) so no cache can answer.
ATTACKS = [_request(f"{CAMPAIGN}{i}") for i in range(5000)]


def _personalizer() -> Personalizer:
    products = [
        Product(id=f"p{i}", category=[f"cat{i % 5}"], brand=f"b{i % 7}", price=10.0 + i)
        for i in range(200)
    ]
    return Personalizer(CONFIG, catalog=Catalog(products=products), autoload_plugins=False)


def _thread_ms(fn: Callable[[], object], calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        start = time.thread_time_ns()
        fn()
        times.append((time.thread_time_ns() - start) / 1e6)
    return times


def _summary(times: list[float]) -> str:
    if len(times) < 20:
        return ", ".join(f"{t:.4g}" for t in times) + " ms"
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(times):.4g} ms, p99 {p99:.4g} ms ({len(times)} calls)"


def _throughput(p: Personalizer, seconds: float, others: list[Request] | None) -> tuple[float, int]:
    """Normal calls per second in this thread, and the other thread's calls meanwhile."""
    stop = threading.Event()
    done = [0]

    def competitor(requests: list[Request]) -> None:
        while not stop.is_set():
            p.personalize(requests[done[0] % len(requests)], placement="home", limit=10)
            done[0] += 1

    thread = None
    if others is not None:
        thread = threading.Thread(target=competitor, args=(others,), daemon=True)
        thread.start()
        time.sleep(0.05)
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        p.personalize(NORMAL, placement="home", limit=10)
        calls += 1
    elapsed = time.perf_counter() - start
    stop.set()
    finished = done[0]
    if thread is not None:
        thread.join()
    return calls / elapsed, finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    parser.add_argument("--attack-calls", type=int, default=2000, help="timed attack calls")
    parser.add_argument(
        "--slow-calls", type=int, default=3, help="attack calls when one takes over 0.1 s"
    )
    parser.add_argument("--skip-stdlib", action="store_true", help="skip the stdlib re figure")
    args = parser.parse_args()

    print(f"pattern {PATTERN!r} against {CAMPAIGN!r}")
    if not args.skip_stdlib:
        stdlib = re.compile(PATTERN)
        print("  stdlib re search:   " + _summary(_thread_ms(lambda: stdlib.search(CAMPAIGN), 1)))
    try:
        import re2
    except ImportError:
        print("  re2 search:         (google-re2 not installed)")
    else:
        linear = re2.compile(PATTERN)
        timed = _thread_ms(lambda: linear.search(CAMPAIGN), args.attack_calls)
        print("  re2 search:         " + _summary(timed))

    p = _personalizer()
    for _ in range(200):  # warm the caches
        p.personalize(NORMAL, placement="home", limit=10)
    attacks = iter(ATTACKS)

    def attack() -> object:
        return p.personalize(next(attacks), placement="home", limit=10)

    first = _thread_ms(attack, 1)
    calls = args.slow_calls if first[0] > 100 else min(args.attack_calls, len(ATTACKS) - 1)
    attack_times = first + _thread_ms(attack, calls - 1)
    normal_times = _thread_ms(lambda: p.personalize(NORMAL, placement="home", limit=10), 2000)
    print("personalize(), thread-CPU per call")
    print("  normal request:     " + _summary(normal_times))
    print("  attack request:     " + _summary(attack_times))

    alone, _ = _throughput(p, args.seconds, None)
    beside_normal, normals = _throughput(p, args.seconds, [NORMAL])
    beside_attack, attacked = _throughput(p, args.seconds, ATTACKS)
    print(f"normal personalize() throughput in one thread, {args.seconds:g} s each")
    print(f"  alone:                           {alone:,.1f} calls/s")
    print(
        f"  beside a thread of normal calls: {beside_normal:,.1f} calls/s "
        f"({normals} calls there meanwhile)"
    )
    print(
        f"  beside a thread of attacks:      {beside_attack:,.1f} calls/s "
        f"({attacked} attack calls meanwhile)"
    )


if __name__ == "__main__":
    main()
