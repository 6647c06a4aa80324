"""Throughput of ``personalize campaign`` on a realistic store, and one run of 1M customers.

The store is the one of ``bench_personalize.py``: 10k products, 200 rules, 50 capped
offers (a few restricted to ``email`` or ``web``), an index from 20k customers' sessions.
Histories live in a SQLite store: ``--with-history`` customers with about 60 events each
(views, carts, purchases over 200 days); the other customers on the list are new (no
history), as on a real mailing list. The customers file is JSONL with placeholder fields.

Reported: customers per second (wall) for each ``--workers`` value, the thread-CPU time
per customer in one process (median over chunks), the peak RSS of the run (this process
and its workers, from ``getrusage``), and a sample row.

Run::

    python benchmarks/bench_campaign.py                       # 20k customers, 1 and 2 workers
    python benchmarks/bench_campaign.py --customers 1000000 --workers 2 --with-history 100000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_personalize import (
    CATEGORIES,
    COUNTRY_HEADERS,
    NOW,
    make_config,
    make_interactions,
    make_products,
    popular_id,
)

from personalize import Catalog, Event
from personalize.campaigns import read_customers
from personalize.campaigns._run import CampaignJob, run_campaign
from personalize.ranking import InteractionIndex
from personalize.store import SQLiteStore

PRODUCTS = 10_000


def build_shop(folder: Path, with_history: int, customers: int, seed: int = 7) -> CampaignJob:
    rng = random.Random(seed)
    products = make_products(PRODUCTS, rng)
    catalog = Catalog(products)
    (folder / "catalog.json").write_text(
        json.dumps([p.model_dump(mode="json", exclude_defaults=True) for p in products])
    )
    InteractionIndex.build(make_interactions(PRODUCTS, rng), catalog=catalog).save(
        folder / "index.npz"
    )
    config = make_config(rng)
    for i, offer in enumerate(config["offers"]):
        if i % 10 == 0:
            offer["channels"] = ["email"]
        elif i % 10 == 1:
            offer["channels"] = ["web"]
    for i, rule in enumerate(config["rules"]):
        if i % 25 == 0:
            rule["channels"] = ["email"]
    (folder / "personalization.yaml").write_text(yaml.safe_dump(config))

    store = SQLiteStore(folder / "state.db", synchronous="NORMAL")
    batch: list[Event] = []
    for c in range(with_history):
        at = NOW - timedelta(days=200)
        for j in range(rng.randint(20, 100)):
            at += timedelta(hours=rng.uniform(1, 40))
            pid = popular_id(PRODUCTS, rng)
            kind = "purchase" if j % 6 == 0 else ("add_to_cart" if j % 4 == 0 else "view")
            batch.append(
                Event(
                    type=kind,
                    product_id=pid,
                    at=min(at, NOW - timedelta(hours=1)),
                    customer_id=f"c{c}",
                    session_id=f"c{c}-{j // 8}",
                    order_id=f"o{c}-{j // 8}" if kind == "purchase" else None,
                    price=20.0,
                    category=CATEGORIES[int(pid[1:]) % len(CATEGORIES)],
                )
            )
        if len(batch) > 20_000:
            store.append(batch)
            batch.clear()
    store.append(batch)
    store.close()
    with (folder / "customers.jsonl").open("w") as f:
        for c in range(customers):
            record = {
                "customer_id": f"c{c}",
                "first_name": f"Name{c}",
                "email": f"c{c}@example.test",
                "country": COUNTRY_HEADERS[c % len(COUNTRY_HEADERS)],
            }
            f.write(json.dumps(record) + "\n")
    return shop_job(folder)


def shop_job(folder: Path) -> CampaignJob:
    """The campaign job over a shop built by :func:`build_shop`."""
    return CampaignJob(
        config=folder / "personalization.yaml",
        catalog=folder / "catalog.json",
        index=folder / "index.npz",
        campaign_id="bench",
        secret="bench-secret",
        now=NOW,
        store_url=f"sqlite:///{folder / 'state.db'}",
        link_base="https://shop.example",
    )


def cpu_per_customer(job: CampaignJob, customers: list[Any]) -> tuple[float, float]:
    """Median and p99 thread-CPU milliseconds per customer, in this process (chunks of 100)."""
    from personalize.campaigns._run import _start_worker, plan_chunk

    _start_worker(job)
    chunks = [list(enumerate(customers[i : i + 100])) for i in range(0, len(customers), 100)]
    per: list[float] = []
    for chunk in chunks:
        t = time.thread_time_ns()
        plan_chunk(chunk)
        per.append((time.thread_time_ns() - t) / 1e6 / len(chunk))
    per.sort()
    return statistics.median(per), per[min(len(per) - 1, round(0.99 * (len(per) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--with-history", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cpu-sample", type=int, default=2_000)
    parser.add_argument("--folder", help="keep the shop here (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="reuse the shop in --folder")
    args = parser.parse_args()
    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench_campaign_"))
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    if args.reuse and (folder / "customers.jsonl").exists():
        job = shop_job(folder)
    else:
        job = build_shop(folder, args.with_history, args.customers)
    print(f"shop ready in {time.perf_counter() - t:.1f} s in {folder}")
    if args.cpu_sample > 0:
        customers = read_customers(folder / "customers.jsonl")
        sample = [c for _, c in zip(range(args.cpu_sample), customers, strict=False)]
        probe = CampaignJob(**{**_fields(job), "campaign_id": "cpu-probe"})
        cpu = cpu_per_customer(probe, sample)
        print(f"thread-CPU per customer: median {cpu[0]:.3f} ms, p99 {cpu[1]:.3f} ms")
    for workers in args.workers:
        run = CampaignJob(**{**_fields(job), "campaign_id": f"bench-w{workers}"})
        out = folder / f"rows-w{workers}.jsonl"
        started = time.perf_counter()
        last = [started]

        def progress(done: int, last: list[float] = last, started: float = started) -> None:
            now = time.perf_counter()
            if now - last[0] >= 30:
                last[0] = now
                rate = done / (now - started)
                print(f"  {done:,} customers, {rate:,.0f}/s", flush=True)

        summary = run_campaign(
            run,
            read_customers(folder / "customers.jsonl"),
            out,
            workers=workers,
            on_progress=progress,
        )
        peak = max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        figures = summary.to_dict()
        print(
            f"workers={workers}: {figures['customers']} customers in {figures['seconds']} s, "
            f"{figures['customers_per_second']:,.0f} customers/s, {figures['offers']} offers, "
            f"peak RSS {peak / 1024:.0f} MB (largest process)"
        )
        with out.open() as f:
            print("sample row:", f.readline().strip()[:600])


def _fields(job: CampaignJob) -> dict[str, Any]:
    return {name: getattr(job, name) for name in job.__dataclass_fields__}


if __name__ == "__main__":
    main()
