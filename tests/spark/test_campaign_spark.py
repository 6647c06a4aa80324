"""``personalize.spark.plan_campaign`` in local mode gives the in-process rows."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from personalize.campaigns import plan_campaign as plan_in_process
from personalize.campaigns import read_customers
from personalize.campaigns._plan import LISTED_TWICE
from personalize.campaigns._run import load_personalizer
from personalize.store import SQLiteStore
from tests.campaigns.conftest import NOW, SECRET, make_shop
from tests.conftest import in_ci

REPO = Path(__file__).resolve().parents[2]


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'personalize[spark]')"
    if shutil.which("java") is None:
        return "java is not installed (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark() -> Any:
    """The test session's one SparkSession (``getOrCreate``: shared with other Spark tests)."""
    reason = _missing()
    if reason is not None:
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("personalize-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.executorEnv.PYTHONPATH", path)
        .getOrCreate()
    )
    return session


def test_the_spark_plan_equals_the_in_process_plan(spark: Any, tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop", count=80)
    spark_db = tmp_path / "spark.db"
    spark_db.write_bytes(shop.db.read_bytes())
    customers = list(read_customers(shop.customers))
    customers.insert(5, {"customer_id": None, "first_name": "no id", "email": None})

    personalizer = load_personalizer(shop.config, shop.catalog, shop.index)
    expected = [
        r.to_record()
        for r in plan_in_process(
            personalizer, customers, campaign_id="week48", secret=SECRET, now=NOW,
            store=SQLiteStore(shop.db),
        )
    ]  # fmt: skip

    columns = ["customer_id", "first_name", "email", "country"]
    df = spark.createDataFrame(
        [tuple(c.get(k) for k in columns) for c in customers],
        "customer_id string, first_name string, email string, country string",
    ).repartition(2)
    from personalize.spark import plan_campaign

    out = plan_campaign(
        df, shop.config, shop.catalog, shop.index, campaign_id="week48", secret=SECRET,
        now=NOW, store_url=f"sqlite:///{spark_db}",
    ).collect()  # fmt: skip
    rows = [row.asDict() for row in out]
    errors = [r for r in rows if r["error"] is not None]
    assert [e["first_name"] for e in errors] == ["no id"]
    planned = sorted(
        ({k: v for k, v in r.items() if k != "error"} for r in rows if r["error"] is None),
        key=lambda r: r["customer_id"],
    )
    for record in expected:
        record.setdefault("country", None)
    assert planned == sorted(expected, key=lambda r: r["customer_id"])
    # Both recorded the same sends in their stores.
    for c in ("c0", "c7", "c33"):
        ours = SQLiteStore(shop.db).export(c)["events"]
        theirs = SQLiteStore(spark_db).export(c)["events"]
        assert ours == theirs


def test_a_customer_listed_in_two_partitions_is_planned_and_sent_once(
    spark: Any, tmp_path: Path
) -> None:
    # Each partition used to find repeats in its own batches only: two executors planned
    # the same customer, and the store recorded two sends (two emails).
    shop = make_shop(tmp_path / "shop", count=12)
    customers = list(read_customers(shop.customers))
    columns = ["customer_id", "first_name", "email", "country"]
    schema = "customer_id string, first_name string, email string, country string"
    first = [tuple(c.get(k) for k in columns) for c in customers[:6]]
    second = [tuple(c.get(k) for k in columns) for c in customers[6:]]
    repeat = (*first[2][:1], "again", *first[2][2:])
    df = spark.createDataFrame(first, schema).union(
        spark.createDataFrame([*second, repeat], schema)
    )
    assert df.rdd.getNumPartitions() > 1
    from personalize.spark import plan_campaign

    rows = [
        row.asDict()
        for row in plan_campaign(
            df, shop.config, shop.catalog, shop.index, campaign_id="week48", secret=SECRET,
            now=NOW, store_url=f"sqlite:///{shop.db}",
        ).collect()
    ]  # fmt: skip

    listed = [c[0] for c in [*first, *second, repeat]]
    assert [r["customer_id"] for r in rows] == listed  # the input's order
    assert [r["first_name"] for r in rows if r["error"] is not None] == ["again"]
    assert rows[-1]["error"] == LISTED_TWICE
    assert rows[-1]["offer_ids"] is None
    twice = first[2][0]
    assert rows[2]["customer_id"] == twice
    assert rows[2]["error"] is None
    sent = [e for e in SQLiteStore(shop.db).export(twice)["events"] if e["type"] == "offer_sent"]
    assert rows[2]["offer_ids"]
    assert [e["offer_id"] for e in sent] == rows[2]["offer_ids"].split()
