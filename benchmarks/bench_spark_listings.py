"""What finding each customer's first listing costs a Spark campaign, beside the list itself.

``personalize.spark.plan_campaign`` numbers the customer rows, marks each id's first row
with a window over the ids and sorts back into the input's order, so that a customer
listed twice, in two partitions, is planned and sent once. This times that preparation
against a plain read of the same list (the id cast to text), both written to Spark's
``noop`` sink so that every row is computed, alternating, in local mode.

Run: ``python benchmarks/bench_spark_listings.py --customers 1000000 --rounds 3``
(needs the ``spark`` extra and a JVM).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=float, default=0.01, help="share listed twice")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from personalize.spark._campaign import first_listings

    spark = (
        SparkSession.builder.master(args.master)
        .appName("bench-spark-listings")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    n = args.customers
    every = max(int(1 / args.repeats), 1) if args.repeats > 0 else n + 1
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "customers.parquet")
        # A list of ``n`` rows where one row in ``every`` repeats an earlier customer.
        number = F.when(F.col("id") % every == every - 1, F.col("id") - 1).otherwise(F.col("id"))
        (
            spark.range(n)
            .select(
                F.concat(F.lit("c"), number.cast("string")).alias("customer_id"),
                F.concat(F.lit("Name"), F.col("id").cast("string")).alias("first_name"),
                F.concat(F.lit("c"), F.col("id").cast("string"), F.lit("@x.test")).alias("email"),
                F.lit("DE").alias("country"),
            )
            .write.parquet(path)
        )
        customers = spark.read.parquet(path)
        partitions = customers.rdd.getNumPartitions()
        plain = customers.select(F.col("customer_id").cast("string"), "first_name", "email")
        marked = first_listings(customers)
        firsts = marked.filter(F.col("_pz_first")).count()
        times: dict[str, list[float]] = {"plain read": [], "first listings": []}
        for _ in range(args.rounds):
            for name, df in (("plain read", plain), ("first listings", marked)):
                start = time.perf_counter()
                df.write.format("noop").mode("overwrite").save()
                times[name].append(time.perf_counter() - start)
    spark.stop()
    print(
        f"{n:,} customers in {partitions} partitions, {n - firsts:,} later listings, "
        f"{args.master}, {args.rounds} rounds (wall seconds)"
    )
    for name, spent in times.items():
        each = ", ".join(f"{t:.2f}" for t in spent)
        print(f"{name:15} median {statistics.median(spent):6.2f} s  ({each})")
    extra = statistics.median(times["first listings"]) - statistics.median(times["plain read"])
    print(f"first listings cost {extra:.2f} s more: {extra / n * 1e6:.2f} us a customer")


if __name__ == "__main__":
    main()
