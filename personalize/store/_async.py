"""The asyncio stores: a thread wrapper for the local backends, and Redis on redis.asyncio."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from personalize._models import Event, History
from personalize.store._errors import StoreUnavailable
from personalize.store._events import check_events, decode_all, encode
from personalize.store._protocol import (
    RECENT_EVENTS,
    Retention,
    Store,
    export_record,
    group,
    reads_summary_only,
)
from personalize.store._redis import MAX_PENDING, import_redis
from personalize.store._redis_core import RedisCore

__all__ = ["AsyncRedisStore", "ThreadedAsyncStore"]


class ThreadedAsyncStore:
    """Any sync :class:`Store` as an ``AsyncStore``: each call runs in a worker thread.

    Args:
        store: The store to wrap (``MemoryStore``, ``SQLiteStore`` ...).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.retention = store.retention
        self._summary_only = reads_summary_only(store)

    async def append(self, events: Iterable[Event]) -> None:
        """See :meth:`Store.append`."""
        await asyncio.to_thread(self.store.append, list(events))

    async def history(
        self,
        customer_id: str | None = None,
        session_id: str | None = None,
        *,
        now: datetime | None = None,
        events: bool = True,
    ) -> History:
        """See :meth:`Store.history` (``events=False`` is passed on when the store takes it)."""
        options = {} if events or not self._summary_only else {"events": False}
        return await asyncio.to_thread(
            self.store.history, customer_id, session_id, now=now, **options
        )

    async def set_loyalty(self, customer_id: str, loyalty: Mapping[str, Any]) -> None:
        """See :meth:`Store.set_loyalty`."""
        await asyncio.to_thread(self.store.set_loyalty, customer_id, dict(loyalty))

    async def forget(self, customer_id: str) -> None:
        """See :meth:`Store.forget`."""
        await asyncio.to_thread(self.store.forget, customer_id)

    async def export(self, customer_id: str) -> dict[str, Any]:
        """See :meth:`Store.export`."""
        return await asyncio.to_thread(self.store.export, customer_id)


