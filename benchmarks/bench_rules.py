"""Time compiled conditions against growthbook's evalCondition and hand-written lambdas.

Run: ``python benchmarks/bench_rules.py`` (needs the ``bench`` extra for growthbook). The
conditions are timed in one subprocess per hash seed (``PYTHONHASHSEED`` 0..5, or
``--seeds``), and the worst seed's ratio is reported. Each contender runs in interleaved
rounds of thread-CPU time (``time.thread_time``); a figure is the fastest round, which a
busy machine cannot inflate (a median of rounds moved with the load of a shared machine by
up to 6x in absolute time and 1.0x-1.4x in ratio). ``--one`` runs a single process as is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from growthbook.core import evalCondition

from personalize.context import Context, Device, Geo, TimeFacts
from personalize.rules import RuleSet, compile_condition

FACTS: dict[str, Any] = Context(
    device=Device(type="mobile", os="iOS", browser="Mobile Safari", is_touch=True),
    geo=Geo(country="CA", city="Toronto", latitude=43.65, longitude=-79.38, climate="cold"),
    time=TimeFacts(local=datetime(2026, 12, 5, 21, 30, tzinfo=UTC), hour=21, season="winter"),
).facts()
FACTS["behaviour"]["cart"]["value"] = 82.5

SIMPLE = {"device.type": "mobile"}
MEDIUM = {
    "device.type": "mobile",
    "geo.country": {"$in": ["US", "CA", "MX"]},
    "behaviour.cart.value": {"$gte": 50},
    "time.hour": {"$gte": 18, "$lte": 23},
}
LARGE = {
    "$or": [
        {"device.type": "desktop", "referral.source": "search"},
        {
            "device.type": {"$in": ["mobile", "tablet"]},
            "geo.country": {"$in": ["US", "CA", "MX"]},
            "geo.climate": {"$ne": "tropical"},
            "behaviour.cart.value": {"$gte": 50, "$lt": 500},
            "time.hour": {"$gte": 18, "$lte": 23},
            "time.season": "winter",
            "device.browser": {"$regex": "Safari|Chrome"},
            "history.order_count": {"$gte": 0},
        },
    ],
    "device.is_bot": False,
}

US_CA_MX = frozenset({"US", "CA", "MX"})
MOBILE_TABLET = frozenset({"mobile", "tablet"})


def simple_lambda(f: dict[str, Any]) -> bool:
    return bool(f["device"]["type"] == "mobile")


def medium_lambda(f: dict[str, Any]) -> bool:
    return bool(
        f["device"]["type"] == "mobile"
        and f["geo"]["country"] in US_CA_MX
        and f["behaviour"]["cart"]["value"] >= 50
        and 18 <= f["time"]["hour"] <= 23
    )


def large_lambda(f: dict[str, Any]) -> bool:
    d, g, t = f["device"], f["geo"], f["time"]
    return bool(
        (
            (d["type"] == "desktop" and f["referral"]["source"] == "search")
            or (
                d["type"] in MOBILE_TABLET
                and g["country"] in US_CA_MX
                and g["climate"] != "tropical"
                and 50 <= f["behaviour"]["cart"]["value"] < 500
                and 18 <= t["hour"] <= 23
                and t["season"] == "winter"
                and ("Safari" in d["browser"] or "Chrome" in d["browser"])
                and f["history"]["order_count"] >= 0
            )
        )
        and d["is_bot"] is False
    )


def per_call_ns(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    """Thread-CPU nanoseconds per call: the fastest of ``repeat`` rounds of ``number``."""
    times = timeit.Timer(fn, timer=time.thread_time).repeat(number=number, repeat=repeat)
    return min(times) / number * 1e9


def bench_condition(
    name: str, condition: dict[str, Any], handwritten: Callable[..., bool]
) -> dict[str, float]:
    """Interleave the three contenders round by round; the fastest round of each."""
    compiled = compile_condition(condition)
    assert compiled(FACTS) == handwritten(FACTS) == evalCondition(FACTS, condition)
    n = 5_000
    ours, hand, gb = [], [], []
    for _ in range(30):
        ours.append(per_call_ns(lambda: compiled(FACTS), n, repeat=1))
        hand.append(per_call_ns(lambda: handwritten(FACTS), n, repeat=1))
        gb.append(per_call_ns(lambda: evalCondition(FACTS, condition), n // 10, repeat=1))
    return {"compiled": min(ours), "lambda": min(hand), "growthbook": min(gb)}


def print_condition(name: str, row: dict[str, float]) -> None:
    print(
        f"{name:<7} compiled {row['compiled']:6.0f} ns  lambda {row['lambda']:6.0f} ns  "
        f"growthbook {row['growthbook']:7.0f} ns   "
        f"compiled/lambda {row['compiled'] / row['lambda']:4.2f}x   "
        f"growthbook/compiled {row['growthbook'] / row['compiled']:5.1f}x"
    )


def bench_ruleset() -> None:
    rules = []
    for i in range(200):
        rules.append(
            {
                "id": f"r{i}",
                "priority": i % 7,
                "when": {
                    "geo.country": {"$in": ["US", "CA"] if i % 3 else ["FR"]},
                    "behaviour.cart.value": {"$gte": i % 90},
                    "time.hour": {"$between": [i % 24, (i + 6) % 24]},
                },
                "then": [{"boost": {"where": {"tags": {"$in": [f"t{i}"]}}, "by": 1.5}}],
            }
        )
    segments = {
        f"s{i}": {"device.type": "mobile", "loyalty.points": {"$gte": i}} for i in range(20)
    }
    ruleset = RuleSet.compile({"segments": segments, "rules": rules})

    def run() -> object:
        return ruleset.evaluate(dict(FACTS), placement="home")

    outcome = run()
    per = per_call_ns(run, 500) / 1000
    print(
        f"rule set: 20 segments + 200 rules, one context: {per:7.1f} us per evaluation "
        f"({len(outcome.fired)} fired)"  # type: ignore[attr-defined]
    )


CONDITIONS = {
    "simple": (SIMPLE, simple_lambda),
    "medium": (MEDIUM, medium_lambda),
    "large": (LARGE, large_lambda),
}


def child() -> None:
    """One seed's figures, as a JSON line (``--child``)."""
    rows = {name: bench_condition(name, *case) for name, case in CONDITIONS.items()}
    print(json.dumps({"seed": os.environ.get("PYTHONHASHSEED"), "rows": rows}))


def by_seed(seeds: list[int]) -> None:
    """Run the conditions once per hash seed; print each seed's ratio and the worst."""
    ratios: dict[str, list[float]] = {name: [] for name in CONDITIONS}
    print(f"{'seed':>4} " + " ".join(f"{name + ' c/l':>12}" for name in CONDITIONS))
    for seed in seeds:
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        out = subprocess.run(
            [sys.executable, __file__, "--child"], env=env, check=True, capture_output=True
        )
        rows = json.loads(out.stdout.decode().strip().splitlines()[-1])["rows"]
        cells = []
        for name, row in rows.items():
            ratio = row["compiled"] / row["lambda"]
            ratios[name].append(ratio)
            cells.append(f"{ratio:>11.2f}x")
        print(f"{seed:>4} " + " ".join(cells))
    print("worst " + "  ".join(f"{name} {max(values):.2f}x" for name, values in ratios.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4,5", help="PYTHONHASHSEED values")
    parser.add_argument("--one", action="store_true", help="this process only, as is")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    if args.one:
        for name, case in CONDITIONS.items():
            print_condition(name, bench_condition(name, *case))
    else:
        by_seed([int(seed) for seed in args.seeds.split(",")])
    bench_ruleset()


if __name__ == "__main__":
    main()
