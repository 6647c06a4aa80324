"""Events written as CSV, JSON lines or Parquet, and a Hypothesis strategy of event logs."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from personalize._models import Event

FIELDS = ("type", "product_id", "at", "order_id", "session_id", "customer_id")
_BASE = datetime(2024, 1, 1, tzinfo=UTC)


def _maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


@st.composite
def event_logs(draw: st.DrawFn) -> list[Event]:
    """Logs over a few ids (so they collide): purchases, views, other events, gaps."""
    events = st.builds(
        Event,
        type=st.sampled_from(["purchase", "purchase", "view", "page_view", "add_to_cart"]),
        product_id=_maybe([f"p{i}" for i in range(8)]),
        at=st.integers(0, 400 * 86400 * 10**6).map(lambda us: _BASE + timedelta(microseconds=us)),
        order_id=_maybe([f"o{i}" for i in range(5)]),
        session_id=_maybe([f"s{i}" for i in range(4)]),
        customer_id=_maybe([f"c{i}" for i in range(5)]),
    )
    return draw(st.lists(events, max_size=60))


def rows(events: list[Event]) -> list[dict[str, Any]]:
    """The events as flat records, times in ISO 8601 with an offset."""
    return [
        {**event.model_dump(include=set(FIELDS)), "at": event.at.isoformat()} for event in events
    ]


def write_events(path: Path, events: list[Event]) -> Path:
    """Write ``events`` to ``path`` in the format its name tells (``.gz`` compresses)."""
    records = rows(events)
    name = path.name.removesuffix(".gz")
    if name.endswith(".parquet"):
        table = pa.table({f: pa.array([r[f] for r in records], type=pa.string()) for f in FIELDS})
        pq.write_table(table, path)
        return path
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        if name.endswith(".csv"):
            writer = csv.DictWriter(fh, FIELDS)
            writer.writeheader()
            writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
        else:
            fh.writelines(json.dumps(r) + "\n" for r in records)
    return path
