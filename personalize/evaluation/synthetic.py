"""A grocery-shaped purchase log: frequent small baskets of staples on personal cycles.

The UCI retail log is a wholesaler's: few, large, irregular orders. A grocery store looks
different, and :func:`grocery_log` makes one to check that what holds on the first holds on
the second: every customer shops every few days; most of each basket is their own staples,
each bought again after its own cycle (3 to 21 days, with jitter); the rest is drawn from
the categories they like, by a Zipf popularity, so neighbours and popularity carry signal.
Everything is fixed by the seed.

Run ``python -m personalize.evaluation.synthetic OUT_DIR`` to write ``events.jsonl`` and
``catalog.json`` (``--customers``, ``--days``, ``--seed``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from personalize._models import Event, Product

__all__ = ["grocery_log"]

_START = datetime(2026, 1, 1, tzinfo=UTC)


def grocery_log(
    *,
    customers: int = 600,
    products: int = 400,
    categories: int = 25,
    days: int = 180,
    seed: int = 0,
    start: datetime = _START,
) -> tuple[list[Event], list[Product]]:
    """Purchase events (time order) and the products of a synthetic grocery store.

    Args:
        customers: How many customers shop.
        products: Catalog size.
        categories: Number of categories (products are spread over them).
        days: Days of history from ``start``.
        seed: Fixes the log.
        start: The first day.
    """
    rng = np.random.default_rng(seed)
    category = rng.integers(0, categories, size=products)
    popularity = 1.0 / np.arange(1, products + 1) ** 0.9
    popularity = popularity[rng.permutation(products)]
    price = np.round(rng.lognormal(1.0, 0.6, size=products), 2)
    catalog = [
        Product(
            id=f"g{i:04d}",
            title=f"grocery item {i}",
            category=(f"aisle-{category[i]:02d}",),
            brand=f"brand-{i % 40:02d}",
            price=float(price[i]),
            replenishable=True,
        )
        for i in range(products)
    ]
    events: list[Event] = []
    for cust in range(customers):
        liked = rng.choice(categories, size=3, replace=False)
        pool = np.flatnonzero(np.isin(category, liked))
        weights = popularity[pool] / popularity[pool].sum()
        staples = rng.choice(
            products, size=int(rng.integers(5, 16)), replace=False, p=_p(popularity)
        )
        cycle = rng.uniform(3, 21, size=staples.size)
        due = rng.uniform(0, cycle)
        gap = rng.uniform(2, 7)
        day = float(rng.uniform(0, gap))
        order = 0
        while day < days:
            basket = {int(s) for s, d in zip(staples, due, strict=True) if d <= day}
            extra = int(rng.poisson(3))
            basket.update(int(i) for i in rng.choice(pool, size=extra, p=weights))
            if basket:
                at = start + timedelta(days=day, hours=float(rng.uniform(8, 20)))
                name = f"c{cust:04d}"
                events.extend(_buy(catalog[i], name, f"{name}-{order}", at) for i in sorted(basket))
                order += 1
            for j, s in enumerate(staples):
                if int(s) in basket:
                    due[j] = day + cycle[j] * rng.uniform(0.7, 1.3)
            day += gap * rng.uniform(0.5, 1.5)
    events.sort(key=lambda e: (e.at, e.order_id or "", e.product_id or ""))
    return events, catalog


def _p(weights: np.ndarray) -> np.ndarray:
    share: np.ndarray = weights / weights.sum()
    return share


def _buy(product: Product, customer: str, order: str, at: datetime) -> Event:
    return Event(
        type="purchase",
        product_id=product.id,
        at=at,
        quantity=1,
        price=product.price,
        order_id=order,
        customer_id=customer,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``events.jsonl`` and ``catalog.json`` of a grocery log into a folder."""
    from personalize.metrics import write_events

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder to write into")
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    events, products = grocery_log(customers=args.customers, days=args.days, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_events(out / "events.jsonl", events)
    catalog = {"products": [p.model_dump(mode="json", exclude_defaults=True) for p in products]}
    (out / "catalog.json").write_text(json.dumps(catalog, indent=1), encoding="utf-8")
    print(f"wrote {len(events):,} purchases of {args.customers} customers to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
