"""The streaming build gives the very index of ``InteractionIndex.build`` over the same events."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize._models import Event
from personalize.config import IndexConfig
from personalize.indexing import BuildReport, build_index_from_files
from personalize.ranking import InteractionIndex
from tests.indexing.events import event_logs, write_events

UNCAPPED = IndexConfig(max_items_per_customer=None)
RETAIL_COLUMNS = {
    "InvoiceNo": "order_id",
    "StockCode": "product_id",
    "InvoiceDate": "at",
    "CustomerID": "customer_id",
}


def saved(index: InteractionIndex, path: Path) -> bytes:
    index.save(path)
    return path.read_bytes()


@settings(max_examples=40)
@given(
    events=event_logs(),
    suffix=st.sampled_from([".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet"]),
    scope=st.sampled_from(["customer", "order"]),
)
def test_streamed_index_equals_the_in_process_index(
    tmp_path_factory: pytest.TempPathFactory, events: list[Event], suffix: str, scope: str
) -> None:
    folder = tmp_path_factory.mktemp("events")
    path = write_events(folder / f"events{suffix}", events)
    config = UNCAPPED.model_copy(update={"co_purchase_scope": scope, "max_neighbours": 3})
    streamed = build_index_from_files([path], config=config)
    expected = InteractionIndex.build(events, co_purchase_scope=scope, max_neighbours=3)
    assert saved(streamed, folder / "a.idx") == saved(expected, folder / "b.idx")


def test_several_files_read_in_order_equal_one_log(tmp_path: Path) -> None:
    lines = [("a", "1", "x"), ("b", "1", "x"), ("c", "2", "y"), ("a", "3", "y"), ("b", "4", "z")]
    events = [
        Event(
            type="purchase",
            product_id=p,
            order_id=o,
            customer_id=c,
            at=datetime(2024, 1, day, tzinfo=UTC),
        )
        for day, (p, o, c) in enumerate(lines, start=1)
    ]
    first = write_events(tmp_path / "one.csv", events[:2])
    second = write_events(tmp_path / "two.parquet", events[2:])
    streamed = build_index_from_files([first, second], config=UNCAPPED)
    expected = InteractionIndex.build(events)
    assert saved(streamed, tmp_path / "a.idx") == saved(expected, tmp_path / "b.idx")


def _retail_events(path: Path) -> list[Event]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            Event(
                type="purchase",
                product_id=row["StockCode"] or None,
                at=row["InvoiceDate"],
                order_id=row["InvoiceNo"] or None,
                customer_id=row["CustomerID"] or None,
            )
            for row in csv.DictReader(fh)
        ]


def retail_prefix(shared_data: Path, folder: Path, lines: int) -> Path:
    """The first ``lines`` order lines of the retail log, as the store exported them."""
    source = shared_data / "retail" / "online_retail.csv.gz"
    target = folder / "retail.csv"
    with (
        gzip.open(source, "rt", encoding="utf-8") as src,
        target.open("w", encoding="utf-8") as out,
    ):
        for number, line in enumerate(src):
            if number > lines:
                break
            out.write(line)
    return target


def test_retail_export_read_as_it_is_gives_the_in_process_index(
    shared_data: Path, tmp_path: Path
) -> None:
    path = retail_prefix(shared_data, tmp_path, 40_000)
    config = UNCAPPED.model_copy(
        update={"columns": RETAIL_COLUMNS, "defaults": {"type": "purchase"}}
    )
    report = BuildReport()
    streamed = build_index_from_files([path], config=config, report=report)
    expected = InteractionIndex.build(_retail_events(path))
    assert report.rows == 40_000
    assert report.bad_lines == []
    assert streamed.stats["customers"] > 100
    assert saved(streamed, tmp_path / "a.idx") == saved(expected, tmp_path / "b.idx")


def test_cap_keeps_each_customers_most_recent_distinct_items(tmp_path: Path) -> None:
    def bought(product: str, day: int, customer: str) -> Event:
        return Event(
            type="purchase",
            product_id=product,
            order_id=f"{customer}{day}",
            customer_id=customer,
            at=datetime(2024, 1, day, tzinfo=UTC),
        )

    # x bought a, b, c, d in that order; y bought a and d together.
    events = [bought(p, day, "x") for day, p in enumerate("abcd", start=1)]
    events += [bought("a", 9, "y"), bought("d", 9, "y")]
    path = write_events(tmp_path / "events.csv", events)
    capped = build_index_from_files(
        [path], config=IndexConfig(max_items_per_customer=2, co_purchase_scope="customer")
    )
    per_customer = IndexConfig(max_items_per_customer=None, co_purchase_scope="customer")
    uncapped = build_index_from_files([path], config=per_customer)
    # With two items per customer, x counts only c and d: a and b are no neighbours of hers.
    assert set(uncapped.co_purchase("b")[0]) == {"a", "c", "d"}
    assert set(capped.co_purchase("b")[0]) == set()
    assert set(capped.co_purchase("c")[0]) == {"d"}
    assert set(capped.co_purchase("a")[0]) == {"d"}
    # Popularity and the rest still count every purchase.
    assert capped.popularity("b") == uncapped.popularity("b")


def test_cap_above_the_largest_customer_changes_nothing(tmp_path: Path) -> None:
    events = [
        Event(
            type="purchase",
            product_id=f"p{i % 7}",
            order_id=f"o{i % 3}",
            customer_id=f"c{i % 2}",
            at=datetime(2024, 1, 1 + i, tzinfo=UTC),
        )
        for i in range(20)
    ]
    path = write_events(tmp_path / "events.jsonl", events)
    capped = build_index_from_files([path], config=IndexConfig(max_items_per_customer=7))
    assert saved(capped, tmp_path / "a.idx") == saved(
        InteractionIndex.build(events), tmp_path / "b.idx"
    )
