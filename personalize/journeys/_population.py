"""A synthetic shopper population: latent tastes, habits and the requests they send.

Every shopper is drawn from their own ``random.Random``, seeded by a stable hash of the
run's seed and the shopper's index (:func:`stable_seed`), so shopper 17 is the same
whichever order the population is read in and however large it is.

What a shopper carries:

* **latent category preferences**: one affinity in ``[0, 1]`` per leaf category of the
  catalog (a Gamma(0.35) draw per category, divided by the largest: every shopper has a
  favourite category at 1 and a few others well above 0);
* **price sensitivity** in ``[0.2, 2]`` (log-normal around 0.8);
* a **device** (phone 55%, desktop 35%, tablet 10%; one session in five on another device);
* a **place**: an address of the bundled demo geo database (Toronto, New York, London,
  Berlin, Sydney, Sao Paulo, Oslo, Singapore, Tokyo, Longyearbyen) and its time zone;
* a **referral mix** over search, social, email, paid and direct, with matching referrer
  and UTM URLs;
* a **time-of-day habit**: a peak local hour (morning, lunch, evening or night people);
* a **loyalty tier** (none, silver, gold, platinum) with points and, for members, a few
  past orders in their favourite categories before the simulation starts;
* a **visit rate** per day (log-normal, higher for members).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from personalize.catalog import Catalog
from personalize.journeys._choice import pick

__all__ = [
    "DEVICES",
    "PLACES",
    "REFERRALS",
    "TIERS",
    "Place",
    "Population",
    "Shopper",
    "stable_seed",
]


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts``, the same in every process (never Python's ``hash()``)."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


@dataclass(frozen=True, slots=True)
class Place:
    """A city of the demo geo database, with the addresses that resolve to it.

    Attributes:
        name: The city.
        network: The first three octets of its IPv4 range (``"192.0.2"``).
        first: The first host number of the range.
        size: How many addresses the range holds.
        timezone: Its IANA zone.
        latitude: Its latitude (the sign gives the hemisphere).
        share: Its share of the population.
    """

    name: str
    network: str
    first: int
    size: int
    timezone: str
    latitude: float
    share: float

    def ip(self, rng: random.Random) -> str:
        """An address in the place's range (avoiding the network and broadcast ends)."""
        return f"{self.network}.{self.first + 1 + rng.randrange(self.size - 2)}"

    def season(self, when: datetime) -> str | None:
        """``winter`` or ``summer`` at ``when`` here; ``summer`` all year in the tropics."""
        if abs(self.latitude) < 23.5:
            return "summer"
        month = when.month
        north = "winter" if month in (12, 1, 2) else "summer" if month in (6, 7, 8) else None
        if self.latitude >= 0 or north is None:
            return north
        return "summer" if north == "winter" else "winter"


#: The networks of ``scripts/make_demo_geoip.py`` and the share of shoppers in each.
PLACES: tuple[Place, ...] = (
    Place("Toronto", "192.0.2", 0, 64, "America/Toronto", 43.65, 0.24),
    Place("New York", "192.0.2", 64, 64, "America/New_York", 40.71, 0.20),
    Place("London", "192.0.2", 128, 64, "Europe/London", 51.51, 0.14),
    Place("Berlin", "192.0.2", 192, 64, "Europe/Berlin", 52.52, 0.10),
    Place("Sydney", "198.51.100", 0, 128, "Australia/Sydney", -33.87, 0.09),
    Place("Sao Paulo", "198.51.100", 128, 128, "America/Sao_Paulo", -23.55, 0.06),
    Place("Oslo", "203.0.113", 0, 64, "Europe/Oslo", 59.91, 0.07),
    Place("Singapore", "203.0.113", 64, 64, "Asia/Singapore", 1.35, 0.04),
    Place("Tokyo", "203.0.113", 128, 64, "Asia/Tokyo", 35.68, 0.05),
    Place("Longyearbyen", "203.0.113", 192, 64, "Arctic/Longyearbyen", 78.22, 0.01),
)

#: Device kind to (share, user agent).
DEVICES: dict[str, tuple[float, str]] = {
    "mobile": (
        0.55,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    ),
    "desktop": (
        0.35,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
        " (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    "tablet": (
        0.10,
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    ),
}

_SHOP = "https://shop.example/"

#: Referral source to (population-wide share, referrer, landing URL).
REFERRALS: dict[str, tuple[float, str | None, str]] = {
    "search": (0.35, "https://www.google.com/", _SHOP),
    "social": (0.15, "https://l.instagram.com/", _SHOP + "?utm_source=instagram"),
    "email": (0.12, None, _SHOP + "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly"),
    "paid": (0.13, "https://www.google.com/", _SHOP + "?utm_source=google&utm_medium=cpc"),
    "direct": (0.25, None, _SHOP),
}

#: Loyalty tier to (share, points range, mean past orders, visit-rate factor).
TIERS: dict[str, tuple[float, tuple[int, int], float, float]] = {
    "none": (0.60, (0, 0), 0.3, 1.0),
    "silver": (0.25, (100, 900), 1.5, 1.3),
    "gold": (0.11, (900, 3000), 4.0, 1.7),
    "platinum": (0.04, (3000, 9000), 8.0, 2.0),
}

