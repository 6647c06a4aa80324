from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from personalize import Personalizer, Request
from personalize.campaigns import SkippedCustomer, plan_campaign, verify_code
from personalize.store import SQLiteStore
from tests.campaigns.conftest import NOW, SECRET, Shop, read_customers


def plan(personalizer: Personalizer, customers: Any, **kwargs: Any) -> list[Any]:
    kwargs.setdefault("campaign_id", "week48")
    kwargs.setdefault("secret", SECRET)
    kwargs.setdefault("now", NOW)
    return list(plan_campaign(personalizer, customers, **kwargs))


def sent(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        bodies = [json.loads(b) for (b,) in conn.execute("SELECT body FROM events")]
    return [
        (e["customer_id"], e["offer_id"], e["campaign_id"])
        for e in bodies
        if e["type"] == "offer_sent"
    ]


def test_each_customer_gets_email_offers_with_verifiable_codes(
    personalizer: Personalizer, shop: Shop
) -> None:
    store = SQLiteStore(shop.db)
    rows = plan(personalizer, read_customers(shop), store=store, link_base="https://shop.test")
    assert [r.customer_id for r in rows] == [f"c{i}" for i in range(shop.count)]
    for row in rows:
        ids = [o.offer_id for o in row.offers]
        assert "web-only" not in ids  # channels: [web]
        assert "mail-big" in ids  # channels: [email], wins its group
        assert "mail-small" not in ids  # the group is taken
        assert ("canada" in ids) == (row.fields.get("country") == "CA")
        for offer in row.offers:
            assert verify_code(offer.code, offer.offer_id, row.customer_id, "week48", SECRET)
        assert len({o.code for o in row.offers}) == len(row.offers)
        assert row.fields["email"] == f"{row.customer_id}@x.test"
        assert row.link is not None
        assert row.link.startswith("https://shop.test/ca/?" if "canada" in ids else "https://")
        assert "utm_campaign=week48" in row.link
        assert [p.title for p in row.products] == [
            f"Product {p.product_id[1:]}" for p in row.products
        ]
    codes = [o.code for r in rows for o in r.offers]
    assert len(set(codes)) == len(codes)


def test_email_rules_apply_in_the_campaign_and_web_rules_do_not(
    personalizer: Personalizer, shop: Shop
) -> None:
    rows = plan(personalizer, ["c1", "c2"], store=SQLiteStore(shop.db), limit=4)
    for row in rows:
        assert all(p.product_id != "p9" or "web-pin" not in p.rules for p in row.products)
        assert any("email-knit-boost" in p.rules for p in row.products)


def test_sends_are_recorded_once_and_web_caps_count_them(
    personalizer: Personalizer, shop: Shop
) -> None:
    store = SQLiteStore(shop.db)
    rows = plan(personalizer, ["c1", "c2", "c3"], store=store)
    recorded = sent(shop.db)
    assert sorted(recorded) == sorted(
        (r.customer_id, o.offer_id, "week48") for r in rows for o in r.offers
    )
    history = store.history(customer_id="c1", now=NOW)
    web = personalizer.personalize(Request(now=NOW, user_id="c1"), history)
    web_ids = [o.offer_id for o in web.offers]
    assert "everyone10" not in web_ids  # cap count: shown counts the email's offer_sent
    assert "web-only" in web_ids
    assert "mail-big" not in web_ids


def test_a_rerun_of_the_same_campaign_records_nothing_and_keeps_the_codes(
    personalizer: Personalizer, shop: Shop
) -> None:
    store = SQLiteStore(shop.db)
    customers = read_customers(shop)
    first = plan(personalizer, customers, store=store)
    recorded = sent(shop.db)
    again = plan(personalizer, customers, store=store)
    assert sent(shop.db) == recorded
    assert all(r.resumed for r in again)
    assert [[(o.offer_id, o.code) for o in r.offers] for r in again] == [
        [(o.offer_id, o.code) for o in r.offers] for r in first
    ]


def test_another_campaign_id_is_a_new_campaign_capped_by_the_first(
    personalizer: Personalizer, shop: Shop
) -> None:
    store = SQLiteStore(shop.db)
    first = plan(personalizer, ["c4"], store=store, campaign_id="week48")
    second = plan(personalizer, ["c4"], store=store, campaign_id="week49")
    assert "everyone10" in [o.offer_id for o in first[0].offers]
    assert "everyone10" not in [o.offer_id for o in second[0].offers]
    assert not second[0].resumed


def test_an_unreadable_history_is_reported_and_the_run_goes_on(
    personalizer: Personalizer, shop: Shop
) -> None:
    with sqlite3.connect(shop.db) as conn:
        conn.execute("UPDATE summaries SET state = '{not json' WHERE owner = 'c:c2'")
    skipped: list[SkippedCustomer] = []
    rows = plan(
        personalizer,
        ["c1", "c2", {"first_name": "no id"}, "c3"],
        store=SQLiteStore(shop.db),
        on_skip=skipped.append,
    )
    assert [r.customer_id for r in rows] == ["c1", "c3"]
    assert [(s.customer_id, s.position) for s in skipped] == [("c2", 1), (None, 2)]
    assert "history unreadable" in skipped[0].error
    assert "customer_id" in skipped[1].error


def test_histories_from_a_mapping_and_from_a_jsonl_file(
    personalizer: Personalizer, tmp_path: Path
) -> None:
    events = [{"type": "purchase", "product_id": "p3", "at": "2026-11-01T10:00:00Z"}]
    histories = {"a": {"events": events}, "b": "{broken", "c": events}
    skipped: list[SkippedCustomer] = []
    rows = plan(personalizer, ["a", "b", "c", "new"], histories=histories, on_skip=skipped.append)
    assert [r.customer_id for r in rows] == ["a", "c", "new"]
    assert [s.customer_id for s in skipped] == ["b"]
    path = tmp_path / "histories.jsonl"
    path.write_text(
        json.dumps({"customer_id": "a", "events": events})
        + "\n"
        + '{"customer_id": "b", "events": [oops\n'
        + json.dumps({"customer_id": "c", "events": events})
        + "\n",
        encoding="utf-8",
    )
    skipped.clear()
    from_file = plan(personalizer, ["a", "b", "c", "new"], histories=path, on_skip=skipped.append)
    assert [r.to_dict() for r in from_file] == [r.to_dict() for r in rows]
    assert [s.customer_id for s in skipped] == ["b"]


def test_bad_arguments_are_refused(personalizer: Personalizer, shop: Shop) -> None:
    store = SQLiteStore(shop.db)
    with pytest.raises(ValueError, match="exactly one"):
        plan(personalizer, ["c1"])
    with pytest.raises(ValueError, match="exactly one"):
        plan(personalizer, ["c1"], store=store, histories={})
    with pytest.raises(ValueError, match="campaign_id"):
        plan(personalizer, ["c1"], store=store, campaign_id="")
    with pytest.raises(ValueError, match="secret"):
        plan(personalizer, ["c1"], store=store, secret="")
