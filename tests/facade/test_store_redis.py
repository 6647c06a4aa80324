"""The facade on a real redis-server: caps shared by processes, Redis killed mid-run."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from personalize import Catalog, Event, Personalizer, Request
from personalize.cli import example_store
from personalize.store import AsyncRedisStore, RedisStore
from tests.redis_server import RedisServer

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
ROOT = Path(__file__).resolve().parents[2]

#: One process: a personalizer on the shared Redis serves one request and prints the offers.
VISIT = """
import json, sys
from datetime import datetime
from personalize import Catalog, Personalizer, Request
from personalize.cli import example_store
from personalize.store import AsyncRedisStore, RedisStore

url, prefix, now = sys.argv[1:4]
shop = example_store()
config = Personalizer.from_file(shop / "personalization.yaml", autoload_plugins=False).config
data = config.model_dump(by_alias=True, exclude_unset=True)
for offer in data["offers"]:
    if offer["id"] == "comeback10":
        offer["cap"] = {"per_customer": 2, "days": 30, "count": "shown"}
p = Personalizer(
    data,
    catalog=Catalog.from_file(shop / "catalog.json"),
    autoload_plugins=False,
    store=RedisStore(url, prefix=prefix, timeout=1.0),
)
result = p.personalize(Request(user_id="c1", session_id="s2", now=datetime.fromisoformat(now)))
print(json.dumps({"offers": [o.offer_id for o in result.offers], "errors": result.trace.errors}))
"""


def _cart(at: datetime) -> list[Event]:
    return [
        Event(
            type="add_to_cart",
            customer_id="c1",
            session_id="s1",
            product_id="parka-01",
            price=189.0,
            at=at,
        )
    ]


def _visit(url: str, prefix: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", VISIT, url, prefix, NOW.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_caps_hold_across_two_processes_sharing_one_redis(redis_server: RedisServer) -> None:
    prefix = f"t{uuid.uuid4().hex}:"
    RedisStore(redis_server.url, prefix=prefix, timeout=1.0).append(_cart(NOW - timedelta(days=2)))
    # Two processes, two visits each, alternating: the cap of 2 shows counts both.
    seen = []
    for _ in range(2):
        for _process in ("a", "b"):
            out, _ = _visit(redis_server.url, prefix).communicate(timeout=120)
            seen.append(json.loads(out))
    assert all(not visit["errors"] for visit in seen)
    shown = ["comeback10" in visit["offers"] for visit in seen]
    assert shown == [True, True, False, False]


def _redis_personalizer(url: str, errors: list[str]) -> tuple[Personalizer, RedisStore]:
    shop = example_store()
    store = RedisStore(url, prefix=f"t{uuid.uuid4().hex}:", timeout=0.02, retry_after=0.05)
    p = Personalizer.from_file(
        shop / "personalization.yaml",
        catalog=Catalog.from_file(shop / "catalog.json"),
        autoload_plugins=False,
        store=store,
        on_error=lambda exc, where: errors.append(where),
    )
    return p, store


def test_redis_killed_mid_run_degrades_personalize_and_buffers_track(
    redis_factory: type[RedisServer],
) -> None:
    server = redis_factory()
    server.start()
    errors: list[str] = []
    p, store = _redis_personalizer(server.url, errors)
    request = Request(user_id="c1", session_id="s2", now=NOW)
    p.track_many(_cart(NOW - timedelta(days=2)))
    assert p.personalize(request).context.behaviour.abandoned_cart.items == ("parka-01",)

    server.kill()
    slowest = 0.0
    for i in range(20):
        p.track(Event(type="view", customer_id="c1", product_id=f"p{i}", at=NOW))
        started = time.perf_counter()
        result = p.personalize(request)
        slowest = max(slowest, time.perf_counter() - started)
        assert result.degraded
        assert result.trace.errors[0].startswith("store: StoreUnavailable")
        assert result.context.behaviour.abandoned_cart.items == ()
        assert result.products  # still a decision: popular products
    assert slowest < 0.5  # the read times out after 20 ms (the rest is the decision)
    assert "store" in errors
    assert store.pending >= 20  # track() buffered, never raised

    server.start()  # an empty Redis: the buffered events arrive
    assert store.flush(10.0)
    time.sleep(0.06)
    result = p.personalize(request)
    assert not result.degraded
    assert len(result.context.behaviour.recently_viewed) == 20


def test_apersonalize_on_an_async_redis_store_degrades_when_redis_dies(
    redis_factory: type[RedisServer],
) -> None:
    server = redis_factory()
    server.start()
    shop = example_store()
    store = AsyncRedisStore(server.url, prefix=f"t{uuid.uuid4().hex}:", timeout=0.05)
    p = Personalizer.from_file(
        shop / "personalization.yaml",
        catalog=Catalog.from_file(shop / "catalog.json"),
        autoload_plugins=False,
        store=store,
    )
    request = Request(user_id="c1", session_id="s2", now=NOW)

    async def run() -> tuple[tuple[str, ...], bool, list[str]]:
        await p.atrack_many(_cart(NOW - timedelta(days=2)))
        served = await p.apersonalize(request)
        server.kill()
        await p.atrack(Event(type="view", customer_id="c1", product_id="p1", at=NOW))
        degraded = await p.apersonalize(request)
        return (
            served.context.behaviour.abandoned_cart.items,
            degraded.degraded,
            degraded.trace.errors,
        )

    items, degraded, errors = asyncio.run(run())
    assert items == ("parka-01",)
    assert degraded
    assert errors[0].startswith("store: StoreUnavailable")
