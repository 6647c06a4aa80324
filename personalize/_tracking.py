"""The facade's visitor state: reading a history from the store, recording what was served.

:class:`Tracking` holds the personalizer's store (sync, async, or both) and turns a
decision into the events ``settings.record`` asks for: ``offer_shown`` per offer (so caps
hold with no application code), ``exposure`` per visitor and experiment (once: the store's
summary remembers it), ``impression`` per product (with the decision id) and the visit's
entry (``url`` and ``referrer``, as a ``visit`` event: not a ``page_view``, so that a page
the application or a web adapter records is counted once). See ``docs/state.md``.

Reads and writes never raise into a request: a read that fails degrades to no history, a
write that fails is reported and counted in :attr:`Tracking.failed_writes`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from personalize._models import MAX_ID_LENGTH, Event, History, Profile, Request, as_utc
from personalize.config import RecordSettings
from personalize.result import Result
from personalize.store import AsyncStore, MemoryStore, Retention, Store, ThreadedAsyncStore
from personalize.store._events import encodable, storable_url
from personalize.store._protocol import reads_summary_only
from personalize.store._summary import DEFAULT_FOLD

__all__ = [
    "DEFAULT_STORE",
    "StoreOption",
    "Tracking",
    "Visitor",
    "aware",
    "recordable",
    "served_events",
]

#: ``Personalizer(store=...)``'s default: a bounded in-process :class:`MemoryStore`.
DEFAULT_STORE: Literal["memory"] = "memory"
#: What ``Personalizer(store=...)`` accepts.
StoreOption = Store | AsyncStore | Literal["memory"] | None
#: Customers the default store keeps (least recently seen go first), and events each.
DEFAULT_CUSTOMERS = 10_000
DEFAULT_EVENTS = 1_000


@dataclass(frozen=True, slots=True)
class Visitor:
    """Whose state a request reads and writes: the customer, else the anonymous session."""

    customer_id: str | None
    session_id: str | None

    @classmethod
    def of(cls, request: Request, customer_id: str | None) -> Visitor | None:
        """The visitor of ``request`` (``customer_id`` defaults to ``request.user_id``).

        An empty id, one longer than :data:`~personalize._models.MAX_ID_LENGTH` or one
        UTF-8 cannot encode is no id: the decision ignores the first two (with a note), and
        the store neither reads nor records under any of them (it would refuse every event
        recorded so, offer impressions and caps included).
        """
        customer = _usable(customer_id if customer_id is not None else request.user_id)
        session = _usable(request.session_id)
        if customer is None and session is None:
            return None
        return cls(customer, session)


def _usable(value: str | None) -> str | None:
    return value if value and len(value) <= MAX_ID_LENGTH and encodable(value) else None


class Tracking:
    """The store of a personalizer and what it records.

    Args:
        store: A :class:`Store`, an :class:`AsyncStore`, ``"memory"`` for a bounded
            :class:`MemoryStore` built here, or ``None`` for no store.
        session_timeout: The idle time that ends a visit, for the store built here.
        fold: The order decay and half-life (days) the store built here folds each
            customer's order frequency with: the ranking's, so that it reads them.
    """

    __slots__ = ("async_store", "failed_writes", "store", "summary_only")

    def __init__(
        self,
        store: StoreOption,
        session_timeout: timedelta,
        *,
        fold: tuple[float, float] = DEFAULT_FOLD,
    ) -> None:
        if store == DEFAULT_STORE:
            decay, half_life = fold
            retention = Retention(
                max_events=DEFAULT_EVENTS,
                session_timeout=session_timeout,
                order_decay=decay,
                personal_half_life_days=half_life,
            )
            store = MemoryStore(retention, max_customers=DEFAULT_CUSTOMERS)
        self.store: Store | None = None
        self.async_store: AsyncStore | None = None
        #: Recording writes that failed (reported through ``on_error``).
        self.failed_writes = 0
        #: The ``history`` keywords of a decision's read: the summary alone when the store
        #: can (a decision reads no events when the profile is there).
        self.summary_only: dict[str, bool] = {}
        if store is None or isinstance(store, str):
            return
        if reads_summary_only(store):
            self.summary_only = {"events": False}
        if inspect.iscoroutinefunction(store.history):
            self.async_store = store  # type: ignore[assignment]
        else:
            self.store = store  # type: ignore[assignment]
            self.async_store = None if isinstance(store, MemoryStore) else ThreadedAsyncStore(store)  # type: ignore[arg-type]

    @property
    def enabled(self) -> bool:
        """Whether there is a store at all."""
        return self.store is not None or self.async_store is not None


def served_events(
    result: Result,
    request: Request,
    visitor: Visitor,
    history: History,
    record: RecordSettings,
    now: datetime,
) -> list[Event]:
    """The events that record what ``result`` served, as ``record`` asks."""
    base: dict[str, Any] = {
        "customer_id": visitor.customer_id,
        "session_id": visitor.session_id,
        "at": now,
        "decision_id": result.decision_id,
        "experiments": dict(result.experiments),
    }
    events: list[Event] = []
    profile = history.profile
    # The entry's URL and referrer as a store takes them: cut, and left out when no URL
    # (the store reads the entry's UTM parameters on every later request).
    url, referrer = storable_url(request.url), storable_url(request.referrer)
    if record.sessions and (url or referrer) and not _knows_entry(profile, visitor):
        events.append(Event.model_construct(type="visit", url=url, referrer=referrer, **base))
    if record.exposures and result.experiments:
        known = profile.exposures if profile is not None else {}
        new = {k: v for k, v in result.experiments.items() if known.get(k) != v}
        if new:
            events.append(Event.model_construct(type="exposure", **{**base, "experiments": new}))
    if record.offers:
        events.extend(
            Event.model_construct(type="offer_shown", offer_id=o.offer_id, **base)
            for o in result.offers
        )
    if record.impressions:
        events.extend(
            Event.model_construct(type="impression", product_id=r.product_id, **base)
            for r in result.products
        )
    return events


def _knows_entry(profile: Profile | None, visitor: Visitor) -> bool:
    """Whether the store already knows how the visitor's current visit began."""
    if profile is None or not profile.complete or profile.session_id is None:
        return False
    if visitor.session_id is not None and profile.session_id != visitor.session_id:
        return False
    return profile.session_url is not None or profile.session_referrer is not None


_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def recordable(at: datetime) -> bool:
    """Whether a store accepts an event at ``at`` (after 2000, at most a day ahead)."""
    return _EARLIEST <= at <= datetime.now(UTC) + timedelta(hours=23)


def aware(value: datetime | None) -> datetime:
    """``value`` as an aware time (naive is UTC); the clock when ``None``."""
    return datetime.now(UTC) if value is None else as_utc(value)
