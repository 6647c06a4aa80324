"""``personalize campaign``: plan an email campaign for a file of customers.

::

    personalize campaign personalization.yaml --catalog catalog.json --index index.json.gz \\
        --store sqlite:///state.db --customers customers.csv --out week48.csv \\
        --campaign week48 --workers 2 --secret-env CAMPAIGN_SECRET

Prints a JSON summary on stdout; the customers left out are listed in
``<out stem>.errors.jsonl`` (or ``--errors``).
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from typing import Any

from personalize._cli_inputs import UsageError, require_file

__all__ = ["add_campaign_parser"]

DEFAULT_SECRET_ENV = "PERSONALIZE_CAMPAIGN_SECRET"


def add_campaign_parser(sub: Any) -> None:
    """Register the ``campaign`` command on the CLI's subparsers."""
    campaign = sub.add_parser(
        "campaign", help="plan an email campaign: offers with codes, products, links"
    )
    campaign.add_argument("config")
    campaign.add_argument("--catalog", required=True, help="the store's catalog")
    campaign.add_argument("--index", required=True, help="the saved interaction index")
    source = campaign.add_mutually_exclusive_group(required=True)
    source.add_argument("--store", help="store URL: sqlite:///state.db, redis://host:6379/0")
    source.add_argument("--histories", help="JSONL of {customer_id, events, loyalty}")
    campaign.add_argument("--customers", required=True, help="JSONL, CSV or Parquet")
    campaign.add_argument("--out", required=True, help="rows: .jsonl, .csv or .parquet")
    campaign.add_argument("--campaign", required=True, help="the campaign id")
    campaign.add_argument("--errors", help="JSONL of skipped customers")
    campaign.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    campaign.add_argument("--chunk-size", type=int, default=500, help="customers per chunk")
    campaign.add_argument("--now", help="campaign time, ISO 8601 (default: now)")
    campaign.add_argument("--placement", default="email")
    campaign.add_argument("--limit", type=int, default=6, help="products per email")
    campaign.add_argument("--code-format", default=None, help="default {prefix}-{code:8}")
    campaign.add_argument("--link-base", default="", help="e.g. https://shop.example")
    campaign.add_argument("--geoip", help="MaxMind database")
    campaign.add_argument(
        "--secret-env",
        default=DEFAULT_SECRET_ENV,
        help=f"environment variable holding the code secret (default {DEFAULT_SECRET_ENV})",
    )
    campaign.add_argument("--quiet", action="store_true", help="no progress bar")
    campaign.set_defaults(run=run_campaign_command)


def run_campaign_command(args: argparse.Namespace) -> int:
    """Run ``personalize campaign``; see the module docstring."""
    from pathlib import Path

    from personalize.campaigns._codes import DEFAULT_CODE_FORMAT, CodeFormat
    from personalize.campaigns._run import CampaignJob, run_campaign
    from personalize.campaigns._sources import count_customers, read_customers
    from personalize.journeys._progress import ProgressBar

    secret = os.environ.get(args.secret_env, "")
    if not secret:
        raise UsageError(f"set the code secret in the environment variable {args.secret_env}")
    if args.workers < 1 or args.chunk_size < 1 or args.limit < 1:
        raise UsageError("--workers, --chunk-size and --limit must be at least 1")
    code_format = args.code_format or DEFAULT_CODE_FORMAT
    try:
        CodeFormat(code_format)
        now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
        customers_path = require_file(args.customers, "customers")
        customers = read_customers(customers_path)
        if Path(args.out).suffix.lower() not in (".jsonl", ".csv", ".parquet"):
            raise ValueError(f"{args.out}: the output must be .jsonl, .csv or .parquet")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    job = CampaignJob(
        config=require_file(args.config, "configuration"),
        catalog=require_file(args.catalog, "catalog"),
        index=require_file(args.index, "index"),
        campaign_id=args.campaign,
        secret=secret,
        now=now,
        store_url=args.store,
        histories=require_file(args.histories, "histories") if args.histories else None,
        placement=args.placement,
        limit=args.limit,
        code_format=code_format,
        link_base=args.link_base,
        geoip=Path(args.geoip) if args.geoip else None,
    )
    total = count_customers(customers_path) or 0
    bar = ProgressBar(
        total, unit="customers", rate_unit="customers", enabled=False if args.quiet else None
    )
    summary = run_campaign(
        job,
        customers,
        args.out,
        errors=args.errors,
        workers=args.workers,
        chunk_size=args.chunk_size,
        on_progress=lambda done: bar.update(done, done),
    )
    bar.close(summary.customers, summary.customers)
    print(json.dumps(summary.to_dict()))
    return 0
