"""``histories(ids)``: the batch read of every backend gives what ``history(id)`` gives."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize import Event
from personalize.store import RECENT_EVENTS, MemoryStore, SQLiteStore, Store, StoreUnavailable
from tests.store.strategies import customer_events

NOW = datetime.now(UTC).replace(microsecond=0)


def _views(customer: str, count: int, *, session: str | None = None) -> list[Event]:
    start = NOW - timedelta(days=3)
    return [
        Event(
            type="view",
            product_id=f"p{i}",
            customer_id=customer,
            session_id=session,
            at=start + timedelta(minutes=i),
        )
        for i in range(count)
    ]


def test_histories_are_in_order_with_empty_ones_for_unknown_customers(store: Store) -> None:
    store.append([*_views("c1", 3), *_views("c2", RECENT_EVENTS + 20), *_views("c3", 1)])
    store.set_loyalty("c4", {"tier": "gold"})
    ids = ["c2", "nobody", "c1", "c4", "c3", "c2"]
    batch = store.histories(ids, now=NOW)  # type: ignore[attr-defined]
    assert batch == [store.history(customer_id=i, now=NOW) for i in ids]
    assert [len(h.events) for h in batch] == [RECENT_EVENTS, 0, 3, 0, 1, RECENT_EVENTS]
    assert batch[0].events[-1].product_id == f"p{RECENT_EVENTS + 19}"
    assert batch[3].loyalty == {"tier": "gold"}


def test_histories_read_customers_not_anonymous_sessions(store: Store) -> None:
    store.append(_views("c1", 2, session="s1"))
    store.append([e.model_copy(update={"customer_id": None}) for e in _views("x", 4, session="c1")])
    (history,) = store.histories(["c1"], now=NOW)  # type: ignore[attr-defined]
    assert len(history.events) == 2


def test_histories_of_no_customers_are_none(store: Store) -> None:
    assert store.histories([], now=NOW) == []  # type: ignore[attr-defined]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_histories_equal_one_read_per_customer(store: Store, data: st.DataObject) -> None:
    ids = [f"h{data.draw(st.integers(0, 10**9))}" for _ in range(3)]
    for customer in ids[:2]:
        store.append(data.draw(customer_events(customer)))
    ids = data.draw(st.permutations(ids))
    later = NOW + timedelta(hours=data.draw(st.integers(0, 48)))
    assert store.histories(ids, now=later) == [  # type: ignore[attr-defined]
        store.history(customer_id=i, now=later) for i in ids
    ]


def test_sqlite_histories_read_more_customers_than_one_query_binds(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db", synchronous="NORMAL")
    ids = [f"c{i}" for i in range(1_200)]
    store.append([e for i in range(0, 1_200, 7) for e in _views(f"c{i}", 2)])
    batch = store.histories(ids, now=NOW)
    assert [len(h.events) for h in batch] == [2 if i % 7 == 0 else 0 for i in range(1_200)]


def test_sqlite_histories_fail_whole_on_a_corrupt_summary(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    store.append(_views("c1", 1) + _views("c2", 1))
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.execute("UPDATE summaries SET state = '{bad' WHERE owner = 'c:c2'")
    with pytest.raises(ValueError, match="char 1"):  # a JSON decode error at the brace
        store.histories(["c1", "c2"], now=NOW)
    assert len(store.histories(["c1"], now=NOW)[0].events) == 1


def test_memory_histories_add_no_entry_for_an_unknown_customer() -> None:
    store = MemoryStore(max_customers=2)
    store.append(_views("c1", 1) + _views("c2", 1))
    store.histories(["c1", "c2", "c3"], now=NOW)
    assert len(store) == 2


def test_redis_histories_fail_fast_when_redis_is_down() -> None:
    from personalize.store import RedisStore

    store = RedisStore("redis://127.0.0.1:1/0", timeout=0.05, retry_after=30)
    with pytest.raises(StoreUnavailable):
        store.histories(["c1", "c2"], now=NOW)
    with pytest.raises(StoreUnavailable, match="recent request failed"):
        store.histories(["c1"], now=NOW)
