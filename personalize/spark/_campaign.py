"""The campaign plan as a Spark job: the same rows as :func:`personalize.campaigns.plan_campaign`.

Each Python worker loads the personalizer once, from the saved configuration, catalog and
index (files every executor can read: shared storage, or shipped with ``--files``), and
opens the store once; then it plans its partitions' customers with ``mapInArrow``, one
Arrow batch at a time. Rows come out as the flat records of
:meth:`~personalize.campaigns.CampaignRow.to_record` (all text), plus an ``error`` column:
``null`` for a planned customer, the reason for one left out.

A customer listed more than once is planned at its first listing only, as in-process: the
job numbers the input rows, marks each id's first row with a window over the ids (one
shuffle), and sorts back into the input's order (a second), so that repeats in different
partitions, which two executors would each plan and send, are found before planning.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from personalize.campaigns._codes import DEFAULT_CODE_FORMAT
from personalize.campaigns._plan import LISTED_TWICE
from personalize.campaigns._rows import SkippedCustomer
from personalize.campaigns._run import CampaignJob, load_personalizer
from personalize.campaigns._sources import customer_of, histories_from_file
from personalize.store import store_from_url

__all__ = ["plan_campaign"]

#: The columns every output row has after the customer's own.
ROW_COLUMNS = ("offer_ids", "codes", "product_ids", "offers", "products", "link", "error")
#: The job's own columns: each input row's number, and whether it is its id's first row.
_AT, _FIRST = "_pz_at", "_pz_first"
_loaded: dict[CampaignJob, tuple[Any, Any, Any]] = {}


def plan_campaign(
    df_customers: Any,
    config_path: str | Path,
    catalog_path: str | Path,
    index_path: str | Path,
    *,
    campaign_id: str,
    secret: str,
    now: datetime,
    store_url: str | None = None,
    histories_path: str | Path | None = None,
    placement: str = "email",
    limit: int = 6,
    code_format: str = DEFAULT_CODE_FORMAT,
    link_base: str = "",
    geoip_path: str | Path | None = None,
    id_column: str = "customer_id",
) -> Any:
    """Plan an email campaign for the customers of a Spark DataFrame.

    Args:
        df_customers: One row per customer: ``id_column`` and the placeholder columns
            (``first_name``, ``email``, ``country`` ...).
        config_path: The configuration file, readable by every executor.
        catalog_path: The catalog file, likewise.
        index_path: The saved interaction index, likewise.
        campaign_id: See :func:`personalize.campaigns.plan_campaign`.
        secret: The coupon-code key.
        now: The campaign time (pass it: executors must agree on it).
        store_url: A store every executor reaches (``redis://...``; ``sqlite:///`` on one
            host); histories are read from it and sends recorded in it.
        histories_path: Instead of a store, a JSONL file of histories (loaded by each
            worker; nothing is recorded).
        placement: The placement products are ranked for.
        limit: Products per email.
        code_format: The coupon code template.
        link_base: Prefixed to landing paths.
        geoip_path: A MaxMind database, if needed.
        id_column: The column holding the customer id.

    Returns:
        A DataFrame of text columns: ``customer_id``, the placeholder columns, then
        :data:`ROW_COLUMNS`, in the input's order. A customer listed more than once is
        planned at its first listing; the later ones have an ``error`` that says so.
    """
    from pyspark.sql.types import StringType, StructField, StructType

    job = CampaignJob(
        config=Path(config_path),
        catalog=Path(catalog_path),
        index=Path(index_path),
        campaign_id=campaign_id,
        secret=secret,
        now=now,
        store_url=store_url,
        histories=Path(histories_path) if histories_path is not None else None,
        placement=placement,
        limit=limit,
        code_format=code_format,
        link_base=link_base,
        geoip=Path(geoip_path) if geoip_path is not None else None,
    )
    fields = [c for c in df_customers.columns if c != id_column]
    names = ["customer_id", *fields, *ROW_COLUMNS]
    schema = StructType([StructField(name, StringType(), True) for name in names])
    df = first_listings(df_customers, id_column)

    def plan_batches(batches: Iterator[Any]) -> Iterator[Any]:
        return _plan_batches(job, names, batches)

    return df.mapInArrow(plan_batches, schema)


def first_listings(df_customers: Any, id_column: str = "customer_id") -> Any:
    """The customers with their id as text in ``customer_id``, in the input's order, and a
    column that says whether the row is its id's first (the plan skips the others)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    fields = [c for c in df_customers.columns if c != id_column]
    df = df_customers.select(
        df_customers[id_column].cast("string").alias("customer_id"),
        *(df_customers[c] for c in fields),
    ).withColumn(_AT, F.monotonically_increasing_id())
    listing = Window.partitionBy("customer_id").orderBy(_AT)
    return df.withColumn(_FIRST, F.row_number().over(listing) == 1).orderBy(_AT).drop(_AT)


def _worker(job: CampaignJob) -> tuple[Any, Any, Any]:
    """The personalizer, store and histories of this Python worker, loaded once."""
    loaded = _loaded.get(job)
    if loaded is None:
        personalizer = load_personalizer(job.config, job.catalog, job.index, geoip=job.geoip)
        store = store_from_url(job.store_url) if job.store_url is not None else None
        histories = histories_from_file(job.histories) if job.histories is not None else None
        loaded = _loaded[job] = (personalizer, store, histories)
    return loaded


def _plan_batches(job: CampaignJob, names: list[str], batches: Iterator[Any]) -> Iterator[Any]:
    import pyarrow as pa

    personalizer, store, histories = _worker(job)
    schema = pa.schema([(name, pa.string()) for name in names])
    for batch in batches:
        listed = batch.to_pylist()
        customers = [{k: v for k, v in c.items() if k != _FIRST} for c in listed]
        again = {i for i, c in enumerate(listed) if not c[_FIRST] and _has_id(customers[i])}
        first = [i for i in range(len(customers)) if i not in again]
        skipped: dict[int, SkippedCustomer] = {}
        rows = job.plan(
            personalizer,
            [customers[i] for i in first],
            store=store,
            histories=histories,
            on_skip=partial(_remember, skipped),
            batch_size=max(len(first), 1),
        )
        planned = iter(list(rows))
        errors = {first[at]: skip.error for at, skip in skipped.items()}
        errors.update(dict.fromkeys(again, LISTED_TWICE))
        out: list[dict[str, Any]] = []
        for position, customer in enumerate(customers):
            if position in errors:
                out.append({**_text(customer), "error": errors[position]})
            else:
                out.append({**next(planned).to_record(), "error": None})
        columns = {name: [record.get(name) for record in out] for name in names}
        yield pa.RecordBatch.from_pydict(columns, schema=schema)


def _has_id(customer: dict[str, Any]) -> bool:
    """Whether the record has a usable id (one without says so, listed once or not)."""
    try:
        customer_of(customer)
    except ValueError:
        return False
    return True


def _remember(skipped: dict[int, SkippedCustomer], customer: SkippedCustomer) -> None:
    skipped[customer.position] = customer


def _text(customer: dict[str, Any]) -> dict[str, Any]:
    return {k: v if v is None or isinstance(v, str) else str(v) for k, v in customer.items()}
