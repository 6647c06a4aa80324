"""Context resolution speed: resolves/sec (warm and cold caches), UA parses/sec per engine.

Every figure is the median of ``--repeats`` runs, measured in the same process so that the
ratios compare like with like on a noisy machine.

Usage::

    python benchmarks/bench_context.py [--repeats 5] [--agents 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from ua_parser import Domain

from personalize import Event, History, Request
from personalize.context import ContextResolver, demo_geoip_path
from personalize.context._device import UA_ENGINES, DeviceDetector, make_ua_resolver

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "useragents" / "uap-core"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _agents(count: int) -> list[str]:
    cases = yaml.safe_load((SHARED / "test_device.yaml").read_text())["test_cases"]
    agents = sorted({c["user_agent_string"] for c in cases})
    return random.Random(7).sample(agents, count)


def _rate(work: Callable[[], int], repeats: int) -> float:
    """Median operations per second of ``work`` (which returns how many it did)."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = work()
        rates.append(done / (time.perf_counter() - start))
    return statistics.median(rates)


def _history() -> History:
    kinds = ["view", "view", "add_to_cart", "view", "purchase", "email_open"]
    events = [
        Event(
            type=kinds[i % len(kinds)],
            product_id=f"p{i % 40}",
            at=NOW - timedelta(hours=i),
            price=9.5,
            session_id=f"s{i // 10}",
            order_id=f"o{i // 12}",
            category=f"c{i % 5}",
        )
        for i in range(60)
    ]
    return History(events=events, loyalty={"tier": "gold", "points": 300})


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description="Context resolution benchmark")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--agents", type=int, default=1000)
    args = parser.parse_args()
    agents = _agents(args.agents)
    ips = [f"192.0.2.{i % 256}" for i in range(128)] + [f"203.0.113.{i}" for i in range(128)]
    requests = [
        Request(
            user_agent=ua,
            ip=ips[i % len(ips)],
            referrer="https://www.google.com/",
            url="https://shop.example/p/1?utm_medium=email&utm_campaign=spring",
            session_id="s0",
        )
        for i, ua in enumerate(agents)
    ]
    history = _history()
    results: dict[str, float] = {}

    for engine in UA_ENGINES:
        resolver = make_ua_resolver(engine)  # type: ignore[arg-type]
        results[f"ua parse, {engine}, no cache"] = _rate(
            lambda r=resolver: sum(1 for ua in agents if r(ua, Domain.ALL)), args.repeats
        )
        detector = DeviceDetector(cache_size=0, engine=engine)  # type: ignore[arg-type]
        results[f"ua parse+classify, {engine}, no cache"] = _rate(
            lambda d=detector: sum(1 for ua in agents if d.detect(ua)), args.repeats
        )
    warm_detector = DeviceDetector(cache_size=4096)
    for ua in agents:
        warm_detector.detect(ua)
    results["ua parse+classify, auto, warm cache"] = _rate(
        lambda: sum(1 for ua in agents if warm_detector.detect(ua)), args.repeats
    )

    geoip = demo_geoip_path()
    for engine in UA_ENGINES:
        cold = ContextResolver(geoip=geoip, cache_size=0, ua_engine=engine)  # type: ignore[arg-type]
        results[f"resolve, {engine}, cold caches"] = _rate(
            lambda c=cold: sum(1 for r in requests if c.resolve(r, now=NOW)), args.repeats
        )
    warm = ContextResolver(geoip=geoip)
    for request in requests:
        warm.resolve(request, now=NOW)
    results["resolve, auto, warm caches"] = _rate(
        lambda: sum(1 for r in requests if warm.resolve(r, now=NOW)), args.repeats
    )
    results["resolve + 60-event history, warm caches"] = _rate(
        lambda: sum(1 for r in requests if warm.resolve(r, history, now=NOW)), args.repeats
    )

    width = max(len(name) for name in results)
    print(f"{len(agents)} distinct user agents, median of {args.repeats} runs")
    for name, rate in results.items():
        print(f"{name:<{width}}  {rate:>12,.0f} /s")
    if "rs" in UA_ENGINES:
        ratio = results["ua parse, rs, no cache"] / results["ua parse, basic, no cache"]
        print(f"ua-parser-rs speed-up on raw parses: {ratio:.1f}x")
        cold_ratio = results["resolve, rs, cold caches"] / results["resolve, basic, cold caches"]
        print(f"ua-parser-rs speed-up on cold resolves: {cold_ratio:.1f}x")
    warm_ratio = results["resolve, auto, warm caches"] / results["resolve, basic, cold caches"]
    print(f"warm caches vs cold pure-Python resolves: {warm_ratio:.1f}x")


if __name__ == "__main__":
    main()
