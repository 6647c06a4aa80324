"""Concurrent writers lose nothing, and kill -9 leaves SQLite consistent."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from personalize import Event
from personalize.store import RedisStore, Retention, SQLiteStore, Store
from tests.store.conftest import RedisServer

EVENTS_PER_WRITER = 10_000
BATCH = 250
KEEP_ALL = Retention(max_events=100_000)
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def _open(url: str) -> Store:
    if url.startswith("redis://"):
        return RedisStore(url, KEEP_ALL, prefix="two-writers:", write_timeout=5.0)
    return SQLiteStore(url, KEEP_ALL, synchronous="NORMAL", busy_timeout=30.0)


def _write(url: str, writer: int) -> None:
    store = _open(url)
    for start in range(0, EVENTS_PER_WRITER, BATCH):
        store.append(
            Event(
                type="view",
                customer_id="shared",
                product_id=f"w{writer}-{i}",
                at=START + timedelta(milliseconds=i),
            )
            for i in range(start, start + BATCH)
        )
    if isinstance(store, RedisStore):
        assert store.flush(30.0)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_two_processes_appending_for_one_customer_lose_no_event(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "redis":
        url = request.getfixturevalue("redis_server").url
    else:
        url = str(tmp_path / "shared.db")
    if backend == "sqlite":
        SQLiteStore(url)  # create the tables once
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write, args=(url, w)) for w in (1, 2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
        assert process.exitcode == 0
    record = _open(url).export("shared")
    products = {e["product_id"] for e in record["events"]}
    assert len(record["events"]) == len(products) == 2 * EVENTS_PER_WRITER
    assert record["summary"]["events"] == 2 * EVENTS_PER_WRITER


_CHILD = """
import sys
from datetime import UTC, datetime, timedelta
from personalize import Event
from personalize.store import SQLiteStore
store = SQLiteStore(sys.argv[1])
start = datetime.now(UTC) - timedelta(days=1)
acked = 0
while True:
    store.append(
        Event(type="add_to_cart", customer_id="c", product_id=f"p{acked + i}", price=1.0,
              at=start + timedelta(milliseconds=acked + i))
        for i in range(10)
    )
    acked += 10
    print(acked, flush=True)
"""


def test_kill_9_during_sqlite_writes_keeps_every_acknowledged_event(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    acked = 0
    while acked < 500:
        acked = int(child.stdout.readline())
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    store = SQLiteStore(path)
    record = store.export("c")
    stored = len(record["events"])
    assert stored >= acked
    assert record["summary"]["events"] == stored  # summary and events were committed together
    assert len(record["summary"]["cart"]) == stored
    assert store._db().execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_redis_server_fixture_can_be_restarted(redis_factory: type[RedisServer]) -> None:
    server = redis_factory()
    server.start()
    server.kill()
    server.start()
    assert RedisStore(server.url, timeout=1.0).history("x").profile is None
