"""Ids in float columns (a Parquet export with gaps): whole numbers lose their ``.0``, other
values keep their digits, and NaN is no id, as a null is."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from personalize.config import IndexConfig
from personalize.indexing import build_index_from_files

CONFIG = IndexConfig(max_items_per_customer=None, co_purchase_scope="customer")
AT = ["2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z", "2024-01-03T10:00:00Z"] * 2


def build(path: Path, out: Path) -> bytes:
    build_index_from_files([path], config=CONFIG).save(out)
    return out.read_bytes()


def write(path: Path, customers: list[float | None], products: list[float]) -> Path:
    table = pa.table(
        {
            "type": ["purchase"] * 6,
            "product_id": pa.array(products, pa.float64()),
            "at": AT,
            "order_id": [f"o{i}" for i in range(6)],
            "customer_id": pa.array(customers, pa.float64(), from_pandas=False),
        }
    )
    pq.write_table(table, path)
    return path


def test_nan_customer_ids_are_missing_ids_not_one_customer(tmp_path: Path) -> None:
    # Four anonymous order lines (NaN or null): with customer scope, NaN made them one
    # customer whose basket joined products 2 to 5.
    products = [1.0, 2.0, 3.0, 4.0, 5.0, 1.0]
    nan = write(
        tmp_path / "nan.parquet", [7.0, math.nan, math.nan, math.nan, math.nan, 7.0], products
    )
    null = write(tmp_path / "null.parquet", [7.0, None, None, None, None, 7.0], products)
    assert build(nan, tmp_path / "a.idx") == build(null, tmp_path / "b.idx")
    index = build_index_from_files([nan], config=CONFIG)
    assert index.stats["customers"] == 1
    assert index.co_purchase("2") == ((), ())


def test_float_ids_read_as_in_a_json_lines_log(tmp_path: Path) -> None:
    products = [12.5, 17850.0, 3.0, 12.5, 4.25, 3.0]
    customers: list[float | None] = [1.0, 1.0, 2.0, 2.0, math.nan, 2.0]
    parquet = write(tmp_path / "events.parquet", customers, products)
    index = build_index_from_files([parquet], config=CONFIG)
    assert set(index.items) == {"12.5", "17850", "3", "4.25"}
    lines = tmp_path / "events.jsonl"
    with lines.open("w") as f:  # Python's json writes (and reads) NaN
        for i in range(6):
            record = {"type": "purchase", "product_id": products[i], "at": AT[i],
                      "order_id": f"o{i}", "customer_id": customers[i]}  # fmt: skip
            f.write(json.dumps(record) + "\n")
    assert build(lines, tmp_path / "a.idx") == build(parquet, tmp_path / "b.idx")
