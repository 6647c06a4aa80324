"""Shoppers living journeys through a real ``Personalizer``, day after day.

The simulator wraps the configuration with one more experiment, :data:`ARM_EXPERIMENT`
(``sim-arm``), first in the list: its variant ``control`` is a ``holdout`` (the facade then
serves the unpersonalized default: popular products, the default landing page, no offers)
and ``personalized`` gets the configuration as written, with its own experiments. Shoppers
are bucketed by ``user_id`` through the SDK's own assignment, so a shopper stays in one arm
for every session. Events carry ``variant`` (``control`` / ``personalized``) and
``experiments`` (every assigned experiment and variant).

A session: land (``page_view`` of the landing page, the home placement is served, offers
shown are logged as ``offer_shown``); then, page after page, click a shown product
(``page_view`` + ``view``; the pdp placement is served for it), browse a category of one's
own choosing, go to checkout, or leave; on a product page, maybe add it to the cart. At
checkout, buy (``purchase`` lines, ``offer_redeemed`` for the offer used, prices net of the
discount) or abandon. Later days bring the shopper back with their history, so abandoned
carts, purchases and offer caps carry over. See :mod:`personalize.journeys._choice`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from personalize._atomic import atomic_text
from personalize._models import Event, History, Request
from personalize._personalizer import Personalizer
from personalize.catalog import Catalog
from personalize.config import PersonalizerConfig, load_config
from personalize.context import demo_geoip_path
from personalize.errors import ConfigError, Problem
from personalize.journeys._arms import ARM_EXPERIMENT, CONTROL, PERSONALIZED, arm_shares, with_arms
from personalize.journeys._choice import ChoiceModel, choose, pick
from personalize.journeys._past import past_events
from personalize.journeys._population import DEVICES, REFERRALS, Population, Shopper, stable_seed
from personalize.journeys._progress import ProgressBar
from personalize.journeys._records import Served, SessionRecord, SimulationSummary
from personalize.journeys._visit import Visit, offer_percent
from personalize.ranking import InteractionIndex

__all__ = ["Simulator"]

_SHOP = "https://shop.example"
_REMINDER = _SHOP + "/cart?utm_source=cart-reminder&utm_medium=email&utm_campaign=cart-reminder"
_LEAVE, _NAVIGATE, _CHECKOUT = -1, -2, -3


class Simulator:
    """Runs a synthetic population through a configuration, against a control arm.

    Args:
        config: The configuration to test (a :class:`PersonalizerConfig`, a mapping or a
            file path).
        catalog: The store's products.
        interactions: Events of past customers for the interaction index (or an index, or
            the path of a saved one).
        geoip: A MaxMind City database; the bundled demo database by default (the
            shoppers' addresses are in its ranges).
        seed: Fixes the population, the arms and every choice.
        days: How many days to simulate.
        start: The first day (UTC).
        control_share: Share of shoppers in the non-personalized arm.
        choice: The shoppers' response model.
        home_limit: Products served on the landing page.
        pdp_limit: Products served on a product page.

    Raises:
        ConfigError: The configuration is invalid, or ``days`` is below 1.
    """

    def __init__(
        self,
        config: PersonalizerConfig | Mapping[str, Any] | str | Path,
        *,
        catalog: Catalog,
        interactions: Iterable[Event] | InteractionIndex | str | Path | None = None,
        geoip: str | Path | None = None,
        seed: int | str = 0,
        days: int = 14,
        start: date = date(2026, 12, 1),
        control_share: float = 0.5,
        choice: ChoiceModel | None = None,
        home_limit: int = 8,
        pdp_limit: int = 4,
    ) -> None:
        if days < 1:
            raise ConfigError([Problem("days", f"must be at least 1, not {days}")])
        parsed = config if isinstance(config, PersonalizerConfig) else load_config(config)
        self.config = with_arms(parsed, control_share=control_share, seed=seed)
        self.personalizer = Personalizer(
            self.config,
            catalog=catalog,
            interactions=interactions,
            geoip=geoip if geoip is not None else demo_geoip_path(),
            autoload_plugins=False,
        )
        self.catalog = catalog
        self.seed = seed
        self.days = days
        self.start = start
        self.control_share = control_share
        self.choice = choice if choice is not None else ChoiceModel()
        self.home_limit = home_limit
        self.pdp_limit = pdp_limit
        self.personalizer_seconds = 0.0
        self.personalizer_calls = 0
        self._origin = datetime(start.year, start.month, start.day, tzinfo=UTC)
        self._prices = {p.id: p.price for p in catalog}
        self._category = {p.id: p.leaf_category for p in catalog}
        self._seasons = {
            p.id: frozenset(t for t in p.tags if t in ("winter", "summer")) for p in catalog
        }
        members: dict[str, list[str]] = {}
        for product in catalog:
            leaf = product.leaf_category
            if leaf is not None and product.in_stock:
                members.setdefault(leaf, []).append(product.id)
        self._members = {leaf: tuple(ids) for leaf, ids in members.items()}

    def population(self, size: int) -> Population:
        """The run's population of ``size`` shoppers (the same seed as the run)."""
        return Population(self.catalog, seed=self.seed, size=size)

    # -- running -------------------------------------------------------------------------

    def run(
        self,
        out: str | Path | TextIO,
        *,
        shoppers: int,
        progress: bool | None = None,
        stream: TextIO | None = None,
    ) -> SimulationSummary:
        """Simulate ``shoppers`` shoppers and write their events as JSON Lines.

        Events are written shopper by shopper (each shopper's sessions in time order), so
        the file does not depend on anything but the seed and the inputs.

        Args:
            out: The JSONL file to write, replaced atomically when the run completes
                (``.gz`` compresses), or an open text stream.
            shoppers: Population size.
            progress: Draw a progress bar; ``None`` draws it only on a terminal.
            stream: Where the progress bar goes (stderr by default).

        Returns:
            Counts and timings of the run.
        """
        if isinstance(out, str | Path):
            with atomic_text(out, compress=Path(out).suffix == ".gz") as handle:
                return self._run(
                    handle, shoppers, ProgressBar(shoppers, stream=stream, enabled=progress)
                )
        return self._run(out, shoppers, ProgressBar(shoppers, stream=stream, enabled=progress))

    def _run(self, handle: TextIO, shoppers: int, bar: ProgressBar) -> SimulationSummary:
        started = time.perf_counter()
        self.personalizer_seconds, self.personalizer_calls = 0.0, 0
        arms: dict[str, int] = {CONTROL: 0, PERSONALIZED: 0}
        shoppers_per_arm: dict[str, int] = {CONTROL: 0, PERSONALIZED: 0}
        sessions = events = 0
        for shopper in self.population(shoppers):
            arm = None
            for record in self.journeys(shopper):
                arm = record.arm
                sessions += 1
                arms[record.arm] = arms.get(record.arm, 0) + 1
                events += len(record.events)
                handle.writelines(
                    e.model_dump_json(exclude_defaults=True) + "\n" for e in record.events
                )
            if arm is not None:
                shoppers_per_arm[arm] = shoppers_per_arm.get(arm, 0) + 1
            bar.update(shopper.index + 1, sessions)
        bar.close(shoppers, sessions)
        return SimulationSummary(
            shoppers=shoppers,
            sessions=sessions,
            events=events,
            arms=arms,
            shares=arm_shares(self.config.experiments[0]),
            seconds=time.perf_counter() - started,
            personalizer_seconds=self.personalizer_seconds,
            personalizer_calls=self.personalizer_calls,
            seed=self.seed,
            days=self.days,
            start=self.start,
            experiments=tuple(e.key for e in self.config.experiments[1:]),
            shoppers_per_arm=shoppers_per_arm,
            variant_shares={e.key: arm_shares(e) for e in self.config.experiments[1:]},
        )

    def journeys(self, shopper: Shopper) -> Iterator[SessionRecord]:
        """The sessions of one shopper over the simulated days, in time order.

        Depends only on the shopper, the seed and the inputs, never on other shoppers.
        """
        rng = random.Random(stable_seed(self.seed, "journey", shopper.index))
        history = past_events(shopper, self._origin, self._category, self._prices)
        abandoned: dict[str, float] = {}
        abandoned_day = -10
        first = rng.randrange(self.days)
        for day in range(first, self.days):
            comeback = bool(abandoned) and day - abandoned_day <= 7
            if day != first:
                boost = self.choice.comeback_boost if comeback else 1.0
                if rng.random() >= min(0.95, shopper.visit_rate * boost):
                    continue
            record = self._session(shopper, rng, day, history, abandoned if comeback else {})
            history.extend(record.events)
            if record.abandoned:
                abandoned = {
                    e.product_id: e.price or 0.0
                    for e in record.events
                    if e.type == "add_to_cart" and e.product_id is not None
                }
                abandoned_day = day
            elif any(e.type == "purchase" for e in record.events):
                abandoned = {}
            yield record

    # -- one session ---------------------------------------------------------------------

    def _session(
        self,
        shopper: Shopper,
        rng: random.Random,
        day: int,
        history: list[Event],
        abandoned: Mapping[str, float],
    ) -> SessionRecord:
        choice = self.choice
        session_id = f"{shopper.user_id}-d{day:03d}"
        record = SessionRecord(session_id, shopper.index, day, comeback=bool(abandoned))
        now = shopper.local_start(self._origin + timedelta(days=day), rng)
        device = shopper.device
        if rng.random() < 0.2:
            device = list(DEVICES)[rng.randrange(len(DEVICES))]
        if abandoned and rng.random() < choice.reminder_email:
            referrer, url = None, _REMINDER
        else:
            source = list(REFERRALS)[pick(rng, shopper.referrals)]
            _, referrer, url = REFERRALS[source]
        request = Request(
            user_agent=DEVICES[device][1],
            ip=shopper.ip,
            referrer=referrer,
            url=url,
            now=now,
            user_id=shopper.user_id,
            session_id=session_id,
        )
        visit = Visit(record, shopper, rng, request, history, now)
        shown = self._land(visit)
        if abandoned and rng.random() < choice.cart_recall:
            self._page(visit, "/cart")
            for product_id, price in abandoned.items():
                self._add(visit, product_id, price)
            self._checkout(visit, device)
            return record
        while visit.pages < choice.max_pages:
            step = self._click(visit, shown)
            if step == _LEAVE:
                break
            if step == _CHECKOUT:
                self._checkout(visit, device)
                return record
            if step == _NAVIGATE:
                category = self._favourite(visit)
                self._page(visit, f"/c/{category}")
                shown = list(self._members.get(category, ()))
                continue
            shown = self._product_page(visit, shown[step])
        record.abandoned = bool(visit.cart)
        return record

    def _land(self, visit: Visit) -> list[str]:
        result = self._serve(visit, "home", self.home_limit, None)
        arm = result.experiments.get(ARM_EXPERIMENT, CONTROL)
        visit.record.arm = arm
        visit.variant = arm
        visit.experiments = dict(result.experiments)
        page = result.landing.page if result.landing is not None else "/"
        self._page(visit, page, served_after=True)
        self._show_offers(visit, result.offers)
        return [rec.product_id for rec in result.products]

    def _serve(self, visit: Visit, placement: str, limit: int, product_id: str | None) -> Any:
        request = visit.request.model_copy(update={"now": visit.now})
        history = History.model_construct(
            events=visit.history + visit.record.events,
            loyalty=visit.shopper.loyalty,
            profile=None,
        )
        started = time.perf_counter()
        result = self.personalizer.personalize(
            request, history, placement=placement, limit=limit, product_id=product_id
        )
        self.personalizer_seconds += time.perf_counter() - started
        self.personalizer_calls += 1
        visit.record.served.append(
            Served(
                at=visit.now,
                placement=placement,
                products=tuple(rec.product_id for rec in result.products),
                offers=tuple(o.offer_id for o in result.offers),
                product_id=product_id,
            )
        )
        return result

    def _emit(self, visit: Visit, kind: str, **fields: Any) -> None:
        visit.record.events.append(
            Event.model_construct(
                type=kind,
                at=visit.now,
                session_id=visit.record.session_id,
                customer_id=visit.shopper.user_id,
                variant=visit.variant,
                experiments=visit.experiments,
                **fields,
            )
        )

    def _page(self, visit: Visit, page: str, *, served_after: bool = False) -> None:
        if visit.pages and not served_after:
            visit.now += timedelta(seconds=self.choice.dwell(visit.rng))
        visit.pages += 1
        self._emit(visit, "page_view", page=page)

    def _show_offers(self, visit: Visit, offers: Iterable[Any]) -> None:
        for offer in offers:
            if offer.offer_id not in visit.offers:
                visit.offers[offer.offer_id] = offer.value
                self._emit(visit, "offer_shown", offer_id=offer.offer_id)

    def _affinity(self, shopper: Shopper, product_id: str, when: datetime) -> float:
        """The shopper's affinity for the product, plus the bonus of its season at ``when``."""
        category = self._category.get(product_id)
        base = shopper.affinity.get(category, 0.0) if category is not None else 0.0
        season = shopper.place.season(when)
        if season is not None and season in self._seasons.get(product_id, ()):
            base += self.choice.season_bonus
        return base

    def _click(self, visit: Visit, shown: list[str]) -> int:
        choice, shopper = self.choice, visit.shopper
        options = [_LEAVE]
        utilities = [choice.leave_per_page * visit.pages]
        if any(c in self._members for c in shopper.affinity):  # a category to browse
            options.append(_NAVIGATE)
            utilities.append(choice.navigate)
        if visit.cart:
            options.append(_CHECKOUT)
            utilities.append(
                choice.checkout_base + choice.checkout_per_item * (len(visit.cart) - 1)
            )
        for rank, product_id in enumerate(shown):
            if product_id in visit.viewed or product_id not in self._prices:
                continue
            options.append(rank)
            term = choice.price_term(shopper.price_sensitivity, self._prices[product_id])
            utilities.append(
                choice.click_utility(self._affinity(shopper, product_id, visit.now), term, rank)
            )
        return options[choose(visit.rng, utilities)]

    def _favourite(self, visit: Visit) -> str:
        categories = [c for c in visit.shopper.affinity if c in self._members]
        weights = [visit.shopper.affinity[c] ** 2 for c in categories]
        return categories[pick(visit.rng, weights)]

    def _product_page(self, visit: Visit, product_id: str) -> list[str]:
        choice, shopper = self.choice, visit.shopper
        self._page(visit, f"/p/{product_id}")
        visit.viewed.add(product_id)
        self._emit(visit, "view", product_id=product_id, category=self._category[product_id])
        result = self._serve(visit, "pdp", self.pdp_limit, product_id)
        self._show_offers(visit, result.offers)
        affinity = self._affinity(shopper, product_id, visit.now)
        price = self._prices[product_id]
        term = choice.price_term(shopper.price_sensitivity, price)
        if product_id not in visit.cart and visit.rng.random() < choice.add_to_cart(affinity, term):
            visit.now += timedelta(seconds=choice.dwell(visit.rng, affinity))
            self._add(visit, product_id, price or 0.0)
        return [rec.product_id for rec in result.products]

    def _add(self, visit: Visit, product_id: str, price: float) -> None:
        visit.now += timedelta(seconds=3)
        visit.cart[product_id] = price
        self._emit(visit, "add_to_cart", product_id=product_id, price=price, quantity=1.0)

    def _checkout(self, visit: Visit, device: str) -> None:
        choice, shopper = self.choice, visit.shopper
        self._page(visit, "/checkout")
        total = sum(visit.cart.values())
        best, percent = None, 0.0
        free_shipping = None
        for offer_id, value in visit.offers.items():
            worth = offer_percent(value, total)
            if worth > percent:
                best, percent = offer_id, worth
            if value.get("free_shipping") and free_shipping is None:
                free_shipping = offer_id
        p = choice.buy(
            cart_term=choice.price_term(shopper.price_sensitivity, total),
            percent=percent,
            free_shipping=free_shipping is not None,
            tier=shopper.tier,
            device=device,
        )
        if visit.rng.random() >= p:
            visit.record.abandoned = True
            return
        visit.now += timedelta(seconds=choice.dwell(visit.rng))
        order = f"{visit.record.session_id}-o"
        factor = 1.0 - percent / 100.0
        for product_id, price in visit.cart.items():
            self._emit(
                visit,
                "purchase",
                product_id=product_id,
                price=round(price * factor, 2),
                quantity=1.0,
                order_id=order,
            )
        for offer_id in dict.fromkeys(o for o in (best, free_shipping) if o is not None):
            self._emit(visit, "offer_redeemed", offer_id=offer_id, order_id=order)
        visit.cart.clear()
