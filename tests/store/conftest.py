"""The same store suite over every backend (the redis-server fixtures: tests/redis_server.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from personalize.store import MemoryStore, RedisStore, Retention, SQLiteStore, Store
from tests.redis_server import RedisServer

__all__ = ["BACKENDS", "RedisServer", "make_store"]

BACKENDS = ["memory", "sqlite", "redis"]


def make_store(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, retention: Retention | None = None
) -> Store:
    if kind == "memory":
        return MemoryStore(retention)
    if kind == "sqlite":
        return SQLiteStore(tmp_path / f"{uuid.uuid4().hex}.db", retention)
    server: RedisServer = request.getfixturevalue("redis_server")
    return RedisStore(server.url, retention, prefix=f"t{uuid.uuid4().hex}:", timeout=1.0)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of each backend in turn."""
    return str(request.param)


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh, empty store of each backend in turn."""
    return make_store(backend, request, tmp_path)
