"""Index build at scale (issue 12): synthetic long-tailed events, written to Parquet first.

The generator writes ``--events`` events (40 % purchase lines in orders, 60 % views in
sessions) of ``--events / 20`` customers over ``--products`` products (default
``--events / 100``), both long-tailed: product ranks and customer activity follow
``floor(n * u**3)`` and ``floor(n * u**2)`` for uniform ``u``, so a few products sell a lot
and a few customers buy thousands of distinct products (which the per-customer cap
bounds). Times span two years. The build then runs in a child process,
``personalize index build FILE --out INDEX``, and the parent reports its wall time, CPU
time and peak RSS (``resource.getrusage(RUSAGE_CHILDREN)``).

Run: ``python benchmarks/bench_index_build.py --events 10000000`` (add ``--keep`` to reuse
the Parquet file on the next run, ``--max-items-per-customer 0`` for no cap).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

_CHUNK = 2_000_000
_START = 1_640_995_200  # 2022-01-01
_SPAN = 2 * 365 * 86400


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pa.array(numbers).cast(pa.string()), "")


def generate(path: Path, events: int, products: int, seed: int) -> None:
    """Write ``events`` synthetic events to the Parquet file ``path``, chunk by chunk."""
    rng = np.random.default_rng(seed)
    customers = max(events // 20, 1)
    schema = pa.schema(
        [
            ("type", pa.string()),
            ("product_id", pa.string()),
            ("at", pa.timestamp("us", tz="UTC")),
            ("order_id", pa.string()),
            ("session_id", pa.string()),
            ("customer_id", pa.string()),
        ]
    )
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for start in range(0, events, _CHUNK):
            n = min(_CHUNK, events - start)
            purchase = rng.random(n) < 0.4
            customer = np.floor(customers * rng.random(n) ** 2).astype(np.int64)
            product = np.floor(products * rng.random(n) ** 3).astype(np.int64)
            at = (_START + rng.random(n) * _SPAN) * 1e6
            slot = rng.integers(0, 4, n)
            order = np.where(purchase, customer * 4 + slot, -1)
            session = np.where(purchase, -1, customer * 4 + slot)
            table = pa.table(
                {
                    "type": pc.if_else(pa.array(purchase), "purchase", "view"),
                    "product_id": _ids("P", product),
                    "at": pa.array(at.astype(np.int64)).cast(pa.timestamp("us", tz="UTC")),
                    "order_id": pc.if_else(
                        pa.array(purchase), _ids("O", order), pa.nulls(n, pa.string())
                    ),
                    "session_id": pc.if_else(
                        pa.array(~purchase), _ids("S", session), pa.nulls(n, pa.string())
                    ),
                    "customer_id": _ids("C", customer),
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=1_000_000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--products", type=int, help="default: events / 100")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the files go")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the Parquet file")
    parser.add_argument("--max-items-per-customer", type=int)
    args = parser.parse_args()
    products = args.products or max(args.events // 100, 10)
    folder = Path(args.dir)
    events_file = folder / f"bench_events_{args.events}_{products}_{args.seed}.parquet"
    index_file = folder / f"bench_index_{args.events}.idx"
    if not events_file.exists():
        started = time.perf_counter()
        generate(events_file, args.events, products, args.seed)
        size = events_file.stat().st_size / 1e6
        print(f"generated {events_file} ({size:,.0f} MB) in {time.perf_counter() - started:.1f} s")
    command = [sys.executable, "-m", "personalize.cli", "index", "build", str(events_file)]
    command += ["--out", str(index_file), "--quiet"]
    if args.max_items_per_customer is not None:
        command += ["--max-items-per-customer", str(args.max_items_per_customer)]
    started = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ})
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"index build of {args.events:,} events over {products:,} products: wall {wall:.1f} s,"
        f" CPU {usage.ru_utime + usage.ru_stime:.1f} s, peak RSS {usage.ru_maxrss / 1024:,.0f} MB,"
        f" index {index_file.stat().st_size / 1e6:,.1f} MB"
    )
    if not args.keep:
        events_file.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
