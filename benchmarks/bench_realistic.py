"""Thread-CPU cost of ``Personalizer.personalize`` on a store shaped like a real one.

The store: 10k products in 800 leaf categories (under 40 departments) and 400 brands, with
prices, tags and creation dates; an interaction index built from 300k streamed events
whose products follow a Zipf law; 200 rules whose conditions read device, geo, time,
referral, loyalty and history facts, each boosting or burying a selector that is exact
(category, brand, tags, ``$in``) or a range (price, alone or with a category), so that the
requests fire hundreds of distinct combinations of boosts (about 55 at the median); 50
capped offers; real user agents (uap-core's test strings); IPs inside and outside
MaxMind's test City database; histories whose lengths are log-normal (median ~25, at
most 5,000 events).

Reported: the thread-CPU (``time.thread_time_ns``) p50/p99 of ``personalize()``; the
per-stage breakdown (context, rules, ranking and its steps, landing, offers), measured in a
second pass with each stage wrapped; and, in the same run, ``implicit``'s BM25
``recommend`` for one user, as a peer. With ``--floor``, also the same requests through a
personalizer of the same catalog and index with no rules, no offers and the popularity
source alone: what the pipeline costs before any of the configuration's work. With
``--store``, also the same requests with each history kept in a ``MemoryStore`` (recording
off, so every pass reads the same state): the path of a shop that keeps visitor state with
the SDK, where the decision reads the store's summary instead of walking the events.

Run::

    python benchmarks/bench_realistic.py              # 2,000 requests, 2 passes
    python benchmarks/bench_realistic.py --requests 500 --repeats 1
    python benchmarks/bench_realistic.py --floor     # and the pipeline's floor
    python benchmarks/bench_realistic.py --store     # and the histories kept in a store
    python benchmarks/bench_realistic.py --requests 1000 --spin 12 &   # for a profiler:
    sleep 20; perf record -F 2000 -p $! -- sleep 8; perf report --sort dso
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import json
import math
import os
import random
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from personalize import Catalog, Event, History, Personalizer, Product, Request
from personalize.config import DEFAULT_WEIGHTS
from personalize.ranking import InteractionIndex
from personalize.store import MemoryStore, Retention

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
#: The shared data beside the repository (``PERSONALIZE_SHARED_DATA`` points elsewhere).
DATA = Path(
    os.environ.get("PERSONALIZE_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
GEOIP = DATA / "geoip" / "GeoIP2-City-Test.mmdb"
USER_AGENTS = DATA / "useragents" / "uap-core" / "test_ua.yaml"
N_PRODUCTS, N_CATEGORIES, N_DEPARTMENTS, N_BRANDS = 10_000, 800, 40, 400
N_EVENTS, N_CUSTOMERS = 300_000, 30_000
#: The thread-CPU targets of the call, in milliseconds.
TARGET_P50, TARGET_P99 = 0.5, 1.5
TAGS = ["clearance", "new", "eco", "bestseller", "gift", "premium", "bundle", "vegan"]
REFERRERS = [None, "https://www.google.com/", "https://www.facebook.com/", "https://t.co/x"]
FACTS: list[tuple[str, list[Any]]] = [
    ("device.type", ["mobile", "desktop", "tablet"]),
    ("device.os", ["iOS", "Android", "Windows", "Mac OS X", "Linux"]),
    ("geo.source", ["mmdb", "none"]),
    ("time.daypart", ["morning", "afternoon", "evening", "night"]),
    ("referral.source", ["search", "social", "direct", "email"]),
    ("loyalty.tier", ["gold", "silver", "bronze"]),
]


def zipf_product(rng: random.Random) -> int:
    """A product number under a Zipf law (s ~ 1.1) over the catalog, scattered."""
    rank = min(N_PRODUCTS, int(rng.paretovariate(0.1 + 1.0)))
    return (rank * 7919) % N_PRODUCTS


def make_products(rng: random.Random) -> list[Product]:
    products = []
    for i in range(N_PRODUCTS):
        cat = rng.randrange(N_CATEGORIES)
        products.append(
            Product(
                id=f"p{i}",
                title=f"Product {i}",
                category=(f"dept{cat % N_DEPARTMENTS}", f"cat{cat}"),
                brand=f"brand{rng.randrange(N_BRANDS)}",
                price=round(math.exp(rng.gauss(3.4, 0.9)), 2),
                tags=tuple(t for t in TAGS if rng.random() < 0.08),
                in_stock=rng.random() > 0.03,
                created_at=NOW - timedelta(days=rng.uniform(0, 900)),
            )
        )
    return products


def stream_events(rng: random.Random) -> Iterator[Event]:
    """300k events: sessions of views, about a third ending in an order."""
    made = 0
    while made < N_EVENTS:
        customer = f"c{rng.randrange(N_CUSTOMERS)}"
        at = NOW - timedelta(days=rng.uniform(1, 365))
        session = f"s{made}"
        basket = [f"p{zipf_product(rng)}" for _ in range(rng.randint(1, 6))]
        for pid in basket:
            made += 1
            yield Event(type="view", product_id=pid, at=at, session_id=session)
        if rng.random() < 0.35:
            for pid in basket[: rng.randint(1, len(basket))]:
                made += 1
                yield Event(
                    type="purchase",
                    product_id=pid,
                    at=at,
                    order_id=session,
                    customer_id=customer,
                    price=20.0,
                )


def selector(rng: random.Random, i: int) -> dict[str, Any]:
    """Exact (category, department, brand, tags, ``$in``) or range (price) selectors."""
    kind = i % 8
    if kind == 0:
        return {"category": f"cat{rng.randrange(N_CATEGORIES)}"}
    if kind == 1:
        return {"category": f"dept{rng.randrange(N_DEPARTMENTS)}"}
    if kind == 2:
        return {"brand": {"$in": [f"brand{rng.randrange(N_BRANDS)}" for _ in range(3)]}}
    if kind == 3:
        return {"tags": rng.choice(TAGS)}
    if kind == 4:
        return {"price": {"$lt": round(rng.uniform(8, 40), 2)}}
    if kind == 5:
        low = round(rng.uniform(20, 150), 2)
        return {"price": {"$gte": low, "$lt": round(low * 2, 2)}}
    if kind == 6:
        cat = f"dept{rng.randrange(N_DEPARTMENTS)}"
        return {"category": cat, "price": {"$gte": round(rng.uniform(10, 60), 2)}}
    return {"brand": f"brand{rng.randrange(N_BRANDS)}"}


def make_config(rng: random.Random) -> dict[str, Any]:
    rules = []
    for i in range(200):
        picks = rng.sample(FACTS, k=2)
        when: dict[str, Any] = {}
        for path, values in picks:
            k = max(1, round(len(values) * 0.7))
            when[path] = {"$in": rng.sample(values, k=k)}
        if i % 5 == 0:
            when = {picks[0][0]: when[picks[0][0]]}  # some rules fire more often
        if i % 6 == 0:
            when["history.order_count"] = {"$gte": rng.randint(0, 3)}
        where = selector(rng, i)
        action = (
            {"boost": {"where": where, "by": round(rng.uniform(1.1, 2.0), 2)}}
            if i % 3
            else {"bury": {"where": where, "by": round(rng.uniform(0.3, 0.9), 2)}}
        )
        rules.append({"id": f"r{i}", "when": when, "priority": i % 5, "then": [action]})
    offers = []
    for i in range(50):
        path, values = rng.choice(FACTS)
        offers.append(
            {
                "id": f"o{i}",
                "when": {path: rng.choice(values)},
                "code": f"CODE{i}",
                "value": {"percent": 5 + i % 20},
                "cap": {"per_customer": 1 + i % 2, "days": 30},
                "group": f"g{i % 10}",
                "priority": i % 7,
            }
        )
    return {
        "rules": rules,
        "offers": offers,
        "ranking": {"exclude_purchased": True, "diversity": {"max_per_category": 3}},
        "landing": [{"when": {"geo.country": "GB"}, "page": "/uk/"}, {"page": "/"}],
    }


def user_agents(limit: int = 600) -> list[str]:
    prefix = "  - user_agent_string: "
    found = []
    for line in USER_AGENTS.read_text(encoding="utf-8").splitlines():
        if line.startswith(prefix):
            text = line[len(prefix) :].strip()
            if text[:1] in "'\"":
                text = text[1:-1]
            found.append(text)
    rng = random.Random(7)
    return rng.sample(found, k=min(limit, len(found)))


def geo_ips() -> list[str]:
    """One address in each IPv4 network of MaxMind's City test database."""
    records = json.loads(GEOIP.with_suffix(".json").read_text(encoding="utf-8"))
    ips = []
    for record in records:
        for network in record:
            net = ipaddress.ip_network(network, strict=False)
            if net.version == 4:
                ips.append(str(net.network_address + min(1, net.num_addresses - 1)))
    return ips


