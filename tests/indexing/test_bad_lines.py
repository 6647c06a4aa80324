"""Bad lines are skipped and reported with their numbers; one too many, or a corrupt file,
fails with ``DataError`` naming the line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from personalize.config import IndexConfig
from personalize.errors import DataError
from personalize.indexing import BuildReport, build_index_from_files

HEADER = "type,product_id,at,order_id,customer_id\n"
GOOD = "purchase,p1,2024-01-01T10:00:00Z,o1,c1\n"


def test_bad_csv_lines_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        HEADER
        + GOOD  # line 2
        + "purchase,p2\n"  # line 3: two fields
        + "purchase,p3,yesterday,o2,c1\n"  # line 4: no time
        + GOOD.replace("p1", "p4")  # line 5
        + ",p5,2024-01-02,o3,c2\n"  # line 6: no type
    )
    report = BuildReport()
    index = build_index_from_files([path], report=report)
    assert [(bad.line, bad.reason.split(":")[0]) for bad in report.bad_lines] == [
        (3, "2 fields, expected 5"),
        (4, "unreadable time"),
        (6, "no event type"),
    ]
    assert set(index.items) == {"p1", "p4"}


def test_one_bad_line_too_many_fails_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(HEADER + GOOD + "purchase,p2,not a time,o2,c1\n" + GOOD + "x\n")
    with pytest.raises(
        DataError, match=r"events\.csv:3: unreadable time.*more than 1 bad line.*csv:5"
    ):
        build_index_from_files([path], config=IndexConfig(max_bad_lines=1))


def test_bad_json_lines_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = '{"type": "purchase", "product_id": "p1", "at": "2024-01-01T00:00:00", "order_id": "o1"}'
    path.write_text(f"{good}\n{{not json\n\n[1, 2]\n{good}\n")
    report = BuildReport()
    build_index_from_files([path], report=report)
    assert [(bad.line, bad.reason[:8]) for bad in report.bad_lines] == [
        (2, "not JSON"),
        (4, "not a JS"),
    ]


def test_truncated_gzip_fails_naming_the_line_reached(tmp_path: Path) -> None:
    path = tmp_path / "events.csv.gz"
    data = gzip.compress((HEADER + GOOD * 50_000).encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"events\.csv\.gz:\d+: cannot be read"):
        build_index_from_files([path], config=IndexConfig(chunk_rows=1000))


def test_garbage_parquet_fails_with_data_error(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    path.write_bytes(b"PAR1" + b"\x00garbage" * 100)
    with pytest.raises(DataError, match=r"events\.parquet: not a readable Parquet file"):
        build_index_from_files([path])


def test_a_missing_column_is_named_with_the_columns_there(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("InvoiceNo,StockCode,InvoiceDate\n1,a,2024-01-01\n")
    with pytest.raises(DataError, match=r"no column for type, product_id, at.*InvoiceNo"):
        build_index_from_files([path])
