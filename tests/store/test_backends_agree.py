"""Every backend against a plain model, in one Hypothesis state machine.

The same random operations (batches of events of a few owners, in any time order, with
duplicates and without session ids; ``set_loyalty``; ``forget``) go to a ``MemoryStore``, a
``SQLiteStore`` and a ``RedisStore`` with a small ``max_events``. After each step the three
must give the same profile, the same loyalty, and the events a plain list model says:
the newest ``min(max_events, RECENT_EVENTS)`` of what was appended, in arrival order.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from personalize import Event
from personalize.store import (
    RECENT_EVENTS,
    MemoryStore,
    RedisStore,
    Retention,
    SQLiteStore,
    Store,
)
from tests.redis_server import RedisServer
from tests.store.strategies import event_fields

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
OWNERS = [("c1", None), ("c2", None), (None, "anon")]
SESSIONS = [None, "s1", "s2"]


@st.composite
def batches(draw: st.DrawFn) -> list[Event]:
    """A batch of events of any owners, at any times in a fortnight (ties and disorder)."""
    events = []
    for fields in draw(st.lists(event_fields(), min_size=1, max_size=6)):
        customer, session = draw(st.sampled_from(OWNERS))
        at = START + timedelta(minutes=draw(st.integers(0, 14 * 1440)))
        if customer is not None:
            session = draw(st.sampled_from(SESSIONS))
        events.append(Event(customer_id=customer, session_id=session, at=at, **fields))  # type: ignore[arg-type]
    if draw(st.booleans()):  # the same event again (a retried delivery)
        events.append(events[0])
    return events


def _key(customer: str | None, session: str | None) -> str:
    return f"c:{customer}" if customer is not None else f"s:{session}"


class Backends(RuleBasedStateMachine):
    server: RedisServer  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp())
        self.model: dict[str, list[Event]] = {}
        self.loyalty: dict[str, dict[str, object]] = {}
        self.stores: list[Store] = []

    @initialize(max_events=st.sampled_from([1, 2, 3, 60]))
    def open_stores(self, max_events: int) -> None:
        retention = Retention(max_events=max_events)
        self.max_events = max_events
        self.stores = [
            MemoryStore(retention),
            SQLiteStore(self.directory / f"{uuid.uuid4().hex}.db", retention),
            RedisStore(self.server.url, retention, prefix=f"t{uuid.uuid4().hex}:", timeout=1.0),
        ]

    @rule(batch=batches())
    def append(self, batch: list[Event]) -> None:
        for store in self.stores:
            store.append(batch)
        for event in batch:
            self.model.setdefault(_key(event.customer_id, event.session_id), []).append(event)

    @rule(customer=st.sampled_from(["c1", "c2"]), tier=st.sampled_from(["gold", "silver"]))
    def set_loyalty(self, customer: str, tier: str) -> None:
        for store in self.stores:
            store.set_loyalty(customer, {"tier": tier})
        self.loyalty[customer] = {"tier": tier}

    @rule(customer=st.sampled_from(["c1", "c2"]))
    def forget(self, customer: str) -> None:
        for store in self.stores:
            store.forget(customer)
        self.model.pop(f"c:{customer}", None)
        self.loyalty.pop(customer, None)

    def teardown(self) -> None:
        for store in self.stores:
            if isinstance(store, SQLiteStore | RedisStore):
                store.close()

    @invariant()
    def backends_agree_with_the_model(self) -> None:
        now = START + timedelta(days=15)
        for customer, session in [*OWNERS, ("c1", "s1"), ("c2", "s2")]:
            histories = [s.history(customer, session, now=now) for s in self.stores]
            kept = self.model.get(_key(customer, session), [])
            expected = kept[-min(self.max_events, RECENT_EVENTS) :] if kept else []
            for history in histories:
                assert history.events == expected
                assert history.profile == histories[0].profile
                assert history.loyalty == histories[0].loyalty
            if customer is not None:
                assert histories[0].loyalty == self.loyalty.get(customer, {})
                exports = [s.export(customer) for s in self.stores]
                assert all(e == exports[0] for e in exports)
                assert len(exports[0]["events"]) == min(len(kept), self.max_events)


@settings(max_examples=25, stateful_step_count=12, deadline=None)
class _Run(Backends):
    pass


def test_every_backend_agrees_with_a_plain_model(redis_server: RedisServer) -> None:
    Backends.server = redis_server
    _Run.TestCase().runTest()