def make_requests(rng: random.Random, count: int) -> list[tuple[Request, History]]:
    uas, inside = user_agents(), geo_ips()
    out = []
    for i in range(count):
        length = min(5000, max(1, round(rng.lognormvariate(math.log(25), 1.2))))
        length = 5000 if i == count // 2 else length  # the longest history there is
        at = NOW - timedelta(days=400)
        step = timedelta(days=399 / length)
        events = []
        for j in range(length):
            at += step
            pid = f"p{zipf_product(rng)}"
            kind = "purchase" if rng.random() < 0.2 else "view"
            events.append(
                Event(
                    type=kind,
                    product_id=pid,
                    at=at,
                    session_id=f"h{i}-{j // 8}",
                    order_id=f"o{i}-{j // 8}" if kind == "purchase" else None,
                    price=20.0,
                )
            )
        ip = rng.choice(inside) if rng.random() < 0.6 else f"198.51.100.{rng.randrange(250)}"
        request = Request(
            user_agent=rng.choice(uas),
            ip=ip,
            referrer=rng.choice(REFERRERS),
            url="https://shop.example/?utm_medium=email" if i % 9 == 0 else "https://shop.example/",
            now=NOW - timedelta(hours=rng.uniform(0, 24)),
            user_id=f"u{i}",
            session_id=f"s{i}",
        )
        tier = ["gold", "silver", "bronze", None][i % 4]
        out.append((request, History(events=events, loyalty={"tier": tier} if tier else {})))
    return out


