"""The index build as Spark DataFrame operations, bit for bit the in-process build.

Every aggregate the in-process build sums (:mod:`personalize.ranking._build`) has one
defined order of summation, and Spark follows it: values are gathered per key, sorted by
that order (order id, basket id) and added one by one with ``aggregate``. The
transcendental functions (``0.5 ** age``, ``log1p``) run in NumPy inside
``mapInArrow``, exactly as in-process; the rest is IEEE arithmetic, the same on the JVM.
Ids are numbered by first appearance in the DataFrame's row order
(``monotonically_increasing_id``), so read a log in its order (one file, or an explicit
ordering column).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from personalize.config import INDEX_FIELDS, IndexConfig
from personalize.errors import DataError
from personalize.ranking import InteractionIndex
from personalize.ranking._build import _best_sellers, log_scale, trending_scale
from personalize.ranking._index import _Csr

if TYPE_CHECKING:
    from personalize.catalog import Catalog

__all__ = ["build_index"]

_DAY = 86400.0


def build_index(
    df: DataFrame,
    catalog: Catalog | None = None,
    config: IndexConfig | None = None,
    *,
    out: str | Path | None = None,
    now: datetime | None = None,
) -> InteractionIndex:
    """Build the interaction index of the events in ``df`` with Spark; optionally save it.

    ``df`` holds one event a row, its columns named as event fields or mapped to them by
    ``config.columns`` (``config.defaults`` fills missing fields). The result equals
    ``build_index_from_files`` over the same rows in the same order.

    Args:
        df: The events.
        catalog: When given, category and brand best sellers and complements too.
        config: The ``ranking.index`` settings.
        out: Write the index there (the file ``InteractionIndex.save`` writes).
        now: The reference time for decay; defaults to the latest event.

    Raises:
        DataError: More rows without a type or a readable time than
            ``config.max_bad_lines``, or a needed column is missing.
    """
    config = config or IndexConfig()
    spark = df.sparkSession
    zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # naive times are UTC, as in-process
    try:
        index = _build(df, catalog, config, now)
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    if out is not None:
        index.save(out)
    return index


def _build(
    df: DataFrame, catalog: Catalog | None, config: IndexConfig, now: datetime | None
) -> InteractionIndex:
    events = _normalized(df, config)
    bad = events.filter(F.col("type").isNull() | F.col("us").isNull()).count()
    if bad > config.max_bad_lines:
        raise DataError(
            f"{bad} rows without a type or a readable time (at most {config.max_bad_lines})"
        )
    rows = events.filter(F.col("type").isNotNull() & F.col("us").isNotNull())
    rows = rows.filter(F.col("product_id").isNotNull())
    is_purchase = F.col("type") == "purchase"
    is_view = F.col("type").isin("view", "page_view") & F.col("session_id").isNotNull()
    kept = rows.filter(is_purchase | is_view).withColumn("t", F.col("us") / F.lit(1e6)).cache()
    skipped = rows.count() - kept.count()

    items, item_names = _dense(kept, "product_id")
    purchases = kept.filter(is_purchase).withColumn(
        "order_key",
        F.coalesce(
            F.col("order_id"),
            F.concat_ws("@", F.lit("\x1f"), F.coalesce("customer_id", F.lit("None")), F.col("us")),
        ),
    )
    orders, _ = _dense(purchases, "order_key", names=False)
    customers, customer_names = _dense(
        purchases.filter(F.col("customer_id").isNotNull()), "customer_id"
    )
    views = kept.filter(is_view)
    sessions, _ = _dense(views, "session_id", names=False)
    n_items, n_customers = len(item_names), len(customer_names)
    n_orders, n_sessions = orders.count(), sessions.count()

    latest = kept.agg(F.max("t")).first()
    latest_t = latest[0] if latest is not None else None
    ref = now.timestamp() if now is not None else (float(latest_t) if latest_t is not None else 0.0)
    built_at = datetime.fromtimestamp(ref, UTC) if latest_t is not None or now is not None else None

    p = (
        purchases.join(F.broadcast(items), "product_id")
        .join(orders, "order_key")
        .join(F.broadcast(customers), "customer_id", "left")
        .select("seq", "item", "order", F.coalesce("customer", F.lit(-1)).alias("cust"), "t")
    )
    # One row per distinct (order, item), the first in the log.
    first = Window.partitionBy("order", "item").orderBy("seq")
    lines = p.withColumn("_n", F.row_number().over(first)).filter("_n = 1").drop("_n")
    lines = lines.withColumn("age", F.greatest(F.lit(ref) - F.col("t"), F.lit(0.0)) / F.lit(_DAY))
    lines = _powers(lines, config).cache()

    popularity_raw = _per_item(lines, "decay", n_items)
    trending_raw = _per_item(lines, "recent", n_items)
    repurchase = _repurchase(lines, n_items)

    if config.co_purchase_scope == "customer":
        basket = F.when(F.col("cust") >= 0, F.col("cust")).otherwise(
            F.lit(n_customers) + F.col("order")
        )
    else:
        basket = F.col("order")
    baskets = lines.withColumn("basket", basket)
    if config.max_items_per_customer is not None:
        baskets = _capped(baskets, config.max_items_per_customer)
    co_purchase = _neighbours(
        baskets.select("basket", "item", F.col("order").alias("pos"), F.col("decay").alias("w")),
        n_items,
        config.max_neighbours,
    )

    v = views.join(F.broadcast(items), "product_id").join(sessions, "session_id")
    v = v.withColumn("age", F.greatest(F.lit(ref) - F.col("t"), F.lit(0.0)) / F.lit(_DAY))
    v = _powers(v.select("seq", "item", "session", "age"), config)
    co_view = _neighbours(
        v.select(
            F.col("session").alias("basket"),
            "item",
            F.col("seq").alias("pos"),
            F.col("decay").alias("w"),
        ),
        n_items,
        config.max_neighbours,
    )

    popularity = log_scale(popularity_raw)
    category_top: dict[str, tuple[str, ...]] = {}
    brand_top: dict[str, tuple[str, ...]] = {}
    complements: dict[str, tuple[str, ...]] = {}
    if catalog is not None:
        pop_of = dict(zip(item_names, popularity.tolist(), strict=True))
        category_top = _best_sellers(catalog.categories, pop_of, config.category_top_size)
        brands = {p.brand: catalog.by_brand(p.brand) for p in catalog if p.brand is not None}
        brand_top = _best_sellers(brands, pop_of, config.category_top_size)
        complements = {p.id: p.complements for p in catalog if p.complements}
    index = InteractionIndex(
        items=item_names,
        co_purchase=co_purchase,
        co_view=co_view,
        popularity=array("f", popularity.astype(np.float32).tobytes()),
        trending=array(
            "f",
            trending_scale(trending_raw, popularity_raw, config.trending_rise)
            .astype(np.float32)
            .tobytes(),
        ),
        repurchase=array("f", repurchase.astype(np.float32).tobytes()),
        country_top={},
        category_top=category_top,
        brand_top=brand_top,
        complements=complements,
        built_at=built_at,
        stats={
            "purchase_lines": purchases.count(),
            "orders": n_orders,
            "customers": n_customers,
            "views": views.count(),
            "sessions": n_sessions,
            "items": n_items,
            "skipped_events": skipped,
            "half_life_days": config.half_life_days,
            "trending_half_life_days": config.trending_half_life_days,
            "max_neighbours": config.max_neighbours,
            "co_purchase_scope": config.co_purchase_scope,
            "trending_rise": config.trending_rise,
        },
    )
    kept.unpersist()
    lines.unpersist()
    return index


def _normalized(df: DataFrame, config: IndexConfig) -> DataFrame:
    """The event fields (ids as strings), ``us`` (microseconds, UTC) and ``seq`` (row order)."""
    names = set(df.columns)
    chosen = {field: src for src, field in config.columns.items() if src in names}
    for field in INDEX_FIELDS:
        if field not in chosen and field in names and field not in config.columns:
            chosen[field] = field
    missing = [
        f for f in ("type", "product_id", "at") if f not in chosen and f not in config.defaults
    ]
    if missing:
        raise DataError(f"no column for {', '.join(missing)} (columns: {', '.join(df.columns)})")
    columns = [F.monotonically_increasing_id().alias("seq")]
    for field in INDEX_FIELDS:
        if field in chosen:
            column = F.col(f"`{chosen[field]}`")
        elif field in config.defaults:
            column = F.lit(config.defaults[field])
        else:
            column = F.lit(None)
        if field == "at":
            columns.append(_micros(df, chosen.get(field), column).alias("us"))
        else:
            columns.append(_text(df, chosen.get(field), column).alias(field))
    return df.select(*columns)


def _text(df: DataFrame, source: str | None, column: Any) -> Any:
    """An id as the file build reads it: a float column's whole numbers without ``.0``,
    its other values with their digits, NaN and infinities as no id."""
    kind = df.schema[source].dataType if source is not None else T.StringType()
    if not isinstance(kind, T.FloatType | T.DoubleType):
        return column.cast("string")
    value = column.cast("double")
    whole = (F.floor(value) == value) & (F.abs(value) < F.lit(float(2**63)))
    return (
        F.when(F.isnan(value) | (F.abs(value) == F.lit(float("inf"))), F.lit(None))
        .when(whole, value.cast("long").cast("string"))
        .otherwise(value.cast("string"))
    )


def _micros(df: DataFrame, source: str | None, column: Any) -> Any:
    kind = df.schema[source].dataType if source is not None else T.StringType()
    if isinstance(kind, T.TimestampType | T.TimestampNTZType | T.DateType):
        return F.unix_micros(column.cast("timestamp"))
    if isinstance(kind, T.NumericType):
        return F.round(column.cast("double") * F.lit(1e6)).cast("long")
    # ISO 8601, naive read as UTC (the session time zone must be UTC: see build_index).
    return F.unix_micros(F.to_timestamp(column))


def _dense(frame: DataFrame, column: str, *, names: bool = True) -> tuple[DataFrame, list[str]]:
    """Ids 0.. of ``column``'s values in first-seen order, and the values in that order."""
    name = {
        "product_id": "item",
        "order_key": "order",
        "customer_id": "customer",
        "session_id": "session",
    }[column]
    firsts = frame.groupBy(column).agg(F.min("seq").alias("_first"))
    ids = firsts.select(
        column, (F.row_number().over(Window.orderBy("_first")) - 1).alias(name)
    ).cache()
    if not names:
        return ids, []
    ordered = ids.orderBy(name).collect()
    return ids, [str(row[column]) for row in ordered]


