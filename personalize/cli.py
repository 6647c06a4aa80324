"""The ``personalize`` command line.

``demo`` runs the whole decision on the bundled example store; ``check`` validates a
configuration; ``schema`` prints its JSON Schema; ``explain`` explains one decision for a
request and history given as JSON; ``simulate`` runs synthetic shoppers through a
configuration against a non-personalized control; ``kpi`` prints the KPI table of an event
log; ``evaluate`` and ``tune`` measure and tune the ranking offline (``_cli_evaluate``);
``campaign`` plans an email campaign (offers with codes, products, links) for a file of
customers.

Exit status: 0 on success; 1 when ``check`` finds problems; 2 for a usage error or a
mistake in an input (a missing or unreadable file, invalid JSON or YAML, an invalid
configuration, catalog or event log), reported in one message on stderr without a
traceback. Output piped into a command that stops reading early (``| head``) ends quietly,
with status 141 as if killed by ``SIGPIPE``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from maxminddb import InvalidDatabaseError

from personalize import __version__
from personalize._cli_campaign import add_campaign_parser
from personalize._cli_inputs import (
    UsageError,
    describe_os_error,
    read_json_object,
    require_file,
    validated,
)
from personalize._models import Event, History, Request
from personalize.catalog import Catalog
from personalize.errors import ConfigError, PersonalizeError, Problem
from personalize.result import Result

if TYPE_CHECKING:
    from personalize._personalizer import Personalizer

#: Exit statuses (see the module docstring).
_PROBLEMS_FOUND = 1
_USAGE = 2
_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE

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


def webshop() -> Any:
    """The demo webshop package (``examples/webshop``; ``personalize/_webshop`` in a wheel).

    Needs the ``demo`` extra (FastAPI, Jinja2, uvicorn).
    """
    try:
        return importlib.import_module("personalize._webshop")
    except ModuleNotFoundError as exc:
        if exc.name != "personalize._webshop":
            raise
    folder = Path(__file__).resolve().parents[1] / "examples" / "webshop"
    spec = importlib.util.spec_from_file_location(
        "personalize_webshop", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - a broken checkout
        raise ModuleNotFoundError(f"the demo webshop is missing from {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _demo_web(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        shop = webshop()
    except ImportError as exc:
        print(f"demo --web needs {exc.name}: pip install 'personalize[demo]'", file=sys.stderr)
        return _USAGE
    app = shop.create_app(args.store)
    print(f"personalize demo shop on http://{args.host}:{args.port}/ (Ctrl-C stops it)")
    print(f"visitor state: {app.state.store_path}")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from personalize._personalizer import Personalizer

    if args.web:
        return _demo_web(args)
    from personalize.context import demo_geoip_path

    store = example_store()
    catalog = Catalog.from_file(store / "catalog.json")
    events = _read_events(store / "events.jsonl")
    from personalize.store import MemoryStore

    p = Personalizer.from_file(
        store / "personalization.yaml",
        catalog=catalog,
        interactions=events,
        geoip=demo_geoip_path(),
        autoload_plugins=False,
        store=MemoryStore(),
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
        print(result.explain(trace=args.explain, currency=p.config.settings.currency))
        print(_titles(result, catalog))
        print()
    _demo_tracked(p, catalog, args)
    return 0


def _demo_tracked(p: Personalizer, catalog: Catalog, args: argparse.Namespace) -> None:
    """A returning visitor whose history comes from the store: events tracked two days ago
    (a cart left behind), then two pages of today's visit from a Google search."""
    now = datetime.now(UTC).replace(microsecond=0)
    before = now - timedelta(days=2)
    p.track_many(
        Event(type=kind, customer_id="c-demo", session_id="visit-1", at=before, **fields)
        for kind, fields in (
            ("view", {"product_id": "coat-parka", "category": "outerwear"}),
            ("add_to_cart", {"product_id": "coat-parka", "price": 189.0}),
        )
    )
    landing = Request(
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        ip="192.0.2.10",
        referrer="https://www.google.com/",
        url="https://shop.example/",
        now=now,
        user_id="c-demo",
        session_id="visit-2",
    )
    p.personalize(landing, limit=args.limit)  # records the visit's entry and the offers shown
    page_two = landing.model_copy(
        update={"referrer": "https://shop.example/", "url": "https://shop.example/c/outerwear"}
    )
    result = p.personalize(page_two, limit=args.limit)
    print("=" * 78)
    print("Tracked returning visitor: history read from the store (p.track + MemoryStore)")
    print("=" * 78)
    cart = result.context.behaviour.abandoned_cart
    print(f"Abandoned cart from tracked events: {', '.join(cart.items)} ({cart.value:g})")
    print(f"Page two of a visit from Google reads referral: {result.context.referral.source}")
    print(result.explain(trace=args.explain, currency=p.config.settings.currency))
    print(_titles(result, catalog))
    print()


def _titles(result: Result, catalog: Catalog) -> str:
    named = []
    for rec in result.products:
        product = catalog.get(rec.product_id)
        if product is not None and product.title:
            named.append(f"{rec.product_id} = {product.title}")
    return "Titles: " + "; ".join(named) if named else ""


def _read_events(path: str | Path) -> list[Event]:
    from personalize.metrics import read_events

    return read_events(require_file(path, "event log"))


def _read_catalog(path: str | Path) -> Catalog:
    return Catalog.from_file(require_file(path, "catalog"))


