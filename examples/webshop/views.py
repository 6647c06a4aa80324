"""What the templates show: products with their "why", offers in words, the visitor panel."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from personalize import Catalog, Product, Result
from personalize.web import Personalization

from .panel import Panel

__all__ = ["Card", "Page", "loyalty_of", "offer_text", "product_cards"]

#: Ranking features in words, for the "why" under a product.
FEATURES = {
    "repeat": "time to buy again",
    "co_purchase": "bought together with what you like",
    "co_view": "viewed together with what you viewed",
    "complement": "goes with it",
    "affinity": "matches your favourite categories",
    "popularity": "popular",
    "trending": "trending now",
    "new_arrival": "new arrival",
}

LOYALTY = {"silver": 300, "gold": 1840, "platinum": 5200}


@dataclass(frozen=True)
class Card:
    """A product as a card: its link (through the click tracker) and why it is shown."""

    product: Product
    why: str = ""
    href: str = ""


@dataclass(frozen=True)
class Page:
    """Everything the base template shows besides the page's own content."""

    panel: Panel
    path: str
    categories: list[str]
    cards: list[Card] = field(default_factory=list)
    offers: list[tuple[str, str, str]] = field(default_factory=list)
    continue_cards: list[Card] = field(default_factory=list)
    abandoned: list[Product] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    decision_id: str = ""
    visitor_id: str = ""

    @classmethod
    def build(
        cls,
        request: Request,
        pz: Personalization,
        catalog: Catalog,
        categories: list[str],
        result: Result | None,
    ) -> Page:
        """The page of ``request`` for the visitor of ``pz`` and its decision."""
        panel: Panel = request.scope.get("demo_panel") or Panel()
        base = cls(panel, request.url.path, categories, visitor_id=pz.identity.user_id)
        if result is None:
            return base
        b = result.context.behaviour
        recommended = (catalog.ids[r.product_id] for r in result.products)
        currency = result.currency
        return cls(
            panel,
            request.url.path,
            categories,
            cards=product_cards(recommended, result, catalog),
            offers=[(o.code or "", offer_text(o.value, currency), o.reason) for o in result.offers],
            continue_cards=[
                Card(catalog.ids[pid], "you looked at it last time", f"/p/{pid}")
                for pid in result.continue_shopping.products
                if pid in catalog
            ],
            abandoned=[catalog.ids[pid] for pid in b.abandoned_cart.items if pid in catalog],
            facts=facts(result),
            decision_id=getattr(result, "decision_id", ""),
            visitor_id=pz.identity.user_id,
        )


def product_cards(products: Iterable[Product], result: Result, catalog: Catalog) -> list[Card]:
    """Cards for ``products``, each linked through ``/click`` with the decision id."""
    recs = {r.product_id: r for r in result.products}
    decision = getattr(result, "decision_id", "")
    cards = []
    for product in products:
        rec = recs.get(product.id)
        why = _why(rec.reasons, rec.rules) if rec is not None else ""
        query = urlencode({"d": decision}) if rec is not None and decision else ""
        href = f"/click/{product.id}?{query}" if query else f"/p/{product.id}"
        cards.append(Card(product, why, href))
    return cards


def _why(reasons: Mapping[str, float], rules: Iterable[str]) -> str:
    top = sorted((v, k) for k, v in reasons.items() if v > 0)[::-1][:2]
    parts = [FEATURES.get(k, k.replace("_", " ")) for _, k in top]
    parts += [f"rule {rule}" for rule in rules]
    return " · ".join(parts)


def offer_text(value: Mapping[str, Any], currency: str) -> str:
    """An offer's value in words: ``10% off``, ``CA$5 off``, ``free shipping``."""
    symbol = {"CAD": "CA$", "USD": "$", "EUR": "€", "GBP": "£"}.get(currency, currency + " ")
    parts = []
    if "percent" in value:
        parts.append(f"{value['percent']:g}% off")
    if "amount" in value:
        parts.append(f"{symbol}{value['amount']:g} off")
    if value.get("free_shipping"):
        parts.append("free shipping")
    return " + ".join(parts) or "a surprise"


def facts(result: Result) -> list[tuple[str, str]]:
    """What the SDK made of the request, for the panel."""
    ctx = result.context
    local = ctx.time.local.strftime("%a %d %b %H:%M") if ctx.time.local else "?"
    where = ", ".join(x for x in (ctx.geo.city, ctx.geo.country) if x) or "unknown"
    return [
        ("where", f"{where} ({ctx.geo.source}, {ctx.geo.climate or '?'} climate)"),
        ("device", f"{ctx.device.type} / {ctx.device.os or '?'}"),
        ("local time", f"{local} ({ctx.time.daypart}, {ctx.time.season})"),
        (
            "arrived from",
            f"{ctx.referral.source}" + (f" ({ctx.referral.site})" if ctx.referral.site else ""),
        ),
        ("loyalty", str(ctx.loyalty.tier or "none")),
        ("segments", ", ".join(sorted(result.segments)) or "none"),
        ("landing", result.landing.page if result.landing else "/"),
    ]


def loyalty_of(tier: str) -> dict[str, Any]:
    """The loyalty details the panel's tier stands for."""
    if tier not in LOYALTY:
        return {}
    return {"tier": tier, "points": LOYALTY[tier]}
