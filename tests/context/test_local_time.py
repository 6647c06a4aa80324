"""Local time facts: visitor zone, dayparts, weekends and hemisphere-aware seasons."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from personalize import Request
from personalize.context import ContextResolver, demo_geoip_path
from personalize.context._time import daypart, season, time_facts
from personalize.errors import ConfigError


@pytest.mark.parametrize(
    ("hour", "part"),
    [
        (0, "night"),
        (4, "night"),
        (5, "morning"),
        (11, "morning"),
        (12, "afternoon"),
        (16, "afternoon"),
        (17, "evening"),
        (21, "evening"),
        (22, "night"),
        (23, "night"),
    ],
)
def test_dayparts_follow_the_documented_hours(hour: int, part: str) -> None:
    assert daypart(hour) == part


@pytest.mark.parametrize(
    ("month", "north", "south"),
    [
        (1, "winter", "summer"),
        (3, "spring", "autumn"),
        (7, "summer", "winter"),
        (10, "autumn", "spring"),
        (12, "winter", "summer"),
    ],
)
def test_seasons_are_meteorological_and_flip_in_the_south(
    month: int, north: str, south: str
) -> None:
    assert season(month, "north") == north
    assert season(month, None) == north
    assert season(month, "south") == south


def test_local_time_is_taken_in_the_visitors_zone() -> None:
    resolver = ContextResolver(geoip=demo_geoip_path())
    now = datetime(2026, 7, 4, 23, 30, tzinfo=UTC)  # a Saturday in UTC
    sydney = resolver.resolve(Request(ip="198.51.100.9"), now=now).time
    assert sydney.timezone == "Australia/Sydney"
    assert (sydney.hour, sydney.weekday, sydney.is_weekend) == (9, 6, True)
    assert (sydney.daypart, sydney.season) == ("morning", "winter")
    toronto = resolver.resolve(Request(ip="192.0.2.9"), now=now).time
    assert (toronto.hour, toronto.weekday, toronto.daypart, toronto.season) == (
        19,
        5,
        "evening",
        "summer",
    )
    assert toronto.local == now


def test_unknown_visitors_use_the_default_zone() -> None:
    now = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # Monday
    facts = ContextResolver(default_timezone="America/New_York").resolve(Request(), now=now).time
    assert (facts.timezone, facts.hour, facts.weekday, facts.is_weekend) == (
        "America/New_York",
        1,
        0,
        False,
    )
    assert facts.daypart == "night"


def test_request_now_is_used_and_naive_times_are_utc() -> None:
    facts = ContextResolver().resolve(Request(now=datetime(2026, 3, 1, 17, 0))).time
    assert (facts.hour, facts.daypart, facts.season) == (17, "evening", "spring")


def test_an_unknown_default_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="default_timezone"):
        ContextResolver(default_timezone="Mars/Olympus")


def test_times_at_the_edge_of_the_calendar_degrade() -> None:
    notes: list[str] = []
    facts = time_facts(
        datetime(1, 1, 1, tzinfo=UTC), "Pacific/Honolulu", ZoneInfo("UTC"), None, notes
    )
    assert facts.hour is None
    assert notes
