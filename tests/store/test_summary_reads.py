"""A decision's read loads the summary alone, and a summary that does not grow with orders."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from personalize import Catalog, Event, History, Personalizer, Request
from personalize.store import AsyncRedisStore, MemoryStore, RedisStore, SQLiteStore, Store
from tests.store.conftest import RedisServer

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def _purchase(order: str, product: str, minutes: float) -> Event:
    return Event(
        type="purchase",
        customer_id="c1",
        session_id="s1",
        order_id=order,
        product_id=product,
        price=5.0,
        at=NOW + timedelta(minutes=minutes),
    )


def _history_of(store: Store) -> list[Event]:
    events = [_purchase(f"o{i}", f"p{i % 7}", i) for i in range(30)]
    events += [
        Event(
            type="view",
            customer_id="c1",
            session_id="s2",
            product_id="p3",
            at=NOW + timedelta(minutes=40),
        )
    ]
    store.append(events)
    return events


def test_a_summary_only_read_has_the_same_profile_and_no_events(store: Store) -> None:
    _history_of(store)
    later = NOW + timedelta(minutes=45)
    whole = store.history("c1", "s2", now=later)
    summary = store.history("c1", "s2", now=later, events=False)
    assert len(whole.events) == 31
    assert summary.events == []
    assert summary.profile == whole.profile
    assert summary.loyalty == whole.loyalty


def test_async_redis_reads_the_summary_alone_too(redis_server: RedisServer) -> None:
    async def run() -> tuple[History, History]:
        store = AsyncRedisStore(redis_server.url, prefix=f"a{uuid.uuid4().hex}:", timeout=1.0)
        await store.append([_purchase("o1", "p1", 0), _purchase("o2", "p2", 5)])
        whole = await store.history("c1", now=NOW + timedelta(hours=1))
        alone = await store.history("c1", now=NOW + timedelta(hours=1), events=False)
        await store.aclose()
        return whole, alone

    whole, alone = asyncio.run(run())
    assert len(whole.events) == 2
    assert alone.events == []
    assert alone.profile == whole.profile


def test_order_lines_are_matched_across_appends_with_the_ledger_kept_apart(store: Store) -> None:
    store.append([_purchase("o1", "p1", 0), _purchase("o1", "p2", 0)])
    store.append([_purchase("o1", "p3", 0), _purchase("o2", "p1", 10)])
    profile = store.history("c1", now=NOW + timedelta(hours=1), events=False).profile
    assert profile is not None
    assert profile.order_count == 2
    assert profile.purchase_counts == {"p1": 2, "p2": 1, "p3": 1}
    assert store.export("c1")["summary"]["recent_orders"] == {
        "o1": ["p1", "p2", "p3"],
        "o2": ["p1"],
    }


def test_sqlite_reads_a_state_without_the_order_ledger(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.append([_purchase(f"o{i}", "p1", i) for i in range(50)])
    db = sqlite3.connect(tmp_path / "s.db")
    state, ledger = db.execute("SELECT state, ledger FROM summaries").fetchone()
    assert "recent_orders" not in json.loads(state)
    assert len(json.loads(ledger)["recent_orders"]) == 50


def test_sqlite_opens_a_file_written_before_the_ledger_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL,"
        " at REAL NOT NULL, body TEXT NOT NULL);"
        "CREATE TABLE summaries (owner TEXT PRIMARY KEY, last_at REAL NOT NULL,"
        " kept INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL);"
    )
    old = SQLiteStore(tmp_path / "scratch.db")
    old.append([_purchase("o1", "p1", 0)])
    whole = old.export("c1")["summary"]
    db.execute(
        "INSERT INTO summaries (owner, last_at, kept, state) VALUES (?, ?, 0, ?)",
        ("c:c1", time.time(), json.dumps(whole)),  # the state whole, its ledger inside
    )
    db.commit()
    db.close()
    store = SQLiteStore(path)
    store.append([_purchase("o1", "p2", 0)])  # another line of the same order
    profile = store.history("c1", now=NOW + timedelta(hours=1)).profile
    assert profile is not None
    assert profile.order_count == 1
    assert profile.purchase_counts == {"p1": 1, "p2": 1}


def test_redis_keeps_the_ledger_under_its_own_key_and_forget_deletes_it(
    redis_server: RedisServer,
) -> None:
    prefix = f"l{uuid.uuid4().hex}:"
    store = RedisStore(redis_server.url, prefix=prefix, timeout=1.0)
    store.append([_purchase("o1", "p1", 0), _purchase("o2", "p1", 1)])
    client = redis.Redis.from_url(redis_server.url)
    state = json.loads(client.get(f"{prefix}{{c:c1}}:s"))
    assert "recent_orders" not in state
    assert set(json.loads(client.get(f"{prefix}{{c:c1}}:o"))["recent_orders"]) == {"o1", "o2"}
    assert client.ttl(f"{prefix}{{c:c1}}:o") > 0
    store.forget("c1")
    assert client.keys(f"{prefix}*") == []


class _OldStore:
    """A store written against the protocol before ``events=``: it still serves decisions."""

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.retention = self.inner.retention

    def append(self, events: list[Event]) -> None:
        self.inner.append(events)

    def history(
        self,
        customer_id: str | None = None,
        session_id: str | None = None,
        *,
        now: datetime | None = None,
    ) -> History:
        return self.inner.history(customer_id, session_id, now=now)

    def set_loyalty(self, customer_id: str, loyalty: dict[str, object]) -> None:
        self.inner.set_loyalty(customer_id, loyalty)

    def forget(self, customer_id: str) -> None:
        self.inner.forget(customer_id)

    def export(self, customer_id: str) -> dict[str, object]:
        return self.inner.export(customer_id)


@pytest.mark.parametrize("kind", ["old protocol", "memory"])
def test_a_decision_reads_history_from_a_store_with_either_signature(kind: str) -> None:
    catalog = Catalog.from_records(
        [{"id": "p1", "category": ["a"]}, {"id": "p2", "category": ["a"]}]
    )
    store = _OldStore() if kind == "old protocol" else MemoryStore()
    p = Personalizer({}, catalog=catalog, store=store)  # type: ignore[arg-type]
    store.append([_purchase("o1", "p1", 0)])
    result = p.personalize(Request(user_id="c1", now=NOW + timedelta(hours=1)))
    assert result.trace.errors == []
    assert result.context.history.order_count == 1
