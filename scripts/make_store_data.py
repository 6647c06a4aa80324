"""Generate the example store's interaction log, ``examples/store/events.jsonl``.

The catalog (``examples/store/catalog.json``) is kept by hand; the interaction log is
synthetic: 400 customers with a preferred category family buy and view products in
sessions over 90 days, with a fixed seed so the file is reproducible. Run from the repository root::

    python scripts/make_store_data.py
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "examples" / "store"

FAMILIES = {
    "winter": [
        "coat-parka",
        "coat-wool",
        "jacket-puffer",
        "sweater-merino",
        "boots-winter",
        "socks-wool",
        "scarf-wool",
        "scarf-cashmere",
        "gloves-leather",
        "beanie-merino",
        "blanket-wool",
        "tea-chai",
    ],
    "summer": [
        "tee-linen",
        "shorts-chino",
        "swim-trunks",
        "swimsuit",
        "sandals-leather",
        "hat-sun",
        "sunglasses-classic",
        "towel-beach",
        "candle-citrus",
    ],
    "active": [
        "sneakers-run",
        "sneakers-court",
        "socks-sport",
        "jacket-rain",
        "vest-fleece",
        "hoodie-organic",
    ],
    "home": [
        "candle-cedar",
        "candle-citrus",
        "matches-long",
        "mug-stoneware",
        "coffee-house",
        "coffee-decaf",
        "coffee-espresso",
        "filters-paper",
        "tea-chai",
        "blanket-wool",
    ],
}
COUNTRIES = ["CA", "GB", "US", "NO", "AU", "SG"]
CATALOG_EPOCH = datetime(2026, 11, 20, tzinfo=UTC)


def events(products: list[dict[str, Any]], rng: random.Random) -> list[dict[str, object]]:
    price = {p["id"]: p["price"] for p in products}
    ids = sorted(price)
    out: list[dict[str, object]] = []
    start = CATALOG_EPOCH - timedelta(days=90)
    for c in range(400):
        customer = f"c{c:04d}"
        family = rng.choice(list(FAMILIES))
        pool = FAMILIES[family]
        for s in range(rng.randint(1, 4)):
            session = f"{customer}-s{s}"
            at = start + timedelta(days=rng.uniform(0, 89), hours=rng.uniform(0, 23))
            viewed = rng.sample(pool, k=min(len(pool), rng.randint(2, 5)))
            if rng.random() < 0.2:
                viewed.append(rng.choice(ids))
            for pid in viewed:
                at += timedelta(minutes=rng.uniform(0.5, 4))
                out.append(
                    {
                        "type": "view",
                        "product_id": pid,
                        "at": at.isoformat(),
                        "session_id": session,
                        "customer_id": customer,
                    }
                )
            if rng.random() < 0.55:
                order = f"o-{session}"
                out.extend(
                    {
                        "type": "purchase",
                        "product_id": pid,
                        "at": at.isoformat(),
                        "quantity": 1,
                        "price": price[pid],
                        "order_id": order,
                        "session_id": session,
                        "customer_id": customer,
                    }
                    for pid in viewed[: rng.randint(1, 3)]
                )
    out.sort(key=lambda e: (str(e["at"]), str(e["customer_id"])))
    return out


def main() -> None:
    products = json.loads((OUT / "catalog.json").read_text())["products"]
    rows = events(products, random.Random(20261124))
    with (OUT / "events.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")
    print(f"wrote {len(rows)} events for {len(products)} products to {OUT}")


if __name__ == "__main__":
    main()
