"""The adapters' visitor state: page views and clicks go to the personalizer's store, and
an async app never waits on the store with its event loop."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from web_servers import asgi_server

from personalize import Catalog, Personalizer, Request
from personalize.cli import example_store
from personalize.metrics import kpis
from personalize.store import SQLiteStore
from personalize.web import IdentitySettings, Personalization, read_identity
from personalize.web._identity import new_identity
from personalize.web.fastapi import PersonalizeMiddleware, personalization

Pz = Annotated[Personalization, Depends(personalization)]
SETTINGS = IdentitySettings(secret="tracking-test-secret-0123", secure=False)


def _personalizer(store: SQLiteStore) -> Personalizer:
    data = example_store()
    return Personalizer.from_file(
        data / "personalization.yaml",
        catalog=Catalog.from_file(data / "catalog.json"),
        autoload_plugins=False,
        store=store,
    )


def _app(personalizer: Personalizer) -> FastAPI:
    app = FastAPI()
    app.add_middleware(PersonalizeMiddleware, personalizer=personalizer, settings=SETTINGS)

    @app.get("/page", response_class=HTMLResponse)
    async def page(pz: Pz) -> str:
        result = await pz.apersonalize(placement="home", limit=2)
        return f"<p>{result.decision_id}</p>"

    @app.get("/article/{slug}", response_class=HTMLResponse)
    async def article(slug: str) -> str:
        return f"<h1>{len(slug)}</h1>"

    @app.get("/quiet", response_class=HTMLResponse)
    async def quiet(pz: Pz) -> str:
        pz.track_page_view = False
        return "<p>not recorded</p>"

    @app.get("/old-page")
    async def old_page() -> HTMLResponse:
        return HTMLResponse("<a href='/page'>moved</a>", 302, {"location": "/page"})

    @app.get("/api")
    async def api() -> dict[str, str]:
        return {"json": "is not a page"}

    @app.get("/static/app.css", response_class=HTMLResponse)
    async def static() -> str:
        return "<p>untracked path</p>"

    @app.get("/click/{product_id}")
    async def click(product_id: str, d: str, pz: Pz) -> dict[str, str]:
        await pz.atrack(pz.click(product_id, d))
        return {"clicked": product_id}

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    return app


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[str, SQLiteStore]]:
    store = SQLiteStore(tmp_path / "state.sqlite", busy_timeout=10)
    with asgi_server(_app(_personalizer(store))) as base:
        yield base, store


def _visitor(response: httpx.Response) -> str:
    identity = read_identity(f"pz_visitor={response.cookies['pz_visitor']}", SETTINGS)
    return identity.visitor_id


def test_html_pages_are_page_views_and_json_static_redirects_and_opted_out_ones_are_not(
    shop: tuple[str, SQLiteStore],
) -> None:
    base, store = shop
    with httpx.Client(base_url=base) as client:
        first = client.get("/page?utm_source=newsletter", headers={"Referer": "https://t.co/"})
        for path in ("/page", "/api", "/static/app.css", "/quiet", "/missing", "/old-page"):
            client.get(path)
    visitor = _visitor(first)

    views = [e for e in store.export(visitor)["events"] if e["type"] == "page_view"]
    tracked = [(e.get("page"), e.get("referrer")) for e in views if e.get("page")]
    assert tracked == [("/page", "https://t.co/"), ("/page", None)]
    assert views[0]["url"].endswith("/page?utm_source=newsletter")


def test_each_page_of_a_visit_is_one_page_view_and_its_entry_is_a_visit_event(
    shop: tuple[str, SQLiteStore],
) -> None:
    # The decision records how the visit began; the adapter records the page. The entry
    # used to be a second ``page_view``, so a store's KPIs had one page view too many.
    base, store = shop
    with httpx.Client(base_url=base) as client:
        first = client.get("/page?utm_source=newsletter", headers={"Referer": "https://t.co/"})
        client.get("/page")
        client.get("/article/spring")
    events = store.export(_visitor(first))["events"]

    views = [e for e in events if e["type"] == "page_view"]
    assert [e["page"] for e in views] == ["/page", "/page", "/article/spring"]
    (entry,) = [e for e in events if e["type"] == "visit"]
    assert entry["referrer"] == "https://t.co/"
    assert entry["url"].endswith("/page?utm_source=newsletter")
    assert "page" not in entry
    assert "product_id" not in entry
    (row,) = kpis(events).sessions["all"]
    assert row.page_views == 3


def test_a_long_path_url_or_referrer_is_cut_to_what_the_store_takes_not_left_unrecorded(
    shop: tuple[str, SQLiteStore],
) -> None:
    base, store = shop
    slug = "a-very-long-seo-slug-" * 20  # 420 characters: over a store's 256 for a page
    with httpx.Client(base_url=base) as client:
        first = client.get(f"/article/{slug}")
        client.get("/page?gclid=" + "x" * 5000)
        client.get("/page", headers={"Referer": "https://search.example/?q=" + "y" * 5000})
    views = [e for e in store.export(_visitor(first))["events"] if e["type"] == "page_view"]
    pages = [e for e in views if e.get("page")]

    assert [len(e["page"]) for e in pages] == [256, 5, 5]
    assert pages[0]["page"] == f"/article/{slug}"[:256]
    assert len(pages[1]["url"]) == 4096
    assert pages[1]["url"].endswith("x")
    assert len(pages[2]["referrer"]) == 4096


def test_a_click_is_stored_with_the_decision_id_of_the_page_that_showed_it(
    shop: tuple[str, SQLiteStore],
) -> None:
    base, store = shop
    with httpx.Client(base_url=base) as client:
        page = client.get("/page")
        decision_id = page.text.removeprefix("<p>").removesuffix("</p>")
        assert client.get(f"/click/coat-parka?d={decision_id}").status_code == 200

    clicks = [e for e in store.export(_visitor(page))["events"] if e["type"] == "click"]
    assert [(c["product_id"], c["decision_id"]) for c in clicks] == [("coat-parka", decision_id)]


def test_a_request_waiting_on_a_locked_store_does_not_hold_up_the_event_loop(
    shop: tuple[str, SQLiteStore],
) -> None:
    base, store = shop
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    with ThreadPoolExecutor(2) as pool:
        try:
            waiting = pool.submit(httpx.get, base + "/click/coat-parka?d=x", timeout=30)
            time.sleep(0.3)  # the click's write is now waiting for the lock
            start = time.monotonic()
            pong = httpx.get(base + "/ping", timeout=30)
            ping_seconds = time.monotonic() - start
            assert not waiting.done()
        finally:
            time.sleep(0.2)
            blocker.execute("COMMIT")
            blocker.close()
        assert waiting.result().status_code == 200

    assert pong.json() == {"pong": True}
    # A blocked loop would answer only once the lock is released (after the busy timeout,
    # 5 s, since the lock is released after the ping): 1 s leaves room for a loaded machine.
    assert ping_seconds < 1.0


def test_events_of_a_personalization_carry_the_visitor_the_session_and_its_clock() -> None:
    identity = new_identity(time.time()).link_customer("c42")
    pz = Personalization(Request(url="https://shop.example/a?b=1"), identity)
    pz.now = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)

    click = pz.click("coat-parka", "d" * 32)
    view = pz.page_view()

    assert (click.customer_id, click.session_id, click.at) == ("c42", identity.session_id, pz.now)
    assert click.decision_id == "d" * 32
    assert (view.type, view.page, view.url) == ("page_view", "/a", "https://shop.example/a?b=1")
    assert pz.request.now == pz.now


def test_a_new_session_keeps_the_visitor_and_changes_the_session() -> None:
    identity = new_identity(time.time())
    pz = Personalization(Request(), identity)

    pz.new_session()

    assert pz.identity.visitor_id == identity.visitor_id
    assert pz.identity.session_id != identity.session_id
    assert pz.identity.new_session
