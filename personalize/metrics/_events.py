"""Event logs as JSON Lines: one :class:`~personalize.Event` per line.

The format the journey simulator writes and the KPI module reads::

    {"type": "page_view", "at": "2026-01-05T09:12:03Z", "session_id": "s1", "page": "/", ...}
    {"type": "add_to_cart", "at": "...", "session_id": "s1", "product_id": "p9", "price": 19.5}

Fields are those of :class:`~personalize.Event`; fields at their default are left out; ``at``
is ISO 8601 with its offset. A path ending in ``.gz`` is read and written gzip-compressed.
Writes are atomic (see :mod:`personalize._atomic`); a reader names the file and line of any
problem, whether an invalid event, a byte that is not UTF-8 or a truncated gzip stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from personalize._atomic import atomic_text
from personalize._models import Event
from personalize._textfile import iter_lines
from personalize.errors import DataError

__all__ = ["iter_events", "read_events", "write_events"]


def iter_events(path: str | Path) -> Iterator[Event]:
    """Yield the events of a JSONL log one by one; blank lines are skipped.

    Raises:
        DataError: A line is not a valid event, or not UTF-8, or a ``.gz`` file is not
            gzip or is truncated; the message names the file and line.
    """
    path = Path(path)
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            yield Event.model_validate_json(line)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            detail = f"{where}: {first['msg']}" if where else first["msg"]
            raise DataError(f"{path.name}:{number}: invalid event ({detail})") from None


def read_events(path: str | Path) -> list[Event]:
    """All the events of a JSONL log, in file order.

    Args:
        path: A ``.jsonl`` file (``.jsonl.gz`` for gzip).

    Raises:
        DataError: A line is not a valid event; the message names the file and line.
    """
    return list(iter_events(path))


def write_events(path: str | Path, events: Iterable[Event | Mapping[str, Any]]) -> int:
    """Write events as JSON Lines, one per line, in the order given.

    Args:
        path: The file to write (``.gz`` compresses). It is replaced atomically: the
            events go to a temporary file that is renamed over ``path`` at the end, so
            if writing fails the previous file is left as it was.
        events: :class:`~personalize.Event` objects or mappings of their fields.

    Returns:
        How many events were written.

    Raises:
        DataError: A mapping is not a valid event, an event's price or quantity is not a
            finite number (JSON cannot hold it), or a text holds a lone surrogate (UTF-8
            cannot); the previous file is left as it was.
    """
    path = Path(path)
    count = 0
    with atomic_text(path, compress=path.suffix == ".gz") as handle:
        for event in events:
            if not isinstance(event, Event):
                try:
                    event = Event.model_validate(event)
                except ValidationError as exc:
                    raise DataError(f"event {count}: {exc.errors()[0]['msg']}") from None
            for name in ("quantity", "price"):
                value = getattr(event, name)
                if value is not None and not math.isfinite(value):
                    # JSON has no NaN: it would be written null and never read back.
                    raise DataError(f"event {count}: {name} is {value}, not a finite number")
            try:
                line = event.model_dump_json(exclude_defaults=True)
            except PydanticSerializationError:
                # A lone surrogate (half an emoji): UTF-8 cannot hold it.
                raise DataError(f"event {count}: text that is not valid Unicode") from None
            handle.write(line)
            handle.write("\n")
            count += 1
    return count