class AsyncRedisStore(RedisCore):
    """:class:`~personalize.store.RedisStore` on ``redis.asyncio``: same keys, same guarantees.

    Buffered appends are flushed by a task of the running event loop.

    Args:
        url: A ``redis://`` URL.
        retention: Events and age kept per customer.
        timeout: Timeout of reads, seconds.
        write_timeout: Timeout of appends and flushes, seconds.
        retry_after: After a failure, reads fail at once and appends buffer this long.
        max_pending: Events buffered while Redis is down.
        prefix: Prefix of every key.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        retention: Retention | None = None,
        *,
        timeout: float = 0.02,
        write_timeout: float = 0.5,
        retry_after: float = 0.5,
        max_pending: int = MAX_PENDING,
        prefix: str = "personalize:",
    ) -> None:
        redis = import_redis()
        from redis.asyncio import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        errors = (redis.RedisError, OSError, asyncio.TimeoutError)
        self._init_core(retention, prefix, retry_after, max_pending, errors, redis.WatchError)
        self.timeout = timeout
        self._read = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self._writer = Redis.from_url(
            url,
            socket_timeout=write_timeout,
            socket_connect_timeout=write_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._flusher: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    async def append(self, events: Iterable[Event]) -> None:
        """See :meth:`RedisStore.append`."""
        batch = check_events(events)
        if not self._pending and time.monotonic() >= self._down_until:
            try:
                await self._write(batch)
                return
            except self._errors:
                self._down_until = time.monotonic() + self.retry_after
        room = max(0, self._max_pending - len(self._pending))
        self._pending.extend(batch[:room])
        self.dropped += max(0, len(batch) - room)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())

    async def _flush_loop(self) -> None:
        delay = self.retry_after
        while self._pending:
            async with self._flush_lock:  # forget() waits, so the batch stays the head
                batch = [self._pending[i] for i in range(min(500, len(self._pending)))]
                rejected: list[Event] = []
                try:
                    await self._write(batch, rejected)
                except self._errors:
                    self._down_until = time.monotonic() + delay
                else:
                    delay, self._down_until = self.retry_after, 0.0
                    for _ in batch:
                        self._pending.popleft()
                    self.dropped += len(rejected)
                    continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the buffer is written; return whether it was within ``timeout``."""
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return not self._pending

    async def _write(self, batch: Sequence[Event], rejected: list[Event] | None = None) -> None:
        """See :meth:`RedisStore._write`."""
        for key, events in group(batch).items():
            try:
                await self._write_one(key, events)
            except self._errors:
                raise
            except Exception:
                if rejected is None:
                    raise
                rejected.extend(events)

    async def _write_one(self, key: str, events: Sequence[Event]) -> None:
        ttl = self._ttl
        events_key, summary_key, ledger_key = self._keys(key)
        bodies = [encode(e) for e in events]
        async with self._writer.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(summary_key, ledger_key)
                    summary = self._summary(*await pipe.mget(summary_key, ledger_key))
                    for event in events:
                        summary.apply(event)
                    state, ledger = summary.parts()
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(summary_key, state, ex=ttl)
                    pipe.set(ledger_key, ledger, ex=ttl)
                    pipe.rpush(events_key, *bodies)
                    pipe.ltrim(events_key, -self.retention.max_events, -1)
                    pipe.expire(events_key, ttl)
                    await pipe.execute()
                    return
                except self._watch_error:
                    continue

    async def history(
        self,
        customer_id: str | None = None,
        session_id: str | None = None,
        *,
        now: datetime | None = None,
        events: bool = True,
    ) -> History:
        """See :meth:`RedisStore.history`."""
        keys = self._history_keys(customer_id, session_id)
        if keys is None:
            return History()
        events_key, summary_key, _ = keys
        try:
            async with self._read.pipeline(transaction=False) as pipe:
                pipe.get(summary_key)
                if events:
                    pipe.lrange(events_key, -RECENT_EVENTS, -1)
                raw, *rest = await asyncio.wait_for(pipe.execute(), self.timeout)
        except self._errors as error:
            raise self._read_failed(error) from error
        return self._history(raw, rest[0] if rest else [], now, session_id)

    async def set_loyalty(self, customer_id: str, loyalty: Mapping[str, Any]) -> None:
        """See :meth:`Store.set_loyalty`."""
        _, summary_key, ledger_key = self._keys(f"c:{customer_id}")
        ttl = self._ttl
        async with self._writer.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(summary_key)
                    summary = self._summary(await pipe.get(summary_key))
                    summary.set_loyalty(dict(loyalty))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(summary_key, summary.parts()[0], ex=ttl)
                    pipe.expire(ledger_key, ttl)
                    await pipe.execute()
                    return
                except self._watch_error:
                    continue

    async def forget(self, customer_id: str) -> None:
        """See :meth:`RedisStore.forget`."""
        async with self._flush_lock:
            kept = [e for e in self._pending if e.customer_id != customer_id]
            self._pending.clear()
            self._pending.extend(kept)
        try:
            await self._writer.delete(*self._keys(f"c:{customer_id}"))
        except self._errors as error:
            raise StoreUnavailable(f"redis: forget failed: {error}") from error

    async def export(self, customer_id: str) -> dict[str, Any]:
        """See :meth:`Store.export`."""
        events_key, summary_key, ledger_key = self._keys(f"c:{customer_id}")
        async with self._writer.pipeline(transaction=True) as pipe:
            pipe.get(summary_key)
            pipe.get(ledger_key)
            pipe.lrange(events_key, 0, -1)
            raw, ledger, bodies = await pipe.execute()
        state = self._summary(raw, ledger).to_json() if raw is not None else None
        oldest = datetime.now(UTC) - self.retention.max_age
        events = [e for e in decode_all(bodies) if e.at >= oldest]
        return export_record(customer_id, events, state)

    async def aclose(self) -> None:
        """Close the connections (buffered events are not written)."""
        await self._read.aclose()
        await self._writer.aclose()
