"""What the sync and the asyncio Redis stores share: buffer state, key names and failing fast."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from personalize._models import Event, History
from personalize.store._errors import StoreUnavailable
from personalize.store._events import decode_all, owner
from personalize.store._protocol import Retention, build_history
from personalize.store._summary import Summary

__all__ = ["RedisCore"]


class RedisCore:
    """The state and the client-independent steps of :class:`RedisStore` and its asyncio twin."""

    def _init_core(
        self,
        retention: Retention | None,
        prefix: str,
        retry_after: float,
        max_pending: int,
        errors: tuple[type[BaseException], ...],
        watch_error: type[BaseException],
    ) -> None:
        self.retention = retention or Retention()
        self.prefix = prefix
        self.retry_after = retry_after
        self._errors = errors
        self._watch_error = watch_error
        self._pending: deque[Event] = deque()
        self._max_pending = max_pending
        self._down_until = 0.0
        #: Events dropped: the buffer was full, or the flusher could not write them for
        #: another reason than Redis (their owner's stored summary is corrupt).
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Events buffered, waiting for Redis."""
        return len(self._pending)

    @property
    def _ttl(self) -> int:
        """The keys' TTL in whole seconds: ``max_age`` rounded up (Redis refuses 0)."""
        return max(1, math.ceil(self.retention.max_age.total_seconds()))

    def _keys(self, key: str) -> tuple[str, str, str]:
        """The keys of an owner: events, the summary state reads load, the append ledger
        (one hash slot, so a cluster keeps them together)."""
        base = f"{self.prefix}{{{key}}}"
        return f"{base}:e", f"{base}:s", f"{base}:o"

    def _summary(self, raw: bytes | str | None, ledger: bytes | str | None = None) -> Summary:
        return Summary.stored(
            raw, ledger, session_timeout=self.retention.session_timeout, fold=self.retention.fold
        )

    def _history_keys(
        self, customer_id: str | None, session_id: str | None
    ) -> tuple[str, str, str] | None:
        """The keys to read a history from; ``None`` for no owner; fail fast while down."""
        key = owner(customer_id, session_id)
        if key is None:
            return None
        if time.monotonic() < self._down_until:
            raise StoreUnavailable("redis: unavailable (a recent request failed)")
        return self._keys(key)

    def _read_failed(self, error: BaseException) -> StoreUnavailable:
        """Mark Redis down for ``retry_after`` and describe the failed read."""
        self._down_until = time.monotonic() + self.retry_after
        return StoreUnavailable(f"redis: {type(error).__name__}: {error}")

    def _history(
        self, raw: Any, bodies: Sequence[Any], now: datetime | None, session_id: str | None
    ) -> History:
        """The history from the raw summary and the recent event bodies read."""
        if raw is None:
            return History()
        return build_history(
            self._summary(raw), decode_all(bodies), now, session_id, self.retention
        )
