"""The in-process store: the default, bounded in customers and in events per customer."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from cachetools import TTLCache

from personalize._models import Event, History
from personalize.store._events import check_events, owner
from personalize.store._fork import reset_after_fork
from personalize.store._protocol import (
    RECENT_EVENTS,
    Retention,
    build_history,
    export_record,
    group,
)
from personalize.store._summary import Summary

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _Customer:
    summary: Summary
    events: deque[Event] = field(default_factory=deque)


class MemoryStore:
    """Visitor state in this process: lost on restart, not shared between processes.

    Customers are kept in a cachetools ``TTLCache``: at most ``max_customers`` (the least
    recently used go first), each forgotten ``retention.max_age`` after their last event.

    Args:
        retention: Events and age kept per customer.
        max_customers: Customers (and anonymous sessions) kept.
    """

    def __init__(self, retention: Retention | None = None, *, max_customers: int = 100_000) -> None:
        self.retention = retention or Retention()
        self._customers: TTLCache[str, _Customer] = TTLCache(
            maxsize=max_customers, ttl=self.retention.max_age.total_seconds()
        )
        self._lock = threading.Lock()
        reset_after_fork(self)

    def _after_fork(self) -> None:
        # Another thread may have held the lock at the fork; the child's copy is its own.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._customers)

    def append(self, events: Iterable[Event]) -> None:
        """See :meth:`Store.append`."""
        timeout = self.retention.session_timeout
        with self._lock:
            for key, batch in group(check_events(events)).items():
                customer = self._customers.get(key)
                if customer is None:
                    customer = _Customer(
                        Summary(session_timeout=timeout, fold=self.retention.fold),
                        deque(maxlen=self.retention.max_events),
                    )
                for event in batch:
                    customer.summary.apply(event)
                customer.events.extend(batch)
                self._customers[key] = customer  # refreshes the TTL

    def history(
        self,
        customer_id: str | None = None,
        session_id: str | None = None,
        *,
        now: datetime | None = None,
        events: bool = True,
    ) -> History:
        """See :meth:`Store.history`."""
        key = owner(customer_id, session_id)
        with self._lock:
            customer = self._customers.get(key) if key is not None else None
            if customer is None:
                return History()
            recent = list(islice(reversed(customer.events), RECENT_EVENTS))[::-1] if events else []
            return build_history(customer.summary, recent, now, session_id, self.retention)

    def histories(
        self, customer_ids: Sequence[str], *, now: datetime | None = None
    ) -> list[History]:
        """The histories of several customers at once, in order.

        Each is what :meth:`history` gives for that ``customer_id``; the lock is taken once.
        """
        with self._lock:
            out: list[History] = []
            for customer_id in customer_ids:
                customer = self._customers.get(f"c:{customer_id}")
                if customer is None:
                    out.append(History())
                    continue
                recent = list(islice(reversed(customer.events), RECENT_EVENTS))[::-1]
                out.append(build_history(customer.summary, recent, now, None, self.retention))
            return out

    def set_loyalty(self, customer_id: str, loyalty: Mapping[str, Any]) -> None:
        """See :meth:`Store.set_loyalty`."""
        key = f"c:{customer_id}"
        with self._lock:
            customer = self._customers.get(key) or _Customer(
                Summary(session_timeout=self.retention.session_timeout, fold=self.retention.fold),
                deque(maxlen=self.retention.max_events),
            )
            customer.summary.set_loyalty(dict(loyalty))
            self._customers[key] = customer

    def forget(self, customer_id: str) -> None:
        """See :meth:`Store.forget`."""
        with self._lock:
            self._customers.pop(f"c:{customer_id}", None)

    def export(self, customer_id: str) -> dict[str, Any]:
        """See :meth:`Store.export`."""
        with self._lock:
            customer = self._customers.get(f"c:{customer_id}")
            oldest = datetime.now(UTC) - self.retention.max_age
            events = [e for e in customer.events if e.at >= oldest] if customer else []
            state = customer.summary.to_json() if customer else None
            return export_record(customer_id, events, state)
