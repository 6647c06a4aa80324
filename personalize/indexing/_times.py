"""Event times as integer microseconds since the epoch, read the way ``Event.at`` reads them.

ISO 8601 strings with or without an offset (naive ones are UTC), Arrow timestamps and dates,
and numbers of seconds. A whole column is cast at once; only a column that fails is parsed
value by value, to find the bad ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def micros(column: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Microseconds since the epoch of each value, and which values are unreadable (or null).

    Unreadable values get 0 in the first array and ``True`` in the second.
    """
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.dictionary_decode()
        kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        target = pa.timestamp("us", tz=getattr(kind, "tz", None))
        cast = column.cast(target, safe=False)
        return _split(cast.cast(pa.int64()))
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        seconds = pc.multiply(column.cast(pa.float64()), 1e6)
        return _split(pc.round(seconds).cast(pa.int64(), safe=False))
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        column = column.cast(pa.string())
    for target in (pa.timestamp("us"), pa.timestamp("us", tz="UTC")):
        try:
            cast = column.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return _split(cast.cast(pa.int64()))
    return _one_by_one(column.to_pylist())


def _split(values: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    bad = np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(values.fill_null(0).to_numpy(), dtype=np.int64), bad


def _one_by_one(values: list[Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    out = np.zeros(len(values), dtype=np.int64)
    bad = np.zeros(len(values), dtype=bool)
    for pos, value in enumerate(values):
        parsed = _parse(value)
        if parsed is None:
            bad[pos] = True
        else:
            out[pos] = parsed
    return out, bad


def _parse(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            return round(float(value) * 1e6)
        except (ValueError, OverflowError):
            return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        return (at - _EPOCH) // _MICRO
    except OverflowError:  # pragma: no cover - out of datetime's range cannot parse
        return None
