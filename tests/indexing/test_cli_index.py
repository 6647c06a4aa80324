"""``personalize index build`` on the real retail export, read as the store wrote it."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalize.cli import main
from personalize.ranking import InteractionIndex
from tests.indexing.test_build import retail_prefix


def test_index_build_reads_a_store_export_with_a_column_mapping(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = retail_prefix(shared_data, tmp_path, 20_000)
    config = tmp_path / "personalization.yaml"
    config.write_text("ranking:\n  index:\n    defaults: {type: purchase}\n    max_neighbours: 5\n")
    out = tmp_path / "index.json.gz"
    status = main(
        [
            "index", "build", str(events), "--config", str(config), "--out", str(out),
            "--map", "InvoiceNo=order_id", "--map", "StockCode=product_id",
            "--map", "InvoiceDate=at", "--map", "CustomerID=customer_id",
        ]
    )  # fmt: skip
    assert status == 0
    index = InteractionIndex.load(out)
    assert index.stats["purchase_lines"] == 20_000
    assert index.stats["max_neighbours"] == 5
    assert "from 20000 rows" in capsys.readouterr().err


def test_index_build_fails_on_an_unknown_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "e.csv"
    events.write_text("type,product_id,at\n")
    status = main(["index", "build", str(events), "--out", "x", "--map", "a=orderid"])
    assert status == 2  # a user mistake: one message, status 2, like every command
    assert "unknown event field(s) orderid" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--max-items-per-customer", "--max-bad-lines"])
def test_index_build_refuses_a_negative_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    # -3 items per customer built an index without any co-purchase, with status 0.
    events = tmp_path / "e.csv"
    events.write_text("type,product_id,at,order_id\npurchase,p1,2024-01-01,o1\n")
    out = tmp_path / "index.gz"
    assert main(["index", "build", str(events), "--out", str(out), flag, "-3"]) == 2
    assert "must be at least 0, not -3" in capsys.readouterr().err
    assert not out.exists()
