"""Customers without history: one decision per country, equal to each one's own decision."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from personalize import History, Personalizer, Request
from personalize.campaigns import COUNTRY_HEADER, CampaignRow, load_personalizer, plan_campaign
from personalize.store import MemoryStore
from tests.campaigns.conftest import CONFIG, NOW, SECRET, Shop

NEW = [
    {"customer_id": "n1", "country": "CA"},
    {"customer_id": "n2", "country": "CA"},
    {"customer_id": "n3"},
    {"customer_id": "n4", "country": "GB"},
    {"customer_id": "n5", "country": ""},
    "n6",
]


def plan(personalizer: Personalizer, customers: Any, **kwargs: Any) -> list[CampaignRow]:
    return list(
        plan_campaign(
            personalizer,
            customers,
            campaign_id="week48",
            secret=SECRET,
            now=NOW,
            store=MemoryStore(),
            batch_size=2,  # the decisions are shared across batches
            **kwargs,
        )
    )


def own_decision(personalizer: Personalizer, customer: Any) -> tuple[Any, ...]:
    """What ``personalize()`` decides for this customer alone, as a row carries it."""
    record = customer if isinstance(customer, dict) else {"customer_id": customer}
    country = record.get("country")
    request = Request(
        now=NOW,
        user_id=record["customer_id"],
        headers={COUNTRY_HEADER: country} if country else {},
    )
    result = personalizer.personalize(
        request, History(), placement="email", limit=6, channel="email"
    )
    page = result.landing.page if result.landing is not None else "/"
    return (
        [o.offer_id for o in result.offers],
        [(p.product_id, p.score, dict(p.reasons), p.rules) for p in result.products],
        page,
    )


def as_decision(row: CampaignRow) -> tuple[Any, ...]:
    assert row.link is not None
    return (
        [o.offer_id for o in row.offers],
        [(p.product_id, p.score, dict(p.reasons), p.rules) for p in row.products],
        row.link.split("?")[0],
    )


def test_each_new_customer_gets_the_decision_made_for_them_alone(
    personalizer: Personalizer,
) -> None:
    rows = plan(personalizer, NEW)
    assert [as_decision(r) for r in rows] == [own_decision(personalizer, c) for c in NEW]
    assert rows[0].products is rows[1].products  # one decision for the country's customers
    assert rows[0].offers[0].code != rows[1].offers[0].code  # each customer's own codes
    assert {o.offer_id for o in rows[0].offers} >= {"canada"}
    assert "canada" not in {o.offer_id for o in rows[3].offers}


def test_a_condition_on_the_customer_id_decides_for_each_customer(
    shop: Shop, tmp_path: Path
) -> None:
    config = copy.deepcopy(CONFIG)
    config["rules"].append(
        {
            "id": "vip-pin",
            "when": {"user_id": "n2"},
            "then": [{"pin": {"products": ["p7"], "position": 1}}],
        }
    )
    path = tmp_path / "personalization.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    personalizer = load_personalizer(path, shop.catalog, shop.index)
    rows = plan(personalizer, NEW[:2])
    assert rows[1].products[0].product_id == "p7"
    assert rows[0].products[0].product_id != "p7"
    assert [as_decision(r) for r in rows] == [own_decision(personalizer, c) for c in NEW[:2]]


def test_a_reload_is_seen_by_the_next_campaign(shop: Shop) -> None:
    personalizer = load_personalizer(shop.config, shop.catalog, shop.index)
    before = plan(personalizer, NEW[:1])
    config = copy.deepcopy(CONFIG)
    config["offers"] = [o for o in config["offers"] if o["id"] != "canada"]
    personalizer.reload(config)
    after = plan(personalizer, NEW[:1])
    assert "canada" in {o.offer_id for o in before[0].offers}
    assert "canada" not in {o.offer_id for o in after[0].offers}