# Peak local hours of the four kinds of habit, and their shares.
_HABITS: tuple[tuple[float, float], ...] = ((8.5, 0.2), (12.5, 0.25), (20.0, 0.4), (23.5, 0.15))


@dataclass(frozen=True, slots=True)
class Shopper:
    """One synthetic shopper.

    Attributes:
        index: Position in the population.
        user_id: Stable id (``u000017``), used to bucket them into arms.
        affinity: Category to latent affinity in ``[0, 1]`` (1 = their favourite).
        price_sensitivity: How much a higher price puts them off (0.2 to 2).
        device: Their usual device kind (a key of :data:`DEVICES`).
        place: Where they live.
        ip: Their address (resolves to ``place`` in the demo geo database).
        referrals: Their own weights over the sources of :data:`REFERRALS`.
        peak_hour: Local hour around which they shop.
        tier: Loyalty tier (a key of :data:`TIERS`).
        points: Loyalty points.
        visit_rate: Chance of a visit on any later day (before comeback effects).
        past_orders: Product ids and days before the start of past purchases.
    """

    index: int
    user_id: str
    affinity: dict[str, float]
    price_sensitivity: float
    device: str
    place: Place
    ip: str
    referrals: tuple[float, ...]
    peak_hour: float
    tier: str
    points: int
    visit_rate: float
    past_orders: tuple[tuple[str, float], ...]

    @property
    def loyalty(self) -> dict[str, object]:
        """Loyalty details as :class:`~personalize.History` takes them."""
        return {} if self.tier == "none" else {"tier": self.tier, "points": self.points}

    def local_start(self, day: datetime, rng: random.Random) -> datetime:
        """When a session on ``day`` (a UTC midnight) starts, in UTC, from their habit."""
        hour = (self.peak_hour + rng.gauss(0.0, 2.0)) % 24.0
        zone = ZoneInfo(self.place.timezone)
        local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=hour)
        return local.astimezone(day.tzinfo).replace(microsecond=0)


class Population:
    """A reproducible population of shoppers for one catalog and seed.

    Args:
        catalog: The store; its leaf categories are what shoppers have tastes over.
        seed: Fixes every shopper.
        size: How many shoppers.

    ``population[i]`` is shopper ``i``; iterating yields them in order.
    """

    def __init__(self, catalog: Catalog, *, seed: int | str = 0, size: int = 1000) -> None:
        self.seed = seed
        self.size = size
        self.categories: tuple[str, ...] = tuple(
            sorted({p.leaf_category for p in catalog if p.leaf_category is not None})
        )
        by_category: dict[str, list[str]] = {}
        for product in catalog:
            if product.leaf_category is not None and product.in_stock:
                by_category.setdefault(product.leaf_category, []).append(product.id)
        self._members = {c: tuple(ids) for c, ids in by_category.items()}

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[Shopper]:
        return (self[i] for i in range(self.size))

    def __getitem__(self, index: int) -> Shopper:
        if not 0 <= index < self.size:
            raise IndexError(index)
        return self._draw(index)

    def _draw(self, index: int) -> Shopper:
        rng = random.Random(stable_seed(self.seed, "shopper", index))
        raw = [rng.gammavariate(0.35, 1.0) + 1e-9 for _ in self.categories]
        top = max(raw, default=1.0)
        affinity = {c: round(x / top, 6) for c, x in zip(self.categories, raw, strict=True)}
        sensitivity = min(2.0, max(0.2, math.exp(rng.gauss(math.log(0.8), 0.45))))
        device = list(DEVICES)[pick(rng, [share for share, _ in DEVICES.values()])]
        place = PLACES[pick(rng, [p.share for p in PLACES])]
        referrals = tuple(share * rng.expovariate(1.0) for share, _, _ in REFERRALS.values())
        peak = _HABITS[pick(rng, [share for _, share in _HABITS])][0]
        tier = list(TIERS)[pick(rng, [t[0] for t in TIERS.values()])]
        _, (low, high), mean_orders, rate_factor = TIERS[tier]
        points = rng.randint(low, high) if high else 0
        visit_rate = min(0.9, math.exp(rng.gauss(math.log(0.1), 0.6)) * rate_factor)
        past = self._past_orders(rng, affinity, mean_orders)
        return Shopper(
            index=index,
            user_id=f"u{index:06d}",
            affinity=affinity,
            price_sensitivity=round(sensitivity, 6),
            device=device,
            place=place,
            ip=place.ip(rng),
            referrals=referrals,
            peak_hour=peak,
            tier=tier,
            points=points,
            visit_rate=round(visit_rate, 6),
            past_orders=past,
        )

    def _past_orders(
        self, rng: random.Random, affinity: dict[str, float], mean: float
    ) -> tuple[tuple[str, float], ...]:
        """Past purchases: a Poisson count, each in a category drawn by affinity."""
        count, limit = 0, math.exp(-mean)
        product = rng.random()
        while product > limit and count < 30:
            count += 1
            product *= rng.random()
        categories = [c for c in self.categories if c in self._members]
        if not categories:  # no category with products in stock to have bought from
            return ()
        weights = [affinity[c] ** 2 for c in categories]
        orders = []
        for _ in range(count):
            members = self._members[categories[pick(rng, weights)]]
            orders.append((members[rng.randrange(len(members))], round(rng.uniform(3, 180), 3)))
        return tuple(orders)
