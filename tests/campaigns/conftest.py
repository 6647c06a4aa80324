"""A small shop saved as files (configuration, catalog, index) and customers in a store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from personalize import Catalog, Event, Product
from personalize.campaigns._run import load_personalizer
from personalize.ranking import InteractionIndex
from personalize.store import SQLiteStore

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SECRET = "test-secret"

CONFIG: dict[str, Any] = {
    "settings": {"max_offers": 4},
    "rules": [
        {
            "id": "email-knit-boost",
            "channels": ["email"],
            "then": [{"boost": {"where": {"category": "knitwear"}, "by": 5.0}}],
        },
        {
            "id": "web-pin",
            "channels": ["web"],
            "then": [{"pin": {"products": ["p9"], "position": 1}}],
        },
    ],
    "offers": [
        {
            "id": "everyone10",
            "code": "EVERY10",
            "value": {"percent": 10},
            "cap": {"per_customer": 1, "days": 30, "count": "shown"},
            "priority": 9,
        },
        {"id": "web-only", "code": "WEB5", "value": {"amount": 5}, "channels": ["web"]},
        {
            "id": "mail-big",
            "code": "MAIL20",
            "value": {"percent": 20},
            "channels": ["email"],
            "group": "mail",
            "priority": 5,
        },
        {
            "id": "mail-small",
            "code": "MAIL5",
            "value": {"percent": 5},
            "channels": ["email"],
            "group": "mail",
            "priority": 4,
        },
        {
            "id": "canada",
            "code": "CANADA",
            "value": {"percent": 15},
            "when": {"geo.country": "CA"},
            "priority": 3,
        },
    ],
    "landing": [{"when": {"geo.country": "CA"}, "page": "/ca/"}, {"page": "/"}],
}

CATEGORIES = ["knitwear", "outerwear", "shoes", "bags"]


def products() -> list[Product]:
    return [
        Product(id=f"p{i}", title=f"Product {i}", category=(CATEGORIES[i % 4],), price=10.0 + i)
        for i in range(40)
    ]


def customer_events(n: int) -> list[Event]:
    events = []
    for c in range(n):
        for k in range(6):
            pid = f"p{(c * 7 + k * 3) % 40}"
            at = NOW - timedelta(days=20 - k)
            events.append(Event(type="view", product_id=pid, at=at, customer_id=f"c{c}"))
            if k % 3 == 0:
                events.append(
                    Event(
                        type="purchase",
                        product_id=pid,
                        at=at,
                        customer_id=f"c{c}",
                        order_id=f"o{c}-{k}",
                        price=20.0,
                    )
                )
    return events


@dataclass(frozen=True)
class Shop:
    config: Path
    catalog: Path
    index: Path
    db: Path
    customers: Path
    count: int


def make_shop(folder: Path, count: int = 60) -> Shop:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "personalization.yaml"
    config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    catalog_path = folder / "catalog.json"
    items = [p.model_dump(mode="json", exclude_defaults=True) for p in products()]
    catalog_path.write_text(json.dumps(items), encoding="utf-8")
    events = customer_events(count)
    index = folder / "index.npz"
    InteractionIndex.build(events, catalog=Catalog(products())).save(index)
    db = folder / "state.db"
    store = SQLiteStore(db, synchronous="NORMAL")
    store.append(events)
    store.close()
    customers = folder / "customers.jsonl"
    with customers.open("w", encoding="utf-8") as f:
        for c in range(count):
            record = {"customer_id": f"c{c}", "first_name": f"Name{c}", "email": f"c{c}@x.test"}
            if c % 3 == 0:
                record["country"] = "CA"
            f.write(json.dumps(record) + "\n")
    return Shop(config, catalog_path, index, db, customers, count)


@pytest.fixture(scope="session")
def shop_files(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return make_shop(tmp_path_factory.mktemp("shop"))


@pytest.fixture
def shop(shop_files: Shop, tmp_path: Path) -> Shop:
    """The shop with a fresh copy of its store, so a test may record into it."""
    db = tmp_path / "state.db"
    db.write_bytes(shop_files.db.read_bytes())
    return Shop(
        shop_files.config, shop_files.catalog, shop_files.index, db, shop_files.customers,
        shop_files.count,
    )  # fmt: skip


@pytest.fixture(scope="session")
def personalizer(shop_files: Shop) -> Any:
    return load_personalizer(shop_files.config, shop_files.catalog, shop_files.index)


def read_customers(shop: Shop) -> list[dict[str, Any]]:
    lines = shop.customers.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]
