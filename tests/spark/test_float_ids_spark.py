"""Float id columns (a Parquet export with gaps) read on Spark as the file build reads them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from personalize.config import IndexConfig
from personalize.indexing import build_index_from_files

CONFIG = IndexConfig(max_items_per_customer=None, co_purchase_scope="customer")


def test_float_ids_with_nan_give_the_index_of_the_file_build(spark: Any, tmp_path: Path) -> None:
    from personalize.spark import build_index

    path = tmp_path / "events.parquet"
    at = [f"2024-01-0{d}T10:00:00Z" for d in (1, 2, 3, 4, 5, 6)]
    pq.write_table(
        pa.table(
            {
                "type": ["purchase"] * 6,
                "product_id": pa.array([12.5, 17850.0, 3.0, 12.5, 4.0, 3.0], pa.float64()),
                "at": at,
                "order_id": [f"o{i}" for i in range(6)],
                "customer_id": pa.array(
                    [1.0, 1.0, math.nan, math.nan, math.nan, 2.0], pa.float64(), from_pandas=False
                ),
            }
        ),
        path,
    )
    on_spark = build_index(spark.read.parquet(str(path)), None, CONFIG, out=tmp_path / "s.idx")
    build_index_from_files([path], config=CONFIG).save(tmp_path / "f.idx")
    assert set(on_spark.items) == {"12.5", "17850", "3", "4"}
    assert (tmp_path / "s.idx").read_bytes() == (tmp_path / "f.idx").read_bytes()
