"""The ``personalize evaluate`` and ``personalize tune`` commands (offline ranking quality).

``evaluate`` scores a configuration and the baselines on rolling-origin time splits of an
event log; ``tune`` searches the ranking settings on validation months and writes the choice
as a configuration fragment. Both read the project's JSONL events or a retail invoice CSV
(``personalize.evaluation``), and the catalog (or, without ``--catalog``, one made of the
products the log names).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from personalize._atomic import atomic_text
from personalize._cli_inputs import UsageError, require_file
from personalize._document import read_document
from personalize.catalog import Catalog
from personalize.config import load_config
from personalize.evaluation import MODES, Purchases, Split
from personalize.evaluation._compare import (
    BASELINE_KEYS,
    OURS,
    evaluate,
    last_months,
    one_cutoff,
    steps,
)
from personalize.evaluation._read import catalog_from_events, read_log
from personalize.journeys._progress import ProgressBar

__all__ = ["add_commands"]


def add_commands(sub: Any) -> None:
    """Register ``evaluate`` and ``tune`` on the command line's subparsers."""
    ev = sub.add_parser(
        "evaluate", help="score a configuration and baselines on rolling-origin time splits"
    )
    _inputs(ev)
    when = ev.add_mutually_exclusive_group()
    when.add_argument("--months", type=_positive, default=6, help="the N last months (default 6)")
    when.add_argument(
        "--cutoff", type=_moment, help="one split: train before DATE, test from it to the end"
    )
    ev.add_argument("--k", type=_positive, default=10, help="list length (default 10)")
    ev.add_argument(
        "--baselines",
        default=",".join(BASELINE_KEYS),
        help=f"comma-separated, of {','.join(BASELINE_KEYS)} (empty: none)",
    )
    ev.add_argument("--json", help="write the figures to this JSON file")
    ev.add_argument("--plot", help="write a PNG plot of NDCG by month (needs the plots extra)")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.set_defaults(run=_evaluate)

    tu = sub.add_parser(
        "tune", help="search the ranking settings on validation months; write a YAML fragment"
    )
    _inputs(tu)
    tu.add_argument("--budget", type=_positive, required=True, help="number of trials")
    tu.add_argument("--seed", type=int, required=True, help="fixes the search")
    tu.add_argument(
        "--months", type=_at_least_two, default=3, help="validation months + the held-out one"
    )
    tu.add_argument("--k", type=_positive, default=10, help="list length (default 10)")
    tu.add_argument(
        "--customers",
        type=int,
        default=300,
        help="customers sampled per validation month and mode (0: all; default 300)",
    )
    tu.add_argument(
        "--mode", choices=[*MODES, "both"], default="both", help="the modes the score averages"
    )
    tu.add_argument(
        "--workers",
        type=_positive,
        default=min(os.cpu_count() or 1, 4),
        help="processes scoring a trial's months and modes (default: the CPUs, at most 4)",
    )
    tu.add_argument("--out", help="write the chosen settings to this YAML fragment")
    tu.add_argument("--state", help="JSON file of the trials: resume from it, update it")
    tu.add_argument("--stop-after", type=_positive, help=argparse.SUPPRESS)
    tu.add_argument("--quiet", action="store_true", help="no progress bar")
    tu.set_defaults(run=_tune)


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", help="JSONL event log, or a retail invoice CSV (.csv, .csv.gz)")
    parser.add_argument("--catalog", help="the store's catalog (default: the products of the log)")
    parser.add_argument("--config", help="configuration file (default: the defaults)")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _at_least_two(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2 (validation + held out), not {value}")
    return value


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Log:
    """The inputs of both commands, read once."""

    def __init__(self, args: argparse.Namespace) -> None:
        events = read_log(require_file(args.events, "event log"))
        self.purchases = Purchases.from_events(events)
        if not len(self.purchases):
            raise UsageError(f"{args.events}: no purchases with a customer and a product")
        self.views = any(e.type != "purchase" for e in events)
        self.events = events if self.views else None
        self.catalog = (
            Catalog.from_file(require_file(args.catalog, "catalog"))
            if args.catalog
            else catalog_from_events(events)
        )
        self.config: dict[str, Any] = {}
        if args.config:
            path = require_file(args.config, "configuration")
            load_config(path)  # every problem, at once
            loaded, _ = read_document(path)  # the same bounded parse, of any format it reads
            self.config = dict(loaded)


def _baselines(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in BASELINE_KEYS]
    if unknown:
        raise UsageError(
            f"unknown baseline {', '.join(unknown)} (known: {', '.join(BASELINE_KEYS)})"
        )
    names = [BASELINE_KEYS[k] for k in keys]
    if any(n in ("ALS", "BM25 item-kNN") for n in names):
        try:
            import implicit  # noqa: F401
            from threadpoolctl import threadpool_limits

            threadpool_limits(1, "blas")  # implicit asks for a single-threaded BLAS
        except ImportError:
            print(
                "personalize: skipping ALS and BM25 (they need implicit:"
                " pip install 'personalize[evaluate]')",
                file=sys.stderr,
            )
            names = [n for n in names if n not in ("ALS", "BM25 item-kNN")]
    return names


def _evaluate(args: argparse.Namespace) -> int:
    names = _baselines(args.baselines)
    log = _Log(args)
    if args.cutoff is not None:
        splits = [one_cutoff(log.purchases, args.cutoff)]
    else:
        splits = last_months(log.purchases, args.months)
    splits = [s for s in splits if s.targets]
    if not splits:
        raise UsageError(f"{args.events}: no split has customers on both sides of its cutoff")
    if args.plot:
        _require_matplotlib()
    bar = ProgressBar(
        steps(splits, names), enabled=False if args.quiet else None, unit="steps", rate_unit="steps"
    )
    done = [0]

    def step(_: str) -> None:
        done[0] += 1
        bar.update(done[0], done[0])

    report = evaluate(
        log.purchases,
        splits,
        catalog=log.catalog,
        config=log.config,
        baselines=names,
        k=args.k,
        events=log.events,
        step=step,
    )
    bar.close(done[0], done[0])
    report["command"] = "personalize " + shlex.join(_argv(args))
    print(format_report(report, names))
    if args.json:
        with atomic_text(args.json) as handle:
            handle.write(json.dumps(report, indent=2, default=float))
        print(f"wrote {args.json}")
    if args.plot:
        plot_report(report, names, Path(args.plot))
        print(f"wrote {args.plot}")
    return 0


def format_report(report: Mapping[str, Any], names: Sequence[str]) -> str:
    """The report as one Markdown table per mode (NDCG@k / HR@k, coverage, vs best)."""
    k = report["k"]
    out = []
    for mode in MODES:
        shown = [
            OURS,
            *(n for n in names if any(n in m.get(mode, {}) for m in report["months"].values())),
        ]
        out.append(f"{mode} (NDCG@{k} / HR@{k} / Recall@{k} / coverage)")
        out.append("| month | customers | " + " | ".join(shown) + " | vs best | 95% CI |")
        out.append("| --- | ---: |" + " ---: |" * len(shown) + " ---: | --- |")
        for label, modes in report["months"].items():
            row = modes.get(mode)
            if row is None:
                continue
            cells = [
                "{:.4f} / {:.3f} / {:.3f} / {:.3f}".format(
                    row[n][f"NDCG@{k}"],
                    row[n][f"HR@{k}"],
                    row[n][f"Recall@{k}"],
                    row[n]["coverage"],
                )
                if n in row
                else "—"
                for n in shown
            ]
            vs = row.get("vs best")
            versus = (
                [
                    f"{vs['relative']:+.1%} ({vs['baseline']})",
                    f"[{vs['ci95'][0]:+.4f}, {vs['ci95'][1]:+.4f}]",
                ]
                if vs
                else ["—", "—"]
            )
            out.append(f"| {label} | {row['customers']} | " + " | ".join(cells + versus) + " |")
        means = report["mean"].get(mode, {})
        out.append(
            "| mean NDCG | | "
            + " | ".join(f"{means[n]:.4f}" if n in means else "—" for n in shown)
            + " | | |"
        )
        out.append("")
    return "\n".join(out).rstrip()


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'personalize[plots]'") from None


def plot_report(report: Mapping[str, Any], names: Sequence[str], path: Path) -> None:
    """NDCG@k by test month, one panel per mode, one line per recommender."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = report["k"]
    labels = list(report["months"])
    fig, axes = plt.subplots(1, len(MODES), figsize=(11, 4), squeeze=False)
    for ax, mode in zip(axes[0], MODES, strict=True):
        for name in (OURS, *names):
            ys = [report["months"][m].get(mode, {}).get(name, {}).get(f"NDCG@{k}") for m in labels]
            if any(y is not None for y in ys):
                ax.plot(
                    labels,
                    [float("nan") if y is None else y for y in ys],
                    marker="o",
                    linewidth=2.5 if name == OURS else 1.2,
                    label=name,
                )
        ax.set_title(f'mode "{mode}"')
        ax.set_xlabel("test month")
        ax.set_ylabel(f"NDCG@{k}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tune(args: argparse.Namespace) -> int:
    from personalize.evaluation._run import build_options, prepare
    from personalize.evaluation._tune import (
        Search,
        fragment,
        searched_weights,
        start_settings,
        with_settings,
    )

    log = _Log(args)
    splits = [s for s in last_months(log.purchases, args.months) if s.targets]
    if len(splits) < 2:
        raise UsageError(
            f"{args.events}: tune needs at least 2 months with customers on both sides"
            f" (found {len(splits)})"
        )
    validation, held_out = splits[:-1], splits[-1]
    base = dict(log.config)
    ranking = dict(base.get("ranking", {}))
    options = build_options(load_config({"ranking": ranking}).ranking.index.model_dump())
    prepared = [
        prepare(log.purchases, s, catalog=log.catalog, events=log.events, index_options=options)
        for s in validation
    ]
    start = start_settings(ranking, searched_weights(prepared))
    modes = list(MODES) if args.mode == "both" else [args.mode]
    search = Search(
        prepared,
        start,
        args.seed,
        k=args.k,
        base_config=base,
        customers=args.customers,
        modes=modes,
        workers=args.workers,
    )
    state = Path(args.state) if args.state else None
    bar = ProgressBar(
        args.budget, enabled=False if args.quiet else None, unit="trials", rate_unit="trials"
    )

    def step(number: int, _: object) -> None:
        bar.update(number + 1, number + 1 - resumed)

    try:
        if state is not None and state.exists():
            search.load(state)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    resumed = len(search.trials)
    finished = search.run(args.budget, state=state, stop_after=args.stop_after, step=step)
    bar.close(len(search.trials), len(search.trials) - resumed)
    if not finished:
        print(
            f"stopped after {len(search.trials)} of {args.budget} trials;"
            f" resume with --state {state}"
        )
        return 0
    best = search.best()
    months = ", ".join(p.split.label for p in prepared)
    print(
        f"validation months {months}: start {search.trials[0].score:.4f}, best {best.score:.4f}"
        f" (trial {search.trials.index(best)} of {len(search.trials)}), mean NDCG@{args.k}"
    )
    chosen = with_settings(base, best.settings)
    held = _held_out(log, held_out, {"start": base, "chosen": chosen}, args.k)
    print(
        f"held-out month {held_out.label} (scored once, after the choice): "
        + "; ".join(
            f"{m}: start {held['start'][m]:.4f}, chosen {held['chosen'][m]:.4f}" for m in MODES
        )
    )
    comment = (
        f"personalize {shlex.join(_argv(args))}\n"
        f"validation {months}: mean NDCG@{args.k} {best.score:.4f}"
        f" (start {search.trials[0].score:.4f})\n"
        f"held out {held_out.label}: "
        + ", ".join(f"{m} {held['chosen'][m]:.4f} (start {held['start'][m]:.4f})" for m in MODES)
    )
    text = fragment(best.settings, comment)
    if args.out:
        with atomic_text(args.out) as handle:  # a fragment is loaded: never a half one
            handle.write(text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def _held_out(
    log: _Log, split: Split, configs: Mapping[str, Mapping[str, Any]], k: int
) -> dict[str, dict[str, float]]:
    from personalize.evaluation._run import build_options, prepare, prepared_lists
    from personalize.evaluation.baselines import score_lists

    out: dict[str, dict[str, float]] = {}
    for name, config in configs.items():
        index = load_config({"ranking": config.get("ranking", {})}).ranking.index
        options = build_options(index.model_dump())
        prepared = prepare(
            log.purchases, split, catalog=log.catalog, events=log.events, index_options=options
        )
        for mode in MODES:
            cases = split.cases(mode)
            lists = prepared_lists(prepared, mode, [c for c, _ in cases], k, config=config)
            ndcg = score_lists(lists, cases, k).ndcg()
            out.setdefault(name, {})[mode] = float(ndcg.mean()) if ndcg.size else 0.0
    return out


def _argv(args: argparse.Namespace) -> list[str]:
    return sys.argv[1:] if getattr(args, "argv", None) is None else list(args.argv)
