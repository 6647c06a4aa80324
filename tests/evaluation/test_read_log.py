"""Reading a retail invoice CSV for evaluation: every unreadable file names where it fails."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from personalize.cli import main
from personalize.errors import DataError
from personalize.evaluation._read import read_log

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
ROW = "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"


def test_a_retail_csv_reads_as_purchases(tmp_path: Path) -> None:
    path = tmp_path / "retail.csv"
    path.write_text(HEADER + ROW, encoding="utf-8")
    (event,) = read_log(path)
    assert (event.order_id, event.product_id, event.customer_id) == ("536365", "85123A", "17850")


@pytest.mark.parametrize(("quantity", "price"), [("nan", "2.55"), ("6", "inf"), ("-inf", "1")])
def test_a_quantity_or_price_that_is_not_a_finite_positive_number_is_no_purchase(
    tmp_path: Path, quantity: str, price: str
) -> None:
    path = tmp_path / "retail.csv"
    odd = f"536366,22633,HAND WARMER,{quantity},2010-12-01 08:28:00,{price},17850,United Kingdom\n"
    path.write_text(HEADER + ROW + odd, encoding="utf-8")
    assert [e.order_id for e in read_log(path)] == ["536365"]


def test_a_short_row_is_a_data_error_naming_its_line(tmp_path: Path) -> None:
    # Columns in another order: the short row has a customer but no invoice number.
    path = tmp_path / "retail.csv"
    path.write_text(
        "CustomerID,InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n"
        "17850,1,p,1,2010-12-01 08:26:00,2.5\n"
        "17850\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"retail\.csv:3: invalid row \(1 fields, expected 6\)"):
        read_log(path)


def test_a_row_after_a_quoted_newline_is_named_by_its_file_line(tmp_path: Path) -> None:
    path = tmp_path / "retail.csv"
    quoted = '536365,85123A,"TWO\nLINES",6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n'
    bad = "536366,22633,HAND,6,yesterday,1.85,17850,United Kingdom\n"
    path.write_text(HEADER + quoted + bad, encoding="utf-8")
    with pytest.raises(DataError, match=r"retail\.csv:4: invalid row"):
        read_log(path)


def test_a_byte_order_mark_before_the_header_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "retail.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROW).encode())
    assert len(read_log(path)) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not gzip at all", r"retail\.csv\.gz:1: corrupt gzip data"),
        (gzip.compress((HEADER + ROW * 50).encode())[:-30], r"retail\.csv\.gz:\d+: the gzip"),
    ],
)
def test_a_gz_that_is_not_gzip_or_is_truncated_names_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "retail.csv.gz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_log(path)


def test_a_byte_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "retail.csv"
    path.write_bytes((HEADER + ROW).encode() + b"536366,22633,HAND\xff,6,x,1,2,UK\n")
    with pytest.raises(DataError, match=r"retail\.csv:3: not UTF-8"):
        read_log(path)


def test_evaluate_on_a_short_row_exits_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "retail.csv"
    path.write_text("CustomerID,InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n123\n")
    assert main(["evaluate", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "retail.csv:2: invalid row" in err
    assert "Traceback" not in err
