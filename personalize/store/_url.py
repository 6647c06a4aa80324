"""Opening a store from a URL: ``memory://``, ``sqlite:///path``, ``redis://host:port/0``."""

from __future__ import annotations

from typing import Any

from personalize.store._async import AsyncRedisStore, ThreadedAsyncStore
from personalize.store._memory import MemoryStore
from personalize.store._protocol import AsyncStore, Store
from personalize.store._redis import RedisStore
from personalize.store._sqlite import SQLiteStore

__all__ = ["async_store_from_url", "store_from_url"]


def store_from_url(url: str, **options: Any) -> Store:
    """Open the sync store that ``url`` names; ``options`` go to its constructor.

    ``sqlite:///relative.db`` is relative to the working directory and
    ``sqlite:////abs/path.db`` absolute, as in SQLAlchemy.

    Raises:
        ValueError: The scheme is not ``memory``, ``sqlite``, ``redis`` or ``rediss``.
    """
    scheme, _, rest = url.partition("://")
    if scheme == "memory":
        return MemoryStore(**options)
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ValueError(f"store url {url!r}: expected sqlite:///path/to/file.db")
        return SQLiteStore(rest[1:], **options)
    if scheme in ("redis", "rediss", "unix"):
        return RedisStore(url, **options)
    raise ValueError(f"store url {url!r}: the scheme must be memory, sqlite or redis")


def async_store_from_url(url: str, **options: Any) -> AsyncStore:
    """Like :func:`store_from_url`, for asyncio: Redis natively, the others in a thread."""
    if url.partition("://")[0] in ("redis", "rediss", "unix"):
        return AsyncRedisStore(url, **options)
    return ThreadedAsyncStore(store_from_url(url, **options))
