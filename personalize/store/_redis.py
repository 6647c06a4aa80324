"""Visitor state in Redis, shared by every process and server that uses the same Redis.

Per customer two keys (``{prefix}{owner}:e``, a list of event JSON capped at
``retention.max_events``; ``{prefix}{owner}:s``, the summary JSON), both with a TTL of
``retention.max_age`` refreshed on every append. An append is an optimistic transaction:
``WATCH`` the summary, fold the events in, then ``MULTI``/``EXEC`` the new summary, the
``RPUSH``/``LTRIM`` of the events and the TTLs; a concurrent writer makes ``EXEC`` fail and
the append retries, so two writers never lose each other's events.

Faults: reads use ``timeout`` (20 ms by default) as socket timeout and raise
:class:`~personalize.store.StoreUnavailable` on any Redis error; after one, reads fail at
once for ``retry_after`` seconds. Appends that cannot be written go to a bounded buffer
(``max_pending``, 10,000 events), flushed in order by a background thread once Redis
answers again; events beyond the bound are dropped and counted in :attr:`RedisStore.dropped`,
as are buffered events that cannot be written for another reason than Redis (their owner's
stored summary is corrupt), so that they never hold up the events behind them.
An append that timed out after Redis applied it is written again: delivery is at least once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from personalize._models import Event, History
from personalize.store._errors import StoreUnavailable
from personalize.store._events import check_events, decode_all, encode
from personalize.store._fork import reset_after_fork
from personalize.store._protocol import (
    RECENT_EVENTS,
    Retention,
    export_record,
    group,
)
from personalize.store._redis_core import RedisCore

__all__ = ["RedisStore", "import_redis"]

MAX_PENDING = 10_000
_FLUSH_BATCH = 500


def import_redis() -> Any:
    """The ``redis`` package, or an :class:`ImportError` saying how to install it."""
    try:
        import redis
    except ImportError as error:  # pragma: no cover - redis is in the test extra
        raise ImportError("RedisStore needs redis: pip install 'personalize[redis]'") from error
    return redis


class RedisStore(RedisCore):
    """Visitor state in Redis (sync client). See the module docstring for the guarantees.

    Args:
        url: A ``redis://`` URL.
        retention: Events and age kept per customer.
        timeout: Socket timeout of reads, seconds.
        write_timeout: Socket timeout of appends and flushes, seconds.
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
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._init_core(
            retention,
            prefix,
            retry_after,
            max_pending,
            (redis.RedisError, OSError),
            redis.WatchError,
        )

        def client(seconds: float) -> Any:
            return redis.Redis.from_url(
                url,
                socket_timeout=seconds,
                socket_connect_timeout=seconds,
                retry=Retry(NoBackoff(), 0),
            )

        self._read = client(timeout)
        self._writer = client(write_timeout)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        reset_after_fork(self)

    def _after_fork(self) -> None:
        # redis-py re-opens its connection pools in a new process by itself. The buffer
        # belongs to the parent (which flushes it), the flusher thread does not exist here,
        # and a lock held by another thread at the fork would stay held.
        self._pending = deque()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._flusher = None

    def append(self, events: Iterable[Event]) -> None:
        """Store ``events``; buffer them when Redis is down (see the module docstring).

        Raises:
            EventError: An event is invalid; nothing of the batch is stored.
        """
        batch = check_events(events)
        with self._lock:
            direct = not self._pending and time.monotonic() >= self._down_until
        if direct:
            try:
                self._write(batch)
                return
            except self._errors:
                self._down_until = time.monotonic() + self.retry_after
        self._buffer(batch)

    def _buffer(self, batch: Sequence[Event]) -> None:
        with self._lock:
            room = max(0, self._max_pending - len(self._pending))
            self._pending.extend(batch[:room])
            self.dropped += max(0, len(batch) - room)
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(target=self._flush_loop, daemon=True)
                self._flusher.start()

    def _flush_loop(self) -> None:
        delay = self.retry_after
        while True:
            with self._flush_lock:  # forget() waits, so the batch stays the buffer's head
                with self._lock:
                    if not self._pending:
                        self._flusher = None
                        return
                    batch = [self._pending[i] for i in range(min(_FLUSH_BATCH, len(self._pending)))]
                rejected: list[Event] = []
                try:
                    self._write(batch, rejected)
                except self._errors:
                    self._down_until = time.monotonic() + delay
                else:
                    delay, self._down_until = self.retry_after, 0.0
                    with self._lock:
                        for _ in batch:
                            self._pending.popleft()
                        self.dropped += len(rejected)
                    continue
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the buffer is written; return whether it was within ``timeout``."""
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._pending

    def _write(self, batch: Sequence[Event], rejected: list[Event] | None = None) -> None:
        """Write ``batch``, owner by owner. With ``rejected`` (the flusher), an owner whose
        write fails for another reason than Redis (its stored summary is corrupt) has its
        events put there instead, so that they do not block the buffer behind them."""
        for key, events in group(batch).items():
            try:
                self._write_one(key, events)
            except self._errors:
                raise
            except Exception:
                if rejected is None:
                    raise
                rejected.extend(events)

    def _write_one(self, key: str, events: Sequence[Event]) -> None:
        events_key, summary_key, ledger_key = self._keys(key)
        ttl = self._ttl
        bodies = [encode(e) for e in events]
        with self._writer.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(summary_key, ledger_key)
                    summary = self._summary(*pipe.mget(summary_key, ledger_key))
                    for event in events:
                        summary.apply(event)
                    state, ledger = summary.parts()
                    pipe.multi()
                    pipe.set(summary_key, state, ex=ttl)
                    pipe.set(ledger_key, ledger, ex=ttl)
                    pipe.rpush(events_key, *bodies)
                    pipe.ltrim(events_key, -self.retention.max_events, -1)
                    pipe.expire(events_key, ttl)
                    pipe.execute()
                    return
                except self._watch_error:
                    continue

    def history(
        self,
        customer_id: str | None = None,
        session_id: str | None = None,
        *,
        now: datetime | None = None,
        events: bool = True,
    ) -> History:
        """See :meth:`Store.history`.

        Raises:
            StoreUnavailable: Redis did not answer within ``timeout``, or failed recently.
        """
        keys = self._history_keys(customer_id, session_id)
        if keys is None:
            return History()
        events_key, summary_key, _ = keys
        try:
            with self._read.pipeline(transaction=False) as pipe:
                pipe.get(summary_key)
                if events:
                    pipe.lrange(events_key, -RECENT_EVENTS, -1)
                raw, *rest = pipe.execute()
        except self._errors as error:
            raise self._read_failed(error) from error
        return self._history(raw, rest[0] if rest else [], now, session_id)

    def histories(
        self, customer_ids: Sequence[str], *, now: datetime | None = None
    ) -> list[History]:
        """The histories of several customers at once, in order, in one pipeline.

        Each is what :meth:`history` gives for that ``customer_id``.

        Raises:
            StoreUnavailable: Redis did not answer within ``timeout``, or failed recently.
        """
        keys = [self._history_keys(customer_id, None) for customer_id in customer_ids]
        try:
            with self._read.pipeline(transaction=False) as pipe:
                for pair in keys:
                    assert pair is not None  # a customer id always names an owner
                    pipe.get(pair[1])
                    pipe.lrange(pair[0], -RECENT_EVENTS, -1)
                replies = pipe.execute()
        except self._errors as error:
            raise self._read_failed(error) from error
        return [
            self._history(replies[i], replies[i + 1], now, None) for i in range(0, len(replies), 2)
        ]

    def set_loyalty(self, customer_id: str, loyalty: Mapping[str, Any]) -> None:
        """See :meth:`Store.set_loyalty`."""
        _, summary_key, ledger_key = self._keys(f"c:{customer_id}")
        ttl = self._ttl
        with self._writer.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(summary_key)
                    summary = self._summary(pipe.get(summary_key))
                    summary.set_loyalty(dict(loyalty))
                    pipe.multi()
                    pipe.set(summary_key, summary.parts()[0], ex=ttl)
                    pipe.expire(ledger_key, ttl)
                    pipe.execute()
                    return
                except self._watch_error:
                    continue

    def forget(self, customer_id: str) -> None:
        """See :meth:`Store.forget`. Buffered events of the customer are dropped too.

        Raises:
            StoreUnavailable: Redis is down; the buffered events are dropped all the same,
                the stored ones are not: call again.
        """
        with self._flush_lock, self._lock:
            kept = [e for e in self._pending if e.customer_id != customer_id]
            self._pending.clear()
            self._pending.extend(kept)
        try:
            self._writer.delete(*self._keys(f"c:{customer_id}"))
        except self._errors as error:
            raise StoreUnavailable(f"redis: forget failed: {error}") from error

    def export(self, customer_id: str) -> dict[str, Any]:
        """See :meth:`Store.export`."""
        events_key, summary_key, ledger_key = self._keys(f"c:{customer_id}")
        with self._writer.pipeline(transaction=True) as pipe:
            pipe.get(summary_key)
            pipe.get(ledger_key)
            pipe.lrange(events_key, 0, -1)
            raw, ledger, bodies = pipe.execute()
        state = self._summary(raw, ledger).to_json() if raw is not None else None
        oldest = datetime.now(UTC) - self.retention.max_age
        events = [e for e in decode_all(bodies) if e.at >= oldest]
        return export_record(customer_id, events, state)

    def close(self) -> None:
        """Close the connections (buffered events are not written)."""
        self._read.close()
        self._writer.close()
