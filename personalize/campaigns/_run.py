"""Running a campaign from saved files, in one process or several (``personalize campaign``).

The customers are read in chunks; each chunk is planned by a worker process that loaded the
personalizer (configuration, catalog, index) and opened the store once, when it started.
Chunks come back in input order, so the output does not depend on the number of workers.
Workers send back each chunk's rows already encoded for the output, and the offers it
sends; this process records those as ``offer_sent`` events (one store write per chunk)
before it writes the chunk's rows, so workers never wait on each other for the store's
write lock.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

from personalize._personalizer import Personalizer
from personalize.campaigns._codes import DEFAULT_CODE_FORMAT
from personalize.campaigns._output import Encoded, RowWriter, encode_rows
from personalize.campaigns._plan import (
    LISTED_TWICE,
    Sends,
    plan_batches,
    plan_campaign,
    sent_events,
)
from personalize.campaigns._rows import CampaignRow, SkippedCustomer
from personalize.campaigns._sources import customer_of, histories_from_file
from personalize.catalog import Catalog
from personalize.store import Store, store_from_url

__all__ = ["CampaignJob", "CampaignSummary", "PlannedChunk", "load_personalizer", "run_campaign"]

#: Called after each chunk with the customers done so far.
ProgressHandler = Callable[[int], None]


def load_personalizer(
    config: str | Path, catalog: str | Path, index: str | Path, *, geoip: str | Path | None = None
) -> Personalizer:
    """The personalizer of a campaign, from the saved configuration, catalog and index.

    It trusts the ``cloudflare`` country header, which is how a campaign passes each
    customer's country (:data:`~personalize.campaigns.COUNTRY_HEADER`); campaign requests
    are built by the campaign, never by a client.
    """
    return Personalizer.from_file(
        config,
        catalog=Catalog.from_file(catalog),
        interactions=Path(index),
        geoip=geoip,
        trusted_cdn=["cloudflare"],
    )


@dataclass(frozen=True, slots=True)
class CampaignJob:
    """Everything a worker needs to plan its chunks: files, the store and the settings.

    Attributes:
        config: The configuration file.
        catalog: The catalog file.
        index: The saved interaction index.
        campaign_id: The campaign's id.
        secret: The key codes are derived from.
        now: The campaign time.
        store_url: Where histories are read and sends recorded (``sqlite:///...``).
        histories: Instead of a store, a JSONL file of histories (nothing is recorded).
        placement: The placement products are ranked for.
        limit: Products per email.
        code_format: The coupon code template.
        link_base: Prefixed to landing paths.
        geoip: A MaxMind database, if the configuration uses geo facts beyond the country.
    """

    config: Path
    catalog: Path
    index: Path
    campaign_id: str
    secret: str
    now: datetime
    store_url: str | None = None
    histories: Path | None = None
    placement: str = "email"
    limit: int = 6
    code_format: str = DEFAULT_CODE_FORMAT
    link_base: str = ""
    geoip: Path | None = None

    def plan(
        self,
        personalizer: Personalizer,
        customers: Iterable[Any],
        *,
        store: Store | None,
        histories: Mapping[str, Any] | None,
        on_skip: Callable[[SkippedCustomer], None],
        batch_size: int,
    ) -> Iterator[CampaignRow]:
        """:func:`plan_campaign` with this job's settings (one place for workers and Spark)."""
        return plan_campaign(
            personalizer,
            customers,
            **self._settings(),
            store=store,
            histories=histories,
            on_skip=on_skip,
            batch_size=batch_size,
        )

    def batches(
        self,
        personalizer: Personalizer,
        customers: Iterable[Any],
        *,
        store: Store | None,
        histories: Mapping[str, Any] | None,
        on_skip: Callable[[SkippedCustomer], None],
        batch_size: int,
    ) -> Iterator[tuple[list[CampaignRow], Sends]]:
        """:func:`~personalize.campaigns._plan.plan_batches` with this job's settings: the
        rows and the sends of each batch, recorded by the caller."""
        return plan_batches(
            personalizer,
            customers,
            **self._settings(),
            store=store,
            histories=histories,
            on_skip=on_skip,
            batch_size=batch_size,
        )

    def _settings(self) -> dict[str, Any]:
        """The keyword arguments of :func:`plan_campaign` that this job fixes."""
        return {
            "campaign_id": self.campaign_id,
            "secret": self.secret,
            "placement": self.placement,
            "limit": self.limit,
            "now": self.now,
            "code_format": self.code_format,
            "link_base": self.link_base,
        }


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """What a run did.

    Attributes:
        customers: Customers read.
        rows: Rows written.
        skipped: Customers left out (listed in the error file).
        offers: Offers in the rows.
        resumed: Rows whose offers an earlier run of the campaign had recorded.
        seconds: Wall time of the run.
    """

    customers: int
    rows: int
    skipped: int
    offers: int
    resumed: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """As JSON-able data, with the rate in customers per second."""
        rate = self.customers / self.seconds if self.seconds > 0 else 0.0
        return {
            "customers": self.customers,
            "rows": self.rows,
            "skipped": self.skipped,
            "offers": self.offers,
            "resumed": self.resumed,
            "seconds": round(self.seconds, 3),
            "customers_per_second": round(rate, 1),
        }


Chunk = list[tuple[int, Any]]
_worker: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class PlannedChunk:
    """What a worker sends back for a chunk: its rows encoded for the output, and counts.

    Attributes:
        encoded: The rows, encoded by :func:`~personalize.campaigns._output.encode_rows`.
        rows: Rows in ``encoded``.
        offers: Offers in them.
        resumed: Rows an earlier run of the campaign had recorded.
        skipped: The customers left out.
        sends: The offers to record as sent before the rows are written.
    """

    encoded: Encoded
    rows: int
    offers: int
    resumed: int
    skipped: list[SkippedCustomer]
    sends: Sends


def _start_worker(job: CampaignJob, kind: str = ".jsonl") -> None:
    """Load the personalizer and open the store, once per worker process."""
    _worker["job"] = job
    _worker["kind"] = kind
    _worker["personalizer"] = load_personalizer(job.config, job.catalog, job.index, geoip=job.geoip)
    _worker["store"] = store_from_url(job.store_url) if job.store_url is not None else None
    _worker["histories"] = histories_from_file(job.histories) if job.histories else None


def plan_chunk(chunk: Chunk) -> PlannedChunk:
    """Plan one chunk of ``(position, customer)`` in a started worker (nothing recorded)."""
    job: CampaignJob = _worker["job"]
    skipped: list[SkippedCustomer] = []
    positions = [position for position, _ in chunk]
    store: Store | None = _worker["store"]
    histories: Mapping[str, Any] | None = _worker["histories"]
    rows: list[CampaignRow] = []
    sends: Sends = []
    for batch_rows, batch_sends in job.batches(
        _worker["personalizer"],
        (customer for _, customer in chunk),
        store=store,
        histories=histories,
        on_skip=lambda s: skipped.append(replace(s, position=positions[s.position])),
        batch_size=len(chunk) or 1,
    ):
        rows += batch_rows
        sends += batch_sends
    return PlannedChunk(
        encoded=encode_rows(rows, _worker["kind"]),
        rows=len(rows),
        offers=sum(len(r.offers) for r in rows),
        resumed=sum(r.resumed for r in rows),
        skipped=skipped,
        sends=sends,
    )


def _chunks(customers: Iterable[Any], size: int) -> Iterator[tuple[Chunk, list[SkippedCustomer]]]:
    """Chunks of ``(position, customer)``, each with the customers it leaves out because an
    earlier chunk lists them (a worker finds the repeats within its own chunk)."""
    numbered = enumerate(customers)
    earlier: set[str] = set()
    while chunk := list(itertools.islice(numbered, size)):
        kept: Chunk = []
        again: list[SkippedCustomer] = []
        ids: set[str] = set()
        for position, customer in chunk:
            customer_id = _id_of(customer)
            if customer_id is not None and customer_id in earlier:
                again.append(SkippedCustomer(customer_id, LISTED_TWICE, position))
                continue
            kept.append((position, customer))
            if customer_id is not None:
                ids.add(customer_id)
        earlier |= ids
        yield kept, again


def _id_of(customer: Any) -> str | None:
    try:
        return customer_of(customer)[0]
    except ValueError:  # no usable id: the worker reports it
        return None


def run_campaign(
    job: CampaignJob,
    customers: Iterable[Any],
    out: str | Path,
    *,
    errors: str | Path | None = None,
    workers: int = 1,
    chunk_size: int = 500,
    on_progress: ProgressHandler | None = None,
) -> CampaignSummary:
    """Plan the campaign for ``customers`` and write the rows to ``out``.

    Args:
        job: The files and settings.
        customers: Customer ids or records, e.g. from
            :func:`~personalize.campaigns.read_customers`.
        out: The output file, ``.jsonl``, ``.csv`` or ``.parquet``; replaced at the end.
        errors: A JSONL file listing the customers left out (default: ``out`` with
            ``.errors.jsonl``).
        workers: Processes; 1 plans in this process.
        chunk_size: Customers per chunk (and per store write).
        on_progress: Called after each chunk with the customers done so far.

    Returns:
        What the run did.
    """
    started = time.perf_counter()
    out = Path(out)
    errors = Path(errors) if errors is not None else out.with_name(out.stem + ".errors.jsonl")
    counts = {"customers": 0, "rows": 0, "skipped": 0, "offers": 0, "resumed": 0}
    chunks = _chunks(customers, chunk_size)
    skipped_tmp = errors.with_name(f".{errors.name}.{os.getpid()}.tmp")
    # One process records every chunk's sends (the workers only read): processes never
    # queue on the store's write lock, and the sends are recorded before their rows.
    recorder = store_from_url(job.store_url) if job.store_url is not None else None
    try:
        with RowWriter(out) as writer, skipped_tmp.open("w", encoding="utf-8") as skipped_file:
            for planned in _results(job, writer.kind, chunks, workers):
                if planned.sends and recorder is not None:
                    recorder.append(sent_events(job.campaign_id, job.now, planned.sends))
                writer.write_encoded(planned.encoded, planned.rows)
                skipped = planned.skipped
                skipped_file.writelines(json.dumps(s.to_dict()) + "\n" for s in skipped)
                counts["customers"] += planned.rows + len(skipped)
                counts["rows"] += planned.rows
                counts["skipped"] += len(skipped)
                counts["offers"] += planned.offers
                counts["resumed"] += planned.resumed
                if on_progress is not None:
                    on_progress(counts["customers"])
            skipped_file.flush()
            os.fsync(skipped_file.fileno())
    except BaseException:
        skipped_tmp.unlink(missing_ok=True)  # the rows' temporary file is gone too
        raise
    finally:
        close = getattr(recorder, "close", None)
        if close is not None:
            close()
    os.replace(skipped_tmp, errors)
    return CampaignSummary(**counts, seconds=time.perf_counter() - started)


def _results(
    job: CampaignJob,
    kind: str,
    chunks: Iterator[tuple[Chunk, list[SkippedCustomer]]],
    workers: int,
) -> Iterator[PlannedChunk]:
    """Each chunk planned, in input order, with the repeats it left out among its skipped."""
    if workers <= 1:
        _start_worker(job, kind)
        try:
            for chunk, again in chunks:
                yield _with_repeats(plan_chunk(chunk), again)
        finally:
            _worker.clear()
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_start_worker, initargs=(job, kind)) as pool:
        # Bounded read-ahead (``imap`` would read every customer at once): at most two
        # chunks per worker wait, in input order.
        pending: deque[tuple[AsyncResult[PlannedChunk], list[SkippedCustomer]]] = deque()
        for chunk, again in chunks:
            pending.append((pool.apply_async(plan_chunk, (chunk,)), again))
            if len(pending) >= 2 * workers:
                result, repeats = pending.popleft()
                yield _with_repeats(result.get(), repeats)
        while pending:
            result, repeats = pending.popleft()
            yield _with_repeats(result.get(), repeats)


def _with_repeats(planned: PlannedChunk, again: list[SkippedCustomer]) -> PlannedChunk:
    if not again:
        return planned
    skipped = sorted([*planned.skipped, *again], key=lambda s: s.position)
    return replace(planned, skipped=skipped)
