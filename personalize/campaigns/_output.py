"""Writing campaign rows: JSONL, CSV or Parquet, all-or-nothing.

Rows go to a temporary file beside the target, renamed over it once the last row is
written, so a stopped run never leaves a half file where the email service looks.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from personalize.campaigns._encode import jsonl_lines, records
from personalize.campaigns._rows import CampaignRow

__all__ = ["FORMATS", "Encoded", "RowWriter", "encode_rows"]

FORMATS = (".jsonl", ".csv", ".parquet")


#: Rows encoded for a format: JSONL text, or flat records for CSV and Parquet.
Encoded = str | list[dict[str, Any]]


def encode_rows(rows: Sequence[CampaignRow], kind: str) -> Encoded:
    """``rows`` encoded for the format ``kind`` (``.jsonl``, ``.csv`` or ``.parquet``).

    Workers encode their chunks, so the process that writes the file only writes.
    """
    return jsonl_lines(rows) if kind == ".jsonl" else records(rows)


class RowWriter:
    """Writes rows to ``path`` in the format its extension names; use as a context manager.

    Raises:
        ValueError: The extension is not ``.jsonl``, ``.csv`` or ``.parquet``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.kind = self.path.suffix.lower()
        if self.kind not in FORMATS:
            raise ValueError(f"{self.path}: the output must be .jsonl, .csv or .parquet")
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._text: io.TextIOWrapper | None = None
        self._csv: csv.DictWriter[str] | None = None
        self._parquet: Any = None
        self._schema: Any = None
        self.count = 0

    def __enter__(self) -> RowWriter:
        if self.kind != ".parquet":
            self._text = self._tmp.open("w", encoding="utf-8", newline="")
        return self

    def write(self, rows: Sequence[CampaignRow]) -> None:
        """Append ``rows``."""
        self.write_encoded(encode_rows(rows, self.kind), len(rows))

    def write_encoded(self, encoded: Encoded, count: int) -> None:
        """Append ``count`` rows already encoded by :func:`encode_rows` for this format."""
        if not count:
            return
        self.count += count
        if isinstance(encoded, str):
            assert self._text is not None
            self._text.write(encoded)
        elif self.kind == ".csv":
            assert self._text is not None
            if self._csv is None:
                self._csv = csv.DictWriter(self._text, list(encoded[0]), extrasaction="ignore")
                self._csv.writeheader()
            self._csv.writerows(encoded)
        else:
            self._write_parquet(encoded)

    def _write_parquet(self, records: list[dict[str, Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._parquet is None:
            self._schema = pa.schema([(k, pa.string()) for k in records[0]])
            self._parquet = pq.ParquetWriter(self._tmp, self._schema)
        names = self._schema.names
        columns = {k: [_text(r.get(k)) for r in records] for k in names}
        self._parquet.write_table(pa.table(columns, schema=self._schema))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._text is not None:
            self._text.flush()
            os.fsync(self._text.fileno())
            self._text.close()
        if self.kind == ".parquet":
            if self._parquet is None and exc is None:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({"customer_id": pa.array([], pa.string())}), self._tmp)
            elif self._parquet is not None:
                self._parquet.close()
        if exc is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