class Stages:
    """Thread-CPU spent in named stages, wrapped around the methods that do them."""

    def __init__(self) -> None:
        self.spent: dict[str, int] = {}
        self.samples: dict[str, list[int]] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(self, stage: str, owner: Any, name: str) -> None:
        inner = getattr(owner, name, None) if owner is not None else None
        if inner is None:
            return
        spent = self.spent
        spent.setdefault(stage, 0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.thread_time_ns()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[stage] += time.thread_time_ns() - t

        try:
            setattr(owner, name, timed)
        except (AttributeError, TypeError):  # frozen or slotted: wrap the class's method
            cls = type(owner)
            method = getattr(cls, name)

            def timed_method(this: Any, *args: Any, **kwargs: Any) -> Any:
                t = time.thread_time_ns()
                try:
                    return method(this, *args, **kwargs)
                finally:
                    spent[stage] += time.thread_time_ns() - t

            setattr(cls, name, timed_method)
            self._undo.append(lambda: setattr(cls, name, method))
            return
        had = name in getattr(owner, "__dict__", {})
        self._undo.append(lambda: setattr(owner, name, inner) if had else delattr(owner, name))

    def close_request(self) -> None:
        for stage, value in self.spent.items():
            self.samples.setdefault(stage, []).append(value)
            self.spent[stage] = 0

    def undo(self) -> None:
        for step in reversed(self._undo):
            step()


def instrument(p: Personalizer) -> Stages:
    import personalize.ranking._ranker as ranker_module

    compiled = p._state.base
    ranker = compiled.ranker
    stages = Stages()
    stages.wrap("context", p._resolver, "resolve")
    stages.wrap("rules", compiled.rules, "evaluate")
    stages.wrap("ranking", ranker, "rank")
    # The ranking's steps, under whichever names the ranker has.
    for name in ("_propose", "_exclude", "_apply_selections", "_lookups"):
        stages.wrap("  candidates", ranker, name)
    stages.wrap("  candidates", ranker_module, "exclude")
    candidates = getattr(ranker_module, "Candidates", None)  # the class, before its wrapper
    stages.wrap("  candidates", ranker_module, "Candidates")
    stages.wrap("  candidates", candidates, "exclude")
    stages.wrap("  scoring", getattr(ranker, "_features", None), "scores")
    stages.wrap("  scoring", candidates, "scores")
    stages.wrap("  scoring", ranker, "_score")
    stages.wrap("  boosts", ranker._boosts, "apply")
    stages.wrap("  top-k + diversity", ranker_module, "best_first")
    stages.wrap("  top-k + diversity", ranker, "_diversify")
    stages.wrap("  top-k + diversity", ranker, "_top")
    stages.wrap("  reasons", ranker_module, "recommendations")
    stages.wrap("landing", compiled.landing, "choose")
    stages.wrap("offers", compiled.offers, "choose")
    return stages


def pct(values: list[int] | list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peer_bm25(rng: random.Random, events: list[Event], users: int = 2000) -> list[int]:
    """Thread-CPU of ``implicit``'s BM25 ``recommend`` for one user at a time (ns)."""
    from implicit.nearest_neighbours import BM25Recommender
    from scipy.sparse import csr_matrix

    warnings.simplefilter("ignore")  # implicit warns about its own conversions

    customers: dict[str, int] = {}
    rows, cols = [], []
    for event in events:
        who = event.customer_id or event.session_id or ""
        rows.append(customers.setdefault(who, len(customers)))
        cols.append(int(event.product_id[1:]))  # type: ignore[index]
    shape = (len(customers), N_PRODUCTS)
    matrix = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    model = BM25Recommender(K=20)
    model.fit(matrix, show_progress=False)
    timings = []
    for _ in range(users):
        user = rng.randrange(shape[0])
        t = time.thread_time_ns()
        model.recommend(user, matrix[user], N=10)
        timings.append(time.thread_time_ns() - t)
    return timings[100:]


Decide = Callable[[Request, History], object]


def stored_peer(
    config: dict[str, Any],
    catalog: Catalog,
    index: InteractionIndex,
    requests: list[tuple[Request, History]],
) -> Decide:
    """The decision with each request's history appended to a ``MemoryStore`` first
    (recording off, so every pass reads the same state). The store keeps no loyalty, so
    the loyalty rules see none."""
    config.setdefault("settings", {})["record"] = {
        "offers": False,
        "exposures": False,
        "sessions": False,
    }
    store = MemoryStore(Retention(max_age=timedelta(days=800)))
    p = Personalizer(config, catalog=catalog, interactions=index, geoip=str(GEOIP), store=store)
    for request, history in requests:
        customer = {"customer_id": request.user_id}
        store.append([event.model_copy(update=customer) for event in history.events])
    return lambda request, _: p.personalize(request, limit=10)


def spin(p: Personalizer, requests: list[tuple[Request, History]], seconds: float) -> None:
    """Loop over ``requests`` for ``seconds`` and nothing else, so that a sampling profiler
    attached to this process sees only the request path."""
    print(f"pid {os.getpid()}: looping over {len(requests)} requests for {seconds:g} s", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for request, history in requests:
            p.personalize(request, history, limit=10)


def floor_config() -> dict[str, Any]:
    """The configuration of the floor: the ranking's popularity source alone, and nothing
    for the rules, offers or landing to do."""
    weights = dict.fromkeys(DEFAULT_WEIGHTS, 0.0)
    weights["popularity"] = 1.0
    return {"ranking": {"exclude_purchased": True, "weights": weights}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2, help="timed passes over the requests")
    parser.add_argument(
        "--floor", action="store_true", help="also time the pipeline with no rules or offers"
    )
    parser.add_argument(
        "--store", action="store_true", help="also time the histories kept in a MemoryStore"
    )
    parser.add_argument(
        "--spin",
        type=float,
        metavar="SECONDS",
        help="after the warm-up, only loop over the requests this long (for perf or py-spy)",
    )
    args = parser.parse_args()
    rng = random.Random(2026)
    products = make_products(rng)
    catalog = Catalog(products)
    events = list(stream_events(rng))
    t0 = time.perf_counter()
    index = InteractionIndex.build(iter(events), catalog=catalog)
    t_index = time.perf_counter() - t0
    config = make_config(rng)
    p = Personalizer(config, catalog=catalog, interactions=index, geoip=str(GEOIP))
    requests = make_requests(rng, args.requests)
    lengths = sorted(len(h.events) for _, h in requests)

    fired: list[int] = []
    combos: set[tuple[str, ...]] = set()
    for request, history in requests:  # warm-up, and what fires
        result = p.personalize(request, history, limit=10)
        ids = tuple(result.rules)
        fired.append(len(ids))
        combos.add(ids)
    if args.spin is not None:
        spin(p, requests, args.spin)
        return

    # The peers run on the same requests, alternating with the call request by request,
    # so that the machine's drift hits them alike.
    peers: dict[str, Decide] = {}
    if args.floor:
        bare = Personalizer(floor_config(), catalog=catalog, interactions=index, geoip=str(GEOIP))
        peers["floor"] = lambda request, history: bare.personalize(request, history, limit=10)
    if args.store:
        peers["store"] = stored_peer(copy.deepcopy(config), catalog, index, requests)
    for decide in peers.values():  # warm-up
        for request, history in requests:
            decide(request, history)
    timings: list[int] = []
    peer_timings: dict[str, list[int]] = {name: [] for name in peers}
    for _ in range(args.repeats):
        for request, history in requests:
            t = time.thread_time_ns()
            p.personalize(request, history, limit=10)
            timings.append(time.thread_time_ns() - t)
            for name, decide in peers.items():
                t = time.thread_time_ns()
                decide(request, history)
                peer_timings[name].append(time.thread_time_ns() - t)

    stages = instrument(p)
    wrapped: list[int] = []
    for request, history in requests:
        t = time.thread_time_ns()
        p.personalize(request, history, limit=10)
        wrapped.append(time.thread_time_ns() - t)
        stages.close_request()
    stages.undo()
    top = [k for k in stages.samples if not k.startswith(" ")]
    stages.samples["facade (the rest)"] = [
        total - sum(stages.samples[k][i] for k in top) for i, total in enumerate(wrapped)
    ]
    peer = peer_bm25(rng, events)

    p50, p99 = pct(timings, 0.5) / 1e6, pct(timings, 0.99) / 1e6
    peer50 = statistics.median(peer) / 1e6
    print(
        f"store: {len(catalog)} products, {len(events)} events (index {t_index:.1f} s), "
        f"{args.requests} requests x {args.repeats}"
    )
    print(
        f"history length: median {lengths[len(lengths) // 2]}, max {lengths[-1]}; "
        f"fired rules: median {statistics.median(fired):g}, {len(combos)} distinct combinations"
    )
    print(f"personalize() thread CPU: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    print(
        f"targets: p50 <= {TARGET_P50:g} ms {'met' if p50 <= TARGET_P50 else 'NOT met'}, "
        f"p99 <= {TARGET_P99:g} ms {'met' if p99 <= TARGET_P99 else 'NOT met'}"
    )
    print(
        f"implicit BM25 recommend (one user): p50 {peer50:.3f} ms, p99 "
        f"{pct(peer, 0.99) / 1e6:.3f} ms; personalize p50 / BM25 p50 = {p50 / peer50:.1f}x"
    )
    labels = {
        "floor": "floor (no rules, no offers, popularity alone)",
        "store": "histories in a MemoryStore (not passed)",
    }
    for name, values in peer_timings.items():
        v50 = pct(values, 0.5) / 1e6
        print(
            f"{labels[name]}: p50 {v50:.3f} ms, p99 {pct(values, 0.99) / 1e6:.3f} ms; "
            f"p50 / personalize p50 = {v50 / p50:.2f}x"
        )
    total = sum(statistics.fmean(v) for k, v in stages.samples.items() if not k.startswith(" "))
    print(f"\n{'stage (wrapped pass)':<22} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'share':>6}")
    for stage, values in stages.samples.items():
        mean = statistics.fmean(values)
        print(
            f"{stage:<22} {pct(values, 0.5) / 1e6:>8.3f} {pct(values, 0.99) / 1e6:>8.3f} "
            f"{mean / 1e6:>8.3f} {mean / total:>6.0%}"
        )


if __name__ == "__main__":
    main()