def _check(args: argparse.Namespace) -> int:
    from personalize._catalog_check import check_catalog
    from personalize._personalizer import Personalizer

    config = require_file(args.config, "configuration")
    catalog = _read_catalog(args.catalog) if args.catalog else None
    try:
        p = Personalizer.from_file(config, catalog=catalog, autoload_plugins=not args.no_plugins)
    except ConfigError as exc:
        return _problems_found(exc.problems, config)
    except yaml.YAMLError as exc:
        return _problems_found([Problem("", _yaml_problem(exc))], config)
    except UnicodeDecodeError as exc:
        return _problems_found([Problem("", f"not UTF-8 text (byte {exc.start})")], config)
    problems = check_catalog(p.config, catalog) if catalog is not None else []
    if problems:
        return _problems_found(problems, config)
    print(f"{config}: OK" + (f" (references checked against {args.catalog})" if catalog else ""))
    return 0


def _problems_found(problems: Sequence[Problem], config: str | Path) -> int:
    """Report ``check``'s problems on stderr, naming the file once, as the path given."""
    print(ConfigError(problems, source=str(config)), file=sys.stderr)
    return _PROBLEMS_FOUND


def _schema(_: argparse.Namespace) -> int:
    from personalize.schema import config_json_schema

    print(json.dumps(config_json_schema(), indent=2))
    return 0


def _explain(args: argparse.Namespace) -> int:
    from personalize._personalizer import Personalizer

    config = require_file(args.config, "configuration")
    data = read_json_object(args.input, "input")
    request = validated(Request, data.get("request", {}), f"{args.input}: request")
    history = validated(History, data.get("history", {}), f"{args.input}: history")
    placement, limit, product_id = (data.get(k) for k in ("placement", "limit", "product_id"))
    if not isinstance(placement, str | None) or not isinstance(product_id, str | None):
        raise UsageError(f"{args.input}: placement and product_id must be strings")
    if not isinstance(limit, int | None) or isinstance(limit, bool):
        raise UsageError(f"{args.input}: limit must be a whole number")
    catalog = _read_catalog(args.catalog) if args.catalog else Catalog()
    events = _read_events(args.events) if args.events else None
    geoip = require_file(args.geoip, "geo database") if args.geoip else None
    # Built from the file, so that an invalid one reports every problem, conditions too.
    p = Personalizer.from_file(config, catalog=catalog, interactions=events, geoip=geoip)
    result = p.personalize(
        request, history, placement=placement or "home", limit=limit, product_id=product_id
    )
    print(result.explain(currency=p.config.settings.currency))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from personalize.journeys import Simulator, write_report

    config = require_file(args.config, "configuration")
    catalog = _read_catalog(args.catalog)
    events = _read_events(args.interactions) if args.interactions else None
    simulator = Simulator(
        config,
        catalog=catalog,
        interactions=events,
        geoip=require_file(args.geoip, "geo database") if args.geoip else None,
        seed=args.seed,
        days=args.days,
        start=args.start,
        control_share=args.control_share,
    )
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

    events = iter_events(require_file(args.events, "event log"))
    table = kpis(events) if args.by == "all" else kpis_by(events, args.by)
    control = args.control if args.control in table.rows else None
    print(format_table(table, control))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personalize", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"personalize {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="personalize three contrasting visitors of a demo store")
    demo.add_argument("--limit", type=_positive, default=6, help="products per visitor")
    demo.add_argument("--explain", action="store_true", help="print the full trace")
    demo.add_argument("--web", action="store_true", help="serve the demo shop in a browser instead")
    demo.add_argument("--host", default="127.0.0.1", help="with --web: the address to bind")
    demo.add_argument("--port", type=_positive, default=8000, help="with --web: the port")
    demo.add_argument(
        "--store", help="with --web: the SQLite file for visitor state (default: a temp file)"
    )
    demo.set_defaults(run=_demo)

    check = sub.add_parser("check", help="validate a configuration and list every problem")
    check.add_argument("config")
    check.add_argument(
        "--catalog", help="catalog file: also check the products, categories, brands and tags named"
    )
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

    from personalize._cli_evaluate import add_commands

    add_commands(sub)  # evaluate, tune

    add_campaign_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 1 or 2; see the module docstring).

    A user mistake is printed as one message on stderr, never as a traceback. When stdout
    is a pipe that closes early (``personalize schema | head -1``), the command stops
    quietly.
    """
    try:
        status = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        _discard_stdout()
        return _BROKEN_PIPE
    return status


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (status 2), --help or --version (0)
        return exc.code if isinstance(exc.code, int) else _USAGE
    args.argv = None if argv is None else list(argv)
    try:
        status: int = args.run(args)
    except BrokenPipeError:
        raise
    except (UsageError, PersonalizeError) as exc:
        _fail(str(exc))
    except yaml.YAMLError as exc:
        _fail(_yaml_problem(exc))
    except InvalidDatabaseError as exc:  # a --geoip file that is not a MaxMind database
        _fail(str(exc))
    except UnicodeDecodeError as exc:
        _fail(f"not UTF-8 text: {exc.reason} at byte {exc.start}")
    except OSError as exc:
        _fail(describe_os_error(exc))
    else:
        return status
    return _USAGE


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """``invalid YAML at line 2, column 1: expected a node``, without the source excerpt."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return f"invalid YAML: {exc}"


def _fail(message: str) -> None:
    print(f"personalize: {message}", file=sys.stderr)


def _discard_stdout() -> None:
    """Point stdout at devnull, so that flushing it at exit cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (captured in tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
