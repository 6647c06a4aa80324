"""A real redis-server for tests: a session-wide one, and a factory for extra ones.

Loaded as a plugin by ``tests/conftest.py``, so the store and facade tests share it. Without
``redis-server`` on PATH the tests that need it skip (and fail when ``CI=true``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["REDIS_SERVER", "RedisServer", "free_port", "redis_factory", "redis_server"]

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server child process on 127.0.0.1, with no persistence."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start within 10 s")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _require_redis() -> None:
    if not os.path.exists(REDIS_SERVER):
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed, and CI=true requires it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[type[RedisServer]]:
    """Start extra redis-servers for a test (killed at its end)."""
    _require_redis()
    started: list[RedisServer] = []

    class Factory(RedisServer):
        def __init__(self) -> None:
            super().__init__(free_port(), tmp_path)
            started.append(self)

    yield Factory
    for server in started:
        server.kill()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole session."""
    _require_redis()
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()
