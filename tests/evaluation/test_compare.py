"""One evaluation run (configuration and baselines, both modes) and reading the logs."""

from __future__ import annotations

import gzip
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest

from personalize import Catalog, Event, Request
from personalize.errors import DataError
from personalize.evaluation import MODES, Purchases, monthly_splits
from personalize.evaluation._compare import (
    OURS,
    evaluate,
    last_months,
    one_cutoff,
    validation_split,
)
from personalize.evaluation._read import catalog_from_events, read_log
from personalize.evaluation._run import prepare, prepared_lists
from personalize.evaluation.baselines import score_lists
from personalize.evaluation.synthetic import grocery_log

EVENTS, PRODUCTS = grocery_log(customers=40, products=60, categories=6, days=100, seed=3)
LOG = Purchases.from_events(EVENTS)
CATALOG = Catalog(PRODUCTS)

RETAIL = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n"
    "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527,United Kingdom\n"
    "536380,22961,JAM MAKING SET,0,2010-12-01 09:41:00,1.45,17809,United Kingdom\n"
    "536381,22139,RETROSPOT TEA SET,2,2010-12-01 09:41:00,4.95,,United Kingdom\n"
)


def test_last_months_leaves_out_a_trailing_month_covered_for_less_than_half() -> None:
    # The log runs 2026-01-01 .. 2026-04-10: April is barely begun.
    assert [s.label for s in last_months(LOG, 2)] == ["2026-02", "2026-03"]


def test_last_months_never_offers_a_month_with_nothing_before_it() -> None:
    assert [s.label for s in last_months(LOG, 12)] == ["2026-02", "2026-03"]


def test_one_cutoff_tests_from_the_cutoff_to_the_end_of_the_log() -> None:
    split = one_cutoff(LOG, datetime(2026, 3, 15, tzinfo=UTC))
    assert split.end.timestamp() > LOG.at[-1] >= split.cutoff.timestamp()
    assert split.targets


@pytest.mark.parametrize(
    ("cutoff", "start"),
    [
        (datetime(2026, 3, 15, 12, tzinfo=UTC), datetime(2026, 2, 15, 12, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 10, tzinfo=UTC), datetime(2025, 12, 10, tzinfo=UTC)),
        (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
    ],
)
def test_baselines_are_tuned_on_the_month_before_the_cutoff(
    cutoff: datetime, start: datetime
) -> None:
    validation = validation_split(LOG, one_cutoff(LOG, cutoff))
    assert (validation.cutoff, validation.end) == (start, cutoff)


def test_evaluate_reports_every_recommender_in_both_modes_with_a_bootstrap_ci() -> None:
    names = ["repeat purchase", "recent popularity", "TIFU-KNN"]
    labels: list[str] = []
    report = evaluate(
        LOG, last_months(LOG, 2), catalog=CATALOG, baselines=names, step=labels.append
    )
    assert list(report["months"]) == ["2026-02", "2026-03"]
    assert len(labels) == 2 * (1 + 3 + 1 + 2)  # repeat purchase runs in "all" only
    for modes in report["months"].values():
        assert set(modes) == set(MODES)
        assert "repeat purchase" not in modes["new"]
        for mode, row in modes.items():
            assert row["customers"] > 0
            assert 0.0 <= row[OURS]["NDCG@10"] <= row[OURS]["HR@10"] <= 1.0
            vs = row["vs best"]
            ran = [n for n in names if n in row]
            assert vs["baseline"] == max(ran, key=lambda n: row[n]["NDCG@10"]), mode
            assert vs["ci95"][0] <= vs["diff"] <= vs["ci95"][1]
            assert vs["diff"] == pytest.approx(
                row[OURS]["NDCG@10"] - row[vs["baseline"]]["NDCG@10"]
            )
    assert set(report["mean"]["all"]) == {OURS, *names}


def test_the_mean_ndcg_leaves_out_a_month_without_customers() -> None:
    def buy(customer: str, product: str, day: str) -> Event:
        at = datetime.fromisoformat(f"2011-{day}T10:00:00+00:00")
        return Event(type="purchase", product_id=product, at=at, customer_id=customer, price=1.0)

    events = [
        buy("a", "tea", "01-28"),
        buy("b", "cup", "01-29"),
        buy("a", "cup", "02-10"),  # new for a: recent popularity finds it
        buy("a", "tea", "03-10"),  # March: repurchases only, nobody in "new"
        buy("b", "cup", "03-11"),
    ]
    log = Purchases.from_events(events)
    splits = monthly_splits(log, ["2011-02", "2011-03"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" either
        report = evaluate(
            log,
            splits,
            catalog=catalog_from_events(events),
            baselines=["recent popularity", "TIFU-KNN"],
        )
    months = report["months"]
    assert months["2011-03"]["new"]["customers"] == 0
    assert months["2011-02"]["new"]["recent popularity"]["NDCG@10"] == 1.0
    assert report["mean"]["new"]["recent popularity"] == 1.0


def test_a_recommended_product_the_log_never_names_keeps_its_slot() -> None:
    store = Path(__file__).resolve().parents[2] / "examples" / "store"
    events = read_log(store / "events.jsonl")
    catalog = Catalog.from_file(store / "catalog.json")
    log = Purchases.from_events(events)
    (split,) = last_months(log, 1)
    prepared = prepare(log, split, catalog=catalog, events=events)
    customers = [c for c, _ in split.cases("all")]
    lists = prepared_lists(prepared, "all", customers, 10)
    personalizer = prepared.personalizer({"ranking": {"exclude_purchased": False}})
    unknown = 0
    for cust in customers:
        served = personalizer.personalize(
            Request(now=split.cutoff), prepared.history(cust), placement="home", limit=10
        ).products
        assert len(lists[cust]) == len(served)
        unknown += lists[cust].count(-1)
    assert unknown  # the catalog has products nobody bought: they are misses, not skipped
    scores = score_lists(lists, split.cases("all"), 10)
    assert -1 not in scores.shown


def test_a_catalog_from_events_takes_the_first_price_an_event_gives() -> None:
    store = Path(__file__).resolve().parents[2] / "examples" / "store"
    events = read_log(store / "events.jsonl")  # products are viewed (no price) before bought
    catalog = catalog_from_events(events)
    first: dict[str, float] = {}
    for event in events:
        if event.product_id is not None and event.price is not None:
            first.setdefault(event.product_id, event.price)
    assert first
    assert {p.id: p.price for p in catalog if p.id in first} == first
    assert all(p.price is None for p in catalog if p.id not in first)


def test_read_log_keeps_the_clean_purchase_lines_of_a_retail_csv(tmp_path: Path) -> None:
    path = tmp_path / "retail.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(RETAIL)
    events = read_log(path)
    assert [(e.product_id, e.order_id, e.customer_id) for e in events] == [
        ("85123A", "536365", "17850"),
        ("71053", "536365", "17850"),
    ]
    assert events[0].at == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)
    assert catalog_from_events(events).get("71053").price == 3.39  # type: ignore[union-attr]


def test_read_log_names_the_missing_columns_of_a_csv_that_is_not_retail(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing InvoiceNo, StockCode"):
        read_log(path)


def test_read_log_names_the_line_of_an_unreadable_row(tmp_path: Path) -> None:
    path = tmp_path / "retail.csv"
    path.write_text(RETAIL.replace(",6,2010-12-01 08:26", ",six,2010-12-01 08:26", 1))
    with pytest.raises(DataError, match=r"retail.csv:2: invalid row"):
        read_log(path)
