"""Event files read in columnar chunks: CSV, JSON lines or Parquet, gzipped or not.

Each reader yields :class:`Chunk` objects whose columns are the event fields the index
needs, whatever the file calls them: the mapping renames a store's export
(``InvoiceNo`` to ``order_id``) and defaults fill fields the file lacks (``type:
purchase``). Ids are strings; unreadable rows go to :class:`~._bad.BadLines` with their line
number. No per-event object is ever made, except for JSON lines, parsed one by one.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from personalize.config import INDEX_FIELDS
from personalize.errors import DataError
from personalize.indexing._bad import BadLines

__all__ = ["Chunk", "read_chunks"]

_GZIP_MAGIC = b"\x1f\x8b"
_CSV_BLOCK_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows of one file, as event-field columns.

    Attributes:
        columns: Event field to a string array (``at`` stays as read: strings,
            timestamps or numbers).
        lines: The 1-based line (or row) number of each row.
        done_bytes: How far into the file the reader is, for progress.
    """

    columns: dict[str, pa.Array]
    lines: Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]]
    done_bytes: int


def read_chunks(
    path: Path,
    *,
    columns: Mapping[str, str],
    defaults: Mapping[str, str],
    chunk_rows: int,
    bad: BadLines,
) -> Iterator[Chunk]:
    """The chunks of one event file, its format told by its name (``.csv``, ``.jsonl``,
    ``.parquet``, each optionally ``.gz``).

    Args:
        path: The file.
        columns: Source column to event field.
        defaults: Event field to the value used when no column holds it.
        chunk_rows: Rows per chunk (approximately, for CSV).
        bad: Where unreadable rows are recorded.

    Raises:
        DataError: The file is missing, of an unknown format, lacks a needed column, or
            cannot be read past some line (the message names it).
    """
    name = path.name.lower().removesuffix(".gz")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if name.endswith((".parquet", ".pq")):
        return _parquet(path, columns, defaults, chunk_rows)
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return _jsonl(path, columns, defaults, chunk_rows, bad)
    if name.endswith((".csv", ".tsv", ".txt")):
        return _csv(path, columns, defaults, chunk_rows, bad)
    raise DataError(f"{path}: unknown event file format (expected .csv, .jsonl or .parquet)")


def _sources(
    path: Path, header: list[str], columns: Mapping[str, str], defaults: Mapping[str, str]
) -> dict[str, str]:
    """Event field to the source column holding it."""
    chosen = {field: src for src, field in columns.items() if src in header}
    for field in INDEX_FIELDS:
        if field not in chosen and field in header and field not in columns:
            chosen[field] = field
    missing = [f for f in ("type", "product_id", "at") if f not in chosen and f not in defaults]
    if missing:
        raise DataError(
            f"{path}: no column for {', '.join(missing)} (columns: {', '.join(header)});"
            " map one with --map COLUMN=FIELD or give a default"
        )
    return chosen


def _finish(
    table: pa.Table, sources: Mapping[str, str], defaults: Mapping[str, str]
) -> dict[str, pa.Array]:
    """Event field to a column of ``table`` (ids as strings), or a constant default."""
    out: dict[str, pa.Array] = {}
    n = table.num_rows
    for field in INDEX_FIELDS:
        src = sources.get(field)
        if src is not None:
            column = table.column(src).combine_chunks()
            if field != "at":
                column = _as_strings(column)
            out[field] = column
        elif field in defaults:
            out[field] = pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n, dtype=np.int32)), pa.array([defaults[field]])
            ).dictionary_decode()
        else:
            out[field] = pa.nulls(n, pa.string())
    return out


