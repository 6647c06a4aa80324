"""Checking appended events, and their JSON form in a backend.

A batch is all-or-nothing: :func:`check_events` reports every problem at once as an
:class:`~personalize.store.EventError`, and nothing of it is stored. Rejected:

* an event ``type`` outside :data:`~personalize._models.EVENT_TYPES` (with a suggestion);
* an event with neither ``customer_id`` nor ``session_id`` (it belongs to no one);
* a price or quantity that is not finite, a price outside 0 .. 1e15, a quantity outside
  0 .. 1e6 (so a lifetime value, a sum of price times quantity, stays finite);
* text that cannot be encoded as UTF-8 (a lone surrogate, as ``json.loads`` gives for
  ``"\\ud800"``): no backend could write it, nor read back a summary that held it;
* a time before the year 2000 or more than a day in the future;
* an id longer than :data:`MAX_ID_CHARS` characters, a URL or referrer longer than
  :data:`MAX_URL_CHARS`, more than 50 experiments.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter

from personalize._models import EVENT_TYPES, Event
from personalize.errors import Problem
from personalize.store._errors import EventError

__all__ = [
    "MAX_ID_CHARS",
    "MAX_URL_CHARS",
    "check_events",
    "decode",
    "encodable",
    "encode",
    "owner",
    "storable_url",
]

MAX_ID_CHARS = 256
MAX_URL_CHARS = 4096
MAX_QUANTITY = 1e6
MAX_PRICE = 1e15
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_IDS = (
    "product_id",
    "order_id",
    "session_id",
    "customer_id",
    "category",
    "offer_id",
    "decision_id",
)
_TEXTS = ("channel", "page", "variant")
_EVENTS = TypeAdapter(list[Event])


def owner(customer_id: str | None, session_id: str | None) -> str | None:
    """The key a visitor's state lives under: the customer, else the anonymous session."""
    if customer_id is not None:
        return f"c:{customer_id}"
    if session_id is not None:
        return f"s:{session_id}"
    return None


def check_events(events: Iterable[Event]) -> list[Event]:
    """Return ``events`` as a list, or raise :class:`EventError` with every problem."""
    batch = list(events)
    problems: list[Problem] = []
    latest = datetime.now(UTC) + timedelta(days=1)
    for i, event in enumerate(batch):
        problems.extend(_problems(event, f"events[{i}]", latest))
    if problems:
        raise EventError(problems)
    return batch


def _problems(event: Any, path: str, latest: datetime) -> Iterable[Problem]:
    if not isinstance(event, Event):
        yield Problem(path, f"expected an Event, got {type(event).__name__}")
        return
    if event.type not in EVENT_TYPES:
        close = difflib.get_close_matches(event.type[:100], sorted(EVENT_TYPES), n=1)
        text = event.type[:40]
        yield Problem(f"{path}.type", f"unknown event type {text!r}", close[0] if close else None)
    if event.customer_id is None and event.session_id is None:
        yield Problem(path, "needs a customer_id or a session_id")
    for name in _IDS + _TEXTS:
        value = getattr(event, name)
        if value is not None and not 0 < len(value) <= MAX_ID_CHARS:
            yield Problem(f"{path}.{name}", f"must have 1 to {MAX_ID_CHARS} characters")
    for name in ("url", "referrer"):
        value = getattr(event, name)
        if value is not None and len(value) > MAX_URL_CHARS:
            yield Problem(f"{path}.{name}", f"longer than {MAX_URL_CHARS} characters")
    if event.price is not None and not 0 <= event.price <= MAX_PRICE:  # False for NaN
        yield Problem(f"{path}.price", f"must be between 0 and {MAX_PRICE:g}, got {event.price}")
    if not (math.isfinite(event.quantity) and 0 <= event.quantity <= MAX_QUANTITY):
        yield Problem(f"{path}.quantity", f"must be between 0 and {MAX_QUANTITY:g}")
    if not _EARLIEST <= event.at <= latest:
        yield Problem(f"{path}.at", "must be after 2000-01-01 and at most a day ahead")
    if len(event.experiments) > 50 or any(
        len(k) > MAX_ID_CHARS or len(v) > MAX_ID_CHARS for k, v in event.experiments.items()
    ):
        yield Problem(f"{path}.experiments", f"at most 50 keys and values of {MAX_ID_CHARS}")
    # Every text field at once (a lone surrogate stays one, whatever is beside it).
    text = "".join([v for v in event.__dict__.values() if type(v) is str])
    experiments = event.experiments
    if not encodable(text) or (
        experiments and not encodable("".join([*experiments, *experiments.values()]))
    ):
        yield Problem(path, "holds text that is not valid UTF-8 (a lone surrogate)")


def encodable(text: str | None) -> bool:
    """Whether ``text`` can be written as UTF-8 (every str can, but a lone surrogate)."""
    if text is None or text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def storable_url(url: str | None) -> str | None:
    """``url`` as an event may record it: cut to :data:`MAX_URL_CHARS` (a longer one makes
    the store refuse the whole batch); ``None`` when UTF-8 cannot encode it (a lone
    surrogate, refused likewise) or ``urlsplit`` rejects it (``http://[::1/``, no URL)."""
    if not url:
        return None
    url = url[:MAX_URL_CHARS]
    if not encodable(url):
        return None
    try:
        urlsplit(url)
    except ValueError:
        return None
    return url


def encode(event: Event) -> str:
    """An event as compact JSON."""
    return event.model_dump_json(exclude_defaults=True)


def decode(text: str | bytes) -> Event:
    """An event from :func:`encode`."""
    return Event.model_validate_json(text)


def decode_all(texts: Sequence[str | bytes]) -> list[Event]:
    """Events from their JSON forms, in order (parsed as one JSON array, in one call)."""
    if not texts:
        return []
    if isinstance(texts[0], bytes):
        array: str | bytes = b"[" + b",".join(t for t in texts if isinstance(t, bytes)) + b"]"
    else:
        array = "[" + ",".join(t for t in texts if isinstance(t, str)) + "]"
    return _EVENTS.validate_json(array)


def dumps(state: dict[str, Any]) -> str:
    """A summary state as JSON."""
    return json.dumps(state, separators=(",", ":"), allow_nan=False)
