"""The embedded durable store: one SQLite file in WAL mode, shared by processes on one host.

Two tables: ``events`` (one row per event, in arrival order) and ``summaries`` (per
customer, the JSON state that reads load and, apart from it, the ledger that only appends
use). An append reads the summary, folds the events in and writes both tables in one
``BEGIN IMMEDIATE`` transaction, so concurrent writers queue on the write lock (up to
``busy_timeout``) instead of losing updates, and a crash mid-write rolls the whole batch
back. ``append`` returns once the transaction is committed (``synchronous=FULL`` by default:
an acknowledged event survives a power cut as well as a ``kill -9``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from personalize._models import Event, History, as_utc
from personalize.store._events import check_events, decode_all, encode, owner
from personalize.store._fork import reset_after_fork
from personalize.store._protocol import (
    RECENT_EVENTS,
    Retention,
    build_history,
    export_record,
    group,
)
from personalize.store._summary import Summary

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_owner ON events (owner, seq);
CREATE TABLE IF NOT EXISTS summaries (
    owner TEXT PRIMARY KEY,
    last_at REAL NOT NULL,
    kept INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    ledger TEXT
);
"""

_BATCH = 500  # customers per query: well under SQLite's limit of bound parameters
# Each owner's last RECENT_EVENTS events, oldest first: the seq of its RECENT_EVENTS-th
# newest event is found through the (owner, seq) index, then the events from it on.
_RECENT_OF = f"""
WITH cut (owner, seq) AS MATERIALIZED (
    SELECT s.owner, coalesce((
        SELECT seq FROM events WHERE owner = s.owner
        ORDER BY seq DESC LIMIT 1 OFFSET {RECENT_EVENTS - 1}
    ), 0)
    FROM summaries AS s WHERE s.owner IN ({{marks}})
)
SELECT e.owner, e.body FROM cut JOIN events AS e ON e.owner = cut.owner AND e.seq >= cut.seq
ORDER BY e.owner, e.seq
"""


