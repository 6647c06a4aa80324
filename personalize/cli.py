"""The ``personalize`` command line.

``demo`` runs the whole decision on the bundled example store; ``check`` validates a
configuration; ``schema`` prints its JSON Schema; ``explain`` explains one decision for a
request and history given as JSON; ``simulate`` runs synthetic shoppers through a
configuration against a non-personalized control; ``kpi`` prints the KPI table of an event
log.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from personalize._models import History, Request
from personalize.catalog import Catalog
from personalize.config import load_config
from personalize.errors import ConfigError, PersonalizeError
from personalize.result import Result

__all__ = ["example_store", "main"]


def example_store() -> Path:
    """The folder of the bundled example store (catalog, configuration, events, visitors).

    Inside an installed wheel it is package data; in a source checkout it is
    ``examples/store``.
    """
    packaged = Path(__file__).resolve().parent / "_store"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "examples" / "store"


def _demo(args: argparse.Namespace) -> int:
    from personalize._personalizer import Personalizer
    from personalize.context import demo_geoip_path

    store = example_store()
    catalog = Catalog.from_file(store / "catalog.json")
    events = _read_events(store / "events.jsonl")
    p = Personalizer.from_file(
        store / "personalization.yaml",
        catalog=catalog,
        interactions=events,
        geoip=demo_geoip_path(),
        autoload_plugins=False,
    )
    visitors = json.loads((store / "visitors.json").read_text(encoding="utf-8"))
    for visitor in visitors:
        request = Request.model_validate(visitor["request"])
        history = History.model_validate(visitor.get("history", {}))
        result = p.personalize(
            request, history, placement=visitor.get("placement", "home"), limit=args.limit
        )
        print("=" * 78)
        print(f"{visitor['name']}: {visitor['description']}")
        print("=" * 78)
        print(result.explain(trace=args.explain))
        print(_titles(result, catalog))
        print()
    return 0


def _titles(result: Result, catalog: Catalog) -> str:
    named = []
    for rec in result.products:
        product = catalog.get(rec.product_id)
        if product is not None and product.title:
            named.append(f"{rec.product_id} = {product.title}")
    return "Titles: " + "; ".join(named) if named else ""


def _read_events(path: Path) -> list[Any]:
    from personalize._models import Event

    with path.open(encoding="utf-8") as fh:
        return [Event.model_validate_json(line) for line in fh if line.strip()]


def _check(args: argparse.Namespace) -> int:
    from personalize._personalizer import Personalizer

    try:
        catalog = Catalog.from_file(args.catalog) if args.catalog else None
        Personalizer.from_file(args.config, catalog=catalog, autoload_plugins=not args.no_plugins)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{args.config}: OK")
    return 0


def _schema(_: argparse.Namespace) -> int:
    from personalize.schema import config_json_schema

    print(json.dumps(config_json_schema(), indent=2))
    return 0


def _explain(args: argparse.Namespace) -> int:
    from personalize._personalizer import Personalizer

    data = json.loads(Path(args.input).read_text(encoding="utf-8"))
    catalog = Catalog.from_file(args.catalog) if args.catalog else Catalog()
    events = _read_events(Path(args.events)) if args.events else None
    p = Personalizer(
        load_config(args.config), catalog=catalog, interactions=events, geoip=args.geoip
    )
    result = p.personalize(
        Request.model_validate(data.get("request", {})),
        History.model_validate(data.get("history", {})),
        placement=data.get("placement", "home"),
        limit=data.get("limit"),
        product_id=data.get("product_id"),
    )
    print(result.explain())
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from personalize.journeys import Simulator, write_report

    catalog = Catalog.from_file(args.catalog)
    events = _read_events(Path(args.interactions)) if args.interactions else None
    try:
        simulator = Simulator(
            Path(args.config),
            catalog=catalog,
            interactions=events,
            geoip=args.geoip,
            seed=args.seed,
            days=args.days,
            start=args.start,
            control_share=args.control_share,
        )
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = simulator.run(
        out / "events.jsonl", shoppers=args.shoppers, progress=False if args.quiet else None
    )
    command = "personalize " + shlex.join(sys.argv[1:] if args.argv is None else args.argv)
    report = write_report(out, summary, plots=not args.no_plots, command=command)
    if not args.quiet:
        print(
            f"{summary.sessions:,} sessions of {summary.shoppers:,} shoppers in"
            f" {summary.seconds:.1f} s ({summary.sessions_per_second:,.0f} sessions/s,"
            f" {summary.personalizer_share:.0%} in the Personalizer)"
        )
    print(f"wrote {out / 'events.jsonl'} and {report}")
    return 0


def _kpi(args: argparse.Namespace) -> int:
    from personalize.metrics import format_table, iter_events, kpis, kpis_by

    if args.by == "all":
        table = kpis(iter_events(args.events))
    else:
        table = kpis_by(iter_events(args.events), args.by)
    control = args.control if args.control in table.rows else None
    print(format_table(table, control))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="personalize", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="personalize three contrasting visitors of a demo store")
    demo.add_argument("--limit", type=int, default=6, help="products per visitor")
    demo.add_argument("--explain", action="store_true", help="print the full trace")
    demo.set_defaults(run=_demo)

    check = sub.add_parser("check", help="validate a configuration and list every problem")
    check.add_argument("config")
    check.add_argument("--catalog", help="catalog file, to check product references")
    check.add_argument("--no-plugins", action="store_true", help="do not load entry points")
    check.set_defaults(run=_check)

    schema = sub.add_parser("schema", help="print the configuration's JSON Schema")
    schema.set_defaults(run=_schema)

    explain = sub.add_parser("explain", help="explain the decision for a request (JSON)")
    explain.add_argument("config")
    explain.add_argument("input", help='JSON: {"request": {...}, "history": {...}, ...}')
    explain.add_argument("--catalog")
    explain.add_argument("--events", help="JSONL interaction log for the index")
    explain.add_argument("--geoip", help="MaxMind database")
    explain.set_defaults(run=_explain)

    simulate = sub.add_parser(
        "simulate", help="simulate shoppers against a non-personalized control; write a report"
    )
    simulate.add_argument("config")
    simulate.add_argument("--catalog", required=True, help="the store's catalog")
    simulate.add_argument("--shoppers", type=_positive, default=1000, help="population size")
    simulate.add_argument("--days", type=_positive, default=14, help="simulated days")
    simulate.add_argument("--seed", default="0", help="fixes the run")
    simulate.add_argument("--out", required=True, help="folder for events.jsonl and report.md")
    simulate.add_argument("--interactions", help="JSONL log of past events for the index")
    simulate.add_argument("--geoip", help="MaxMind database (default: the bundled demo one)")
    simulate.add_argument(
        "--start", type=date.fromisoformat, default=date(2026, 12, 1), help="first day"
    )
    simulate.add_argument(
        "--control-share", type=float, default=0.5, help="share of the control arm"
    )
    simulate.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    simulate.set_defaults(run=_simulate)

    kpi = sub.add_parser("kpi", help="print the KPI table of an event log")
    kpi.add_argument("events", help="JSONL event log (.jsonl or .jsonl.gz)")
    kpi.add_argument(
        "--by", default="variant", help="variant, experiments.<key>, another field, or all"
    )
    kpi.add_argument(
        "--control", default="control", help="group to compare the others with (if present)"
    )
    kpi.set_defaults(run=_kpi)

    from personalize._cli_index import add_index_parser

    add_index_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    args.argv = None if argv is None else list(argv)
    try:
        status: int = args.run(args)
    except PersonalizeError as exc:
        print(f"personalize: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
