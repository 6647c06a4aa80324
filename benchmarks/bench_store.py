"""Store latencies: history() per backend, append throughput, and history() by history length.

Run: ``PYTHONPATH=. python benchmarks/bench_store.py [--redis redis://127.0.0.1:6379/0]``;
``--faults`` instead kills a redis-server mid-run and reports how reads and appends behave;
``--decisions`` measures the whole decision (``Personalizer.personalize`` on the example
shop) by history length, with a store (memory, SQLite, Redis) and without one (the whole
``History`` passed in); ``--check`` times ``check_events`` (what every append runs first)
per event, over rounds of 1,000 events.
Without ``--redis`` a redis-server is started on a free port (``redis-server`` must be on
PATH). Latencies are thread-CPU (``time.thread_time_ns``) and wall, p50 and p99.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalize import Event
from personalize.store import (
    MemoryStore,
    RedisStore,
    Retention,
    SQLiteStore,
    Store,
    StoreUnavailable,
)

if TYPE_CHECKING:
    from personalize import Personalizer

LENGTHS = (10, 100, 1_000, 10_000)
RETENTION = Retention(max_events=20_000)


def _events(customer: str, count: int) -> list[Event]:
    rng = random.Random(customer)
    start = datetime.now(UTC) - timedelta(days=300)
    step = timedelta(days=299) / count
    kinds = ["view"] * 6 + ["add_to_cart", "purchase", "email_open", "offer_shown"]
    events = []
    for i in range(count):
        kind = rng.choice(kinds)
        product = f"p{rng.randrange(500)}"
        events.append(
            Event(
                type=kind,
                customer_id=customer,
                session_id=f"s{i // 8}",
                at=start + step * i,
                product_id=product,
                category=f"c{rng.randrange(40)}" if kind == "view" else None,
                price=9.5 if kind in ("add_to_cart", "purchase") else None,
                offer_id="welcome" if kind == "offer_shown" else None,
            )
        )
    return events


def _percentiles(samples: list[int]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) / 1e3, ordered[int(len(ordered) * 0.99)] / 1e3


def _time(call: Callable[[], object], runs: int) -> tuple[float, float, float, float]:
    cpu: list[int] = []
    wall: list[int] = []
    for _ in range(runs):
        c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        call()
        cpu.append(time.thread_time_ns() - c0)
        wall.append(time.perf_counter_ns() - w0)
    return (*_percentiles(cpu), *_percentiles(wall))


def _interleaved(calls: dict[Any, Callable[[], object]], rounds: int) -> dict[Any, list[int]]:
    """Thread-CPU samples of each call, taken in turn (after a warm-up round of 20)."""
    samples: dict[int, list[int]] = {key: [] for key in calls}
    for round_ in range(rounds + 20):
        for key, call in calls.items():
            started = time.thread_time_ns()
            call()
            if round_ >= 20:
                samples[key].append(time.thread_time_ns() - started)
    return samples


def _start_redis() -> tuple[str, subprocess.Popen[bytes]]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.02)
    return f"redis://127.0.0.1:{port}/0", process


def faults() -> None:
    """Kill Redis mid-run: read latency while down, append latency, recovery after restart."""
    url, process = _start_redis()
    port = url.split(":")[2].split("/")[0]
    store = RedisStore(url, timeout=0.02, retry_after=0.5)
    store.append(_events("f", 100))
    process.send_signal(signal.SIGSTOP)  # a Redis that accepts but never answers
    started = time.perf_counter()
    with contextlib.suppress(StoreUnavailable):
        store.history("f")
    print(f"read from a stopped (SIGSTOP) Redis: {(time.perf_counter() - started) * 1e3:.1f} ms")
    process.send_signal(signal.SIGCONT)
    time.sleep(0.6)
    process.kill()
    process.wait()
    reads = []
    for _ in range(5):
        started = time.perf_counter()
        try:
            store.history("f")
        except StoreUnavailable:
            reads.append((time.perf_counter() - started) * 1e3)
    events = _events("g", 1000)
    started = time.perf_counter()
    for event in events:
        store.append([event])
    append_ms = (time.perf_counter() - started) * 1e3
    print(f"reads while down (ms): {', '.join(f'{r:.2f}' for r in reads)}")
    print(f"1,000 appends while down: {append_ms:.1f} ms; pending {store.pending}")
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    process = subprocess.Popen(
        [binary, "--port", port, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    started = time.perf_counter()
    flushed = store.flush(30.0)
    print(f"restart -> buffer flushed: {flushed} in {time.perf_counter() - started:.2f} s")
    time.sleep(0.6)
    record = store.export("g")
    print(f"events of the buffered customer in Redis after restart: {len(record['events'])}")
    process.kill()
    process.wait()


#: The decisions' request time: the same local time for every length (rules and offers
#: that depend on the hour or the day then fire alike).
DECIDE_AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
#: How many of a customer's newest events every length shares (today's visit and the days
#: before it), so that lengths differ only in older history.
SHARED_TAIL = 10


def _shop_events(customer: str, count: int, products: list[str]) -> list[Event]:
    """A customer's history on the example shop: views, carts, purchases, emails, offers.

    The newest :data:`SHARED_TAIL` events are the same for every customer (a purchase a week
    ago, then today's visit with views and a cart); the ``count - SHARED_TAIL`` older ones
    are drawn at random over the 300 days before, so lengths differ only in old history.
    """
    rng = random.Random(customer)
    kinds = ["view"] * 6 + ["add_to_cart", "purchase", "email_open", "offer_shown"]
    older = max(count - SHARED_TAIL, 0)
    start = DECIDE_AT - timedelta(days=300)
    step = timedelta(days=290) / max(older, 1)
    events = []
    for i in range(older):
        kind = rng.choice(kinds)
        events.append(
            Event(
                type=kind,
                customer_id=customer,
                session_id=f"old{i // 8}",
                at=start + step * i,
                product_id=rng.choice(products),
                category="outerwear" if kind == "view" and i % 3 == 0 else None,
                price=49.0 if kind in ("add_to_cart", "purchase") else None,
                offer_id="comeback10" if kind == "offer_shown" else None,
            )
        )
    week_ago, today = DECIDE_AT - timedelta(days=7), DECIDE_AT - timedelta(minutes=20)
    tail: list[tuple[str, datetime, str]] = [
        ("view", week_ago, "w"),
        ("add_to_cart", week_ago + timedelta(minutes=2), "w"),
        ("purchase", week_ago + timedelta(minutes=5), "w"),
        ("email_open", DECIDE_AT - timedelta(days=2), "e"),
    ]
    tail += [("view", today + timedelta(minutes=2 * i), "today") for i in range(4)]
    tail += [("add_to_cart", today + timedelta(minutes=9), "today")]
    tail += [("view", today + timedelta(minutes=10), "today")]
    for n, (kind, at, session) in enumerate(tail[-min(count, SHARED_TAIL) :]):
        events.append(
            Event(
                type=kind,
                customer_id=customer,
                session_id=f"{customer}-{session}",
                at=at,
                product_id=products[n % len(products)] if kind != "email_open" else None,
                category="outerwear" if kind == "view" else None,
                price=49.0 if kind in ("add_to_cart", "purchase") else None,
            )
        )
    return events


def _breakdown(
    p: Personalizer, store: MemoryStore, calls: dict[int, Callable[[], object]], runs: int
) -> None:
    """Where the time of a decision goes, at the shortest and the longest history."""
    parts: dict[tuple[int, str], Callable[[], object]] = {}
    for length in (LENGTHS[0], LENGTHS[-1]):
        request = calls[length].args[0]  # type: ignore[attr-defined]
        read = partial(store.history, request.user_id, request.session_id, now=request.now)
        history = read()
        ctx = p._resolver.resolve(request, history)
        ranker = p._state.base.ranker
        parts[(length, "whole decision")] = calls[length]
        parts[(length, "store.history()")] = read
        parts[(length, "context")] = partial(p._resolver.resolve, request, history)
        parts[(length, "ranking")] = partial(ranker.rank, ctx, placement="home", limit=10)
    samples = _interleaved(parts, runs)  # type: ignore[arg-type]
    print(f"| memory: part | {LENGTHS[0]} events | {LENGTHS[-1]:,} events |")
    print("| --- | ---: | ---: |")
    for name in ("whole decision", "store.history()", "context", "ranking"):
        short, long = (
            statistics.median(samples[(n, name)]) / 1e3 for n in (LENGTHS[0], LENGTHS[-1])
        )  # type: ignore[index]
        print(f"| {name} | {short:.0f} | {long:.0f} |")
    print()


def decisions(runs: int, url: str, pool: int | None) -> None:
    """The whole-decision curve: p50/p99 thread-CPU by history length and store.

    ``pool`` limits the customers' events to that many products (the same state at every
    length once they are all seen), to separate history length from profile size.
    """
    from personalize import Catalog, History, Personalizer, Request
    from personalize.cli import example_store

    shop = example_store()
    catalog = Catalog.from_file(shop / "catalog.json")
    with (shop / "events.jsonl").open() as fh:
        interactions = [Event.model_validate_json(line) for line in fh]
    base = Personalizer.from_file(
        shop / "personalization.yaml",
        catalog=catalog,
        interactions=interactions,
        autoload_plugins=False,
        store=None,
    )
    config = base.config.model_dump(by_alias=True, exclude_unset=True)
    config.setdefault("settings", {})["record"] = {
        "offers": False,
        "exposures": False,
        "sessions": False,
    }
    products = [product.id for product in catalog][:pool]
    folder = Path(tempfile.mkdtemp())
    stores: dict[str, Store | None] = {
        "none (History passed)": None,
        "memory": MemoryStore(RETENTION),
        "sqlite": SQLiteStore(folder / "decide.db", RETENTION),
        "redis": RedisStore(url, RETENTION, timeout=1.0, prefix=f"decide{time.time_ns()}:"),
    }
    print(
        f"Whole decision by history length over {len(products)} products,"
        " thread-CPU microseconds (record off):"
    )
    print("| store | events | p50 | p99 | p50 / p50 at 10 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    breakdowns: list[Callable[[], None]] = []
    try:
        for name, store in stores.items():
            p = Personalizer(
                config,
                catalog=catalog,
                interactions=base.index,
                autoload_plugins=False,
                store=store,
            )
            calls: dict[int, Callable[[], object]] = {}
            for length in LENGTHS:
                customer = f"d{length}"
                events = _shop_events(customer, length, products)
                request = Request(
                    user_id=customer,
                    session_id=f"{customer}-today",
                    now=DECIDE_AT,
                    url="https://shop/",
                )
                if store is None:
                    calls[length] = partial(p.personalize, request, History(events=events))
                else:
                    for i in range(0, length, 500):
                        store.append(events[i : i + 500])
                    calls[length] = partial(p.personalize, request)
            # Round robin over the lengths, so that the machine's drift hits all alike.
            rounds = runs if store is not None else max(20, runs // 10)
            samples = _interleaved(calls, rounds)
            first = statistics.median(samples[LENGTHS[0]]) / 1e3
            for length in LENGTHS:
                cpu50, cpu99 = _percentiles(samples[length])
                print(f"| {name} | {length:,} | {cpu50:.0f} | {cpu99:.0f} | {cpu50 / first:.2f}x |")
            if isinstance(store, MemoryStore):
                breakdowns.append(partial(_breakdown, p, store, calls, runs))
        print()
        for breakdown in breakdowns:
            breakdown()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check(rounds: int = 30) -> None:
    """Thread-CPU per event of ``check_events`` over ``rounds`` rounds of 1,000 events."""
    from personalize.store._events import check_events

    events = _events("check", 1000)
    events = [
        e.model_copy(update={"url": f"https://shop.example/p/{e.product_id}?utm_source=x"})
        for e in events
    ]
    check_events(events)
    spent = []
    for _ in range(rounds):
        t = time.thread_time_ns()
        check_events(events)
        spent.append((time.thread_time_ns() - t) / len(events))
    print(
        f"check_events: {statistics.median(spent) / 1e3:.2f} us per event "
        f"(median of {rounds} rounds of {len(events):,} events)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", help="a Redis URL (default: start a redis-server)")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--faults", action="store_true", help="run the Redis fault scenario")
    parser.add_argument("--decisions", action="store_true", help="the whole-decision curve")
    parser.add_argument("--products", type=int, help="--decisions: events over this many products")
    parser.add_argument("--check", action="store_true", help="time check_events per event")
    args = parser.parse_args()
    if args.check:
        check()
        return
    if args.faults:
        faults()
        return
    process = None
    url = args.redis
    if url is None:
        url, process = _start_redis()
    if args.decisions:
        try:
            decisions(args.runs, url, args.products)
        finally:
            if process is not None:
                process.kill()
                process.wait()
        return
    folder = Path(tempfile.mkdtemp())
    stores: dict[str, Store] = {
        "memory": MemoryStore(RETENTION),
        "sqlite": SQLiteStore(folder / "bench.db", RETENTION),
        "redis": RedisStore(url, RETENTION, timeout=1.0, prefix="bench:"),
    }
    try:
        print("| backend | append events/s (batches of 1) | append events/s (batches of 100) |")
        print("| --- | ---: | ---: |")
        for name, store in stores.items():
            single = _events(f"single-{name}", 2000)
            started = time.perf_counter()
            for event in single:
                store.append([event])
            one = len(single) / (time.perf_counter() - started)
            batched = _events(f"batched-{name}", 20_000)
            started = time.perf_counter()
            for i in range(0, len(batched), 100):
                store.append(batched[i : i + 100])
            hundred = len(batched) / (time.perf_counter() - started)
            print(f"| {name} | {one:,.0f} | {hundred:,.0f} |")
        print()
        print(
            "history() per backend and history length, microseconds (whole history; then"
            " events=False, the summary alone, which is what a decision reads):"
        )
        print(
            "| backend | events | CPU p50 | CPU p99 | wall p50 | wall p99 | summary CPU p50 / p99 |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, store in stores.items():
            for length in LENGTHS:
                customer = f"len{length}"
                events = _events(customer, length)
                for i in range(0, length, 500):
                    store.append(events[i : i + 500])
                now = events[-1].at + timedelta(minutes=5)

                read = partial(store.history, customer, f"s{length // 8}", now=now)
                _time(read, 200)  # warm up
                cpu50, cpu99, wall50, wall99 = _time(read, args.runs)
                figures = " | ".join(f"{v:.0f}" for v in (cpu50, cpu99, wall50, wall99))
                alone = partial(read, events=False)
                _time(alone, 200)
                s50, s99, _, _ = _time(alone, args.runs)
                print(f"| {name} | {length:,} | {figures} | {s50:.0f} / {s99:.0f} |")
    finally:
        if process is not None:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
