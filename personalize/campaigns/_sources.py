"""Where a campaign's customers and their histories come from.

Customers are ids or records (``{"customer_id": "c1", "first_name": "Ada", "email": ...}``,
``id`` also accepted), from an iterable or a JSONL, CSV or Parquet file (JSONL and CSV may
be gzipped). Histories come from a :class:`~personalize.store.Store`, a mapping of customer
id to history, or a JSONL file with one ``{"customer_id", "events", "loyalty"}`` per line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import IO, Any, cast

from personalize._models import History
from personalize.errors import DataError
from personalize.store import MAX_ID_CHARS, Store

__all__ = [
    "HistoryReader",
    "customer_of",
    "histories_from_file",
    "history_reader",
    "read_customers",
]

#: Gives the histories of a batch of customers: each a history, or why it cannot be read.
HistoryReader = Callable[[Sequence[str]], list[History | Exception]]

_ID_KEYS = ("customer_id", "id")
_ID_IN_TEXT = re.compile(rb'"customer_id"\s*:\s*"((?:[^"\\]|\\.){1,256})"')
_EMPTY = History()
#: What reading a customer file can raise when its bytes are not what its name says.
_UNREADABLE: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    UnicodeDecodeError,
    zlib.error,
    csv.Error,
)


class HistoryUnreadable(ValueError):
    """The stored history of a customer is not valid JSON or not a valid history."""


def customer_of(customer: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The id and the placeholder fields of a customer given as an id or a record.

    Raises:
        ValueError: The record has no usable id (missing, empty, not text, too long).
    """
    key: Any
    if isinstance(customer, str):
        key, fields = customer, {}
    else:
        fields = dict(customer)
        key = next((fields.pop(k) for k in _ID_KEYS if k in fields), None)
        for k in _ID_KEYS:
            fields.pop(k, None)
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)
    if not isinstance(key, str) or not 0 < len(key) <= MAX_ID_CHARS:
        raise ValueError(f"needs a customer_id of 1 to {MAX_ID_CHARS} characters")
    return key, fields


def history_reader(
    *,
    store: Store | None,
    histories: Mapping[str, Any] | str | Path | None,
    now: datetime,
) -> HistoryReader:
    """One way to read customers' histories, from ``store`` or ``histories``.

    The reader takes a batch of customer ids and gives, in order, each one's history or
    the exception that kept it from being read. A store with a batch read
    (``histories(ids, now=...)``: the memory, SQLite and Redis stores) is read once per
    batch; when that fails, the batch is read customer by customer, so that only the
    customers whose history cannot be read are left out.

    Raises:
        ValueError: Both or neither were given.
    """
    if (store is None) == (histories is None):
        raise ValueError("give exactly one of store= and histories=")
    if store is not None:
        return partial(_from_store, store, getattr(store, "histories", None), now)
    assert histories is not None
    if isinstance(histories, str | Path):
        histories = histories_from_file(histories)
    return partial(_from_table, histories)


def _from_store(
    store: Store, many: Callable[..., Sequence[History]] | None, now: datetime, ids: Sequence[str]
) -> list[History | Exception]:
    if many is not None:
        try:
            return list(many(ids, now=now))
        except Exception:  # one bad history fails the batch: read one by one to find it
            pass
    out: list[History | Exception] = []
    for customer_id in ids:
        try:
            out.append(store.history(customer_id=customer_id, now=now))
        except Exception as exc:  # the campaign's boundary: this customer is skipped
            out.append(exc)
    return out


def _from_table(table: Mapping[str, Any], ids: Sequence[str]) -> list[History | Exception]:
    out: list[History | Exception] = []
    for customer_id in ids:
        try:
            out.append(_as_history(table.get(customer_id)))
        except Exception as exc:  # the campaign's boundary: this customer is skipped
            out.append(exc)
    return out


