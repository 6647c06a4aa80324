"""The streaming index build: event files in, the same index as ``InteractionIndex.build``.

Files are read in columnar chunks (:mod:`._readers`), turned into integer columns
(:mod:`._columns`), then handed to the very math of the in-process build
(:func:`personalize.ranking._build.index_from_columns`). Memory is about 20 bytes per
purchase or view kept, plus the bounded blocks of the co-occurrence product.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pyarrow as pa

from personalize.config import IndexConfig
from personalize.indexing._bad import BadLine, BadLines
from personalize.indexing._columns import Columns
from personalize.indexing._readers import read_chunks
from personalize.journeys._progress import ProgressBar
from personalize.ranking import InteractionIndex
from personalize.ranking._build import EventColumns, index_from_columns

if TYPE_CHECKING:
    from personalize.catalog import Catalog

__all__ = ["BuildReport", "build_index_from_files", "read_event_columns"]


@dataclass
class BuildReport:
    """What a build read.

    Attributes:
        rows: Rows read (bad ones included).
        bad_lines: The rows skipped as unreadable, with their line numbers.
        files: The files read, in order.
    """

    rows: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def read_event_columns(
    paths: Iterable[str | Path],
    *,
    config: IndexConfig | None = None,
    columns: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    progress: bool | None = False,
    stream: TextIO | None = None,
    report: BuildReport | None = None,
) -> EventColumns:
    """Read event files into the integer columns of an index build.

    Args:
        paths: CSV, JSON-lines or Parquet files, each optionally gzipped, read in order.
        config: The ``ranking.index`` settings (column mapping, defaults, bad-line limit).
        columns: Source column to event field, over the configured mapping.
        defaults: Event field to a constant, over the configured defaults.
        progress: Draw a progress bar on ``stream`` (``None``: when it is a terminal).
        stream: Where the progress bar goes (stderr by default).
        report: Filled with what was read.

    Raises:
        DataError: A file cannot be read, or has more bad lines than
            ``config.max_bad_lines``; the message names the file and the line.
    """
    config = config or IndexConfig()
    mapping = {**config.columns, **(columns or {})}
    constants = {**config.defaults, **(defaults or {})}
    files = [Path(p) for p in paths]
    report = report if report is not None else BuildReport()
    bad = BadLines(config.max_bad_lines, report.bad_lines)
    sizes = [p.stat().st_size if p.is_file() else 0 for p in files]
    bar = ProgressBar(
        max(sum(sizes) >> 20, 1),
        stream=stream if stream is not None else sys.stderr,
        enabled=progress,
        unit="MB",
        rate_unit="rows",
    )
    acc = Columns(bad)
    pool = pa.default_memory_pool()
    before = 0
    for path, size in zip(files, sizes, strict=True):
        report.files.append(str(path))
        for chunk in read_chunks(
            path, columns=mapping, defaults=constants, chunk_rows=config.chunk_rows, bad=bad
        ):
            acc.add(str(path), chunk)
            bar.update((before + min(chunk.done_bytes, size)) >> 20, acc.rows)
            del chunk
            pool.release_unused()  # Arrow's allocator keeps freed chunks otherwise
        before += size
    bar.close(before >> 20, acc.rows)
    report.rows = acc.rows
    columns_read = acc.finish()
    del acc
    pool.release_unused()
    return columns_read


def build_index_from_files(
    paths: Iterable[str | Path],
    *,
    catalog: Catalog | None = None,
    config: IndexConfig | None = None,
    columns: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    customer_country: Mapping[str, str] | None = None,
    now: datetime | None = None,
    progress: bool | None = False,
    stream: TextIO | None = None,
    report: BuildReport | None = None,
) -> InteractionIndex:
    """Build the interaction index from event files, streaming them in columnar chunks.

    With ``max_items_per_customer`` unset (``None``) the index is identical to
    ``InteractionIndex.build`` over the same events; with it, co-purchase counts only
    each customer's most recently bought distinct items.

    Args:
        paths: CSV, JSON-lines or Parquet files, each optionally gzipped.
        catalog: When given, category and brand best sellers and complements too.
        config: The ``ranking.index`` settings.
        columns: Source column to event field, over ``config.columns``.
        defaults: Event field to a constant, over ``config.defaults``.
        customer_country: Customer id to country, for best sellers per country.
        now: The reference time for decay; defaults to the latest event.
        progress: Draw a progress bar (``None``: when ``stream`` is a terminal).
        stream: Where the progress bar goes (stderr by default).
        report: Filled with the rows read and the bad lines skipped.

    Raises:
        DataError: A file cannot be read, or has more bad lines than allowed; the
            message names the file and the line.
    """
    config = config or IndexConfig()
    event_columns = read_event_columns(
        paths,
        config=config,
        columns=columns,
        defaults=defaults,
        progress=progress,
        stream=stream,
        report=report,
    )
    parts = index_from_columns(
        event_columns,
        catalog=catalog,
        now=now,
        half_life_days=config.half_life_days,
        trending_half_life_days=config.trending_half_life_days,
        max_neighbours=config.max_neighbours,
        customer_country=customer_country or {},
        co_purchase_scope=config.co_purchase_scope,
        country_top_size=config.country_top_size,
        category_top_size=config.category_top_size,
        max_items_per_basket=config.max_items_per_customer,
        trending_rise=config.trending_rise,
    )
    return InteractionIndex.from_parts(parts)
