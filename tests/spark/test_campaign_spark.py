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
