"""``ranking.index`` in the configuration decides how events become the interaction index."""

from __future__ import annotations

from datetime import UTC, datetime

from personalize import Catalog, Event, Personalizer, Product
from personalize.config import IndexConfig
from personalize.ranking import InteractionIndex

CATALOG = Catalog(products=[Product(id=f"p{i}", category="c") for i in range(4)])
EVENTS = [
    Event(type="purchase", product_id=pid, customer_id=cust, order_id=order, at=at)
    for cust, order, pid, at in [
        ("a", "o1", "p0", datetime(2026, 1, 1, tzinfo=UTC)),
        ("a", "o2", "p1", datetime(2026, 1, 5, tzinfo=UTC)),
        ("b", "o3", "p0", datetime(2026, 1, 2, tzinfo=UTC)),
        ("b", "o3", "p2", datetime(2026, 1, 2, tzinfo=UTC)),
    ]
]


def test_the_default_index_options_are_those_of_interaction_index_build() -> None:
    p = Personalizer({}, catalog=CATALOG, interactions=EVENTS, store=None)
    built = InteractionIndex.build(EVENTS, catalog=CATALOG)
    assert p.index.stats == built.stats
    assert p.index.stats["co_purchase_scope"] == IndexConfig().co_purchase_scope


def test_index_options_from_the_file_reach_the_build() -> None:
    config = {
        "ranking": {
            "index": {"co_purchase_scope": "customer", "half_life_days": 90, "max_neighbours": 3}
        }
    }
    p = Personalizer(config, catalog=CATALOG, interactions=EVENTS, store=None)
    stats = p.index.stats
    assert stats["co_purchase_scope"] == "customer"
    assert stats["half_life_days"] == 90
    assert stats["max_neighbours"] == 3
    # per customer, p0 and p1 (bought by "a" in two orders) are neighbours; per order not
    by_order = Personalizer({}, catalog=CATALOG, interactions=EVENTS, store=None).index
    assert "p1" in p.index.co_purchase("p0")[0]
    assert "p1" not in by_order.co_purchase("p0")[0]
