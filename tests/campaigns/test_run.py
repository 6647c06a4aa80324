from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from personalize.campaigns import read_customers, verify_code
from personalize.campaigns._run import CampaignJob, run_campaign
from personalize.cli import main
from tests.campaigns.conftest import NOW, SECRET, Shop, make_shop

REPO = Path(__file__).resolve().parents[2]


def job(shop: Shop, campaign: str = "week48") -> CampaignJob:
    return CampaignJob(
        config=shop.config,
        catalog=shop.catalog,
        index=shop.index,
        campaign_id=campaign,
        secret=SECRET,
        now=NOW,
        store_url=f"sqlite:///{shop.db}",
    )


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def sends(db: Path) -> Counter[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        bodies = [json.loads(b) for (b,) in conn.execute("SELECT body FROM events")]
    return Counter((e["customer_id"], e["offer_id"]) for e in bodies if e["type"] == "offer_sent")


def test_two_workers_write_what_one_process_writes(shop: Shop, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    other.write_bytes(shop.db.read_bytes())
    one = run_campaign(job(shop), read_customers(shop.customers), tmp_path / "one.jsonl")
    two_job = CampaignJob(**{**_fields(job(shop)), "store_url": f"sqlite:///{other}"})
    two = run_campaign(
        two_job, read_customers(shop.customers), tmp_path / "two.jsonl", workers=2, chunk_size=7
    )
    assert lines(tmp_path / "one.jsonl") == lines(tmp_path / "two.jsonl")
    assert one.rows == two.rows == shop.count
    assert sends(shop.db) == sends(other)
    offers = Counter(
        (str(r["customer_id"]), o["offer_id"])
        for r in lines(tmp_path / "two.jsonl")
        for o in r["offers"]  # type: ignore[attr-defined]
    )
    assert sends(other) == offers  # each offer of each row recorded once
    assert (tmp_path / "one.errors.jsonl").read_text() == ""


def _fields(j: CampaignJob) -> dict[str, object]:
    return {name: getattr(j, name) for name in j.__dataclass_fields__}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_rows_are_flat_text(shop: Shop, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"rows{suffix}"
    run_campaign(job(shop), read_customers(shop.customers), out)
    if suffix == ".csv":
        with out.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    else:
        rows = pq.read_table(out).to_pylist()
    assert len(rows) == shop.count
    first = rows[0]
    assert first["customer_id"] == "c0"
    assert first["first_name"] == "Name0"
    offers = json.loads(first["offers"])
    assert first["codes"].split() == [o["code"] for o in offers]
    assert verify_code(offers[0]["code"], offers[0]["offer_id"], "c0", "week48", SECRET)
    assert first["product_ids"].split() == [p["product_id"] for p in json.loads(first["products"])]


def test_the_command_writes_rows_errors_and_a_summary(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = tmp_path / "customers.jsonl"
    customers.write_text(
        shop.customers.read_text(encoding="utf-8") + '{"first_name": "no id"}\nnot json\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MY_SECRET", SECRET)
    out = tmp_path / "rows.jsonl"
    argv = [
        "campaign", str(shop.config), "--catalog", str(shop.catalog), "--index", str(shop.index),
        "--store", f"sqlite:///{shop.db}", "--customers", str(customers), "--out", str(out),
        "--campaign", "week48", "--now", NOW.isoformat(), "--secret-env", "MY_SECRET",
        "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == shop.count
    assert summary["skipped"] == 2
    assert len(lines(out)) == shop.count
    errors = lines(tmp_path / "rows.errors.jsonl")
    assert [e["position"] for e in errors] == [shop.count, shop.count + 1]


def test_the_command_needs_the_secret(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PERSONALIZE_CAMPAIGN_SECRET", raising=False)
    argv = [
        "campaign", str(shop.config), "--catalog", str(shop.catalog), "--index", str(shop.index),
        "--histories", str(shop.customers), "--customers", str(shop.customers),
        "--out", str(tmp_path / "x.jsonl"), "--campaign", "c",
    ]  # fmt: skip
    assert main(argv) == 2
    assert "PERSONALIZE_CAMPAIGN_SECRET" in capsys.readouterr().err


@pytest.mark.slow
def test_a_campaign_killed_midway_finishes_on_rerun_without_duplicate_sends(
    tmp_path: Path,
) -> None:
    shop = make_shop(tmp_path / "shop", count=600)
    pristine = tmp_path / "pristine.db"
    pristine.write_bytes(shop.db.read_bytes())
    out = tmp_path / "rows.jsonl"
    argv = [
        sys.executable, "-m", "personalize.cli", "campaign", str(shop.config),
        "--catalog", str(shop.catalog), "--index", str(shop.index),
        "--store", f"sqlite:///{shop.db}", "--customers", str(shop.customers),
        "--out", str(out), "--campaign", "week48", "--now", NOW.isoformat(),
        "--chunk-size", "10", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "PERSONALIZE_CAMPAIGN_SECRET": SECRET, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while sum(sends(shop.db).values()) < 50 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    partial = sends(shop.db)
    assert 0 < len({c for c, _ in partial}) < shop.count  # killed midway
    assert not out.exists()  # no half file where the email service looks

    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    after = sends(shop.db)
    assert set(after.values()) == {1}  # no offer recorded twice for a customer
    assert all(after[key] == 1 for key in partial)
    rows = lines(out)
    assert [r["customer_id"] for r in rows] == [f"c{i}" for i in range(shop.count)]
    assert (
        Counter(
            (r["customer_id"], o["offer_id"])
            for r in rows
            for o in r["offers"]  # type: ignore[union-attr]
        )
        == after
    )

    # The same offers and codes as a run that was never stopped.
    fresh = tmp_path / "fresh.jsonl"
    argv[argv.index(str(out))] = str(fresh)
    argv[argv.index(f"sqlite:///{shop.db}")] = f"sqlite:///{pristine}"
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    assert [r["offers"] for r in lines(fresh)] == [r["offers"] for r in rows]
    assert sends(pristine) == after