def _as_history(value: Any) -> History:
    if value is None:
        return _EMPTY
    if isinstance(value, History):
        return value
    if isinstance(value, bytes | str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise HistoryUnreadable(f"history is not valid JSON: {exc}") from None
    if isinstance(value, list):
        value = {"events": value}
    if isinstance(value, Mapping):
        value = {k: v for k, v in value.items() if k != "customer_id"}
    return History.model_validate(value)


def histories_from_file(path: str | Path) -> dict[str, bytes]:
    """Customer id to the raw JSON of their history line, parsed when it is needed.

    A line that is not valid JSON but names a ``customer_id`` makes that customer's history
    unreadable (the campaign skips them and reports it); other bad lines are ignored.

    Raises:
        DataError: The file cannot be read (missing, not gzip, truncated); the message
            names it.
    """
    path = Path(path)
    try:
        return _history_lines(path)
    except _UNREADABLE as exc:
        raise DataError(f"{path.name}: cannot be read: {exc}") from None


def _history_lines(path: Path) -> dict[str, bytes]:
    table: dict[str, bytes] = {}
    with _open(path) as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = record.get("customer_id") if isinstance(record, dict) else None
            except ValueError:
                found = _ID_IN_TEXT.search(line)
                key = json.loads(b'"' + found.group(1) + b'"') if found else None
            if isinstance(key, str):
                table[key] = line
    return table


def read_customers(path: str | Path) -> Iterator[dict[str, Any]]:
    """The customer records of a JSONL, CSV or Parquet file, streamed in file order.

    A CSV or Parquet file is checked before the first record: it must be readable and have
    a ``customer_id`` (or ``id``) column (an empty CSV file holds no customers).

    Raises:
        ValueError: The file's extension is none of these.
        DataError: The file cannot be read (not gzip, not UTF-8, not Parquet), or has no
            id column; while streaming, a record that cannot be read. The message names
            the file.
    """
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    records: Iterator[dict[str, Any]]
    if name.endswith((".jsonl", ".ndjson", ".json")):
        records = _jsonl_records(path)
    elif name.endswith(".csv"):
        _check_columns(path, _guarded(path, lambda: _csv_header(path)))
        records = _csv_records(path)
    elif name.endswith(".parquet"):
        _check_columns(path, _guarded(path, lambda: _parquet_columns(path)))
        records = _parquet_records(path)
    else:
        raise ValueError(f"{path}: customers must be .jsonl, .csv or .parquet")
    return _named_errors(path, records)


def _guarded(path: Path, read: Callable[[], list[str]]) -> list[str]:
    try:
        return read()
    except _UNREADABLE as exc:
        raise DataError(f"{path.name}: cannot be read: {exc}") from None


def _check_columns(path: Path, columns: list[str]) -> None:
    if columns and not any(key in columns for key in _ID_KEYS):
        raise DataError(
            f"{path.name}: no customer_id (or id) column (columns: {', '.join(columns)})"
        )


def _named_errors(path: Path, records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    count = 0
    try:
        for record in records:
            yield record
            count += 1
    except _UNREADABLE as exc:
        raise DataError(f"{path.name}: record {count + 1}: cannot be read: {exc}") from None


def _open(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _jsonl_records(path: Path) -> Iterator[dict[str, Any]]:
    with _open(path) as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            yield record if isinstance(record, dict) else {"_line": number}


def _csv_header(path: Path) -> list[str]:
    with _open(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        return next(csv.reader(text), [])


def _csv_records(path: Path) -> Iterator[dict[str, Any]]:
    with _open(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        for row in csv.DictReader(text):
            yield {k: (v if v != "" else None) for k, v in row.items() if k is not None}


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except pa.ArrowException as exc:  # ArrowInvalid is a ValueError, not an OSError
        raise OSError(f"not a readable Parquet file: {exc}") from None


def _parquet_records(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
            yield from batch.to_pylist()
    except pa.ArrowException as exc:
        raise OSError(f"not a readable Parquet file: {exc}") from None


def _parquet_rows(path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except pa.ArrowException as exc:
        raise OSError(f"not a readable Parquet file: {exc}") from None


def count_customers(path: str | Path) -> int | None:
    """How many customers a file holds (Parquet: from its metadata), else ``None``.

    Raises:
        DataError: The file cannot be read; the message names it.
    """
    path = Path(path)
    try:
        if path.name.lower().endswith(".parquet"):
            return _parquet_rows(path)
        total = 0
        with _open(path) as lines:
            for line in lines:
                total += bool(line.strip())
    except _UNREADABLE as exc:
        raise DataError(f"{path.name}: cannot be read: {exc}") from None
    if path.name.lower().removesuffix(".gz").endswith(".csv"):
        total = max(total - 1, 0)
    return total
