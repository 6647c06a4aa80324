"""Latency of ``Personalizer.personalize`` on synthetic stores of growing size.

Kept for continuity only: its workload is easy (500 requests fire 16 distinct combinations
of boosts, exact selectors only, fixed 200-event histories). ``bench_realistic.py`` is the
benchmark of record for latency.

Each store has N products in 50 categories (under 10 departments) and 200 brands; the
interaction index is built from synthetic sessions of 20k customers; the configuration has
200 rules, 50 offers and 12 segments; each request carries a history of about 200 events.
The same 500 requests are timed at every size, after a warm-up, and p50/p99 reported.
Memory is what each part allocates and keeps (tracemalloc): the catalog with its indexes
(not the products themselves), the interaction index (and the bytes of its arrays alone),
and the compiled configuration; ``+RSS`` is how much the process grew while serving the
requests (the per-product caches filled on the way).

Run::

    python benchmarks/bench_personalize.py                 # 10k, 100k and 1M products
    python benchmarks/bench_personalize.py --sizes 10000   # one size
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from personalize import Catalog, Event, History, Personalizer, Product, Request
from personalize.ranking import InteractionIndex

T = TypeVar("T")

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DEPARTMENTS = [f"dept{d}" for d in range(10)]
CATEGORIES = [f"cat{c}" for c in range(50)]
BRANDS = [f"brand{b}" for b in range(200)]
UAS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
]
REFERRERS = [None, "https://www.google.com/", "https://www.facebook.com/", "https://mail.example/"]
COUNTRY_HEADERS = ["CA", "GB", "US", "DE", "AU", "NO"]


def make_catalog(n: int, rng: random.Random) -> Catalog:
    return Catalog(make_products(n, rng))


def make_products(n: int, rng: random.Random) -> list[Product]:
    products = []
    for i in range(n):
        cat = i % len(CATEGORIES)
        products.append(
            Product(
                id=f"p{i}",
                title=f"Product {i}",
                category=(DEPARTMENTS[cat % len(DEPARTMENTS)], CATEGORIES[cat]),
                brand=BRANDS[rng.randrange(len(BRANDS))],
                price=round(rng.uniform(3, 300), 2),
                tags=("clearance",) if rng.random() < 0.05 else (),
                in_stock=rng.random() > 0.02,
                created_at=NOW - timedelta(days=rng.uniform(0, 720)),
            )
        )
    return products


def popular_id(n: int, rng: random.Random) -> str:
    """A product id drawn from a long-tailed (Zipf-like) distribution over the catalog."""
    return f"p{min(n - 1, int(rng.paretovariate(1.1)) * 7 % n)}"


def make_interactions(n: int, rng: random.Random, customers: int = 20_000) -> list[Event]:
    events = []
    for c in range(customers):
        for s in range(3):
            at = NOW - timedelta(days=rng.uniform(1, 180))
            session = f"c{c}-s{s}"
            basket = [popular_id(n, rng) for _ in range(rng.randint(1, 4))]
            for pid in basket:
                events.append(Event(type="view", product_id=pid, at=at, session_id=session))
            if rng.random() < 0.4:
                for pid in basket[:2]:
                    events.append(
                        Event(
                            type="purchase",
                            product_id=pid,
                            at=at,
                            order_id=session,
                            customer_id=f"c{c}",
                            price=20.0,
                        )
                    )
    return events


def make_config(rng: random.Random) -> dict[str, Any]:
    facts = [
        ("device.type", ["mobile", "desktop", "tablet"]),
        ("geo.country", COUNTRY_HEADERS),
        ("time.daypart", ["morning", "afternoon", "evening", "night"]),
        ("referral.source", ["search", "social", "email", "direct"]),
        ("loyalty.tier", ["gold", "silver", "bronze"]),
    ]
    segments = {}
    for i in range(12):
        path, values = facts[i % len(facts)]
        segments[f"seg{i}"] = {path: values[i % len(values)]}
    rules = []
    for i in range(200):
        path, values = facts[rng.randrange(len(facts))]
        when: dict[str, Any] = {path: {"$in": rng.sample(values, k=min(2, len(values)))}}
        if i % 3 == 0:
            when["history.order_count"] = {"$gte": rng.randint(0, 5)}
        if i % 7 == 0:
            when["segments"] = f"seg{i % 12}"
        action = (
            {"boost": {"where": {"category": rng.choice(CATEGORIES)}, "by": 1.5}}
            if i % 2
            else {"bury": {"where": {"brand": rng.choice(BRANDS)}, "by": 0.7}}
        )
        rules.append({"id": f"r{i}", "when": when, "priority": i % 5, "then": [action]})
    offers = []
    for i in range(50):
        path, values = facts[rng.randrange(len(facts))]
        offers.append(
            {
                "id": f"o{i}",
                "when": {path: rng.choice(values)},
                "code": f"CODE{i}",
                "value": {"percent": 5 + i % 20},
                "cap": {"per_customer": 1, "days": 30},
                "group": f"g{i % 10}",
                "priority": i % 7,
            }
        )
    return {
        "segments": segments,
        "rules": rules,
        "offers": offers,
        "ranking": {"exclude_purchased": True, "diversity": {"max_per_category": 3}},
        "landing": [{"when": {"geo.country": "CA"}, "page": "/ca/"}, {"page": "/"}],
    }


def make_requests(n: int, rng: random.Random, count: int = 500) -> list[tuple[Request, History]]:
    out = []
    for i in range(count):
        events = []
        at = NOW - timedelta(days=200)
        for j in range(200):
            at += timedelta(hours=rng.uniform(1, 20))
            pid = popular_id(n, rng)
            kind = "purchase" if j % 5 == 0 else "view"
            events.append(
                Event(
                    type=kind,
                    product_id=pid,
                    at=at,
                    session_id=f"h{i}-{j // 10}",
                    order_id=f"o{i}-{j // 10}" if kind == "purchase" else None,
                    price=20.0,
                    category=CATEGORIES[int(pid[1:]) % len(CATEGORIES)],
                )
            )
        request = Request(
            user_agent=UAS[i % len(UAS)],
            ip=f"203.0.113.{i % 250}",
            headers={"CF-IPCountry": COUNTRY_HEADERS[i % len(COUNTRY_HEADERS)]},
            referrer=REFERRERS[i % len(REFERRERS)],
            url="https://shop.example/?utm_medium=email" if i % 9 == 0 else "https://shop.example/",
            now=NOW,
            user_id=f"u{i}",
            session_id=f"s{i}",
        )
        tier = ["gold", "silver", "bronze", None][i % 4]
        out.append((request, History(events=events, loyalty={"tier": tier} if tier else {})))
    return out


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index]


def resident_bytes() -> int:
    """The process's resident memory (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def traced(build: Callable[[], T]) -> tuple[T, float, int]:
    """``build()``, its wall time untraced (a first call), and the bytes a second call
    allocated and kept under tracemalloc (times under tracemalloc mean nothing)."""
    gc.collect()
    t0 = time.perf_counter()
    build()
    elapsed = time.perf_counter() - t0
    gc.collect()
    tracemalloc.start()
    value = build()
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return value, elapsed, kept


