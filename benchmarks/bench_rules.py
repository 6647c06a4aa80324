"""Time compiled conditions against growthbook's evalCondition and hand-written lambdas.

Run: ``python benchmarks/bench_rules.py`` (needs the ``bench`` extra for growthbook).
Every figure is the median of several repeats, measured in the same run; the ratios are
what to compare across machines.
"""

from __future__ import annotations

import statistics
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
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e9


def bench_condition(name: str, condition: dict[str, Any], handwritten: Callable[..., bool]) -> None:
    """Interleave the three contenders round by round; report medians of times and ratios."""
    compiled = compile_condition(condition)
    assert compiled(FACTS) == handwritten(FACTS) == evalCondition(FACTS, condition)
    n = 20_000
    ours, hand, gb = [], [], []
    for _ in range(15):
        ours.append(per_call_ns(lambda: compiled(FACTS), n, repeat=1))
        hand.append(per_call_ns(lambda: handwritten(FACTS), n, repeat=1))
        gb.append(per_call_ns(lambda: evalCondition(FACTS, condition), n // 10, repeat=1))
    med = statistics.median
    to_hand = med(o / h for o, h in zip(ours, hand, strict=True))
    from_gb = med(g / o for o, g in zip(ours, gb, strict=True))
    print(
        f"{name:<7} compiled {med(ours):6.0f} ns  lambda {med(hand):6.0f} ns  "
        f"growthbook {med(gb):7.0f} ns   compiled/lambda {to_hand:4.2f}x   "
        f"growthbook/compiled {from_gb:5.1f}x"
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


def main() -> None:
    bench_condition("simple", SIMPLE, simple_lambda)
    bench_condition("medium", MEDIUM, medium_lambda)
    bench_condition("large", LARGE, large_lambda)
    bench_ruleset()


if __name__ == "__main__":
    main()
