"""Throughput of ``personalize campaign`` on a realistic store, and one run of 1M customers.

The store is the one of ``bench_personalize.py``: 10k products, 200 rules, 50 capped
offers (a few restricted to ``email`` or ``web``), an index from 20k customers' sessions.
Histories live in a SQLite store: ``--with-history`` customers with about 60 events each
(views, carts, purchases over 200 days); the other customers on the list are new (no
history), as on a real mailing list. The customers file is JSONL with placeholder fields.

Reported: the thread-CPU time per customer in one process, for customers with and
without history (median and p99 over chunks of 500; the mean split into the decision,
the history reads, the store writes and the campaign's own work); then for each
``--workers`` value the customers per second (wall), the CPU time of all processes per
customer, the peak RSS of the largest process (``getrusage``) and a sample row. Every run
starts from a copy of the shop's store, so none resumes an earlier one.

Run::

    python benchmarks/bench_campaign.py                       # 20k customers, 1 and 2 workers
    python benchmarks/bench_campaign.py --customers 100000 --workers 2 --folder /tmp/shop
    python benchmarks/bench_campaign.py --folder /tmp/shop --reuse --workers 2  # same shop
    python benchmarks/bench_campaign.py --customers 1000000 --workers 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import replace
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
    (folder / "shop.json").write_text(
        json.dumps({"customers": customers, "with_history": with_history})
    )
    return shop_job(folder)


def shop_job(folder: Path, db: str = "state.db") -> CampaignJob:
    """The campaign job over a shop built by :func:`build_shop`, with the store ``db``."""
    return CampaignJob(
        config=folder / "personalization.yaml",
        catalog=folder / "catalog.json",
        index=folder / "index.npz",
        campaign_id="bench",
        secret="bench-secret",
        now=NOW,
        store_url=f"sqlite:///{folder / db}",
        link_base="https://shop.example",
    )


def fresh_store(folder: Path, name: str) -> str:
    """A copy of the shop's store (never recorded into), so every run starts alike."""
    source = sqlite3.connect(folder / "state.db")
    target = sqlite3.connect(folder / name)
    source.backup(target)
    target.close()
    source.close()
    return name


class Split:
    """Thread-CPU of the decision, the history reads and the store writes, in this thread."""

    def __init__(self) -> None:
        self.ns = {"decision": 0, "read": 0, "record": 0}

    def wrap(self, owner: Any, method: str, part: str) -> None:
        inner = getattr(owner, method, None)
        if inner is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.thread_time_ns()
            try:
                return inner(*args, **kwargs)
            finally:
                self.ns[part] += time.thread_time_ns() - t

        setattr(owner, method, timed)


def cpu_per_customer(job: CampaignJob, customers: list[Any]) -> dict[str, float]:
    """Thread-CPU milliseconds per customer in this process (chunks of 500): median and
    p99 over chunks, and the mean split into decision, history read, record and the rest
    (the campaign's own work: codes, rows, encoding)."""
    from personalize.campaigns._plan import sent_events
    from personalize.campaigns._run import _start_worker, _worker, plan_chunk

    _start_worker(job)
    split = Split()
    split.wrap(_worker["personalizer"], "personalize", "decision")
    split.wrap(_worker["store"], "histories", "read")
    split.wrap(_worker["store"], "history", "read")
    split.wrap(_worker["store"], "append", "record")
    chunks = [list(enumerate(customers[i : i + 500])) for i in range(0, len(customers), 500)]
    per: list[float] = []
    total = 0
    for chunk in chunks:
        t = time.thread_time_ns()
        planned = plan_chunk(chunk)
        if planned.sends:  # as run_campaign records them
            _worker["store"].append(sent_events(job.campaign_id, job.now, planned.sends))
        spent = time.thread_time_ns() - t
        total += spent
        per.append(spent / 1e6 / len(chunk))
    _worker.clear()
    per.sort()
    n = len(customers)
    parts = {k: v / 1e6 / n for k, v in split.ns.items()}
    return {
        "median": statistics.median(per),
        "p99": per[min(len(per) - 1, round(0.99 * (len(per) - 1)))],
        "mean": total / 1e6 / n,
        **parts,
        "campaign": total / 1e6 / n - sum(parts.values()),
    }


def cpu_seconds() -> tuple[float, float]:
    """User + system CPU of this process, and of its finished workers, so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--with-history", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--cpu-sample", type=int, default=2_000, help="customers of each kind")
    parser.add_argument("--chunk-size", type=int, default=500)
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
    meta = folder / "shop.json"
    with_history = (
        json.loads(meta.read_text())["with_history"] if meta.exists() else args.with_history
    )
    if args.cpu_sample > 0:
        everyone = read_customers(folder / "customers.jsonl")
        known = list(itertools.islice(everyone, args.cpu_sample))
        new = list(itertools.islice(everyone, with_history, with_history + args.cpu_sample))
        for label, sample in (("with history", known), ("without history", new)):
            if not sample:
                continue
            probe = replace(
                job, store_url=shop_job(folder, fresh_store(folder, "probe.db")).store_url
            )
            cpu = cpu_per_customer(replace(probe, campaign_id="cpu-probe"), sample)
            print(
                f"thread-CPU per customer {label} ({len(sample)}): median {cpu['median']:.3f} ms,"
                f" p99 {cpu['p99']:.3f} ms; mean {cpu['mean']:.3f} ms = decision"
                f" {cpu['decision']:.3f} + history read {cpu['read']:.3f} + record"
                f" {cpu['record']:.3f} + campaign {cpu['campaign']:.3f}"
            )
    for workers in args.workers:
        store_url = shop_job(folder, fresh_store(folder, "run.db")).store_url
        run = replace(job, campaign_id=f"bench-w{workers}", store_url=store_url)
        out = folder / f"rows-w{workers}.jsonl"
        cpu_before = cpu_seconds()
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
            chunk_size=args.chunk_size,
            on_progress=progress,
        )
        main_cpu, workers_cpu = (b - a for a, b in zip(cpu_before, cpu_seconds(), strict=True))
        cpu = main_cpu + workers_cpu
        peak = max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        figures = summary.to_dict()
        n = figures["customers"]
        print(
            f"workers={workers}: {n:,} customers in {figures['seconds']} s,"
            f" {figures['customers_per_second']:,.0f} customers/s, {figures['offers']:,} offers,"
            f" CPU {cpu:.1f} s ({cpu * 1e3 / max(n, 1):.3f} ms per customer, all processes;"
            f" this process {main_cpu:.1f} s),"
            f" peak RSS {peak / 1024:.0f} MB (largest process)"
        )
        with out.open() as f:
            print("sample row:", f.readline().strip()[:600])


if __name__ == "__main__":
    main()
