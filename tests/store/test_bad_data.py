"""Input and stored data a store must survive: overflowing totals, unencodable text, naive
times, a corrupt summary in Redis behind buffered events (found by an adversarial hunt)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis

from personalize import Event
from personalize.store import AsyncRedisStore, EventError, RedisStore, Retention, Store
from tests.redis_server import RedisServer

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def test_a_price_whose_lifetime_total_would_overflow_is_rejected(store: Store) -> None:
    # 1e303 x 1e6 is inf: the summary's lifetime value could never be written as JSON
    # again (SQLite and Redis appends failed, a MemoryStore's export raised).
    huge = Event(
        type="purchase", customer_id="c", product_id="p", price=1e303, quantity=1e6, at=NOW
    )
    with pytest.raises(EventError, match=r"events\[0\]\.price"):
        store.append([huge])
    store.append([Event(type="purchase", customer_id="c", product_id="p", price=2.0, at=NOW)])
    exported = store.export("c")
    assert exported["summary"]["value"] == 2.0
    profile = store.history("c", now=NOW).profile
    assert profile is not None
    assert profile.lifetime_value == 2.0


@pytest.mark.parametrize(
    "fields",
    [
        {"product_id": "\ud800"},
        {"category": "shoes\udfff"},
        {"url": "https://shop.example/?q=\ud83d"},
        {"experiments": {"\ud800": "a"}},
    ],
    ids=["product_id", "category", "url", "experiments"],
)
def test_text_that_utf8_cannot_encode_is_rejected_on_every_backend(
    store: Store, fields: dict[str, object]
) -> None:
    # A lone surrogate (what json.loads gives for "\ud800") was kept by MemoryStore, made
    # SQLite and Redis appends raise a serialization error, and kills Redis's flusher.
    event = Event(type="view", customer_id="c", at=NOW, **fields)  # type: ignore[arg-type]
    with pytest.raises(EventError, match="UTF-8"):
        store.append([event])
    assert store.history("c", now=NOW).profile is None


def test_a_naive_read_time_is_utc_like_a_naive_event_time(store: Store) -> None:
    store.append([Event(type="view", customer_id="c", product_id="p", at=NOW)])
    naive = store.history("c", now=(NOW + timedelta(minutes=5)).replace(tzinfo=None))
    aware = store.history("c", now=NOW + timedelta(minutes=5))
    assert naive == aware
    assert [e.product_id for e in naive.events] == ["p"]


@pytest.mark.parametrize("year", [1, 2])
def test_a_read_time_near_the_year_1_reads_without_overflowing(store: Store, year: int) -> None:
    store.append([Event(type="view", customer_id="c", product_id="p", at=NOW)])
    # now - max_age used to overflow (OverflowError: date value out of range).
    history = store.history("c", now=datetime(year, 1, 1, tzinfo=UTC))
    assert [e.product_id for e in history.events] == ["p"]
    assert history.profile is not None


def _corrupt(server: RedisServer, prefix: str, customer: str) -> None:
    redis.Redis.from_url(server.url).set(f"{prefix}{{c:{customer}}}:s", b"{not json")


def test_a_corrupt_summary_does_not_block_the_redis_buffer(redis_server: RedisServer) -> None:
    prefix = f"t{uuid.uuid4().hex}:"
    store = RedisStore(redis_server.url, prefix=prefix, timeout=1.0, retry_after=0.05)
    _corrupt(redis_server, prefix, "bad")
    store._down_until = time.monotonic() + 0.05  # a failure just happened: appends buffer
    store.append([Event(type="view", customer_id="bad", product_id="p", at=NOW)])
    store.append([Event(type="view", customer_id="good", product_id="p", at=NOW)])
    # The flusher used to die on the corrupt summary: the buffer never drained, and every
    # later append of every customer queued behind it.
    assert store.flush(5.0)
    assert [e.product_id for e in store.history("good", now=NOW).events] == ["p"]
    assert store.dropped == 1
    store.append([Event(type="view", customer_id="good", product_id="q", at=NOW)])
    assert store.pending == 0
    assert len(store.history("good", now=NOW).events) == 2


def test_a_corrupt_summary_does_not_block_the_async_redis_buffer(
    redis_server: RedisServer,
) -> None:
    prefix = f"t{uuid.uuid4().hex}:"

    async def run() -> tuple[list[str | None], int]:
        store = AsyncRedisStore(redis_server.url, prefix=prefix, timeout=1.0, retry_after=0.05)
        _corrupt(redis_server, prefix, "bad")
        store._down_until = time.monotonic() + 0.05
        await store.append([Event(type="view", customer_id="bad", product_id="p", at=NOW)])
        await store.append([Event(type="view", customer_id="good", product_id="p", at=NOW)])
        assert await store.flush(5.0)
        history = await store.history("good", now=NOW)
        await store.aclose()
        return [e.product_id for e in history.events], store.dropped

    assert asyncio.run(run()) == (["p"], 1)


def test_a_sub_second_max_age_still_writes_to_redis(redis_server: RedisServer) -> None:
    # The TTL was int(max_age seconds): 0 for under a second, which Redis refuses ("invalid
    # expire time"), so every append was taken for Redis being down and buffered forever.
    retention = Retention(max_age=timedelta(milliseconds=900))
    store = RedisStore(redis_server.url, retention, prefix=f"t{uuid.uuid4().hex}:", timeout=1.0)
    store.append([Event(type="view", customer_id="c", product_id="p", at=datetime.now(UTC))])
    assert store.pending == 0
    assert store.export("c")["summary"] is not None