def _powers(frame: DataFrame, config: IndexConfig) -> DataFrame:
    """``decay`` and ``recent`` of ``age`` (days), by NumPy, as the in-process build."""
    half_life, trending = config.half_life_days, config.trending_half_life_days
    schema = T.StructType(
        [
            *frame.schema.fields,
            T.StructField("decay", T.DoubleType()),
            T.StructField("recent", T.DoubleType()),
        ]
    )

    def power(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            age = batch.column("age").to_numpy(zero_copy_only=False)
            decay = np.power(0.5, age / half_life)
            recent = np.power(0.5, age / trending)
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(decay), pa.array(recent)],
                names=[*batch.schema.names, "decay", "recent"],
            )

    return frame.mapInArrow(power, schema)


def _ordered_sum(values: str, by: str) -> Any:
    """The sum of ``values`` added one by one in ascending ``by``."""
    gathered = F.array_sort(
        F.collect_list(F.struct(F.col(by).alias("k"), F.col(values).alias("v")))
    )
    return F.aggregate(gathered, F.lit(0.0), lambda acc, x: acc + x["v"])


def _per_item(lines: DataFrame, values: str, n_items: int) -> np.ndarray[Any, Any]:
    out = np.zeros(n_items)
    for row in lines.groupBy("item").agg(_ordered_sum(values, "order").alias("s")).collect():
        out[row["item"]] = row["s"]
    return out


