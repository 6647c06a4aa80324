"""The synthetic population: reproducible shoppers whose requests resolve as intended."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from journey_helpers import store_catalog

from personalize import Request
from personalize.context import ContextResolver, demo_geoip_path
from personalize.journeys import DEVICES, PLACES, REFERRALS, Population, stable_seed


@pytest.fixture(scope="module")
def population() -> Population:
    return Population(store_catalog(), seed=1, size=400)


def test_stable_seed_is_the_same_in_every_process() -> None:
    assert stable_seed(1, "shopper", 0) == 8436351543248133493
    assert stable_seed(1, "shopper", 0) != stable_seed(1, "shopper", 1)


def test_a_shopper_depends_only_on_seed_and_index(population: Population) -> None:
    other = Population(store_catalog(), seed=1, size=5)
    assert population[3] == other[3]
    assert Population(store_catalog(), seed=2, size=5)[3] != other[3]


def test_every_shopper_has_one_favourite_category(population: Population) -> None:
    categories = {p.leaf_category for p in store_catalog()}
    for shopper in population:
        assert set(shopper.affinity) == categories
        assert max(shopper.affinity.values()) == 1.0
        assert min(shopper.affinity.values()) >= 0.0
        assert 0.2 <= shopper.price_sensitivity <= 2.0


def test_the_population_mixes_devices_places_and_tiers(population: Population) -> None:
    assert {s.device for s in population} == set(DEVICES)
    assert len({s.place.name for s in population}) >= 8
    assert {s.tier for s in population} == {"none", "silver", "gold", "platinum"}
    members = [s for s in population if s.tier != "none"]
    assert sum(len(s.past_orders) for s in members) > len(members)


def test_shopper_addresses_resolve_to_their_city() -> None:
    resolver = ContextResolver(geoip=demo_geoip_path())
    rng = random.Random(0)
    for place in PLACES:
        ctx = resolver.resolve(Request(ip=place.ip(rng)))
        assert ctx.geo.city is not None
        assert ctx.geo.city.replace("ã", "a") == place.name
        assert ctx.geo.timezone == place.timezone


@pytest.mark.parametrize("source", list(REFERRALS))
def test_referral_urls_classify_as_their_source(source: str) -> None:
    _, referrer, url = REFERRALS[source]
    ctx = ContextResolver().resolve(Request(referrer=referrer, url=url))
    assert ctx.referral.source == source


@pytest.mark.parametrize("device", list(DEVICES))
def test_user_agents_classify_as_their_device(device: str) -> None:
    ctx = ContextResolver().resolve(Request(user_agent=DEVICES[device][1]))
    assert ctx.device.type == device


def test_sessions_start_around_the_local_peak_hour(population: Population) -> None:
    shopper = population[0]
    rng = random.Random(1)
    day = datetime(2026, 12, 3, tzinfo=UTC)
    starts = [shopper.local_start(day, rng) for _ in range(200)]
    assert all(s.tzinfo == UTC for s in starts)
    zone = ZoneInfo(shopper.place.timezone)
    gaps = [abs(s.astimezone(zone).hour + 0.5 - shopper.peak_hour) for s in starts]
    near = sum(1 for gap in gaps if min(gap, 24 - gap) <= 4.5)
    assert near / len(starts) > 0.8


def test_seasons_follow_the_hemisphere() -> None:
    december = datetime(2026, 12, 15, tzinfo=UTC)
    by_name = {p.name: p for p in PLACES}
    assert by_name["Toronto"].season(december) == "winter"
    assert by_name["Sydney"].season(december) == "summer"
    assert by_name["Singapore"].season(december) == "summer"
    assert by_name["Oslo"].season(datetime(2026, 4, 1, tzinfo=UTC)) is None
