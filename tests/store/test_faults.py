"""Redis killed mid-run: reads degrade within the timeout, appends buffer, then arrive."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from personalize import Event
from personalize.store import AsyncRedisStore, RedisStore, StoreUnavailable
from tests.store.conftest import RedisServer

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _views(count: int, first: int = 0) -> list[Event]:
    return [
        Event(type="view", customer_id="c", product_id=f"p{i}", at=NOW + timedelta(seconds=i))
        for i in range(first, first + count)
    ]


def test_redis_killed_mid_run_degrades_buffers_and_recovers(
    redis_factory: type[RedisServer],
) -> None:
    server = redis_factory()
    server.start()
    store = RedisStore(server.url, timeout=0.02, retry_after=0.05, max_pending=100)
    store.append(_views(5))
    assert len(store.history("c").events) == 5
    server.kill()

    started = time.perf_counter()
    with pytest.raises(StoreUnavailable, match="redis"):
        store.history("c")
    assert time.perf_counter() - started < 0.1

    started = time.perf_counter()
    for i in range(12):
        store.append(_views(10, 100 + 10 * i))
    assert time.perf_counter() - started < 0.25
    assert (store.pending, store.dropped) == (100, 20)

    server.start()  # an empty Redis: only the buffered events come back
    assert store.flush(10.0)
    time.sleep(0.06)
    events = store.history("c").events
    assert [e.product_id for e in events] == [f"p{i}" for i in range(150, 200)]
    profile = store.history("c").profile
    assert profile is not None
    assert len(store.export("c")["events"]) == 100


def test_a_stopped_redis_fails_reads_within_the_timeout(
    redis_factory: type[RedisServer],
) -> None:
    server = redis_factory()
    server.start()
    store = RedisStore(server.url, timeout=0.02)
    store.append(_views(1))
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        started = time.perf_counter()
        with pytest.raises(StoreUnavailable, match="Timeout"):
            store.history("c")
        assert time.perf_counter() - started < 0.1
    finally:
        server.process.send_signal(signal.SIGCONT)


def test_a_redis_that_is_not_running_fails_reads_at_once_afterwards(
    redis_factory: type[RedisServer],
) -> None:
    server = redis_factory()  # never started: nothing listens on the port
    store = RedisStore(server.url, timeout=0.02, retry_after=1.0)
    with pytest.raises(StoreUnavailable):
        store.history("c")
    started = time.perf_counter()
    with pytest.raises(StoreUnavailable, match="recent"):
        store.history("c")
    assert time.perf_counter() - started < 0.005


def test_async_redis_store_buffers_while_redis_is_down(redis_factory: type[RedisServer]) -> None:
    server = redis_factory()

    async def run() -> None:
        store = AsyncRedisStore(server.url, timeout=0.02, retry_after=0.05)
        await store.append(_views(3))
        assert store.pending == 3
        with pytest.raises(StoreUnavailable):
            await store.history("c")
        server.start()
        assert await store.flush(10.0)
        await asyncio.sleep(0.06)
        assert len((await store.history("c")).events) == 3
        await store.aclose()

    asyncio.run(run())


def test_forget_drops_the_customers_buffered_events(redis_factory: type[RedisServer]) -> None:
    server = redis_factory()  # down at first
    store = RedisStore(server.url, timeout=0.02, retry_after=0.05)
    other = Event(type="view", customer_id="d", product_id="p", at=NOW)
    store.append([*_views(3), other])
    with pytest.raises(StoreUnavailable, match="forget"):
        store.forget("c")
    assert store.pending == 1
    server.start()
    assert store.flush(10.0)
    assert store.export("c")["events"] == []
    assert len(store.export("d")["events"]) == 1


def test_async_forget_while_redis_is_down_raises_store_unavailable(
    redis_factory: type[RedisServer],
) -> None:
    server = redis_factory()  # down at first

    async def run() -> int:
        store = AsyncRedisStore(server.url, timeout=0.02, retry_after=0.05)
        await store.append([*_views(3), Event(type="view", customer_id="d", at=NOW)])
        # It raised redis's ConnectionError, not the StoreUnavailable RedisStore documents.
        with pytest.raises(StoreUnavailable, match="forget"):
            await store.forget("c")
        pending = store.pending
        await store.aclose()
        return pending

    assert asyncio.run(run()) == 1
