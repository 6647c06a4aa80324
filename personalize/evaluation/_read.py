"""Reading an event log for evaluation: the project's JSONL events or a retail invoice CSV.

The retail format is the UCI Online Retail one (``InvoiceNo, StockCode, Description,
Quantity, InvoiceDate, UnitPrice, CustomerID, Country``, optionally gzipped): rows with a
customer, a finite positive quantity and price, and an invoice not starting with ``C`` (a
cancellation) become purchase events, exactly as ``benchmarks/eval_retail.py`` reads them.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from personalize._models import Event, Product
from personalize._textfile import iter_lines
from personalize.catalog import Catalog
from personalize.errors import DataError

__all__ = ["RETAIL_COLUMNS", "catalog_from_events", "read_log"]

#: The columns a retail CSV must have.
RETAIL_COLUMNS = ("InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID")


def read_log(path: str | Path) -> list[Event]:
    """The events of ``path``: a retail CSV (``.csv``, ``.csv.gz``) or a JSONL event log.

    Raises:
        DataError: A line cannot be read; the message names the file and the line.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return _read_retail(path)
    from personalize.metrics import read_events

    return read_events(path)


def _read_retail(path: Path) -> list[Event]:
    reader = csv.DictReader(line for _, line in iter_lines(path))
    fields = reader.fieldnames or ()
    missing = [c for c in RETAIL_COLUMNS if c not in fields]
    if missing:
        raise DataError(f"{path.name}: not a retail invoice CSV (missing {', '.join(missing)})")
    events = []
    for row in reader:
        if any(row[c] is None for c in RETAIL_COLUMNS):  # a short row
            given = sum(v is not None for k, v in row.items() if k is not None)
            raise DataError(
                f"{path.name}:{reader.line_num}: invalid row ({given} fields, expected"
                f" {len(fields)})"
            )
        try:
            event = _retail_event(row)
        except (ValueError, TypeError) as exc:
            raise DataError(f"{path.name}:{reader.line_num}: invalid row ({exc})") from None
        if event is not None:
            events.append(event)
    return events


def _retail_event(row: dict[str, str]) -> Event | None:
    if not row["CustomerID"] or row["InvoiceNo"].startswith("C"):
        return None
    quantity, price = float(row["Quantity"]), float(row["UnitPrice"])
    if not (0 < quantity < math.inf and 0 < price < math.inf):  # NaN and infinities too
        return None
    at = datetime.fromisoformat(row["InvoiceDate"])
    return Event(
        type="purchase",
        product_id=row["StockCode"],
        at=at if at.tzinfo else at.replace(tzinfo=UTC),
        quantity=quantity,
        price=price,
        order_id=row["InvoiceNo"],
        customer_id=row["CustomerID"],
    )


def catalog_from_events(events: Iterable[Event]) -> Catalog:
    """Every product the events name, with the first price an event gives (``None`` if no
    event prices it; for a log without a catalog)."""
    prices: dict[str, float | None] = {}
    for event in events:
        pid = event.product_id
        if pid is not None and prices.get(pid) is None:
            prices[pid] = event.price
    return Catalog(Product(id=pid, price=price) for pid, price in prices.items())