def run(size: int, repeats: int) -> dict[str, float]:
    rng = random.Random(size)
    t0 = time.perf_counter()
    products = make_products(size, rng)
    interactions = make_interactions(size, rng)
    t_data = time.perf_counter() - t0

    catalog, _, catalog_bytes = traced(lambda: Catalog(products))
    index, t_index, index_bytes = traced(
        lambda: InteractionIndex.build(interactions, catalog=catalog)
    )
    config = make_config(rng)
    p, t_build, compiled_bytes = traced(
        lambda: Personalizer(
            config, catalog=catalog, interactions=index, trusted_cdn=["cloudflare"]
        )
    )

    requests = make_requests(size, rng)
    gc.collect()
    rss_before = resident_bytes()
    for request, history in requests[:100]:  # warm-up: caches, lazy imports
        p.personalize(request, history, limit=10)
    timings = []
    for _ in range(repeats):
        for request, history in requests:
            t = time.perf_counter()
            p.personalize(request, history, limit=10)
            timings.append(time.perf_counter() - t)
    timings.sort()
    gc.collect()
    rss_growth = resident_bytes() - rss_before
    return {
        "products": size,
        "data_s": t_data,
        "index_s": t_index,
        "build_s": t_build,
        "catalog_mb": catalog_bytes / 2**20,
        "index_mb": index_bytes / 2**20,
        "arrays_mb": index.nbytes / 2**20,
        "compiled_mb": compiled_bytes / 2**20,
        "requests_mb": rss_growth / 2**20,
        "p50_ms": statistics.median(timings) * 1e3,
        "p99_ms": percentile(timings, 0.99) * 1e3,
        "mean_ms": statistics.fmean(timings) * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="passes over the 500 requests")
    args = parser.parse_args()
    InteractionIndex.build((), catalog=Catalog())  # first-use imports (scipy) are not memory
    rows = [run(size, args.repeats) for size in args.sizes]
    print(
        f"{'products':>9} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'index s':>8} "
        f"{'index MB':>9} {'arrays MB':>10} {'catalog MB':>11} {'config MB':>10} "
        f"{'+RSS MB':>8} {'data s':>7}"
    )
    for r in rows:
        print(
            f"{r['products']:>9.0f} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['mean_ms']:>8.3f} "
            f"{r['index_s']:>8.2f} {r['index_mb']:>9.1f} {r['arrays_mb']:>10.2f} "
            f"{r['catalog_mb']:>11.1f} {r['compiled_mb']:>10.1f} {r['requests_mb']:>8.1f} "
            f"{r['data_s']:>7.1f}"
        )
    if len(rows) > 1:
        print(
            f"p50 growth {rows[0]['products']:.0f} -> {rows[-1]['products']:.0f} products: "
            f"{rows[-1]['p50_ms'] / rows[0]['p50_ms']:.2f}x"
        )


if __name__ == "__main__":
    main()
