"""A small shop for ranking tests: catalog, events of many customers, contexts, strategies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from hypothesis import strategies as st

from personalize import Catalog, Event, History, Product, Request
from personalize.config import RankingConfig
from personalize.context import (
    Behaviour,
    Cart,
    Context,
    ContextResolver,
    Geo,
    HistoryFacts,
    TimeFacts,
)
from personalize.context._history import build_profile
from personalize.ranking import InteractionIndex, RankingInput

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def product(pid: str, **fields: object) -> Product:
    return Product.model_validate({"id": pid, **fields})


def shop_catalog(extra: Iterable[Product] = ()) -> Catalog:
    """Coffee, tea and their gear, with categories, brands, complements and new arrivals."""
    products = [
        product("beans", category="coffee > beans", brand="roastco", replenishable=True),
        product("filters", category="coffee > gear", brand="brewit", replenishable=True),
        product("grinder", category="coffee > gear", brand="brewit", complements="beans|filters"),
        product("kettle", category="coffee > gear", brand="brewit"),
        product("mug", category="kitchen > cups", brand="potter"),
        product("green-tea", category="tea > leaves", brand="leafy"),
        product("black-tea", category="tea > leaves", brand="leafy"),
        product("teapot", category="tea > gear", brand="potter", complements=("green-tea",)),
        product("milk-frother", category="coffee > gear", brand="brewit", in_stock=False),
        product("espresso", category="coffee > beans", brand="roastco"),
        product("new-cup", category="kitchen > cups", brand="potter", created_at=NOW),
        product(
            "old-cup",
            category="kitchen > cups",
            brand="potter",
            created_at=NOW - timedelta(days=400),
        ),
        *extra,
    ]
    return Catalog(products)


def purchase(customer: str, order: str, pid: str, days_ago: float) -> Event:
    return Event(
        type="purchase",
        product_id=pid,
        at=NOW - timedelta(days=days_ago),
        order_id=order,
        customer_id=customer,
        price=5.0,
    )


def view(session: str, pid: str, days_ago: float) -> Event:
    return Event(type="view", product_id=pid, at=NOW - timedelta(days=days_ago), session_id=session)


def shop_events() -> list[Event]:
    """Coffee people buy beans + filters (+ grinder); tea people buy tea + teapot."""
    events: list[Event] = []
    for n in range(6):
        c = f"c{n}"
        events += [
            purchase(c, f"{c}-o1", "beans", 30 + n),
            purchase(c, f"{c}-o1", "filters", 30 + n),
        ]
        events += [purchase(c, f"{c}-o2", "beans", 5 + n)]
        if n < 3:
            events.append(purchase(c, f"{c}-o2", "grinder", 5 + n))
    for n in range(4):
        t = f"t{n}"
        events += [
            purchase(t, f"{t}-o1", "green-tea", 3 + n),
            purchase(t, f"{t}-o1", "teapot", 3 + n),
        ]
        events.append(purchase(t, f"{t}-o2", "black-tea", 1))
    events.append(purchase("x", "x-o1", "espresso", 300))
    events.append(purchase("x", "x-o1", "discontinued", 300))
    for n in range(5):
        events += [view(f"s{n}", "kettle", 2), view(f"s{n}", "mug", 2)]
    events.append(view("s9", "kettle", 1))
    events.append(view("s9", "teapot", 1))
    return events


def shop_index(**options: object) -> InteractionIndex:
    countries = {**{f"c{n}": "DE" for n in range(6)}, **{f"t{n}": "GB" for n in range(4)}}
    return InteractionIndex.build(
        shop_events(),
        catalog=shop_catalog(),
        now=NOW,
        customer_country=countries,
        **options,  # type: ignore[arg-type]
    )


def context(
    *,
    purchases: Mapping[str, tuple[int, float]] | None = None,
    viewed: tuple[str, ...] = (),
    cart: tuple[str, ...] = (),
    country: str | None = None,
    viewed_categories: Mapping[str, int] | None = None,
    last_session: tuple[str, ...] = (),
    last_category: str | None = None,
) -> Context:
    """A context; ``purchases`` maps product id to (orders, days since last bought)."""
    purchases = purchases or {}
    last = {pid: NOW - timedelta(days=age) for pid, (_, age) in purchases.items()}
    newest = tuple(sorted(last, key=lambda pid: (-last[pid].timestamp(), pid)))
    return Context(
        time=TimeFacts(local=NOW, timezone="UTC"),
        geo=Geo(country=country),
        history=HistoryFacts(
            purchases=newest,
            purchase_counts=MappingProxyType({pid: n for pid, (n, _) in purchases.items()}),
            last_purchased=MappingProxyType(last),
            order_count=sum(n for n, _ in purchases.values()),
        ),
        behaviour=Behaviour(
            recently_viewed=viewed,
            viewed_categories=MappingProxyType(dict(viewed_categories or {})),
            cart=Cart(items=cart),
            last_session_products=last_session,
            last_session_category=last_category,
        ),
    )


def history_request(
    events: list[Event],
    index: InteractionIndex,
    *,
    profile: bool = False,
    per_source: int = 50,
    **options: object,
) -> RankingInput:
    """A ``home`` request at :data:`NOW` for a customer with ``events`` (read as a
    :class:`~personalize.Profile` with ``profile``), ranked over the shop's catalog and
    ``index`` with the ranking options ``options``."""
    history = History(profile=build_profile(events)) if profile else History(events=events)
    return RankingInput(
        context=_RESOLVER.resolve(Request(now=NOW), history),
        catalog=SHOP_CATALOG,
        index=index,
        config=RankingConfig.model_validate(options),
        placement="home",
        product_id=None,
        limit=10,
        now=NOW,
        per_source=per_source,
    )


SHOP_CATALOG = shop_catalog()
_RESOLVER = ContextResolver()
PRODUCT_IDS = [p.id for p in SHOP_CATALOG] + ["discontinued", "ghost"]

#: Contexts over the shop's products (and two unknown ids).
contexts = st.builds(
    context,
    purchases=st.dictionaries(
        st.sampled_from(PRODUCT_IDS),
        st.tuples(st.integers(1, 5), st.floats(0, 400)),
        max_size=6,
    ),
    viewed=st.lists(st.sampled_from(PRODUCT_IDS), max_size=5).map(tuple),
    cart=st.lists(st.sampled_from(PRODUCT_IDS), max_size=3).map(tuple),
    country=st.sampled_from([None, "DE", "GB", "FR"]),
    viewed_categories=st.dictionaries(
        st.sampled_from(["gear", "leaves", "cups", "x"]), st.integers(1, 9)
    ),
)
