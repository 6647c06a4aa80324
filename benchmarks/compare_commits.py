"""Same-process latency of ``personalize()`` at an earlier commit and in this tree.

On a shared machine two benchmark runs one after the other differ by more than most
changes (other tenants, frequency scaling), so this runs both codes in one process, on the
same generated requests of ``bench_realistic.py``, alternating request by request and
keeping per request the minimum of ``--calls`` calls: load hits both alike.

The earlier code is exported with ``git archive`` into a temporary folder and imported as
``personalize_base`` (its absolute imports rewritten); both build their own catalog, index
and personalizer from the same seed. ``--pin-defaults`` gives this tree's personalizer the
ranking defaults of commit 0c38d6b (``trending`` 1.0, ``neighbour_power`` 1.5,
``max_anchors`` 50, no ``trending_rise``) and checks that both return the same lists, so
the ratio is the code's alone.

Run::

    python benchmarks/compare_commits.py 0c38d6b --requests 1000 --pin-defaults
"""

from __future__ import annotations

import argparse
import importlib
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import bench_realistic as bench

ROOT = Path(__file__).resolve().parent.parent
_IMPORT = re.compile(r"\bpersonalize(?=[.\s])")


def export(commit: str, folder: Path) -> None:
    """``personalize/`` at ``commit`` as the package ``personalize_base`` in ``folder``."""
    archive = folder / "base.tar"
    with archive.open("wb") as out:
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "personalize"], stdout=out, check=True
        )
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    package = folder / "personalize_base"
    (folder / "personalize").rename(package)
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(_IMPORT.sub("personalize_base", text), encoding="utf-8")


def build(pkg: ModuleType, count: int, pin: bool) -> tuple[Any, list[Any]]:
    """A personalizer of ``pkg`` on the realistic store, and its requests."""
    index_type = importlib.import_module(f"{pkg.__name__}.ranking").InteractionIndex
    names = ("Catalog", "Event", "History", "Personalizer", "Product", "Request")
    for name in names:  # the benchmark's generators make objects of this package
        setattr(bench, name, getattr(pkg, name))
    rng = random.Random(2026)
    catalog = pkg.Catalog(bench.make_products(rng))
    events = list(bench.stream_events(rng))
    config = bench.make_config(rng)
    options: dict[str, Any] = {}
    if pin:
        config["ranking"].update(
            {"weights": {"trending": 1.0}, "neighbour_power": 1.5, "max_anchors": 50}
        )
        options["trending_rise"] = None
    index = index_type.build(iter(events), catalog=catalog, **options)
    p = pkg.Personalizer(config, catalog=catalog, interactions=index, geoip=str(bench.GEOIP))
    return p, bench.make_requests(rng, count)


def fastest(p: Any, request: Any, history: Any, calls: int) -> int:
    best = None
    for _ in range(calls):
        t = time.thread_time_ns()
        p.personalize(request, history, limit=10)
        spent = time.thread_time_ns() - t
        best = spent if best is None or spent < best else best
    assert best is not None
    return best


def quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the earlier commit")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=3, help="calls per request (the minimum)")
    parser.add_argument("--pin-defaults", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export(args.commit, Path(tmp))
        sys.path.insert(0, tmp)
        old_pkg = importlib.import_module("personalize_base")
        new_pkg = importlib.import_module("personalize")
        old, old_requests = build(old_pkg, args.requests, False)
        new, new_requests = build(new_pkg, args.requests, args.pin_defaults)
        pairs = list(zip(old_requests, new_requests, strict=True))
        same = 0
        for (r1, h1), (r2, h2) in pairs:  # warm-up, and whether the lists agree
            a = [x.product_id for x in old.personalize(r1, h1, limit=10).products]
            b = [x.product_id for x in new.personalize(r2, h2, limit=10).products]
            same += a == b
        before, after = [], []
        for (r1, h1), (r2, h2) in pairs:
            before.append(fastest(old, r1, h1, args.calls))
            after.append(fastest(new, r2, h2, args.calls))
    print(f"same top-10 lists: {same} of {len(pairs)}")
    if args.pin_defaults and same != len(pairs):
        raise SystemExit("with the defaults pinned the lists should be the same")
    for q, label in ((0.5, "p50"), (0.99, "p99")):
        b, a = quantile(before, q), quantile(after, q)
        print(f"{label}: {args.commit} {b:.0f} us, this tree {a:.0f} us ({b / a:.2f}x)")


if __name__ == "__main__":
    main()
