"""Customer and history files that are not what their names say give a DataError naming them."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from personalize.campaigns import histories_from_file, read_customers
from personalize.campaigns._sources import count_customers
from personalize.cli import main
from personalize.errors import DataError
from tests.campaigns.conftest import NOW, Shop


def test_a_csv_with_a_byte_order_mark_reads_its_ids(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"  # as Excel saves "CSV UTF-8"
    path.write_bytes(b"\xef\xbb\xbfcustomer_id,first_name\r\nc1,Ada\r\n")
    assert list(read_customers(path)) == [{"customer_id": "c1", "first_name": "Ada"}]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_without_an_id_column_is_refused_before_the_run(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"customers{suffix}"
    if suffix == ".csv":
        path.write_text("email,first_name\na@x.test,Ada\n")
    else:
        pq.write_table(pa.table({"email": ["a@x.test"], "first_name": ["Ada"]}), path)
    with pytest.raises(DataError, match=r"no customer_id \(or id\) column \(columns: email,"):
        read_customers(path)


def test_an_id_column_named_id_and_an_empty_csv_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("id\n7\n")
    assert list(read_customers(path)) == [{"id": "7"}]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert list(read_customers(empty)) == []


def test_a_file_that_is_not_parquet_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "customers.parquet"
    path.write_bytes(b"PAR1 but not really")
    with pytest.raises(DataError, match=r"customers\.parquet: cannot be read"):
        read_customers(path)
    with pytest.raises(DataError, match=r"customers\.parquet: cannot be read"):
        count_customers(path)


@pytest.mark.parametrize("name", ["customers.jsonl.gz", "customers.csv.gz"])
def test_a_gz_that_is_not_gzip_is_a_data_error_naming_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"customer_id\nc1\n")
    with pytest.raises(DataError, match=rf"{name}: .*cannot be read: Not a gzipped file"):
        list(read_customers(path))
    with pytest.raises(DataError, match=rf"{name}: cannot be read"):
        count_customers(path)


def test_a_truncated_gzip_names_the_record_reached(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv.gz"
    body = "customer_id\n" + "".join(f"c{i}\n" for i in range(20_000))
    path.write_bytes(gzip.compress(body.encode())[:-100])
    customers = read_customers(path)
    with pytest.raises(DataError, match=r"customers\.csv\.gz: record \d+: cannot be read"):
        for _ in customers:
            pass


def test_a_histories_file_that_is_not_gzip_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "histories.jsonl.gz"
    path.write_bytes(b'{"customer_id": "c1", "events": []}\n')
    with pytest.raises(DataError, match=r"histories\.jsonl\.gz: cannot be read"):
        histories_from_file(path)


def test_the_command_on_a_broken_parquet_exits_2_without_a_traceback(
    shop: Shop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    customers = tmp_path / "customers.parquet"
    customers.write_bytes(os.urandom(64))
    monkeypatch.setenv("PERSONALIZE_CAMPAIGN_SECRET", "s")
    argv = [
        "campaign", str(shop.config), "--catalog", str(shop.catalog), "--index", str(shop.index),
        "--store", f"sqlite:///{shop.db}", "--customers", str(customers),
        "--out", str(tmp_path / "rows.jsonl"), "--campaign", "w", "--now", NOW.isoformat(),
        "--quiet",
    ]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "customers.parquet: cannot be read" in err
    assert "Traceback" not in err
