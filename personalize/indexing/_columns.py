"""Chunks of event fields turned into the integer columns of an index build.

Ids must be dense and numbered in first-seen order, exactly as the in-process pass numbers
them, without a Python dict of every order or session (that costs ~150 bytes an id). Each
chunk is dictionary-encoded by Arrow, which numbers its distinct values in first-seen
order; at the end the chunks' dictionaries, as one chunked array in file order, are encoded
once more, and that numbering is the global first-seen order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from personalize.errors import DataError
from personalize.indexing._bad import BadLines
from personalize.indexing._readers import Chunk
from personalize.indexing._times import micros
from personalize.ranking._build import EventColumns

__all__ = ["Columns"]

_VIEW_TYPES = pa.array(["view", "page_view"])
_NO_ORDER = "\x1f"  # prefix of made-up order ids, which no real id starts with


class _Space:
    """One id space (items, orders, customers or sessions) over all chunks."""

    def __init__(self) -> None:
        self._dicts: list[pa.Array] = []
        self._global: list[np.ndarray[Any, Any]] = []
        self.names: pa.Array = pa.array([], pa.string())
        self._size = 0

    def encode(self, values: pa.Array) -> tuple[int, np.ndarray[Any, Any]]:
        """The chunk number and chunk-local ids of ``values`` (-1 for nulls)."""
        encoded = pc.dictionary_encode(values)
        self._dicts.append(encoded.dictionary)
        local = encoded.indices.fill_null(-1).to_numpy().astype(np.int32, copy=False)
        return len(self._dicts) - 1, local

    def close(self) -> None:
        """Number every value in first-seen order over all chunks.

        The chunks' dictionaries are encoded as one chunked array, against one table and
        without joining them: chunk by chunk, the global id of each local id.
        """
        if not self._dicts:
            return
        encoded = pc.dictionary_encode(pa.chunked_array(self._dicts, type=pa.string()))
        sizes = np.cumsum([len(d) for d in self._dicts])
        self._dicts = []
        chunks = [c for c in encoded.chunks if len(c)]  # Arrow may leave empty ones out
        self.names = chunks[-1].dictionary if chunks else pa.array([], pa.string())
        self._size = len(self.names)
        ids = [c.indices.to_numpy().astype(np.int32, copy=False) for c in chunks]
        del encoded, chunks
        self._global = np.split(np.concatenate(ids) if ids else np.zeros(0, np.int32), sizes)

    def forget(self, *, names: bool) -> None:
        """Drop the mapping of chunk-local ids (every column is globalized), and the
        names too if ``names`` (their count stays)."""
        self._global = []
        if names:
            self.names = pa.array([], pa.string())

    def globalize(self, chunk: int, local: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Global ids of a chunk's local ids (``close`` first)."""
        mapping = self._global[chunk]
        if mapping.size == 0:  # nothing but nulls
            return np.full(len(local), -1, dtype=np.int32)
        return np.where(local >= 0, mapping[np.maximum(local, 0)], -1).astype(np.int32, copy=False)

    def __len__(self) -> int:
        return self._size