def _as_strings(column: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_floating(column.type):
        # 17850.0 (a float column with gaps) is the id "17850"; 12.5 stays "12.5"; NaN and
        # infinities are no id (a missing value, as a float column often writes them).
        integral = pc.and_(
            pc.equal(pc.floor(column), column), pc.less(pc.abs(column), float(2**63))
        )
        text = pc.if_else(
            integral,
            column.cast(pa.int64(), safe=False).cast(pa.string()),
            column.cast(pa.string()),
        )
        return pc.if_else(pc.is_finite(column), text, pa.scalar(None, pa.string()))
    return column if column.type == pa.string() else column.cast(pa.string())


def _parquet(
    path: Path, columns: Mapping[str, str], defaults: Mapping[str, str], chunk_rows: int
) -> Iterator[Chunk]:
    try:
        parquet = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering keeps every chunk
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from exc
    sources = _sources(path, parquet.schema_arrow.names, columns, defaults)
    total_rows = max(parquet.metadata.num_rows, 1)
    size = path.stat().st_size
    done = 0
    batches = parquet.iter_batches(batch_size=chunk_rows, columns=sorted(set(sources.values())))
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{path}:{done + 1}: cannot be read: {exc}") from exc
        start = done
        done += batch.num_rows
        yield Chunk(
            _finish(pa.Table.from_batches([batch]), sources, defaults),
            lambda rows, start=start: rows + start + 1,  # type: ignore[misc]
            size * done // total_rows,
        )


class _Counting(io.RawIOBase):
    """A binary file that counts the bytes read from it (for progress)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        got = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += got or 0
        return int(got or 0)


@contextmanager
def _opened(path: Path) -> Iterator[tuple[_Counting, IO[bytes]]]:
    """The file's bytes (gunzipped when it starts with the gzip magic) and their counter."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        counting = _Counting(raw)
        with io.BufferedReader(counting, 1 << 20) as buffered:
            if gzipped:
                with gzip.GzipFile(fileobj=buffered, mode="rb") as unzipped:
                    yield counting, unzipped  # type: ignore[misc]
            else:
                yield counting, buffered


def _csv(
    path: Path,
    columns: Mapping[str, str],
    defaults: Mapping[str, str],
    chunk_rows: int,
    bad: BadLines,
) -> Iterator[Chunk]:
    with _opened(path) as (counting, stream):
        try:
            first = stream.readline().decode("utf-8-sig")
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}:1: cannot be read: {exc}") from exc
        delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
        header = next(csv.reader([first], delimiter=delimiter), [])
        if not header:
            return
        sources = _sources(path, header, columns, defaults)
        wanted = sorted(set(sources.values()))
        invalid: list[int] = []

        def skip(row: Any) -> str:
            line = int(row.number) + 1 if row.number >= 0 else -1  # after the header
            invalid.append(line)
            bad.add(
                str(path), line, f"{row.actual_columns} fields, expected {row.expected_columns}"
            )
            return "skip"

        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=header,
                    use_threads=False,
                    block_size=max(min(chunk_rows * 64, 256 << 20), 1 << 16),
                ),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=skip),
                convert_options=pacsv.ConvertOptions(
                    include_columns=wanted,
                    column_types=dict.fromkeys(wanted, pa.string()),
                    strings_can_be_null=True,
                    null_values=[""],
                ),
            )
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return
            raise DataError(f"{path}:2: cannot be read: {exc}") from exc
        except (pa.ArrowException, OSError, EOFError) as exc:
            raise DataError(f"{path}:2: cannot be read: {exc}") from exc
        rows = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowException, OSError, EOFError) as exc:
                line = _line_of(rows, invalid) if rows else 2
                raise DataError(f"{path}:{line}: cannot be read: {exc}") from exc
            start, rows = rows, rows + batch.num_rows
            known = np.array(sorted(invalid), dtype=np.int64)
            yield Chunk(
                _finish(pa.Table.from_batches([batch]), sources, defaults),
                lambda at, start=start, known=known: _lines(at + start, known),  # type: ignore[misc]
                counting.count,
            )


def _lines(ordinal: np.ndarray[Any, Any], invalid: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Line numbers of good rows ``ordinal`` (0-based) of a CSV file with a header line."""
    return np.asarray([_line_of(int(k), invalid.tolist()) for k in ordinal], dtype=np.int64)


def _line_of(ordinal: int, invalid: list[int]) -> int:
    line = ordinal + 2
    for skipped in sorted(invalid):
        if skipped <= line:
            line += 1
    return line


def _jsonl(
    path: Path,
    columns: Mapping[str, str],
    defaults: Mapping[str, str],
    chunk_rows: int,
    bad: BadLines,
) -> Iterator[Chunk]:
    with _opened(path) as (counting, stream):
        yield from _json_lines(path, counting, stream, columns, defaults, chunk_rows, bad)


def _json_lines(
    path: Path,
    counting: _Counting,
    stream: IO[bytes],
    columns: Mapping[str, str],
    defaults: Mapping[str, str],
    chunk_rows: int,
    bad: BadLines,
) -> Iterator[Chunk]:
    text = io.TextIOWrapper(stream, encoding="utf-8")
    fields: dict[str, str] | None = None
    values: dict[str, list[Any]] = {}
    lines: list[int] = []
    number = 0
    with text:  # closes the stream too; _opened closes it again harmlessly
        while True:
            try:
                raw = text.readline()
            except (OSError, EOFError, UnicodeDecodeError) as exc:
                raise DataError(f"{path}:{number + 1}: cannot be read: {exc}") from exc
            if raw:
                number += 1
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except ValueError as exc:
                    bad.add(str(path), number, f"not JSON: {exc}")
                    continue
                if not isinstance(record, dict):
                    bad.add(str(path), number, "not a JSON object")
                    continue
                if fields is None:
                    names = list(dict.fromkeys([*columns, *INDEX_FIELDS]))
                    fields = _sources(path, names, columns, defaults)
                    values = {field: [] for field in fields}
                for field, src in fields.items():
                    values[field].append(_scalar(record.get(src)))
                lines.append(number)
            if fields is not None and lines and (len(lines) >= chunk_rows or not raw):
                table = pa.table(
                    {fields[f]: pa.array(v, type=pa.string()) for f, v in values.items()}
                )
                known = np.array(lines, dtype=np.int64)
                yield Chunk(
                    _finish(table, fields, defaults),
                    lambda at, known=known: known[at],  # type: ignore[misc]
                    counting.count,
                )
                values = {field: [] for field in fields}
                lines = []
            if not raw:
                return


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN or Infinity (which Python's json reads): a missing value
    if isinstance(value, int | float):
        return (
            repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))
        )
    return json.dumps(value)