def _repurchase(lines: DataFrame, n_items: int) -> np.ndarray[Any, Any]:
    pairs = lines.filter("cust >= 0").groupBy("cust", "item").count()
    per_item = pairs.groupBy("item").agg(
        F.count("*").alias("buyers"),
        F.sum(F.when(F.col("count") > 1, 1).otherwise(0)).alias("repeaters"),
    )
    buyers, repeaters = np.zeros(n_items, dtype=np.int64), np.zeros(n_items)
    for row in per_item.collect():
        buyers[row["item"]] = row["buyers"]
        repeaters[row["item"]] = float(row["repeaters"])
    return np.asarray(repeaters / (buyers + 1.0), dtype=np.float64)


def _capped(baskets: DataFrame, cap: int) -> DataFrame:
    """Per basket, the lines of its ``cap`` most recently bought distinct items."""
    newest = baskets.groupBy("basket", "item").agg(F.min("age").alias("_newest"))
    rank = F.row_number().over(Window.partitionBy("basket").orderBy("_newest", "item"))
    kept = newest.withColumn("_rank", rank).filter(F.col("_rank") <= cap).select("basket", "item")
    return baskets.join(kept, ["basket", "item"], "left_semi")


def _neighbours(lines: DataFrame, n_items: int, k: int) -> _Csr:
    """Top-K cosine neighbours of ``lines`` (basket, item, pos, w), as the in-process build."""
    cells = lines.groupBy("basket", "item").agg(_ordered_sum("w", "pos").alias("total"))
    schema = T.StructType([*cells.schema.fields, T.StructField("x", T.DoubleType())])

    def log1p(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            x = np.log1p(batch.column("total").to_numpy(zero_copy_only=False))
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(x)], names=[*batch.schema.names, "x"]
            )

    x = cells.mapInArrow(log1p, schema).select("basket", "item", "x").cache()
    left = x.select("basket", F.col("item").alias("i"), F.col("x").alias("xi"))
    right = x.select("basket", F.col("item").alias("j"), F.col("x").alias("xj"))
    products = left.join(right, "basket").withColumn("p", F.col("xi") * F.col("xj"))
    co = products.groupBy("i", "j").agg(_ordered_sum("p", "basket").alias("co")).cache()
    norms = co.filter("i = j").select(F.col("i").alias("n_item"), F.sqrt("co").alias("norm"))
    inverse = norms.select(
        "n_item",
        (F.lit(1.0) / F.when(F.col("norm") == 0, 1.0).otherwise(F.col("norm"))).alias("inv"),
    )
    cos = (
        co.filter((F.col("i") != F.col("j")) & (F.col("co") != 0))
        .join(
            F.broadcast(inverse.withColumnRenamed("n_item", "i").withColumnRenamed("inv", "inv_i")),
            "i",
        )
        .join(
            F.broadcast(inverse.withColumnRenamed("n_item", "j").withColumnRenamed("inv", "inv_j")),
            "j",
        )
        .select("i", "j", ((F.col("inv_i") * F.col("co")) * F.col("inv_j")).alias("cos"))
        .filter(F.col("cos") != 0)
    )
    ranked = cos.withColumn(
        "_rank", F.row_number().over(Window.partitionBy("i").orderBy(F.desc("cos"), "j"))
    ).filter(F.col("_rank") <= k)
    counts = np.zeros(n_items, dtype=np.int64)
    rows = ranked.orderBy("i", "_rank").collect()
    indices, data = array("i"), array("f")
    for row in rows:
        counts[row["i"]] += 1
    indices.frombytes(np.array([row["j"] for row in rows], dtype=np.int32).tobytes())
    data.frombytes(
        np.array([row["cos"] for row in rows], dtype=np.float64).astype(np.float32).tobytes()
    )
    indptr = array("q", [0])
    indptr.extend(np.cumsum(counts).tolist())
    x.unpersist()
    co.unpersist()
    return _Csr(indptr, indices, data)