class SQLiteStore:
    """Visitor state in a SQLite file.

    Each thread gets its own connection, and a forked child opens its own (connections
    are never shared across ``os.fork()``). Customers idle for ``retention.max_age`` and
    events past it are deleted by :meth:`purge` (also run on open).

    Args:
        path: The database file; created with its tables when missing.
        retention: Events and age kept per customer.
        busy_timeout: How long a writer waits for another process's write lock, seconds.
        synchronous: SQLite's ``synchronous`` pragma: ``FULL`` (durable across power loss)
            or ``NORMAL`` (durable across process crashes; faster in WAL mode).
    """

    def __init__(
        self,
        path: str | Path,
        retention: Retention | None = None,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self.path = Path(path)
        self.retention = retention or Retention()
        self._busy_ms = int(busy_timeout * 1000)
        self._synchronous = synchronous
        self._local = threading.local()
        self._write_lock = threading.Lock()
        reset_after_fork(self)
        db = self._db()
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(summaries)")}
        if "ledger" not in columns:  # a file from before the ledger was kept apart
            db.execute("ALTER TABLE summaries ADD COLUMN ledger TEXT")
        self.purge()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(f"PRAGMA synchronous = {self._synchronous}")
            self._local.db = db
        return db

    def _after_fork(self) -> None:
        # The parent's connections are abandoned, never closed here: closing them in the
        # child would release locks the parent holds.
        self._local = threading.local()
        self._write_lock = threading.Lock()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # Threads of one process queue on a lock of their own: SQLite's busy handler,
        # which other processes still wait on, sleeps in steps of up to 100 ms.
        with self._write_lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def append(self, events: Iterable[Event]) -> None:
        """See :meth:`Store.append`."""
        groups = group(check_events(events))
        timeout = self.retention.session_timeout
        with self._write() as db:
            for key, batch in groups.items():
                row = db.execute(
                    "SELECT state, ledger FROM summaries WHERE owner = ?", (key,)
                ).fetchone()
                summary = Summary.stored(
                    *(row or (None, None)), session_timeout=timeout, fold=self.retention.fold
                )
                for event in batch:
                    summary.apply(event)
                db.executemany(
                    "INSERT INTO events (owner, at, body) VALUES (?, ?, ?)",
                    [(key, e.at.timestamp(), encode(e)) for e in batch],
                )
                self._save(db, key, summary, len(batch))
                self._trim(db, key)

    @staticmethod
    def _save(db: sqlite3.Connection, key: str, summary: Summary, added: int = 0) -> None:
        state, ledger = summary.parts()
        db.execute(
            "INSERT INTO summaries (owner, last_at, kept, state, ledger) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (owner) DO UPDATE SET last_at = excluded.last_at, "
            "kept = kept + excluded.kept, state = excluded.state, ledger = excluded.ledger",
            (key, time.time(), added, state, ledger),
        )

    def _trim(self, db: sqlite3.Connection, key: str) -> None:
        """Delete the oldest events beyond ``max_events``: O(deleted), not O(kept)."""
        (kept,) = db.execute("SELECT kept FROM summaries WHERE owner = ?", (key,)).fetchone()
        excess = kept - self.retention.max_events
        if excess > 0:
            db.execute(
                "DELETE FROM events WHERE seq IN "
                "(SELECT seq FROM events WHERE owner = ? ORDER BY seq LIMIT ?)",
                (key, excess),
            )
            db.execute("UPDATE summaries SET kept = ? WHERE owner = ?", (kept - excess, key))

    def history(
        self,
        customer_id: str | None = None,
        session_id: str | None = None,
        *,
        now: datetime | None = None,
        events: bool = True,
    ) -> History:
        """See :meth:`Store.history`."""
        key = owner(customer_id, session_id)
        if key is None:
            return History()
        db = self._db()
        row = db.execute("SELECT state FROM summaries WHERE owner = ?", (key,)).fetchone()
        if row is None:
            return History()
        bodies = (
            db.execute(
                "SELECT body FROM events WHERE owner = ? ORDER BY seq DESC LIMIT ?",
                (key, RECENT_EVENTS),
            ).fetchall()
            if events
            else []
        )
        summary = Summary.stored(row[0], session_timeout=self.retention.session_timeout)
        recent = decode_all([b for (b,) in reversed(bodies)])
        return build_history(summary, recent, now, session_id, self.retention)

    def histories(
        self, customer_ids: Sequence[str], *, now: datetime | None = None
    ) -> list[History]:
        """The histories of several customers at once, in order.

        Each is what :meth:`history` gives for that ``customer_id``, read with two queries
        per :data:`_BATCH` customers (summaries; each one's recent events, through the
        ``(owner, seq)`` index) inside one read transaction, and decoded in one call.

        Raises:
            ValueError: A stored summary or event is not valid (no history is returned).
        """
        out: list[History] = []
        for start in range(0, len(customer_ids), _BATCH):
            out.extend(self._histories(customer_ids[start : start + _BATCH], now))
        return out

    def _histories(self, customer_ids: Sequence[str], now: datetime | None) -> list[History]:
        keys = [f"c:{customer_id}" for customer_id in customer_ids]
        marks = ",".join("?" * len(keys))
        db = self._db()
        db.execute("BEGIN")  # one snapshot for both queries
        try:
            states = dict(
                db.execute(f"SELECT owner, state FROM summaries WHERE owner IN ({marks})", keys)
            )
            rows = db.execute(_RECENT_OF.format(marks=marks), keys).fetchall()
        finally:
            db.execute("COMMIT")
        bodies: dict[str, list[str]] = {}
        for key, body in rows:
            bodies.setdefault(key, []).append(body)
        known = [key for key in keys if key in states]
        decoded = iter(decode_all([b for key in known for b in bodies.get(key, ())]))
        timeout = self.retention.session_timeout
        out: list[History] = []
        for key in keys:
            state = states.get(key)
            if state is None:
                out.append(History())
                continue
            recent = [next(decoded) for _ in bodies.get(key, ())]
            summary = Summary.stored(state, session_timeout=timeout)
            out.append(build_history(summary, recent, now, None, self.retention))
        return out

    def set_loyalty(self, customer_id: str, loyalty: Mapping[str, Any]) -> None:
        """See :meth:`Store.set_loyalty`."""
        key = f"c:{customer_id}"
        with self._write() as db:
            row = db.execute(
                "SELECT state, ledger FROM summaries WHERE owner = ?", (key,)
            ).fetchone()
            summary = Summary.stored(*(row or (None, None)), fold=self.retention.fold)
            summary.set_loyalty(dict(loyalty))
            self._save(db, key, summary)

    def forget(self, customer_id: str) -> None:
        """See :meth:`Store.forget`."""
        key = f"c:{customer_id}"
        with self._write() as db:
            db.execute("DELETE FROM events WHERE owner = ?", (key,))
            db.execute("DELETE FROM summaries WHERE owner = ?", (key,))

    def export(self, customer_id: str) -> dict[str, Any]:
        """See :meth:`Store.export`."""
        key = f"c:{customer_id}"
        db = self._db()
        oldest = time.time() - self.retention.max_age.total_seconds()
        row = db.execute("SELECT state, ledger FROM summaries WHERE owner = ?", (key,)).fetchone()
        bodies = db.execute(
            "SELECT body FROM events WHERE owner = ? AND at >= ? ORDER BY seq", (key, oldest)
        ).fetchall()
        state = Summary.stored(*row).to_json() if row else None
        return export_record(customer_id, decode_all([b for (b,) in bodies]), state)

    def count(self, customer_id: str) -> int:
        """How many events are stored for the customer."""
        row = (
            self._db()
            .execute("SELECT COUNT(*) FROM events WHERE owner = ?", (f"c:{customer_id}",))
            .fetchone()
        )
        return int(row[0])

    def purge(self, now: datetime | None = None) -> None:
        """Delete events older than ``retention.max_age`` and customers idle that long."""
        moment = as_utc(now) if now is not None else datetime.now(UTC)  # naive is UTC
        oldest = moment.timestamp() - self.retention.max_age.total_seconds()
        with self._write() as db:
            db.execute("DELETE FROM events WHERE at < ?", (oldest,))
            db.execute("DELETE FROM summaries WHERE last_at < ?", (oldest,))
            db.execute(
                "UPDATE summaries SET kept = "
                "(SELECT COUNT(*) FROM events WHERE events.owner = summaries.owner)"
            )