class Columns:
    """Accumulates chunks; :meth:`finish` gives the :class:`EventColumns` of them all.

    Args:
        bad: Where rows without a type or a readable time go.
    """

    def __init__(self, bad: BadLines) -> None:
        self.bad = bad
        self.items, self.orders = _Space(), _Space()
        self.customers, self.sessions = _Space(), _Space()
        self._parts: dict[str, list[Any]] = {
            k: []
            for k in ("p_item", "p_order", "p_cust", "p_time", "v_item", "v_session", "v_time")
        }
        self.rows = 0
        self.skipped = 0

    def add(self, path: str, chunk: Chunk) -> None:
        """Add one chunk of ``path``: purchases, and views with a session.

        Raises:
            DataError: One bad row too many (see :class:`BadLines`).
        """
        cols = chunk.columns
        kind = cols["type"]
        self.rows += len(kind)
        at, bad_time = micros(cols["at"])
        bad = bad_time | np.asarray(kind.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if bad.any():
            rows = np.flatnonzero(bad)
            for row, line in zip(rows.tolist(), chunk.lines(rows).tolist(), strict=True):
                reason = "no event type" if kind[row].as_py() is None else "unreadable time"
                self.bad.add(path, int(line), f"{reason}: {cols['at'][row].as_py()!r}")
        product = cols["product_id"]
        usable = ~bad & np.asarray(product.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        purchase = usable & _mask(pc.equal(kind, "purchase"))
        session = cols["session_id"]
        view = (
            usable
            & _mask(pc.is_in(kind, value_set=_VIEW_TYPES))
            & np.asarray(session.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        )
        kept = purchase | view
        self.skipped += int(usable.sum() - kept.sum())
        keep = pa.array(kept)
        chunk_no, item = self.items.encode(product.filter(keep))
        is_purchase = purchase[kept]
        seconds = at / 1e6
        self._add_purchases(cols, purchase, chunk_no, item[is_purchase], at, seconds)
        session_chunk, session_ids = self.sessions.encode(session.filter(pa.array(view)))
        self._parts["v_item"].append((chunk_no, item[~is_purchase]))
        self._parts["v_session"].append((session_chunk, session_ids))
        self._parts["v_time"].append(seconds[view])

    def _add_purchases(
        self,
        cols: dict[str, pa.Array],
        purchase: np.ndarray[Any, Any],
        chunk_no: int,
        item: np.ndarray[Any, Any],
        at: np.ndarray[Any, Any],
        seconds: np.ndarray[Any, Any],
    ) -> None:
        mask = pa.array(purchase)
        customer = cols["customer_id"].filter(mask)
        order = cols["order_id"].filter(mask)
        if order.null_count:
            # An order line without an order: the customer's purchases at that instant.
            made_up = pc.binary_join_element_wise(
                _NO_ORDER + "",
                customer.fill_null("None"),
                pa.array(at[purchase]).cast(pa.string()),
                "@",
            )
            order = pc.if_else(order.is_null(), made_up, order)
        self._parts["p_item"].append((chunk_no, item))
        self._parts["p_order"].append(self.orders.encode(order))
        self._parts["p_cust"].append(self.customers.encode(customer))
        self._parts["p_time"].append(seconds[purchase])

    def finish(self) -> EventColumns:
        """The integer columns of every chunk added, ids in global first-seen order.

        One id space at a time is numbered and its columns mapped, so only one space's
        dictionaries and mapping exist at once; Arrow's freed memory is returned as it goes.
        """
        pool = pa.default_memory_pool()
        spaces = {
            "p_item": self.items,
            "v_item": self.items,
            "p_order": self.orders,
            "p_cust": self.customers,
            "v_session": self.sessions,
        }
        out: dict[str, np.ndarray[Any, Any]] = {}
        for space in (self.items, self.orders, self.customers, self.sessions):
            space.close()
            pool.release_unused()
            for name in [n for n, s in spaces.items() if s is space]:
                out[name] = self._globalized(self._parts[name], space)
            space.forget(names=space is self.orders or space is self.sessions)
        for name in ("p_time", "v_time"):
            parts = self._parts[name]
            out[name] = np.concatenate(parts) if parts else np.zeros(0)
            parts.clear()
        if len(self.items) >= 2**31 or len(self.orders) >= 2**31:  # pragma: no cover
            raise DataError("more than 2**31 distinct items or orders")
        return EventColumns(
            self.items.names.to_pylist(),
            self.customers.names.to_pylist(),
            len(self.orders),
            len(self.sessions),
            out["p_item"],
            out["p_order"],
            out["p_cust"],
            out["p_time"],
            out["v_item"],
            out["v_session"],
            out["v_time"],
            self.skipped,
        )

    @staticmethod
    def _globalized(parts: list[Any], space: _Space) -> np.ndarray[Any, Any]:
        """One column of ``space``'s global ids from its chunks' local ids (consumed)."""
        column = np.empty(sum(len(local) for _, local in parts), dtype=np.int32)
        pos = 0
        parts.reverse()
        while parts:
            chunk_no, local = parts.pop()
            column[pos : pos + len(local)] = space.globalize(chunk_no, local)
            pos += len(local)
        return column


def _mask(values: pa.Array) -> np.ndarray[Any, Any]:
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
