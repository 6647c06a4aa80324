"""The demo shop's routes: home and landing pages, category, product, cart, checkout, panel.

Every page is one ``apersonalize`` call through the FastAPI adapter; the visitor's state
(views, cart, purchases, offers shown) lives in a SQLite file, so a visitor who leaves a
cart and comes back -- two days later on the panel's clock -- is greeted as a returning one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

import yaml
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from personalize import Catalog, History, Personalizer
from personalize.cli import example_store
from personalize.context import demo_geoip_path
from personalize.metrics import read_events
from personalize.store import SQLiteStore, ThreadedAsyncStore
from personalize.web import Personalization
from personalize.web.fastapi import PersonalizeMiddleware, personalization

from .panel import ARRIVALS, CITIES, DEVICES, PANEL_COOKIE, TIERS, DemoHeaders, Panel
from .views import Page, loyalty_of, product_cards

__all__ = ["create_app"]

HERE = Path(__file__).resolve().parent
#: The landing pages the configuration may choose, with their headline.
LANDINGS = {
    "/": "This season's picks",
    "/ca/": "Bienvenue, Canada! Free shipping across Canada on orders over CA$75",
    "/winter/": "Winter is here: warm layers for cold places",
    "/summer/": "Summer down south: swim and sun gear",
}

Pz = Annotated[Personalization, Depends(personalization)]


def create_app(
    store_path: str | Path | None = None, *, secret: str = "demo-only-secret-0123456789"
) -> FastAPI:
    """The demo shop over the bundled example store.

    Args:
        store_path: The SQLite file visitor state goes to (default: a new temporary file).
        secret: The key that signs the visitor cookie (the demo's own, not for production).
    """
    data = example_store()
    config = yaml.safe_load((data / "personalization.yaml").read_text(encoding="utf-8"))
    # Demo mode: the visitor panel sends the country as Cloudflare would, so the shop
    # believes Cloudflare's geo headers -- explicitly, as a production shop behind
    # Cloudflare would. Never trust a CDN header you are not behind.
    config.setdefault("settings", {})["trusted_cdn"] = ["cloudflare"]
    if store_path is None:
        store_path = Path(tempfile.mkdtemp(prefix="pz-webshop-")) / "visitors.sqlite"
    store = SQLiteStore(store_path, synchronous="NORMAL")
    catalog = Catalog.from_file(data / "catalog.json")
    personalizer = Personalizer(
        config,
        catalog=catalog,
        interactions=read_events(data / "events.jsonl"),
        geoip=demo_geoip_path(),
        autoload_plugins=False,
        store=store,
    )
    app = FastAPI(title="personalize demo shop", docs_url=None, redoc_url=None)
    app.state.personalizer = personalizer
    app.state.store = ThreadedAsyncStore(store)
    app.state.store_path = Path(store_path)
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(
        PersonalizeMiddleware, personalizer=personalizer, secret=secret, secure=False
    )
    app.add_middleware(DemoHeaders)  # outermost: the adapter sees the panel's visitor
    _routes(app, catalog)
    return app


def _routes(app: FastAPI, catalog: Catalog) -> None:
    categories = sorted({p.leaf_category for p in catalog if p.leaf_category})

    def render(request: Request, pz: Personalization, template: str, **extra: Any) -> Response:
        page = Page.build(request, pz, catalog, categories, extra.pop("result", None))
        return app.state.templates.TemplateResponse(
            request,
            template,
            {
                "page": page,
                "cities": CITIES,
                "devices": DEVICES,
                "arrivals": ARRIVALS,
                "tiers": TIERS,
                **extra,
            },
        )

    async def landing_page(request: Request, pz: Pz) -> Response:
        panel = visit(request, pz)
        path = request.url.path
        if path == "/" and panel.landing == "redirect":
            # Decide the landing with the stored history passed in, so nothing (an offer
            # shown, say) is recorded for a page the visitor never sees.
            history = await app.state.store.history(
                pz.identity.user_id, pz.identity.session_id, now=pz.now
            )
            first = await pz.apersonalize(placement="home", limit=1, history=history)
            target = first.landing.page if first.landing is not None else "/"
            if target != "/" and target in LANDINGS:
                query = request.url.query
                return RedirectResponse(target + ("?" + query if query else ""), status_code=303)
        result = await pz.apersonalize(placement="home", limit=8)
        chosen = result.landing.page if result.landing is not None else "/"
        banner = chosen if chosen != path and chosen in LANDINGS else None
        return render(
            request,
            pz,
            "home.html",
            result=result,
            headline=LANDINGS[path],
            banner=banner,
            banner_text=LANDINGS.get(chosen or "/", ""),
        )

    for path in LANDINGS:
        app.add_api_route(path, landing_page, methods=["GET"], response_class=HTMLResponse)

    @app.get("/c/{category}", response_class=HTMLResponse)
    async def category(category: str, request: Request, pz: Pz) -> Response:
        visit(request, pz)
        members = [p for p in catalog if p.leaf_category == category]
        if not members:
            return render(request, pz, "missing.html", what=f"category {category}")
        await pz.atrack(pz.event("view", category=category))
        result = await pz.apersonalize(placement="category", limit=len(catalog))
        rank = {rec.product_id: i for i, rec in enumerate(result.products)}
        members.sort(key=lambda p: rank.get(p.id, len(rank)))
        return render(
            request,
            pz,
            "category.html",
            result=result,
            category=category,
            members=product_cards(members, result, catalog),
        )

    @app.get("/p/{product_id}", response_class=HTMLResponse)
    async def product(product_id: str, request: Request, pz: Pz) -> Response:
        visit(request, pz)
        item = catalog.get(product_id)
        if item is None:
            return render(request, pz, "missing.html", what=f"product {product_id}")
        await pz.atrack(pz.event("view", product_id=item.id, category=item.leaf_category))
        result = await pz.apersonalize(placement="pdp", product_id=item.id, limit=4)
        return render(request, pz, "product.html", result=result, product=item)

    @app.get("/click/{product_id}")
    async def click(product_id: str, request: Request, pz: Pz, d: str | None = None) -> Response:
        visit(request, pz)
        if catalog.get(product_id) is None:
            return RedirectResponse("/", status_code=303)
        await pz.atrack(pz.click(product_id, d))
        return RedirectResponse(f"/p/{product_id}", status_code=303)

    @app.post("/cart/add")
    async def add_to_cart(request: Request, pz: Pz) -> Response:
        visit(request, pz)
        form = await _form(request)
        item = catalog.get(form.get("product_id", ""))
        if item is not None:
            event = pz.event("add_to_cart", product_id=item.id, price=item.price, quantity=1)
            await pz.atrack(event)
        return RedirectResponse("/cart", status_code=303)

    @app.get("/cart", response_class=HTMLResponse)
    async def cart(request: Request, pz: Pz) -> Response:
        visit(request, pz)
        history = await app.state.store.history(
            pz.identity.user_id, pz.identity.session_id, now=pz.now
        )
        items = _cart(history, pz)
        anchor = next(iter(items), None)
        result = await pz.apersonalize(placement="cart", product_id=anchor, limit=4)
        lines = [(catalog.ids[pid], qty) for pid, qty in items.items() if pid in catalog]
        total = sum((p.price or 0.0) * qty for p, qty in lines)
        return render(request, pz, "cart.html", result=result, lines=lines, total=total)

    @app.get("/checkout", response_class=HTMLResponse)
    async def checkout_form(request: Request, pz: Pz) -> Response:
        visit(request, pz)
        history = await app.state.store.history(
            pz.identity.user_id, pz.identity.session_id, now=pz.now
        )
        lines = [(catalog.ids[p], q) for p, q in _cart(history, pz).items() if p in catalog]
        total = sum((p.price or 0.0) * q for p, q in lines)
        return render(request, pz, "checkout.html", lines=lines, total=total, done=False)

    @app.post("/checkout", response_class=HTMLResponse)
    async def checkout(request: Request, pz: Pz) -> Response:
        visit(request, pz)
        history = await app.state.store.history(
            pz.identity.user_id, pz.identity.session_id, now=pz.now
        )
        items = _cart(history, pz)
        order = f"o-{pz.identity.session_id[:8]}-{int(pz.event('purchase').at.timestamp())}"
        events = [
            pz.event(
                "purchase",
                product_id=pid,
                quantity=qty,
                price=catalog.ids[pid].price,
                order_id=order,
            )
            for pid, qty in items.items()
            if pid in catalog
        ]
        if events:
            await pz.atrack(*events)
        lines = [(catalog.ids[p], q) for p, q in items.items() if p in catalog]
        total = sum((p.price or 0.0) * q for p, q in lines)
        return render(request, pz, "checkout.html", lines=lines, total=total, done=True)

    @app.post("/panel")
    async def set_panel(request: Request, pz: Pz) -> Response:
        before = Panel.from_cookie(request.headers.get("cookie"))
        form = await _form(request)
        panel = Panel.from_form(form)
        timeout = app.state.store.retention.session_timeout
        if panel.left_and_came_back(before, timeout) or "new_visit" in form:
            pz.new_session()  # the visitor left: the next page starts a new visit
        await app.state.store.set_loyalty(pz.identity.user_id, loyalty_of(panel.tier))
        response = RedirectResponse(_local(form.get("back", "/")), status_code=303)
        response.set_cookie(PANEL_COOKIE, panel.cookie_value(), httponly=True, samesite="lax")
        return response


def visit(request: Request, pz: Personalization) -> Panel:
    """The panel's visitor for this request; the SDK sees the panel's clock."""
    panel: Panel = request.scope.get("demo_panel") or Panel()
    pz.now = panel.now()
    return panel


def _cart(history: History, pz: Personalization) -> dict[str, float]:
    """The cart of this visit: added and not removed or bought since."""
    items: dict[str, float] = {}
    for event in history.events:
        if event.session_id != pz.identity.session_id or event.product_id is None:
            continue
        if event.type == "add_to_cart":
            items[event.product_id] = items.get(event.product_id, 0.0) + event.quantity
        elif event.type in ("remove_from_cart", "purchase"):
            items.pop(event.product_id, None)
    return items


def _local(path: str) -> str:
    """``path`` when it is a path of this shop, else ``/``: ``//host/...`` (and ``/\\host``,
    which browsers read as ``//host``) lead to another site."""
    return path if path.startswith("/") and path[1:2] not in ("/", "\\") else "/"


async def _form(request: Request) -> dict[str, str]:
    """A urlencoded form body, first value per field (the demo needs no multipart)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
