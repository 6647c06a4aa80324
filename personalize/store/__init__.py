"""Visitor state: events in, a bounded :class:`~personalize.History` with a summary out.

``MemoryStore`` (the default: in-process, bounded), ``SQLiteStore`` (one durable file,
several processes on one host) and ``RedisStore`` / ``AsyncRedisStore`` (shared by
servers) implement :class:`Store` (or :class:`AsyncStore`); ``ThreadedAsyncStore`` makes
any sync store async. See ``docs/state.md``.
"""

from personalize.store._async import AsyncRedisStore, ThreadedAsyncStore
from personalize.store._errors import EventError, StoreUnavailable
from personalize.store._events import MAX_ID_CHARS, check_events
from personalize.store._memory import MemoryStore
from personalize.store._protocol import RECENT_EVENTS, AsyncStore, Retention, Store
from personalize.store._redis import RedisStore
from personalize.store._sqlite import SQLiteStore
from personalize.store._summary import SESSION_TIMEOUT, Summary
from personalize.store._url import async_store_from_url, store_from_url

__all__ = [
    "MAX_ID_CHARS",
    "RECENT_EVENTS",
    "SESSION_TIMEOUT",
    "AsyncRedisStore",
    "AsyncStore",
    "EventError",
    "MemoryStore",
    "RedisStore",
    "Retention",
    "SQLiteStore",
    "Store",
    "StoreUnavailable",
    "Summary",
    "ThreadedAsyncStore",
    "async_store_from_url",
    "check_events",
    "store_from_url",
]
