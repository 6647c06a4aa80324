"""``personalize index build``: the interaction index of event files, streamed.

Kept apart from :mod:`personalize.cli`, which only registers it.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from personalize.errors import DataError

__all__ = ["add_index_parser"]

_SHOWN_BAD_LINES = 20


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or ():
        key, sep, target = value.partition("=")
        if not sep or not key or not target:
            raise DataError(f"{flag} {value!r}: expected KEY=VALUE")
        pairs[key] = target
    return pairs


def _count(text: str) -> int:
    """A whole number of at least 0 (the settings' own checks do not run on overrides)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {value}")
    return value


def _build(args: argparse.Namespace) -> int:
    from personalize.catalog import Catalog
    from personalize.config import INDEX_FIELDS, IndexConfig, load_config
    from personalize.indexing import BuildReport, build_index_from_files

    config = load_config(args.config).ranking.index if args.config else IndexConfig()
    overrides: dict[str, Any] = {}
    if args.max_bad_lines is not None:
        overrides["max_bad_lines"] = args.max_bad_lines
    if args.max_items_per_customer is not None:
        overrides["max_items_per_customer"] = args.max_items_per_customer or None
    config = config.model_copy(update=overrides)
    columns = _pairs(args.map, "--map")
    defaults = _pairs(args.default, "--default")
    unknown = sorted({*columns.values(), *defaults} - set(INDEX_FIELDS))
    if unknown:
        raise DataError(
            f"unknown event field(s) {', '.join(unknown)}; known: {', '.join(INDEX_FIELDS)}"
        )
    catalog = Catalog.from_file(args.catalog) if args.catalog else None
    report = BuildReport()
    started = time.perf_counter()
    index = build_index_from_files(
        args.events,
        catalog=catalog,
        config=config,
        columns=columns,
        defaults=defaults,
        progress=None if not args.quiet else False,
        report=report,
    )
    index.save(args.out)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        stats = index.stats
        print(
            f"{args.out}: {stats['items']} products from {report.rows} rows"
            f" ({stats['purchase_lines']} purchase lines, {stats['views']} views,"
            f" {stats['skipped_events']} other events) in {elapsed:.1f} s",
            file=sys.stderr,
        )
        if report.bad_lines:
            print(f"{len(report.bad_lines)} bad line(s) skipped:", file=sys.stderr)
            for bad in report.bad_lines[:_SHOWN_BAD_LINES]:
                print(f"  {bad}", file=sys.stderr)
    return 0


def add_index_parser(sub: Any) -> None:
    """Register ``index build`` on the subcommands of ``personalize``."""
    index = sub.add_parser("index", help="build the interaction index from event files")
    actions = index.add_subparsers(dest="index_command", required=True)
    build = actions.add_parser(
        "build", help="stream CSV, JSONL or Parquet events (gzipped or not) into an index"
    )
    build.add_argument("events", nargs="+", help="event files, read in order")
    build.add_argument("--out", required=True, help="the index file to write")
    build.add_argument("--config", help="configuration whose ranking.index settings apply")
    build.add_argument("--catalog", help="catalog, for category and brand best sellers")
    build.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help="read a column as an event field (InvoiceNo=order_id); repeatable",
    )
    build.add_argument(
        "--default",
        action="append",
        metavar="FIELD=VALUE",
        help="value of a field the files lack (type=purchase); repeatable",
    )
    build.add_argument("--max-bad-lines", type=_count, help="bad lines skipped before failing")
    build.add_argument(
        "--max-items-per-customer",
        type=_count,
        help="distinct items per customer counted in co-purchase (0: all)",
    )
    build.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    build.set_defaults(run=_build)
