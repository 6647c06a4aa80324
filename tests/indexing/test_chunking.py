"""The streamed index and its bad-line report do not depend on how the rows are chunked."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize._models import Event
from personalize.config import IndexConfig
from personalize.indexing import BuildReport, build_index_from_files
from tests.indexing.events import event_logs, write_events

UNCAPPED = IndexConfig(max_items_per_customer=None, max_bad_lines=1000)


def build(path: Path, chunk_rows: int, out: Path) -> tuple[bytes, list[tuple[int, str]]]:
    report = BuildReport()
    config = UNCAPPED.model_copy(update={"chunk_rows": chunk_rows, "max_neighbours": 3})
    build_index_from_files([path], config=config, report=report).save(out)
    return out.read_bytes(), [(bad.line, bad.reason) for bad in report.bad_lines]


@settings(max_examples=30, deadline=None)
@given(
    events=event_logs(),
    suffix=st.sampled_from([".csv", ".csv.gz", ".jsonl", ".parquet"]),
    chunk_rows=st.integers(1, 7),
    broken=st.sets(st.integers(0, 59), max_size=5),
)
def test_small_chunks_give_the_index_and_bad_lines_of_one_chunk(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[Event],
    suffix: str,
    chunk_rows: int,
    broken: set[int],
) -> None:
    folder = tmp_path_factory.mktemp("events")
    path = write_events(folder / f"events{suffix}", events)
    if suffix == ".csv" and events:
        # Some rows get a time that cannot be read; their lines must be reported exactly.
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for row in sorted(broken):
            if row < len(events):
                fields = lines[row + 1].split(",")
                fields[2] = "not-a-time"
                lines[row + 1] = ",".join(fields)
        path.write_text("".join(lines), encoding="utf-8")
    whole = build(path, 250_000, folder / "whole.idx")
    chunked = build(path, chunk_rows, folder / "chunked.idx")
    assert chunked == whole
    if suffix == ".csv":
        expected = sorted(row + 2 for row in broken if row < len(events))
        assert [line for line, _ in whole[1]] == expected


RETAIL_COLUMNS = {
    "InvoiceNo": "order_id",
    "StockCode": "product_id",
    "InvoiceDate": "at",
    "CustomerID": "customer_id",
}


def test_the_retail_sample_in_many_csv_blocks_keeps_every_row_and_bad_line(
    shared_data: Path, tmp_path: Path
) -> None:
    # 8,462 rows (~700 KB): with chunk_rows=1 the CSV reader's block is its 64 KB minimum,
    # so the file is read in about eleven blocks and rows meet block boundaries.
    source = shared_data / "retail" / "online_retail_sample_100_customers.csv"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    broken = [3, 1000, 1001, 4321, 8000, len(lines)]  # file line numbers (1 = the header)
    for number in broken:
        fields = lines[number - 1].split(",")
        fields[4] = "soon"  # InvoiceDate
        lines[number - 1] = ",".join(fields)
    lines.insert(5000, "536365,85123A\n")  # a short row: line 5001, later lines move down
    broken = sorted([b if b <= 5000 else b + 1 for b in broken] + [5001])
    path = tmp_path / "retail.csv"
    path.write_text("".join(lines), encoding="utf-8")
    config = UNCAPPED.model_copy(
        update={"columns": RETAIL_COLUMNS, "defaults": {"type": "purchase"}}
    )
    results = []
    for chunk_rows in (250_000, 1):
        report = BuildReport()
        index = build_index_from_files(
            [path], config=config.model_copy(update={"chunk_rows": chunk_rows}), report=report
        )
        index.save(tmp_path / "index.idx")
        lines_seen = sorted((bad.line, bad.reason) for bad in report.bad_lines)
        results.append(((tmp_path / "index.idx").read_bytes(), report.rows, lines_seen))
    assert results[0][2] == results[1][2]
    assert results[0] == results[1]
    _, rows, bad_lines = results[0]
    assert rows == 8_462  # the good rows and the broken times (the short row is not a row)
    assert [line for line, _ in bad_lines] == broken
