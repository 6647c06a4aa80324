"""The Spark build of the retail log is the in-process build, to the byte and in use."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from personalize import Personalizer
from personalize._models import Event, History, Product, Request
from personalize.catalog import Catalog
from personalize.config import IndexConfig
from personalize.indexing import build_index_from_files

RETAIL_LINES = 20_000
CONFIG = IndexConfig(
    columns={
        "InvoiceNo": "order_id",
        "StockCode": "product_id",
        "InvoiceDate": "at",
        "CustomerID": "customer_id",
    },
    defaults={"type": "purchase"},
)


@pytest.fixture(scope="module")
def retail(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first order lines of the retail log, as the store exported them."""
    target = tmp_path_factory.mktemp("retail") / "retail.csv"
    source = shared_data / "retail" / "online_retail.csv.gz"
    with gzip.open(source, "rt", encoding="utf-8") as src, target.open("w") as out:
        for number, line in enumerate(src):
            if number > RETAIL_LINES:
                break
            out.write(line)
    return target


def test_spark_build_of_the_retail_log_equals_the_in_process_build(
    spark: Any, retail: Path, tmp_path: Path
) -> None:
    from personalize.spark import build_index

    df = spark.read.csv(str(retail), header=True)
    on_spark = build_index(df, None, CONFIG, out=tmp_path / "spark.idx")
    in_process = build_index_from_files([retail], config=CONFIG)
    in_process.save(tmp_path / "local.idx")
    assert on_spark.stats["customers"] > 200
    assert (tmp_path / "spark.idx").read_bytes() == (tmp_path / "local.idx").read_bytes()

    # And the same recommendations, customer by customer.
    histories: dict[str, list[Event]] = {}
    titles: dict[str, str] = {}
    with retail.open(newline="") as fh:
        for row in csv.DictReader(fh):
            titles.setdefault(row["StockCode"], row["Description"] or row["StockCode"])
            if row["CustomerID"]:
                histories.setdefault(row["CustomerID"], []).append(
                    Event(
                        type="purchase",
                        product_id=row["StockCode"],
                        order_id=row["InvoiceNo"],
                        at=row["InvoiceDate"],
                    )
                )
    customers = sorted(histories)[:200]
    assert len(customers) == 200
    catalog = Catalog(Product(id=pid, title=title) for pid, title in titles.items())
    left = Personalizer(
        {}, catalog=catalog, interactions=tmp_path / "spark.idx", autoload_plugins=False
    )
    right = Personalizer(
        {}, catalog=catalog, interactions=tmp_path / "local.idx", autoload_plugins=False
    )
    request = Request(now=datetime(2011, 1, 1, tzinfo=UTC))  # scores decay with time
    for customer in customers:
        history = History(events=histories[customer])
        a = left.personalize(request, history, placement="home", limit=10)
        b = right.personalize(request, history, placement="home", limit=10)
        assert [(r.product_id, r.score) for r in a.products] == [
            (r.product_id, r.score) for r in b.products
        ], customer
        assert a.products, customer


def test_spark_build_reports_missing_columns(spark: Any) -> None:
    from personalize.errors import DataError
    from personalize.spark import build_index

    df = spark.createDataFrame([("a", "b")], ["foo", "bar"])
    with pytest.raises(DataError, match="no column for type, product_id, at"):
        build_index(df)
