"""Geo facts: MaxMind's test databases, the demo database, CDN headers, derived fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geoip2.database
import pytest

from personalize import Personalizer, Request
from personalize.context import ContextResolver, Geo, demo_geoip_path
from personalize.context._geo import CDN_HEADERS, CDN_NAMES, climate_band, finish_geo
from personalize.errors import ConfigError

NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _lookups(shared_data: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    data = json.loads((shared_data / "geoip" / "expected_lookups.json").read_text())
    return [(db, rec) for db, records in data[kind].items() for rec in records]


def _resolve(resolver: ContextResolver, ip: str) -> Any:
    return resolver.resolve(Request(ip=ip), now=NOON)


@pytest.mark.parametrize("kind", ["city", "country"])
def test_lookups_match_maxmind_test_databases(shared_data: Path, kind: str) -> None:
    resolvers: dict[str, ContextResolver] = {}
    families = set()
    for db, expected in _lookups(shared_data, kind):
        if db not in resolvers:
            resolvers[db] = ContextResolver(geoip=shared_data / "geoip" / f"{db}.mmdb")
        geo = _resolve(resolvers[db], expected["ip"]).geo
        families.add(":" in expected["ip"])
        if not expected["found"]:
            assert geo.source == "none", (db, expected["ip"])
            assert geo.country is None
            continue
        assert geo.source == "mmdb"
        assert geo.country == expected["country_iso"], (db, expected["ip"])
        assert geo.continent == expected["continent"]
        assert geo.is_eu == expected["is_in_european_union"]
        if kind == "city":
            assert geo.city == expected["city"]
            assert geo.timezone == expected["time_zone"]
            assert geo.latitude == expected["latitude"]
            assert geo.longitude == expected["longitude"]
            assert geo.postal == expected["postal"]
            assert geo.region in (expected["subdivision_iso"], expected["subdivision_name"])
    assert families == {True, False}  # both IPv4 and IPv6 were looked up


def test_country_database_fills_timezone_and_hemisphere_from_tzdata(shared_data: Path) -> None:
    resolver = ContextResolver(geoip=shared_data / "geoip" / "GeoIP2-Country-Test.mmdb")
    context = _resolve(resolver, "81.2.69.142")
    assert resolver.database_type == "GeoIP2-Country"
    assert (context.geo.country, context.geo.city) == ("GB", None)
    assert context.geo.timezone == "Europe/London"  # GB has one zone in zone.tab
    assert context.geo.hemisphere == "north"
    assert context.geo.climate is None  # no latitude in a Country database
    assert context.time.timezone == "Europe/London"


def test_an_open_reader_is_accepted(shared_data: Path) -> None:
    reader = geoip2.database.Reader(str(shared_data / "geoip" / "GeoLite2-City-Test.mmdb"))
    resolver = ContextResolver(geoip=reader)
    assert _resolve(resolver, "89.160.20.112").geo.city == "Linköping"
    assert resolver.database_type == "GeoLite2-City"


def test_a_database_of_another_type_is_a_config_error(shared_data: Path) -> None:
    with pytest.raises(ConfigError, match="neither a City nor a Country"):
        ContextResolver(geoip=shared_data / "geoip" / "GeoIP2-Anonymous-IP-Test.mmdb")
    with pytest.raises(ConfigError, match="cannot open"):
        ContextResolver(geoip=shared_data / "geoip" / "missing.mmdb")


@pytest.mark.parametrize(
    ("ip", "country", "city", "hemisphere", "climate", "is_eu", "hour"),
    [
        ("192.0.2.10", "CA", "Toronto", "north", "temperate", False, 7),
        ("192.0.2.100", "US", "New York", "north", "temperate", False, 7),
        ("192.0.2.130", "GB", "London", "north", "temperate", False, 12),
        ("192.0.2.250", "DE", "Berlin", "north", "temperate", True, 13),
        ("198.51.100.1", "AU", "Sydney", "south", "subtropical", False, 23),
        ("203.0.113.5", "NO", "Oslo", "north", "cold", False, 13),
        ("203.0.113.70", "SG", "Singapore", "north", "tropical", False, 20),
        ("203.0.113.200", "SJ", "Longyearbyen", "north", "polar", False, 13),
        ("2001:db8:3::42", "AU", "Sydney", "south", "subtropical", False, 23),
        ("2001:db8:2::1", "GB", "London", "north", "temperate", False, 12),
    ],
)
def test_demo_database_maps_documentation_ranges(
    ip: str, country: str, city: str, hemisphere: str, climate: str, is_eu: bool, hour: int
) -> None:
    resolver = ContextResolver(geoip=demo_geoip_path())
    context = _resolve(resolver, ip)
    geo = context.geo
    assert (geo.country, geo.city, geo.hemisphere, geo.climate, geo.is_eu) == (
        country,
        city,
        hemisphere,
        climate,
        is_eu,
    )
    assert context.time.hour == hour
    assert geo.source == "mmdb"


def test_demo_database_is_a_city_database() -> None:
    reader = geoip2.database.Reader(str(demo_geoip_path()))
    assert "City" in reader.metadata().database_type
    assert reader.city("198.51.100.7").location.time_zone == "Australia/Sydney"


@pytest.mark.parametrize(
    ("ip", "note"),
    [
        ("10.1.2.3", "private or reserved"),
        ("127.0.0.1", "private or reserved"),
        ("::1", "private or reserved"),
        ("fe80::1", "private or reserved"),
        ("192.168.1.1", "private or reserved"),
        ("999.1.1.1", "malformed"),
        ("not an ip", "malformed"),
        ("1.1.1.1", "not in the database"),
    ],
)
def test_unusable_addresses_give_source_none_and_a_note(ip: str, note: str) -> None:
    context = _resolve(ContextResolver(geoip=demo_geoip_path()), ip)
    assert context.geo.source == "none"
    assert any(note in n for n in context.notes), context.notes


def test_cloudflare_headers_fill_geo_without_a_database() -> None:
    request = Request(
        ip="104.28.0.1",
        headers={
            "CF-IPCountry": "au",
            "cf-ipcity": "Hobart",
            "cf-region-code": "TAS",
            "cf-iplatitude": "-42.88",
            "cf-iplongitude": "147.33",
            "cf-timezone": "Australia/Hobart",
            "cf-ipcontinent": "OC",
        },
    )
    context = ContextResolver(trusted_cdn=["cloudflare"]).resolve(request, now=NOON)
    geo = context.geo
    assert (geo.country, geo.city, geo.region, geo.continent) == ("AU", "Hobart", "TAS", "OC")
    assert (geo.latitude, geo.longitude) == (-42.88, 147.33)
    assert (geo.hemisphere, geo.climate, geo.source, geo.is_eu) == (
        "south",
        "temperate",
        "header",
        False,
    )
    assert context.time.season == "summer"
    assert context.time.timezone == "Australia/Hobart"


def test_cloudfront_vercel_fastly_and_app_engine_headers_are_read() -> None:
    resolver = ContextResolver(trusted_cdn=["cloudfront", "vercel", "fastly", "appengine"])
    cloudfront = {
        "CloudFront-Viewer-Country": "FR",
        "CloudFront-Viewer-City": "Lyon",
        "CloudFront-Viewer-Country-Region": "ARA",
        "CloudFront-Viewer-Latitude": "45.76",
        "CloudFront-Viewer-Longitude": "4.83",
        "CloudFront-Viewer-Time-Zone": "Europe/Paris",
    }
    geo = resolver.resolve(Request(headers=cloudfront), now=NOON).geo
    assert (geo.country, geo.city, geo.region, geo.timezone, geo.is_eu) == (
        "FR",
        "Lyon",
        "ARA",
        "Europe/Paris",
        True,
    )
    vercel = {
        "x-vercel-ip-country": "BR",
        "x-vercel-ip-city": "S%C3%A3o%20Paulo",
        "x-vercel-ip-country-region": "SP",
        "x-vercel-ip-latitude": "-23.55",
        "x-vercel-ip-longitude": "-46.63",
        "x-vercel-ip-timezone": "America/Sao_Paulo",
    }
    geo = resolver.resolve(Request(headers=vercel), now=NOON).geo
    assert (geo.city, geo.hemisphere, geo.climate) == ("São Paulo", "south", "subtropical")
    fastly = {"X-Fastly-Country-Code": "NO", "X-Fastly-City": "Tromsø", "X-Fastly-Latitude": "69.6"}
    geo = resolver.resolve(Request(headers=fastly), now=NOON).geo
    assert (geo.country, geo.climate, geo.timezone) == ("NO", "polar", "Europe/Oslo")
    appengine = {
        "X-AppEngine-Country": "US",
        "X-AppEngine-Region": "ca",
        "X-AppEngine-City": "mountain view",
        "X-AppEngine-CityLatLong": "37.386052,-122.083851",
    }
    geo = resolver.resolve(Request(headers=appengine), now=NOON).geo
    assert (geo.country, geo.city, geo.latitude, geo.longitude) == (
        "US",
        "mountain view",
        37.386052,
        -122.083851,
    )
    assert geo.timezone == "America/Los_Angeles"  # nearest of the US zones to Mountain View


def test_the_database_wins_over_headers_and_headers_fill_its_gaps() -> None:
    resolver = ContextResolver(geoip=demo_geoip_path(), trusted_cdn=["cloudflare"])
    headers = {"CF-IPCountry": "JP"}
    assert resolver.resolve(Request(ip="192.0.2.1", headers=headers)).geo.country == "CA"
    assert resolver.resolve(Request(ip="1.1.1.1", headers=headers)).geo.country == "JP"
    assert resolver.resolve(Request(ip="10.0.0.1", headers=headers)).geo.source == "header"


def test_unknown_or_bad_header_values_degrade() -> None:
    resolver = ContextResolver(trusted_cdn=["cloudflare"])
    for country in ("XX", "T1", "", "ZZZ", "1"):
        context = resolver.resolve(Request(headers={"CF-IPCountry": country}))
        assert context.geo.source == "none"
    context = resolver.resolve(
        Request(headers={"cf-ipcountry": "GB", "cf-iplatitude": "north", "cf-timezone": "Mars/X"})
    )
    assert context.geo.latitude is None
    assert context.time.timezone == "UTC"
    assert any("unknown time zone" in note for note in context.notes)


ALL_CDN_HEADERS = {
    "cloudflare": "CF-IPCountry",
    "cloudfront": "CloudFront-Viewer-Country",
    "vercel": "X-Vercel-IP-Country",
    "fastly": "X-Fastly-Country-Code",
    "appengine": "X-AppEngine-Country",
}


def test_cdn_names_match_the_header_table() -> None:
    assert set(CDN_NAMES) == {cdn.name for cdn in CDN_HEADERS} == set(ALL_CDN_HEADERS)


@pytest.mark.parametrize(("cdn", "header"), ALL_CDN_HEADERS.items())
def test_cdn_headers_are_ignored_by_default_and_noted(cdn: str, header: str) -> None:
    context = ContextResolver().resolve(Request(ip="10.0.0.1", headers={header: "GB"}))
    assert context.geo.source == "none"
    assert f"geo: ignored {header.lower()} ({cdn} is not in trusted_cdn)" in context.notes


@pytest.mark.parametrize(("cdn", "header"), ALL_CDN_HEADERS.items())
def test_trusting_one_cdn_trusts_only_its_headers(cdn: str, header: str) -> None:
    spoofed = {other: "KP" for other in ALL_CDN_HEADERS.values() if other != header}
    resolver = ContextResolver(trusted_cdn=[cdn])  # type: ignore[list-item]
    context = resolver.resolve(Request(headers={**spoofed, header: "GB"}))
    assert (context.geo.country, context.geo.source) == ("GB", "header")
    ignored = [note for note in context.notes if note.startswith("geo: ignored")]
    assert len(ignored) == len(spoofed)


def test_a_client_cannot_claim_a_country_without_a_trusted_cdn() -> None:
    resolver = ContextResolver(geoip=demo_geoip_path())
    context = resolver.resolve(Request(ip="1.1.1.1", headers={"CF-IPCountry": "CA"}))
    assert context.geo.country is None


def test_trusted_cdn_comes_from_settings_and_the_constructor_overrides_it() -> None:
    request = Request(headers={"CF-IPCountry": "NO", "CloudFront-Viewer-Country": "SE"})
    config = {"settings": {"trusted_cdn": ["cloudfront"]}}
    p = Personalizer(config, autoload_plugins=False)
    assert p.personalize(request).context.geo.country == "SE"
    p = Personalizer(config, autoload_plugins=False, trusted_cdn=["cloudflare"])
    assert p.personalize(request).context.geo.country == "NO"
    p = Personalizer(config, autoload_plugins=False, trusted_cdn=[])
    assert p.personalize(request).context.geo.country is None


def test_unknown_cdn_names_are_config_errors_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as info:
        ContextResolver(trusted_cdn=["cloudflair"])  # type: ignore[list-item]
    assert (info.value.path, info.value.problems[0].suggestion) == ("trusted_cdn", "cloudflare")
    with pytest.raises(ConfigError, match=r"settings\.trusted_cdn\[0\]"):
        Personalizer({"settings": {"trusted_cdn": ["akamai"]}}, autoload_plugins=False)


@pytest.mark.parametrize(
    ("latitude", "band"),
    [
        (0.0, "tropical"),
        (-23.4, "tropical"),
        (23.5, "subtropical"),
        (-34.9, "subtropical"),
        (35.0, "temperate"),
        (54.9, "temperate"),
        (55.0, "cold"),
        (-66.4, "cold"),
        (66.5, "polar"),
        (-90.0, "polar"),
    ],
)
def test_climate_bands_follow_the_documented_thresholds(latitude: float, band: str) -> None:
    assert climate_band(latitude) == band


@pytest.mark.parametrize(
    ("country", "latitude", "longitude", "zone"),
    [
        ("US", 34.05, -118.24, "America/Los_Angeles"),
        ("US", 40.71, -74.0, "America/New_York"),
        ("AU", -31.95, 115.86, "Australia/Perth"),
        ("DE", 52.52, 13.40, "Europe/Berlin"),  # two zones in zone.tab: Berlin and Busingen
        ("FR", None, None, "Europe/Paris"),  # a single zone needs no coordinates
        ("US", None, None, None),  # many zones and no coordinates: unknown
    ],
)
def test_missing_zone_is_the_nearest_of_the_countrys_zones(
    country: str, latitude: float | None, longitude: float | None, zone: str | None
) -> None:
    geo = finish_geo(Geo(country=country, latitude=latitude, longitude=longitude))
    assert geo.timezone == zone
