"""The ranker's shared caches (selectors, guard index, boost plans, static rows) under threads."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ranking_helpers import context, shop_catalog, shop_index

from personalize.config import RankingConfig
from personalize.ranking import Ranker
from personalize.rules import Boost, ConditionCompiler

SELECTORS: list[dict[str, Any]] = [
    {"category": "tea"},
    {"category": "gear"},
    {"brand": {"$in": ["brewit", "potter"]}},
    {"$or": [{"tags": "sale"}, {"category": "cups"}]},
    {"category": "coffee", "price": {"$lt": 100}},
    {"$not": {"brand": "leafy"}},
]


def _boosts(seed: int) -> list[Boost]:
    rng = random.Random(seed)
    chosen = rng.sample(range(len(SELECTORS)), k=rng.randint(1, len(SELECTORS)))
    compiler = ConditionCompiler()
    return [
        Boost(
            compiler.compile_selector(SELECTORS[i], "where"),
            rng.choice([0.5, 1.5, 3.0]),
            f"r{i}",
        )
        for i in chosen
    ]


def test_concurrent_requests_rank_as_a_fresh_ranker_does() -> None:
    ctx = context(purchases={"beans": (2, 10)}, viewed=("teapot", "mug", "kettle"))
    requests = [_boosts(seed) for seed in range(40)]

    def ranked(ranker: Ranker, actions: list[Boost]) -> list[tuple[str, float, tuple[str, ...]]]:
        result = ranker.rank(ctx, limit=8, actions=actions)
        return [(r.product_id, r.score, r.rules) for r in result.products]

    expected = [ranked(Ranker(shop_catalog(), shop_index(), RankingConfig()), a) for a in requests]
    shared = Ranker(shop_catalog(), shop_index(), RankingConfig())
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda a: ranked(shared, a), requests))
            assert got == expected
