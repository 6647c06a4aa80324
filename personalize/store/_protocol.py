"""What every store offers, sync and asyncio, and the retention settings."""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from personalize._models import Event, History, as_utc
from personalize.store._events import dumps, owner
from personalize.store._summary import (
    FREQUENCY_DECAY,
    FREQUENCY_HALF_LIFE_DAYS,
    SESSION_TIMEOUT,
    Summary,
)

__all__ = [
    "RECENT_EVENTS",
    "AsyncStore",
    "Retention",
    "Store",
    "build_history",
    "export_record",
    "group",
    "reads_summary_only",
]

#: Events a history carries besides its summary, newest last.
RECENT_EVENTS = 50


@dataclass(frozen=True, slots=True)
class Retention:
    """How much a store keeps per customer.

    Attributes:
        max_events: Events kept per customer; older ones are deleted (the summary keeps
            their totals).
        max_age: Events older than this are deleted, and a customer with no event for
            this long is forgotten entirely, summary included.
        session_timeout: Idle time that ends a session.
        order_decay: The per-order decay a new customer's order frequency is folded with
            (see ``Profile.order_frequency``); the ranking reads the folded values when
            this is its ``order_decay``.
        personal_half_life_days: The half-life it is folded with; read when this is the
            ranking's ``personal_half_life_days``.
    """

    max_events: int = 10_000
    max_age: timedelta = timedelta(days=400)
    session_timeout: timedelta = SESSION_TIMEOUT
    order_decay: float = FREQUENCY_DECAY
    personal_half_life_days: float = FREQUENCY_HALF_LIFE_DAYS

    def __post_init__(self) -> None:
        if self.max_events < 1:
            raise ValueError("Retention.max_events must be at least 1")
        if self.max_age <= timedelta(0) or self.session_timeout <= timedelta(0):
            raise ValueError("Retention.max_age and session_timeout must be positive")
        if not 0 < self.order_decay <= 1 or not 0 < self.personal_half_life_days < math.inf:
            raise ValueError(
                "Retention.order_decay must be in (0, 1] and personal_half_life_days positive"
            )

    @property
    def fold(self) -> tuple[float, float]:
        """The order decay and half-life (days) a new summary folds the frequency with."""
        return self.order_decay, self.personal_half_life_days


@runtime_checkable
class Store(Protocol):
    """A visitor-state store: events in, a bounded :class:`History` out."""

    retention: Retention

    def append(self, events: Iterable[Event]) -> None:
        """Store ``events`` and fold them into their owners' summaries.

        Raises:
            EventError: An event is invalid; nothing of the batch is stored.
        """

    def history(
        self,
        customer_id: str | None = None,
        session_id: str | None = None,
        *,
        now: datetime | None = None,
        events: bool = True,
    ) -> History:
        """The recent events and the summary of a customer (else of an anonymous session).

        Args:
            customer_id: The customer; ``None`` reads the anonymous session.
            session_id: The visit (its cart and entry referral).
            now: The time the history is read at (the session timeout, retention); naive
                is UTC, as in events.
            events: Whether to read the newest events too. ``False`` reads the summary
                alone, which is all a decision needs: the read then costs the same
                whatever the customer's history length, and ``History.events`` is empty.

        Raises:
            StoreUnavailable: The backend did not answer in time.
        """

    def set_loyalty(self, customer_id: str, loyalty: Mapping[str, Any]) -> None:
        """Replace the customer's loyalty details (``{"tier": "gold", "points": 1200}``)."""

    def forget(self, customer_id: str) -> None:
        """Delete everything stored about the customer."""

    def export(self, customer_id: str) -> dict[str, Any]:
        """Every stored event and the summary of the customer, as JSON-able data."""


@runtime_checkable
class AsyncStore(Protocol):
    """The asyncio twin of :class:`Store`."""

    retention: Retention

    async def append(self, events: Iterable[Event]) -> None:
        """See :meth:`Store.append`."""

    async def history(
        self,
        customer_id: str | None = None,
        session_id: str | None = None,
        *,
        now: datetime | None = None,
        events: bool = True,
    ) -> History:
        """See :meth:`Store.history`."""

    async def set_loyalty(self, customer_id: str, loyalty: Mapping[str, Any]) -> None:
        """See :meth:`Store.set_loyalty`."""

    async def forget(self, customer_id: str) -> None:
        """See :meth:`Store.forget`."""

    async def export(self, customer_id: str) -> dict[str, Any]:
        """See :meth:`Store.export`."""


def reads_summary_only(store: Store | AsyncStore) -> bool:
    """Whether ``store.history`` takes ``events=False`` (a store written before it may not)."""
    try:
        parameters = inspect.signature(store.history).parameters
    except (TypeError, ValueError):  # a callable without a signature: assume the old one
        return False
    return "events" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def build_history(
    summary: Summary | None,
    recent: Sequence[Event],
    now: datetime | None,
    session_id: str | None,
    retention: Retention,
) -> History:
    """A history from a summary and the newest events (at most :data:`RECENT_EVENTS`)."""
    if summary is None:
        return History()
    now = as_utc(now) if now is not None else datetime.now(UTC)  # naive is UTC, as in events
    # A read time within max_age of the year 1 keeps every event (the subtraction would
    # overflow).
    early = now - datetime.min.replace(tzinfo=UTC) <= retention.max_age
    oldest = datetime.min.replace(tzinfo=UTC) if early else now - retention.max_age
    events = [e for e in recent[-RECENT_EVENTS:] if e.at >= oldest]
    return History.model_construct(
        events=events,
        loyalty=dict(summary.state["loyalty"]),
        profile=summary.to_profile(now, session_id),
    )


def group(events: Sequence[Event]) -> dict[str, list[Event]]:
    """Events by owner key, each group in arrival order."""
    groups: dict[str, list[Event]] = {}
    for event in events:
        key = owner(event.customer_id, event.session_id)
        assert key is not None  # checked by check_events
        groups.setdefault(key, []).append(event)
    return groups


def export_record(
    customer_id: str, events: Iterable[Event], state: dict[str, Any] | None
) -> dict[str, Any]:
    """The GDPR export of one customer: their events and their summary, as JSON data."""
    return {
        "customer_id": customer_id,
        "events": [e.model_dump(mode="json", exclude_defaults=True) for e in events],
        "summary": json.loads(dumps(state)) if state is not None else None,
    }
