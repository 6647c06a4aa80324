"""One behaviour suite over every backend: history, sessions, forget, export, retention."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from personalize import Event
from personalize.store import (
    AsyncRedisStore,
    AsyncStore,
    EventError,
    MemoryStore,
    RedisStore,
    Retention,
    SQLiteStore,
    Store,
    ThreadedAsyncStore,
    async_store_from_url,
    store_from_url,
)
from tests.store.conftest import RedisServer, make_store

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def _event(kind: str, minutes: float = 0, customer: str = "c1", **fields: object) -> Event:
    return Event(type=kind, customer_id=customer, at=NOW + timedelta(minutes=minutes), **fields)  # type: ignore[arg-type]


def test_an_unknown_customer_has_an_empty_history(store: Store) -> None:
    history = store.history("nobody")
    assert history.events == []
    assert history.profile is None


def test_history_carries_the_recent_events_newest_last_and_at_most_fifty(store: Store) -> None:
    store.append([_event("view", i, product_id=f"p{i}") for i in range(80)])
    events = store.history("c1", now=NOW + timedelta(hours=2)).events
    assert [e.product_id for e in events] == [f"p{i}" for i in range(30, 80)]


def test_the_entry_referral_lasts_for_the_visit_and_ends_with_it(store: Store) -> None:
    url = "https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=winter"
    store.append([_event("page_view", 0, url=url, referrer="https://www.google.com/")])
    store.append([_event("page_view", 10, url="https://shop.example/c/boots")])
    profile = store.history("c1", now=NOW + timedelta(minutes=20)).profile
    assert profile is not None
    assert profile.session_referrer == "https://www.google.com/"
    assert profile.session_utm == {"source": "google", "medium": "cpc", "campaign": "winter"}
    later = store.history("c1", now=NOW + timedelta(minutes=45)).profile
    assert later is not None
    assert later.session_id is None
    assert later.session_utm == {}


def test_a_cart_left_when_a_new_visit_begins_is_abandoned(store: Store) -> None:
    store.append([_event("add_to_cart", 0, product_id="p1", price=20.0, quantity=2)])
    store.append([_event("page_view", 45, page="/")])  # after the 30-minute idle timeout
    profile = store.history("c1", now=NOW + timedelta(minutes=50)).profile
    assert profile is not None
    assert profile.abandoned_cart == {"p1": 2.0}
    assert profile.abandoned_cart_value == 40.0
    assert profile.abandoned_cart_at == NOW


def test_a_purchase_after_the_visit_clears_the_abandoned_cart(store: Store) -> None:
    store.append([_event("add_to_cart", 0, product_id="p1", price=20.0)])
    store.append([_event("purchase", 60, product_id="p2", price=5.0, order_id="o1")])
    profile = store.history("c1", now=NOW + timedelta(minutes=70)).profile
    assert profile is not None
    assert profile.abandoned_cart == {}
    assert profile.order_count == 1


def test_offer_times_are_kept_per_offer_and_bounded(store: Store) -> None:
    store.append([_event("offer_shown", i, offer_id="o") for i in range(130)])
    profile = store.history("c1", now=NOW + timedelta(days=1)).profile
    assert profile is not None
    times = profile.offers_shown["o"]
    assert len(times) == 100
    assert times[-1] == NOW + timedelta(minutes=129)


def test_anonymous_events_live_under_their_session(store: Store) -> None:
    store.append([Event(type="view", session_id="anon", at=NOW, product_id="p1")])
    assert [e.product_id for e in store.history(session_id="anon", now=NOW).events] == ["p1"]
    assert store.history("c1").events == []


def test_loyalty_is_set_and_returned(store: Store) -> None:
    store.set_loyalty("c1", {"tier": "gold", "points": 1200})
    assert store.history("c1").loyalty == {"tier": "gold", "points": 1200}


def test_forget_deletes_everything_about_the_customer(store: Store) -> None:
    store.append([_event("purchase", 0, product_id="p1", price=5.0), _event("view", 1, "c2")])
    store.forget("c1")
    assert store.history("c1").profile is None
    assert store.export("c1") == {"customer_id": "c1", "events": [], "summary": None}
    assert len(store.history("c2").events) == 1


def test_export_holds_every_event_and_the_summary_as_json(store: Store) -> None:
    store.append([_event("view", i, product_id=f"p{i}") for i in range(70)])
    record = json.loads(json.dumps(store.export("c1")))
    assert len(record["events"]) == 70
    assert record["events"][0]["product_id"] == "p0"
    assert record["summary"]["events"] == 70


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"type": "viewed"}, "events[1].type"),
        ({"type": "purchase", "price": float("nan")}, "events[1].price"),
        ({"type": "view", "at": datetime(1, 1, 1, tzinfo=UTC)}, "events[1].at"),
        ({"type": "view", "product_id": "x" * 1_000_000}, "events[1].product_id"),
        ({"type": "view", "customer_id": None}, "events[1]"),
    ],
)
def test_a_bad_event_rejects_its_batch_and_leaves_the_summary_intact(
    store: Store, fields: dict[str, object], path: str
) -> None:
    store.append([_event("purchase", 0, product_id="p1", price=5.0)])
    before = store.export("c1")
    values: dict[str, object] = {"customer_id": "c1", "at": NOW} | fields
    with pytest.raises(EventError) as caught:
        store.append([_event("view", 1), Event(**values)])  # type: ignore[arg-type]
    assert caught.value.problems[0].path == path
    assert store.export("c1") == before


def test_retention_keeps_the_newest_events_and_the_lifetime_totals(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = make_store(backend, request, tmp_path, Retention(max_events=20))
    for i in range(3):
        store.append([_event("purchase", i * 10 + j, product_id="p", price=1.0) for j in range(10)])
    record = store.export("c1")
    assert len(record["events"]) == 20
    profile = store.history("c1", now=NOW + timedelta(days=1)).profile
    assert profile is not None
    assert profile.lifetime_value == 30.0


def test_retention_drops_events_older_than_max_age(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = make_store(backend, request, tmp_path, Retention(max_age=timedelta(days=1)))
    recent = 2 * 1440 - 5  # five minutes ago
    store.append([_event("view", 0, product_id="old"), _event("view", recent, product_id="new")])
    assert [e.product_id for e in store.history("c1").events] == ["new"]
    assert [e["product_id"] for e in store.export("c1")["events"]] == ["new"]


def test_memory_store_keeps_at_most_max_customers() -> None:
    store = MemoryStore(max_customers=3)
    store.append([_event("view", 0, f"c{i}") for i in range(10)])
    assert len(store) == 3
    assert store.history("c9").events


def test_sqlite_store_reopens_with_its_data(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "s.db").append([_event("view", 0, product_id="p1")])
    assert SQLiteStore(tmp_path / "s.db").history("c1", now=NOW).events[0].product_id == "p1"


def test_store_from_url_opens_each_backend(tmp_path: Path, redis_server: RedisServer) -> None:
    assert isinstance(store_from_url("memory://"), MemoryStore)
    assert isinstance(store_from_url(f"sqlite:///{tmp_path}/a.db"), SQLiteStore)
    assert isinstance(store_from_url(redis_server.url), RedisStore)
    assert isinstance(async_store_from_url(redis_server.url), AsyncRedisStore)
    assert isinstance(async_store_from_url("memory://"), ThreadedAsyncStore)
    with pytest.raises(ValueError, match="scheme"):
        store_from_url("postgres://x")


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_async_stores_append_read_export_and_forget(kind: str, redis_server: RedisServer) -> None:
    async def run() -> None:
        url = "memory://" if kind == "memory" else redis_server.url
        options = {} if kind == "memory" else {"prefix": f"a{uuid.uuid4().hex}:", "timeout": 1.0}
        store: AsyncStore = async_store_from_url(url, **options)
        await store.append([_event("view", 0, product_id="p1")])
        await store.set_loyalty("c1", {"tier": "gold"})
        history = await store.history("c1", now=NOW)
        assert [e.product_id for e in history.events] == ["p1"]
        assert history.loyalty == {"tier": "gold"}
        assert len((await store.export("c1"))["events"]) == 1
        await store.forget("c1")
        assert (await store.history("c1")).profile is None
        if isinstance(store, AsyncRedisStore):
            await store.aclose()

    asyncio.run(run())


def test_every_backend_implements_the_protocols(store: Store) -> None:
    assert isinstance(store, Store)
    assert isinstance(ThreadedAsyncStore(store), AsyncStore)
