"""The resolver end to end: the issue's acceptance example, notes, facts and configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from personalize import Event, History, Request
from personalize.context import FACT_SCHEMA, ContextResolver, demo_geoip_path
from personalize.context._model import OPEN_PATHS
from personalize.errors import ConfigError

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def test_done_when_example_from_the_issue(shared_data: Path) -> None:
    resolver = ContextResolver(geoip=shared_data / "geoip" / "GeoIP2-City-Test.mmdb")
    now = datetime(2026, 1, 20, 23, 30, tzinfo=UTC)
    context = resolver.resolve(
        Request(
            ip="81.2.69.142",
            user_agent=IPHONE_SAFARI,
            referrer="https://www.google.com/",
            url="https://shop.example/?utm_medium=email",
            now=now,
        )
    )
    assert context.device.type == "mobile"
    assert (context.geo.country, context.geo.city, context.geo.timezone) == (
        "GB",
        "London",
        "Europe/London",
    )
    assert context.referral.source == "email"
    assert context.time.hour == now.astimezone(ZoneInfo("Europe/London")).hour == 23
    summer = resolver.resolve(
        Request(ip="81.2.69.142", user_agent=IPHONE_SAFARI),
        now=datetime(2026, 7, 20, 23, 30, tzinfo=UTC),
    )
    assert summer.time.hour == 0  # British Summer Time
    assert context.client_ip == "81.2.69.142"
    assert context.notes == ()


def test_facts_cover_every_schema_path() -> None:
    resolver = ContextResolver(geoip=demo_geoip_path())
    context = resolver.resolve(
        Request(ip="192.0.2.1", user_agent=IPHONE_SAFARI, session_id="s", user_id="u"),
        History(events=[Event(type="view", product_id="p", at=datetime(2026, 1, 1), category="c")]),
        now=datetime(2026, 1, 2, tzinfo=UTC),
    )
    facts = context.facts()
    for path in FACT_SCHEMA:
        node: object = facts
        for part in path.split("."):
            assert isinstance(node, dict), path
            assert part in node, path
            node = node[part]
    assert set(FACT_SCHEMA) >= OPEN_PATHS


def test_garbage_requests_degrade_with_notes() -> None:
    resolver = ContextResolver(
        geoip=demo_geoip_path(), trusted_proxies=2, forwarded_header="x-forwarded-for"
    )
    context = resolver.resolve(
        Request(
            ip="999.1.1.1",
            user_agent="\x00" * 5000,
            headers={f"x-h{i}": "v" * 100 for i in range(1000)},
            referrer="::::",
            url="http://[",
        )
    )
    assert context.geo.source == "none"
    assert context.device.type == "other"
    assert context.notes


def test_client_hints_mark_a_mobile_browser() -> None:
    ua = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    )
    context = ContextResolver().resolve(Request(user_agent=ua, headers={"Sec-CH-UA-Mobile": "?1"}))
    assert (context.device.type, context.device.is_touch) == ("mobile", True)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"trusted_proxies": -1}, "trusted_proxies"),
        ({"trusted_proxies": 1}, "forwarded_header"),
        ({"trusted_proxies": 1, "forwarded_header": "x-forwarded"}, "forwarded_header"),
        ({"trusted_cdn": ["cloudflar"]}, "trusted_cdn"),
        ({"cache_size": -5}, "cache_size"),
        ({"default_timezone": "Nowhere/Else"}, "default_timezone"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(ConfigError) as info:
        ContextResolver(**kwargs)  # type: ignore[arg-type]
    assert info.value.path == path


def test_resolution_is_thread_safe_and_deterministic() -> None:
    from concurrent.futures import ThreadPoolExecutor

    resolver = ContextResolver(geoip=demo_geoip_path(), cache_size=8)
    now = datetime(2026, 1, 2, tzinfo=UTC)
    requests = [
        Request(ip=f"192.0.2.{i % 250}", user_agent=f"{IPHONE_SAFARI} v{i % 20}")
        for i in range(400)
    ]
    with ThreadPoolExecutor(4) as pool:
        first = list(pool.map(lambda r: resolver.resolve(r, now=now), requests))
    uncached = ContextResolver(geoip=demo_geoip_path(), cache_size=0)
    second = [uncached.resolve(r, now=now) for r in requests[:50]]
    assert first[:50] == second
