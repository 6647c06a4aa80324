"""A customer listed twice in a mailing list gets one email and one recorded send."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize import Catalog, Personalizer
from personalize.campaigns import SkippedCustomer, plan_campaign
from personalize.campaigns._plan import LISTED_TWICE
from personalize.campaigns._run import CampaignJob, run_campaign
from personalize.store import MemoryStore
from tests.campaigns.conftest import NOW, SECRET, Shop, products
from tests.campaigns.test_run import lines, sends

OFFER = {"id": "winter10", "code": "WINTER10", "value": {"percent": 10}, "channels": ["email"]}
PERSONALIZER = Personalizer({"offers": [OFFER]}, catalog=Catalog(products()))


def recorded(store: MemoryStore, ids: set[str]) -> Counter[tuple[str, str]]:
    return Counter(
        (c, e.offer_id or "")
        for c in ids
        for e in store.history(customer_id=c, now=NOW).events
        if e.type == "offer_sent"
    )


def week48(shop: Shop) -> CampaignJob:
    """The campaign job of the shop's tests, recording in its SQLite store."""
    return CampaignJob(
        config=shop.config,
        catalog=shop.catalog,
        index=shop.index,
        campaign_id="week48",
        secret=SECRET,
        now=NOW,
        store_url=f"sqlite:///{shop.db}",
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["c1", "c2", "c3", "c4"]), min_size=1, max_size=12),
    st.integers(1, 5),
)
def test_each_customer_is_planned_and_recorded_once_however_often_listed(
    customers: list[str], batch_size: int
) -> None:
    store = MemoryStore()
    skipped: list[SkippedCustomer] = []
    rows = list(
        plan_campaign(
            PERSONALIZER,
            customers,
            campaign_id="week48",
            secret=SECRET,
            store=store,
            now=NOW,
            on_skip=skipped.append,
            batch_size=batch_size,
        )
    )
    unique = list(dict.fromkeys(customers))
    assert [r.customer_id for r in rows] == unique
    assert recorded(store, set(unique)) == Counter((c, "winter10") for c in unique)
    repeats = [i for i, c in enumerate(customers) if c in customers[:i]]
    assert [s.position for s in skipped] == repeats
    assert {s.error for s in skipped} <= {LISTED_TWICE}


def test_a_re_run_after_a_double_recorded_send_lists_the_offer_once() -> None:
    # A store that holds the same send twice (as an earlier version recorded a repeat).
    store = MemoryStore()
    first = list(
        plan_campaign(PERSONALIZER, ["c1"], campaign_id="w", secret=SECRET, store=store, now=NOW)
    )
    store.append(
        [e for e in store.history(customer_id="c1", now=NOW).events if e.type == "offer_sent"]
    )
    (again,) = plan_campaign(
        PERSONALIZER, ["c1"], campaign_id="w", secret=SECRET, store=store, now=NOW
    )
    assert again.resumed
    assert [o.code for o in again.offers] == [o.code for o in first[0].offers]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_skips_repeats_within_and_across_chunks(
    shop: Shop, tmp_path: Path, workers: int
) -> None:
    customers = ["c0", "c1", "c0", "c2", "c1", "c3", "c3", "c0"]
    job = week48(shop)
    before = sends(shop.db)
    out = tmp_path / "rows.jsonl"
    summary = run_campaign(job, customers, out, workers=workers, chunk_size=3)
    rows = lines(out)
    assert [r["customer_id"] for r in rows] == ["c0", "c1", "c2", "c3"]
    assert (summary.customers, summary.rows, summary.skipped) == (8, 4, 4)
    new = sends(shop.db) - before
    offers = Counter((str(r["customer_id"]), o["offer_id"]) for r in rows for o in r["offers"])  # type: ignore[attr-defined]
    assert new == offers
    errors = [
        json.loads(line) for line in (tmp_path / "rows.errors.jsonl").read_text().splitlines()
    ]
    assert [(e["customer_id"], e["position"]) for e in errors] == [
        ("c0", 2), ("c1", 4), ("c3", 6), ("c0", 7)
    ]  # fmt: skip


def test_a_failed_run_leaves_the_previous_files_and_no_temporary_files(
    shop: Shop, tmp_path: Path
) -> None:
    def customers() -> Iterator[str]:
        yield from ("c0", "c1", "c2")
        raise OSError("the customer file went away")

    folder = tmp_path / "out"
    folder.mkdir()
    out, errors = folder / "rows.jsonl", folder / "rows.errors.jsonl"
    out.write_text("previous rows\n")
    errors.write_text("previous errors\n")
    job = week48(shop)
    with pytest.raises(OSError, match="went away"):
        run_campaign(job, customers(), out, chunk_size=2)
    assert sorted(p.name for p in folder.iterdir()) == ["rows.errors.jsonl", "rows.jsonl"]
    assert (out.read_text(), errors.read_text()) == ("previous rows\n", "previous errors\n")
